"""The sign-in page, the home page and the engagement page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements import workflow
from engagements.models import Engagement

from . import factories
from .conftest import move_to
from .factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_sign_in_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sign_in_page_is_french_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'lang="fr"' in response.text
    assert "Se connecter" in response.text


def test_sign_in_page_switches_to_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("login"))
    assert 'lang="en"' in response.text
    assert "Sign in" in response.text


def test_sign_in_with_email_and_password_lands_on_home(client, coach):
    response = client.post(
        reverse("login"), {"username": coach.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert response.context["user"] == coach


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, coach):
    response = client.post(reverse("login"), {"username": coach.email, "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post(client, coach):
    client.force_login(coach)
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "persona, heading",
    [
        ("coach", "En tant que coach"),
        ("coachee", "Mon coaching"),
        ("sponsor", "En tant que commanditaire"),
        ("hr", "En tant que RH"),
    ],
    indirect=["persona"],
)
def test_home_lists_the_engagement_under_the_role_held(client, engagement, persona, heading):
    client.force_login(persona)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert heading in response.text
    assert engagement.get_absolute_url() in response.text


@pytest.mark.parametrize("persona", ["other_coach", "other_hr", "outsider"], indirect=True)
def test_home_shows_nothing_of_engagements_one_has_no_part_in(client, engagement, persona):
    client.force_login(persona)
    response = client.get(reverse("home"))
    assert engagement.get_absolute_url() not in response.text
    assert "aucun accompagnement" in response.text.replace("&#x27;", "'")


@pytest.mark.parametrize("persona", ["coach", "coachee", "sponsor", "hr"], indirect=True)
def test_engagement_page_shows_status_dates_and_parties(client, engagement_in, persona):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    client.force_login(persona)
    response = client.get(engagement.get_absolute_url())
    assert response.status_code == 200
    for party in (engagement.coachee, engagement.sponsor, engagement.coach.user):
        assert party.last_name in response.text
    assert 'aria-current="step"' in response.text


@pytest.mark.parametrize("persona", ["other_coach", "other_hr", "outsider"], indirect=True)
def test_engagement_page_is_a_404_for_people_with_no_part_in_it(client, engagement, persona):
    client.force_login(persona)
    assert client.get(engagement.get_absolute_url()).status_code == 404


def test_engagement_page_refuses_post(client, engagement, coach):
    client.force_login(coach)
    assert client.post(engagement.get_absolute_url()).status_code == 405


def test_engagement_page_of_a_missing_engagement_is_a_404(client, coach):
    client.force_login(coach)
    assert client.get(reverse("engagement_detail", args=[999999])).status_code == 404


def test_withdrawn_engagement_shows_where_it_stopped(client, engagement_in, coachee):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    workflow.transition(engagement, "withdraw", actor=coachee)
    client.force_login(coachee)
    response = client.get(engagement.get_absolute_url())
    steps = [step.state for step in response.context["steps"]]
    assert steps == ["done", "done", "stopped", "stopped", "upcoming"]


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _add_engagements(coach, hr_organization, count):
    for _ in range(count):
        engagement = factories.EngagementFactory(coach=coach, organization=hr_organization)
        move_to(engagement, Engagement.Status.ACTIVE)


def test_home_query_count_does_not_grow_with_engagements(client, engagement, coach, hr):
    coach_profile = engagement.coach
    client.force_login(coach)
    _add_engagements(coach_profile, engagement.organization, 2)
    few = _queries(client, reverse("home"))
    _add_engagements(coach_profile, engagement.organization, 20)
    many = _queries(client, reverse("home"))
    assert few == many
    client.force_login(hr)
    few_hr = _queries(client, reverse("home"))
    _add_engagements(coach_profile, engagement.organization, 5)
    assert _queries(client, reverse("home")) == few_hr


def test_engagement_page_query_count_does_not_grow_with_history(client, engagement, coach):
    client.force_login(coach)
    move_to(engagement, Engagement.Status.KICKOFF)
    few = _queries(client, engagement.get_absolute_url())

    workflow.transition(engagement, "send_convention", actor=coach)
    workflow.transition(engagement, "activate", actor=None)
    workflow.transition(engagement, "schedule_closing", actor=coach)
    assert _queries(client, engagement.get_absolute_url()) == few


def test_french_is_the_default_whatever_the_browser_says(client):
    response = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})
    assert 'lang="fr"' in response.text


def test_language_choice_is_remembered_on_the_account(client, coachee):
    client.force_login(coachee)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    coachee.refresh_from_db()
    assert coachee.language == "en"
    client.cookies.clear()
    client.force_login(coachee)
    assert 'lang="en"' in client.get(reverse("home")).text


def test_unknown_language_changes_nothing(client, coachee):
    client.force_login(coachee)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    coachee.refresh_from_db()
    assert coachee.language == "fr"


def test_language_switch_is_a_post(client):
    assert client.get(reverse("set_language")).status_code == 405
