"""Signing in and out, the language, invitations, password reset, throttling."""

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.models import HRMembership, User
from engagements.services.accounts import MAX_PASSWORD_RESETS_PER_HOUR, person_get_or_invite

from . import factories
from .factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def test_anonymous_visitors_are_sent_to_the_sign_in_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sign_in_page_is_french_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'lang="fr"' in response.text
    assert "Se connecter" in response.text


def test_french_is_the_default_whatever_the_browser_says(client):
    response = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})
    assert 'lang="fr"' in response.text


def test_sign_in_page_switches_to_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("login"))
    assert 'lang="en"' in response.text
    assert "Sign in" in response.text


def test_language_choice_is_remembered_on_the_account(client, coachee):
    client.force_login(coachee)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    coachee.refresh_from_db()
    assert coachee.language == "en"
    client.cookies.clear()
    client.force_login(coachee)
    assert 'lang="en"' in client.get(reverse("coachee_portal")).text


def test_unknown_language_changes_nothing(client, coachee):
    client.force_login(coachee)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    coachee.refresh_from_db()
    assert coachee.language == "fr"


def test_language_switch_is_a_post(client):
    assert client.get(reverse("set_language")).status_code == 405


def test_sign_in_with_email_and_password_lands_on_the_portal(client, coach):
    response = sign_in(client, coach.email.upper())
    assert response.status_code == 302
    follow = client.get(response.url)
    assert follow.url == reverse("coach_portal")


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, coach):
    response = sign_in(client, coach.email, "nope")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, coach):
    for _ in range(5):
        sign_in(client, coach.email, "guess")
    response = sign_in(client, coach.email)  # even the right password now
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Trop de tentatives" in response.text


def test_sign_out_is_a_post(client, coach):
    client.force_login(coach)
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session


def test_sessions_expire_after_inactivity_without_a_write_per_request(client, coach, settings):
    from django.contrib.sessions.models import Session

    assert settings.SESSION_COOKIE_AGE <= 4 * 3600
    client.force_login(coach)
    client.get(reverse("coach_portal"))
    key = client.session.session_key

    def expiry():
        return Session.objects.get(session_key=key).expire_date

    first = expiry()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("coach_portal"))
    assert expiry() == first
    assert not any("django_session" in q["sql"] and "UPDATE" in q["sql"] for q in queries)
    # Some minutes later, the next request pushes the expiry back.
    session = client.session
    session["_refreshed"] -= settings.SESSION_REFRESH_SECONDS
    session.save()
    client.get(reverse("coach_portal"))
    assert expiry() > first


def _link(message):
    return re.search(r"https?://\S+", message.body).group(0)


def test_an_invited_person_chooses_a_password_once_and_lands_on_their_portal(
    client, engagement, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = person_get_or_invite(
            email="Nouvelle.Personne@Example.com",
            first_name="Nina",
            last_name="Nouvelle",
            invited_by=engagement.coach.user,
            language="fr",
        )
    factories.EngagementFactory(coachee=user, organization=engagement.organization)
    assert not user.has_usable_password()
    [message] = mail.outbox
    assert message.to == ["nouvelle.personne@example.com"]
    path = _link(message).split("testserver", 1)[-1].replace("http://127.0.0.1:8000", "")

    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert "Nina" in form_page.text
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "une-phrase-longue-2026", "new_password2": "une-phrase-longue-2026"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("coachee_portal")
    user.refresh_from_db()
    assert user.check_password("une-phrase-longue-2026")

    client.logout()
    reused = client.get(path, follow=True)
    assert "ne fonctionne plus" in reused.text


def test_an_expired_invitation_is_refused(
    client, coach, settings, django_capture_on_commit_callbacks
):
    settings.INVITATION_TIMEOUT = -1
    with django_capture_on_commit_callbacks(execute=True):
        person_get_or_invite(
            email="late@example.com",
            first_name="L",
            last_name="Ate",
            invited_by=coach,
            language="fr",
        )
    path = _link(mail.outbox[0]).replace("http://127.0.0.1:8000", "")
    response = client.get(path, follow=True)
    assert "ne fonctionne plus" in response.text


def test_inviting_someone_who_has_an_account_changes_nothing(coach, coachee):
    same = person_get_or_invite(
        email=coachee.email, first_name="Autre", last_name="Nom", invited_by=coach, language="en"
    )
    assert same == coachee
    coachee.refresh_from_db()
    assert coachee.first_name != "Autre"
    assert coachee.language == "fr"  # theirs, not the one an inviter would give
    assert mail.outbox == []


def test_password_reset_sends_a_one_time_link(client, coachee):
    response = client.post(reverse("password_reset"), {"email": coachee.email})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [coachee.email]
    path = re.search(r"https?://testserver(\S+)", message.body).group(1)
    form_page = client.get(path, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "nouvelle-phrase-2026", "new_password2": "nouvelle-phrase-2026"},
    )
    coachee.refresh_from_db()
    assert coachee.check_password("nouvelle-phrase-2026")


def test_password_reset_does_not_reveal_unknown_addresses(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_hr_invites_another_hr_of_their_organization(
    client, engagement, hr, django_capture_on_commit_callbacks
):
    client.force_login(hr)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("hr_invite"),
            {
                "organization": engagement.organization.pk,
                "first_name": "Rose",
                "last_name": "Hache",
                "email": "rose.hache@example.com",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="rose.hache@example.com")
    assert HRMembership.objects.filter(user=user, organization=engagement.organization).exists()
    assert mail.outbox[0].to == ["rose.hache@example.com"]


def test_a_coach_cannot_invite_hr_of_another_organization(client, coach):
    other = factories.OrganizationFactory()
    client.force_login(coach)
    response = client.post(
        reverse("hr_invite"),
        {"organization": other.pk, "first_name": "X", "last_name": "Y", "email": "x@example.com"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.filter(email="x@example.com").exists()


def test_hr_invitation_with_bad_input_writes_nothing(client, engagement, coach):
    client.force_login(coach)
    response = client.post(
        reverse("hr_invite"),
        {"organization": engagement.organization.pk, "first_name": "", "email": "not-an-email"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not HRMembership.objects.exists()


def test_sign_in_throttling_sees_each_client_behind_the_proxy(settings, client, coach):
    """Behind PROXY_COUNT proxies, one client's guesses never lock out another client."""
    settings.PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(5):
        sign_in(client, coach.email, "guess", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    locked = sign_in(client, coach.email, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert locked.status_code == 429
    other = Client()
    response = sign_in(other, coach.email, HTTP_X_FORWARDED_FOR="203.0.113.50", **proxy)
    assert response.status_code == 302
    assert "_auth_user_id" in other.session


def test_password_reset_e_mails_are_throttled_per_address(client, coach):
    for _ in range(MAX_PASSWORD_RESETS_PER_HOUR + 2):
        response = client.post(reverse("password_reset"), {"email": coach.email})
        assert response.status_code == 302  # the same answer every time
    assert len(mail.outbox) == MAX_PASSWORD_RESETS_PER_HOUR
    # Another address is not held back by this one.
    other = factories.UserFactory(email="other.person@example.com")
    client.post(reverse("password_reset"), {"email": other.email})
    assert mail.outbox[-1].to == [other.email]
