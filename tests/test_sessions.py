"""Scheduling, series, changes, attendance, notes, calendars and reminders."""

import json
import shutil
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements import calendar, workflow
from engagements.models import Engagement, Notification
from engagements.services import sessions as service
from engagements.tasks import session_reminders

from . import factories
from .conftest import move_to

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def active(engagement_in):
    """An active engagement over the next twelve months."""
    engagement = engagement_in(Engagement.Status.ACTIVE)
    today = timezone.localdate()
    Engagement.objects.filter(pk=engagement.pk).update(
        start_date=today, end_date=today + timedelta(days=365)
    )
    engagement.refresh_from_db()
    return engagement


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def at(days, hour=10):
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def schedule(engagement, coach, starts_at, **overrides):
    values = {
        "engagement": engagement,
        "coach": coach,
        "kind": "development",
        "starts_at": starts_at,
        "duration_minutes": 120,
        "format": "video",
        "video_url": "https://visio.example.com/s",
    }
    values.update(overrides)
    return service.session_schedule(**values)


# -- scheduling ------------------------------------------------------------------------


def test_the_coach_plans_a_session_and_the_coach_and_coachee_get_an_invitation(
    active, coach, on_commit
):
    session = on_commit(schedule, active, coach, at(7))
    assert session.duration_minutes == 120
    assert sorted(m.to[0] for m in mail.outbox) == sorted([coach.email, active.coachee.email])
    [attachment] = mail.outbox[0].attachments
    assert attachment[0] == "invitation.ics"
    parsed = icalendar.Calendar.from_ical(attachment[1])
    assert parsed["method"] == "REQUEST"


def test_a_tripartite_meeting_invites_the_sponsor_too(active, coach, on_commit):
    on_commit(schedule, active, coach, at(7), kind="midpoint")
    assert active.sponsor.email in [m.to[0] for m in mail.outbox]


def test_the_closing_meeting_is_booked_once_the_closing_review_has_started(active, coach):
    with pytest.raises(ValidationError):
        schedule(active, coach, at(20), kind="closing")
    workflow.transition(active, "start_closing", actor=coach)
    active.refresh_from_db()
    schedule(active, coach, at(20), kind="closing")
    active.refresh_from_db()
    assert active.status == Engagement.Status.CLOSING
    assert active.sessions.get().kind == "closing"


@pytest.mark.parametrize(
    "starts_at, overrides",
    [
        (lambda: at(-1), {}),  # in the past
        (lambda: at(400), {}),  # after the period
        (lambda: at(7), {"duration_minutes": 0}),  # ends before it starts
        (lambda: at(7), {"format": "in_person", "location": ""}),
        (lambda: at(7), {"kind": "kickoff"}),  # not in this state
    ],
)
def test_bad_slots_are_refused_and_nothing_is_saved(active, coach, starts_at, overrides):
    with pytest.raises(ValidationError):
        schedule(active, coach, starts_at(), **overrides)
    assert not active.sessions.exists()


def test_the_coach_cannot_be_double_booked_across_engagements(active, coach):
    schedule(active, coach, at(7, 10))
    other = move_to(
        factories.EngagementFactory(
            coach=active.coach,
            start_date=active.start_date,
            end_date=active.end_date,
        ),
        Engagement.Status.ACTIVE,
    )
    with pytest.raises(ValidationError) as error:
        schedule(other, coach, at(7, 11))
    assert "already has a session" in str(error.value) or "déjà une séance" in str(error.value)
    assert not other.sessions.exists()
    schedule(other, coach, at(7, 12))  # right after: fine


def test_the_contracted_count_cannot_be_exceeded(active, coach):
    Engagement.objects.filter(pk=active.pk).update(sessions_contracted=2)
    active.refresh_from_db()
    schedule(active, coach, at(7))
    schedule(active, coach, at(14))
    with pytest.raises(ValidationError):
        schedule(active, coach, at(21))
    assert active.sessions.count() == 2


def test_only_the_coach_schedules(active, coachee):
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        schedule(active, coachee, at(7))
    assert not active.sessions.exists()


# -- series ----------------------------------------------------------------------------


def test_a_series_keeps_its_weekday_and_paris_time_across_daylight_saving():
    starts = service.series_plan(
        first_day=date(2027, 3, 1), weekday=0, at=time(9, 30), count=3, every_weeks=4
    )
    assert [s.date() for s in starts] == [date(2027, 3, 1), date(2027, 3, 29), date(2027, 4, 26)]
    assert {s.astimezone(PARIS).time() for s in starts} == {time(9, 30)}
    assert starts[0].astimezone(ZoneInfo("UTC")).hour == 8  # CET
    assert starts[1].astimezone(ZoneInfo("UTC")).hour == 7  # CEST


def test_the_coach_plans_twelve_sessions_with_a_preview(client, active, coach):
    client.force_login(coach)
    form = {
        "first_day": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "weekday": "1",
        "at": "09:30",
        "count": "12",
        "every_weeks": "4",
        "duration_minutes": "120",
        "format": "video",
        "video_url": "https://visio.example.com/s",
        "location": "",
    }
    preview = client.post(reverse("series", args=[active.pk]), {**form, "action": "preview"})
    assert preview.status_code == 200
    starts = [p["start"].strftime("%Y-%m-%dT%H:%M") for p in preview.context["preview"]]
    assert len(starts) == 12
    assert not active.sessions.exists()  # a preview saves nothing
    starts[0] = starts[0].replace("T09:30", "T14:00")  # adjusted before saving
    created = client.post(
        reverse("series", args=[active.pk]), {**form, "action": "create", "start": starts}
    )
    assert created.status_code == 302
    sessions = list(active.sessions.order_by("starts_at"))
    assert len(sessions) == 12
    assert timezone.localtime(sessions[0].starts_at).hour == 14
    assert all(timezone.localtime(s.starts_at).weekday() == 1 for s in sessions)


def test_a_series_overflowing_the_period_or_the_quota_saves_nothing(client, active, coach):
    client.force_login(coach)
    starts = [at(7 + 35 * n).strftime("%Y-%m-%dT%H:%M") for n in range(13)]
    response = client.post(
        reverse("series", args=[active.pk]),
        {
            "first_day": timezone.localdate().isoformat(),
            "weekday": "0",
            "at": "10:00",
            "count": "13",
            "every_weeks": "5",
            "duration_minutes": "120",
            "format": "video",
            "action": "create",
            "start": starts,
        },
    )
    assert response.status_code == 200
    errors = " ".join(response.context["series_form"].non_field_errors())
    assert errors
    assert not active.sessions.exists()


def test_a_series_with_overlapping_dates_is_refused(active, coach):
    with pytest.raises(ValidationError):
        service.series_create(
            engagement=active,
            coach=coach,
            starts=[at(7, 10), at(7, 11)],
            duration_minutes=120,
            format="video",
        )
    assert not active.sessions.exists()


# -- changes and attendance -------------------------------------------------------------


def test_a_move_sends_an_update_with_a_higher_sequence(active, coach, coachee, on_commit):
    session = schedule(active, coach, at(7))
    mail.outbox.clear()
    moved = on_commit(
        service.session_reschedule,
        session=session,
        user=coachee,
        starts_at=at(8),
        duration_minutes=120,
    )
    assert moved.sequence == 1 and moved.uid == session.uid
    parsed = icalendar.Calendar.from_ical(mail.outbox[0].attachments[0][1])
    [event] = parsed.walk("VEVENT")
    assert parsed["method"] == "REQUEST"
    assert event["sequence"] == 1
    assert str(event["uid"]).startswith(str(session.uid))


def test_a_cancellation_sends_a_cancel_and_knows_when_it_is_late(active, coach, coachee, on_commit):
    early = schedule(active, coach, at(10))
    mail.outbox.clear()
    early = on_commit(service.session_cancel, session=early, user=coachee)
    assert early.status == "cancelled" and not early.cancelled_late
    assert icalendar.Calendar.from_ical(mail.outbox[0].attachments[0][1])["method"] == "CANCEL"
    soon = schedule(active, coach, timezone.now() + timedelta(hours=5))
    soon = service.session_cancel(session=soon, user=coach)
    assert soon.cancelled_late  # within the 48 h notice: it counts as used
    assert active.sessions.used().count() == 1


def test_the_sponsor_cannot_cancel_a_session(client, active, coach, sponsor):
    session = schedule(active, coach, at(7))
    client.force_login(sponsor)
    response = client.post(reverse("session_cancel", args=[active.pk, session.pk]))
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.status == "planned"


def test_attendance_is_recorded_once_the_session_has_begun(active, coach):
    future = schedule(active, coach, at(7))
    with pytest.raises(ValidationError):
        service.session_attendance_record(session=future, coach=coach, status="held")
    past = factories.CoachingSessionFactory(
        engagement=active, starts_at=timezone.now() - timedelta(hours=3)
    )
    service.session_attendance_record(session=past, coach=coach, status="missed")
    past.refresh_from_db()
    assert past.status == "missed" and past.counts_as_used


# -- notes ------------------------------------------------------------------------------


def test_notes_belong_to_who_domain_says(client, active, coach, coachee):
    session = factories.CoachingSessionFactory(engagement=active)
    url = reverse("session_notes", args=[active.pk, session.pk])
    client.force_login(coachee)
    client.post(url, {"summary": "Ce que j'ai compris", "action_plan": "Essayer"})
    client.post(url, {"private_note": "tentative"})
    session.refresh_from_db()
    assert session.shared_summary.summary == "Ce que j'ai compris"
    assert not hasattr(session, "private_note") or session.private_note is None
    client.force_login(coach)
    client.post(url, {"private_note": "Hypothèse"})
    session.refresh_from_db()
    assert session.private_note.body == "Hypothèse"
    page = client.get(reverse("session_detail", args=[active.pk, session.pk])).content.decode()
    assert "Hypothèse" in page
    client.force_login(coachee)
    page = client.get(reverse("session_detail", args=[active.pk, session.pk])).content.decode()
    assert "Hypothèse" not in page


# -- availability -------------------------------------------------------------------------


def test_the_coach_asks_and_the_coachee_answers_with_their_availability(
    client, active, coach, coachee, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("availability_request", args=[active.pk]))
    assert mail.outbox[0].to == [coachee.email]
    client.force_login(coachee)
    client.post(reverse("availability_save", args=[active.pk]), {"availability": "Mardis matin"})
    active.refresh_from_db()
    assert active.coachee_availability == "Mardis matin"


# -- calendars -----------------------------------------------------------------------------


def _feed(client, user):
    client.force_login(user)
    client.post(reverse("calendar_settings"), {"action": "renew"})
    token = user.calendar_feed.token
    client.logout()
    response = client.get(reverse("calendar_feed", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def test_each_person_has_a_private_feed_and_the_sponsor_sees_only_tripartite_meetings(
    client, active, coach, coachee, sponsor
):
    schedule(active, coach, at(7))
    schedule(active, coach, at(14), kind="midpoint")
    assert len(_feed(client, coachee).walk("VEVENT")) == 2
    assert len(_feed(client, coach).walk("VEVENT")) == 2
    [meeting] = _feed(client, sponsor).walk("VEVENT")
    assert "mi-parcours" in str(meeting["summary"]) or "mid-point" in str(meeting["summary"])


def test_a_feed_address_can_be_renewed_and_revoked(client, coachee):
    client.force_login(coachee)
    client.post(reverse("calendar_settings"), {"action": "renew"})
    first = coachee.calendar_feed.token
    client.post(reverse("calendar_settings"), {"action": "renew"})
    coachee.refresh_from_db()
    assert coachee.calendar_feed.token != first
    assert client.get(reverse("calendar_feed", args=[first])).status_code == 404
    client.post(reverse("calendar_settings"), {"action": "revoke"})
    assert client.get(reverse("calendar_feed", args=[first])).status_code == 404


def test_a_moved_session_shows_its_new_time_in_the_feed(client, active, coach, coachee):
    session = schedule(active, coach, at(7, 10))
    service.session_reschedule(
        session=session, user=coach, starts_at=at(9, 15), duration_minutes=60
    )
    [event] = _feed(client, coachee).walk("VEVENT")
    assert event.start == at(9, 15)
    assert event["sequence"] == 1


def _dst_sessions(active):
    Engagement.objects.filter(pk=active.pk).update(
        start_date=date(2027, 1, 1), end_date=date(2027, 12, 31)
    )
    before = factories.CoachingSessionFactory(
        engagement=active, starts_at=datetime(2027, 3, 27, 10, 0, tzinfo=PARIS)
    )
    after = factories.CoachingSessionFactory(
        engagement=active, starts_at=datetime(2027, 3, 29, 10, 0, tzinfo=PARIS)
    )
    return before, after


def test_times_are_right_on_both_sides_of_the_spring_change_with_icalendar(active):
    before, after = _dst_sessions(active)
    for session, utc_hour in ((before, 9), (after, 8)):
        parsed = icalendar.Calendar.from_ical(calendar.invitation(session, role="coach"))
        [event] = parsed.walk("VEVENT")
        assert parsed.walk("VTIMEZONE")[0]["tzid"] == "Europe/Paris"
        assert event.start.astimezone(ZoneInfo("UTC")).hour == utc_hour
        assert event.start.astimezone(PARIS).hour == 10
        assert event.end - event.start == timedelta(hours=2)


@pytest.mark.skipif(
    not (shutil.which("node") and (ROOT / "node_modules" / "ical.js").exists()),
    reason="node and ical.js (npm ci) are needed",
)
def test_times_are_right_on_both_sides_of_the_spring_change_with_ical_js(active, tmp_path):
    before, after = _dst_sessions(active)
    for session, expected_utc in (
        (before, "2027-03-27T09:00:00.000Z"),
        (after, "2027-03-29T08:00:00.000Z"),
    ):
        path = tmp_path / f"{session.pk}.ics"
        path.write_bytes(calendar.invitation(session, role="coachee"))
        result = subprocess.run(
            ["node", str(ROOT / "tests" / "js" / "parse_ics.cjs"), str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        parsed = json.loads(result.stdout)
        [event] = parsed["events"]
        assert parsed["method"] == "REQUEST"
        assert event["tzid"] == "Europe/Paris"
        assert event["start"] == expected_utc
        assert event["uid"].startswith(str(session.uid))


# -- reminders ---------------------------------------------------------------------------


def test_reminders_go_once_at_48_hours_then_at_2_hours(active, coach, coachee):
    session = factories.CoachingSessionFactory(
        engagement=active, starts_at=timezone.now() + timedelta(hours=47)
    )
    now = timezone.now()
    assert session_reminders(now=now) == 2  # coach and coachee
    assert session_reminders(now=now) == 0  # the job ran twice: nothing more
    later = now + timedelta(hours=45.5)
    assert session_reminders(now=later) == 2
    assert session_reminders(now=later) == 0
    keys = set(Notification.objects.values_list("key", flat=True))
    assert f"reminder-48h:{session.pk}:0:coachee" in keys
    assert f"reminder-2h:{session.pk}:0:coachee" in keys


def test_a_session_planned_at_short_notice_gets_only_the_nearest_reminder(active):
    factories.CoachingSessionFactory(
        engagement=active, starts_at=timezone.now() + timedelta(hours=1)
    )
    assert session_reminders(now=timezone.now()) == 2
    assert not Notification.objects.filter(key__startswith="reminder-48h").exists()


def test_the_coach_is_reminded_of_attendance_not_recorded(active, coach):
    factories.CoachingSessionFactory(
        engagement=active, starts_at=timezone.now() - timedelta(hours=30)
    )
    assert session_reminders(now=timezone.now()) == 1
    assert mail.outbox[0].to == [coach.email]
    assert session_reminders(now=timezone.now()) == 0


def test_reminders_are_scheduled_with_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-session-reminders"]
    assert entry["task"] == "engagements.tasks.send_session_reminders"


# -- query counts ------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["sessions", "session_detail"])
def test_schedule_pages_do_not_grow_with_the_number_of_sessions(client, active, coach, page):
    client.force_login(coach)

    def add(count):
        for _index in range(count):
            # Each in its own slot (the factory's): one coach's meetings never overlap.
            session = factories.CoachingSessionFactory(engagement=active)
            factories.SharedSummaryFactory(session=session)
            factories.PrivateNoteFactory(session=session)

    add(2)
    first = active.sessions.order_by("starts_at").first()
    args = [active.pk] if page == "sessions" else [active.pk, first.pk]

    def count():
        client.get(reverse(page, args=args))  # a first visit keeps the roles in the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(page, args=args)).status_code == 200
        return len(queries)

    few = count()
    add(25)
    assert count() == few
