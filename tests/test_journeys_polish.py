"""
The journeys as people live them (issue 14): what awaits a person reaches
them by e-mail and in their to-dos, the latest action plan is the last held
session's, each meeting's page offers its calendar file.
"""

from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagements.models import Engagement
from engagements.services import kickoff as kickoff_service
from engagements.services import sessions as session_service

from . import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def _to_me(person):
    return [m for m in mail.outbox if m.to == [person.email]]


# -- objectives awaiting the coachee ---------------------------------------------------


def test_objectives_worded_by_the_coach_reach_the_coachee_by_one_email_and_a_todo(
    client, engagement_in, coach, coachee, on_commit
):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    for number in (1, 2, 3):
        on_commit(
            kickoff_service.objective_save,
            engagement=engagement,
            author=coach,
            title=f"Objectif {number}",
            success_indicators="Indicateurs",
        )
    [message] = _to_me(coachee)  # one e-mail, not one per objective
    assert engagement.get_absolute_url() in message.body

    client.force_login(coachee)
    portal = client.get(reverse("coachee_portal"))
    [item] = portal.context["open_engagements"]
    assert item.next.urgent and item.next.subject == "objectives"
    assert item.next_url == engagement.get_absolute_url() + "#objectives-title"


def test_objectives_the_coachee_words_herself_need_no_approval_nor_email(
    engagement_in, coachee, on_commit
):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    on_commit(
        kickoff_service.objective_save,
        engagement=engagement,
        author=coachee,
        title="Mon objectif",
        success_indicators="Indicateurs",
    )
    assert mail.outbox == []


# -- availability ----------------------------------------------------------------------


def test_the_coach_is_told_when_the_coachee_shares_her_availability_once_per_change(
    engagement_in, coach, coachee, on_commit
):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    share = session_service.availability_save
    on_commit(share, engagement=engagement, coachee=coachee, availability="Mardis matin")
    on_commit(share, engagement=engagement, coachee=coachee, availability="Mardis matin ")
    [message] = _to_me(coach)
    assert "Mardis matin" in message.body
    on_commit(share, engagement=engagement, coachee=coachee, availability="Jeudis")
    assert len(_to_me(coach)) == 2
    engagement.refresh_from_db()
    assert engagement.coachee_availability == "Jeudis"


# -- the latest action plan ------------------------------------------------------------


def test_my_latest_action_plan_is_the_last_held_sessions_not_a_coming_ones(
    client, engagement_in, coachee
):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    now = timezone.now()
    older = factories.CoachingSessionFactory(
        engagement=engagement, starts_at=now - timedelta(days=30), status="held"
    )
    latest = factories.CoachingSessionFactory(
        engagement=engagement, starts_at=now - timedelta(days=2), status="held"
    )
    coming = factories.CoachingSessionFactory(
        engagement=engagement, starts_at=now + timedelta(days=5)
    )
    factories.SharedSummaryFactory(session=older, action_plan="PLAN-ANCIEN")
    factories.SharedSummaryFactory(session=latest, action_plan="PLAN-DERNIER")
    factories.SharedSummaryFactory(session=coming, action_plan="PLAN-A-VENIR")

    client.force_login(coachee)
    page = client.get(reverse("coachee_portal")).text
    assert "PLAN-DERNIER" in page
    assert "PLAN-A-VENIR" not in page and "PLAN-ANCIEN" not in page


# -- a meeting's calendar file ---------------------------------------------------------


@pytest.mark.parametrize("persona", ["coach", "coachee"])
def test_each_meetings_page_offers_its_calendar_file(client, engagement_in, persona, request):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    session = factories.CoachingSessionFactory(
        engagement=engagement, starts_at=timezone.now() + timedelta(days=3)
    )
    client.force_login(request.getfixturevalue(persona))
    url = reverse("session_ics", args=[engagement.pk, session.pk])
    assert url in client.get(reverse("session_detail", args=[engagement.pk, session.pk])).text
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Cache-Control"] == "private, no-store"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["method"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["uid"]).startswith(str(session.uid))


# -- make run --------------------------------------------------------------------------


def test_make_run_points_links_where_the_demo_is_served_and_runs_the_periodic_jobs():
    makefile = (ROOT / "Makefile").read_text()
    assert "run: export SITE_URL ?= http://$(HOST):$(PORT)" in makefile
    assert "manage.py serve $(HOST):$(PORT)" in makefile


# -- an error is shown once ------------------------------------------------------------


PAGE_AND_CRISPY = (
    "{% load crispy_forms_tags %}"
    '{% if form.non_field_errors %}<div>{{ form.non_field_errors|join:" " }}</div>{% endif %}'
    "{% crispy form %}"
)


def test_a_form_error_is_shown_once_on_our_pages_and_still_shown_by_crispy_elsewhere():
    from django.contrib.auth.forms import AuthenticationForm
    from django.template import engines

    from engagements.forms import WithdrawForm

    ours = WithdrawForm(data={})
    ours.is_valid()
    ours.add_error(None, "ERROR-MARKER")
    page = engines["django"].from_string(PAGE_AND_CRISPY).render({"form": ours})
    assert page.count("ERROR-MARKER") == 1

    login = AuthenticationForm(data={"username": "", "password": ""})
    login.is_valid()  # required fields missing: nothing is authenticated
    login.add_error(None, "ERROR-MARKER")
    alone = engines["django"].from_string("{% load crispy_forms_tags %}{% crispy form %}")
    assert alone.render({"form": login}).count("ERROR-MARKER") == 1


def test_every_page_with_one_of_our_forms_shows_its_errors_itself():
    """Crispy leaves our forms' own errors to the page: each page must show them."""
    for path in (ROOT / "templates" / "engagements").glob("*.html"):
        text = path.read_text()
        if "{% crispy form %}" in text:
            assert "form.non_field_errors" in text, path.name
