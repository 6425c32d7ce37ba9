"""
One e-mail per person per action (a series booked, an ending, the closing
review), each with one calendar file for every meeting concerned; and each
person's e-mails in their own language, never the inviter's screen language.
"""

import json
import shutil
import subprocess
from datetime import datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
from django.conf import settings
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from engagements import tasks
from engagements.calendar import PARIS
from engagements.models import CoachingSession, Engagement, User
from engagements.services import closing
from engagements.services import sessions as session_service
from engagements.services.engagements import engagement_cancel, engagement_withdraw

from . import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def active(engagement_in):
    """An active engagement over the next twelve months, twelve sessions contracted."""
    engagement = engagement_in(Engagement.Status.ACTIVE)
    today = timezone.localdate()
    Engagement.objects.filter(pk=engagement.pk).update(
        start_date=today, end_date=today + timedelta(days=365), sessions_contracted=12
    )
    engagement.refresh_from_db()
    return engagement


def weekly(count, *, from_days=7):
    first = timezone.localdate() + timedelta(days=from_days)
    return [
        datetime.combine(first + timedelta(weeks=week), time(10), tzinfo=PARIS)
        for week in range(count)
    ]


def book_series(engagement, coach, count=10):
    return session_service.series_create(
        engagement=engagement,
        coach=coach,
        starts=weekly(count),
        duration_minutes=120,
        format="video",
        video_url="https://visio.example.com/serie",
    )


def by_recipient(outbox):
    messages = {}
    for message in outbox:
        [address] = message.to
        assert address not in messages, f"{address} received more than one e-mail"
        messages[address] = message
    return messages


def calendar_of(message):
    [(name, content, mimetype)] = message.attachments
    assert name.endswith(".ics") and mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(content)


def uids(sessions):
    return {f"{session.uid}@trio.coaching" for session in sessions}


# -- a series --------------------------------------------------------------------------


def test_a_series_of_ten_is_one_message_per_party_with_one_calendar_of_ten_events(
    active, coach, coachee, sponsor, on_commit
):
    series = on_commit(book_series, active, coach)
    messages = by_recipient(mail.outbox)
    assert set(messages) == {coach.email, coachee.email}  # never the sponsor
    for message in messages.values():
        parsed = calendar_of(message)
        assert parsed["method"] == "REQUEST"
        assert len(parsed.walk("VTIMEZONE")) == 1
        events = parsed.walk("VEVENT")
        assert len(events) == 10
        assert {str(event["uid"]) for event in events} == uids(series)
        assert all(event["sequence"] == 0 for event in events)
        assert all(str(event["status"]) == "CONFIRMED" for event in events)
        starts = sorted(event.start for event in events)
        assert starts == [session.starts_at for session in series]
        # The message lists every date, as its reader writes dates.
        with translation.override(message_language(message, coach, coachee)):
            for session in series:
                assert when(session) in message.body
        assert message.body.count("\n- ") == 10


def when(session):
    return Template('{{ moment|date:"l j F Y, H:i" }}').render(
        Context({"moment": timezone.localtime(session.starts_at)})
    )


def message_language(message, *people):
    return next(person.language for person in people if person.email == message.to[0])


def test_the_series_invitation_goes_once_even_if_its_task_runs_twice(active, coach, on_commit):
    series = on_commit(book_series, active, coach)
    assert len(mail.outbox) == 2
    assert tasks.send_series_invitations(active.pk, [s.pk for s in series]) == 0
    assert len(mail.outbox) == 2


def test_a_series_file_is_read_alike_by_ical_js(active, coach, on_commit, tmp_path):
    if not (shutil.which("node") and (ROOT / "node_modules" / "ical.js").exists()):
        pytest.skip("node and ical.js (npm ci) are needed")
    series = on_commit(book_series, active, coach)
    [message] = [m for m in mail.outbox if m.to == [coach.email]]
    path = tmp_path / "series.ics"
    content = message.attachments[0][1]
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    result = subprocess.run(
        ["node", str(ROOT / "tests" / "js" / "parse_ics.cjs"), str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    parsed = json.loads(result.stdout)
    assert parsed["method"] == "REQUEST"
    assert parsed["timezones"] == 1
    assert len(parsed["events"]) == 10
    assert {event["uid"] for event in parsed["events"]} == uids(series)
    for event, session in zip(
        sorted(parsed["events"], key=lambda e: e["start"]), series, strict=True
    ):
        assert event["tzid"] == "Europe/Paris"
        assert event["start"] == session.starts_at.astimezone(timezone.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"
        )
        assert event["sequence"] == 0


# -- a withdrawal --------------------------------------------------------------------------


@pytest.fixture
def planned(active):
    """Three development sessions and a tripartite mid-point review, all to come."""
    development = factories.CoachingSessionFactory.create_batch(3, engagement=active)
    midpoint = factories.CoachingSessionFactory(engagement=active, kind="midpoint")
    return [*development, midpoint]


def test_a_withdrawal_is_one_notice_per_party_and_the_sponsor_only_cancels_his_meetings(
    active, planned, coach, coachee, sponsor, on_commit
):
    on_commit(engagement_withdraw, engagement=active, coachee=coachee)
    messages = by_recipient(mail.outbox)
    assert set(messages) == {coach.email, coachee.email, sponsor.email}
    midpoint = planned[-1]
    for person, meetings in ((coach, planned), (coachee, planned), (sponsor, [midpoint])):
        parsed = calendar_of(messages[person.email])
        assert parsed["method"] == "CANCEL"
        events = parsed.walk("VEVENT")
        assert {str(event["uid"]) for event in events} == uids(meetings)
        assert all(str(event["status"]) == "CANCELLED" for event in events)
        assert all(event["sequence"] == 1 for event in events)
    # The sponsor learns nothing of the sessions between coach and coachee.
    with translation.override(sponsor.language):
        development = CoachingSession.Kind.DEVELOPMENT.label
        assert str(development).lower() not in messages[sponsor.email].body.lower()
        assert str(development).lower() in messages[coach.email].body.lower()


def test_withdrawal_notices_go_once_even_if_their_task_runs_twice(
    active, planned, coachee, on_commit
):
    on_commit(engagement_withdraw, engagement=active, coachee=coachee)
    assert len(mail.outbox) == 3
    assert tasks.send_withdrawal_notices(active.pk, False, [s.pk for s in planned]) == 0
    assert len(mail.outbox) == 3


def test_a_withdrawal_without_planned_meetings_sends_notices_without_calendar_files(
    active, coachee, on_commit
):
    on_commit(engagement_withdraw, engagement=active, coachee=coachee)
    assert len(mail.outbox) == 3
    assert all(not message.attachments for message in mail.outbox)


# -- an engagement cancelled -----------------------------------------------------------------


def test_a_cancellation_is_one_notice_per_party_with_one_calendar_file(
    engagement_in, sponsor, coach, coachee, on_commit
):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    kickoff = factories.CoachingSessionFactory(engagement=engagement, kind="kickoff")
    on_commit(engagement_cancel, engagement=engagement, actor=sponsor, reason="Poste supprimé")
    messages = by_recipient(mail.outbox)
    assert set(messages) == {coach.email, coachee.email, sponsor.email}
    for message in messages.values():
        assert "Poste supprimé" in message.body
        parsed = calendar_of(message)
        assert parsed["method"] == "CANCEL"
        [event] = parsed.walk("VEVENT")
        assert str(event["uid"]) == f"{kickoff.uid}@trio.coaching"
        assert event["sequence"] == 1
    assert tasks.send_cancellation_notices(engagement.pk, [kickoff.pk]) == 0
    assert len(mail.outbox) == 3


# -- the closing review ----------------------------------------------------------------------


def test_the_closing_review_cancels_the_planned_sessions_in_one_notice_per_person(
    active, coach, coachee, on_commit
):
    factories.CoachingSessionFactory(
        engagement=active, status="held", starts_at=timezone.now() - timedelta(days=3)
    )
    development = factories.CoachingSessionFactory.create_batch(4, engagement=active)
    on_commit(closing.closing_start, engagement=active, coach=coach, cancel_planned=True)
    messages = by_recipient(mail.outbox)
    assert set(messages) == {coach.email, coachee.email}  # the sponsor attends none
    for message in messages.values():
        parsed = calendar_of(message)
        assert parsed["method"] == "CANCEL"
        events = parsed.walk("VEVENT")
        assert {str(event["uid"]) for event in events} == uids(development)
        assert all(str(event["status"]) == "CANCELLED" for event in events)
        assert message.body.count("\n- ") == 4
    assert tasks.send_closing_cancellations(active.pk, [s.pk for s in development]) == 0
    assert len(mail.outbox) == 2


def test_keeping_the_planned_sessions_at_closing_sends_no_cancellation(active, coach, on_commit):
    factories.CoachingSessionFactory.create_batch(2, engagement=active)
    on_commit(closing.closing_start, engagement=active, coach=coach, cancel_planned=False)
    assert mail.outbox == []


# -- language ------------------------------------------------------------------------------


def new_engagement_data(language):
    today = timezone.localdate()
    return {
        "new_organization_name": "Société Nouvelle",
        "title": "Premier poste",
        "coachee_first_name": "Inès",
        "coachee_last_name": "Moreau",
        "coachee_email": "ines.moreau@example.com",
        "coachee_job_title": "Directrice",
        "sponsor_first_name": "Luc",
        "sponsor_last_name": "Bernard",
        "sponsor_email": "luc.bernard@example.com",
        "sponsor_job_title": "DG",
        "start_date": today.isoformat(),
        "end_date": today.replace(year=today.year + 1).isoformat(),
        "sessions_contracted": 10,
        "session_minutes": 120,
        "format": "video",
        "fee_amount": "12000",
        "language": language,
    }


def invitation_subject(language):
    with translation.override(language):
        return gettext("Your access to your coaching engagement")


@pytest.fixture
def english_screen_coach(client, coach):
    """The coach switched his screen to English."""
    User.objects.filter(pk=coach.pk).update(language="en")
    client.force_login(coach)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize("language", ["fr", "en"])
def test_new_people_take_the_engagements_language_not_the_coachs_screen(
    english_screen_coach, language, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = english_screen_coach.post(
            reverse("engagement_new"), new_engagement_data(language)
        )
    assert response.status_code == 302
    messages = by_recipient(mail.outbox)
    for email in ("ines.moreau@example.com", "luc.bernard@example.com"):
        assert User.objects.get(email=email).language == language
        assert messages[email].subject == invitation_subject(language)


def test_the_french_invitation_is_really_french():
    """Guards the test above: both languages do not read the same."""
    assert invitation_subject("fr") != invitation_subject("en")


def test_an_existing_person_keeps_their_own_language(
    english_screen_coach, engagement, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=engagement.sponsor.pk).update(language="en")
    data = new_engagement_data("fr") | {"sponsor_email": engagement.sponsor.email}
    with django_capture_on_commit_callbacks(execute=True):
        english_screen_coach.post(reverse("engagement_new"), data)
    engagement.sponsor.refresh_from_db()
    assert engagement.sponsor.language == "en"
    sponsor_mail = by_recipient(mail.outbox)[engagement.sponsor.email]
    with translation.override("en"):
        assert sponsor_mail.subject == gettext("New coaching engagement: %(title)s") % {
            "title": "Premier poste"
        }


def test_hr_invited_by_a_coach_on_an_english_screen_gets_the_practices_language(
    engagement, django_capture_on_commit_callbacks
):
    from engagements.services.accounts import hr_grant

    owner = factories.UserFactory(is_superuser=True, is_staff=True, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        hr_grant(
            organization=engagement.organization,
            email="rh.nouvelle@example.com",
            first_name="Rose",
            last_name="Henry",
            granted_by=owner,
        )
    assert User.objects.get(email="rh.nouvelle@example.com").language == settings.LANGUAGE_CODE
    [message] = mail.outbox
    assert message.subject == invitation_subject(settings.LANGUAGE_CODE)


@pytest.mark.parametrize(("own", "screen"), [("fr", "en"), ("en", "fr")])
def test_a_password_reset_is_in_the_persons_language_whatever_the_screen(
    client, coachee, own, screen
):
    User.objects.filter(pk=coachee.pk).update(language=own)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = screen
    client.post(reverse("password_reset"), {"email": coachee.email})
    [message] = mail.outbox
    sentence = "If it was not you, ignore this message: your password does not change."
    with translation.override(own):
        assert gettext(sentence) in message.body
    with translation.override(screen):
        assert gettext(sentence) not in message.body
