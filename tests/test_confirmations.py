"""
Confirmations and corrections (issue 14): cancelling a session and recording
attendance are confirmed first; attendance can be corrected for a while,
logged; the series preview marks clashes; a past start date is questioned.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagements import tasks
from engagements.models import AuditEvent, CoachingSession, Engagement, SponsorReport
from engagements.services import sessions as service

from . import factories
from .test_engagement_new import valid_data

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def active(engagement_in):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    today = timezone.localdate()
    Engagement.objects.filter(pk=engagement.pk).update(
        start_date=today - timedelta(days=60), end_date=today + timedelta(days=300)
    )
    engagement.refresh_from_db()
    return engagement


@pytest.fixture(autouse=True)
def _english(engagement):
    """The parties read English: the assertions name the English wording."""
    for person in (engagement.coach.user, engagement.coachee, engagement.sponsor):
        person.language = "en"
        person.save(update_fields=["language"])


def session_in(engagement, *, hours, kind="development"):
    return factories.CoachingSessionFactory(
        engagement=engagement, kind=kind, starts_at=timezone.now() + timedelta(hours=hours)
    )


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def cancel_url(session):
    return reverse("session_cancel", args=[session.engagement_id, session.pk])


def attendance_url(session):
    return reverse("session_attendance", args=[session.engagement_id, session.pk])


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


# -- cancelling: the confirmation page ---------------------------------------------------


def test_the_coach_is_told_the_coachee_hears_of_it_and_an_early_cancellation_is_free(
    client, active, coach, coachee
):
    session = session_in(active, hours=24 * 10)
    content = page(client, coach, cancel_url(session))
    assert coachee.get_full_name() in content
    assert "does not count as used" in content
    assert "The sponsor is not told" in content
    assert 'name="message"' in content
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"  # a GET changes nothing


def test_the_coachee_is_told_a_late_cancellation_counts_as_used(client, active, coach, coachee):
    session = session_in(active, hours=5)  # inside the 48 h notice
    content = page(client, coachee, cancel_url(session))
    assert coach.get_full_name() in content
    assert "counts as used" in content and "does not count" not in content
    assert "1 of 12 sessions used" in content


def test_for_a_tripartite_meeting_the_sponsor_is_among_those_told(client, active, coach, sponsor):
    session = session_in(active, hours=24 * 10, kind="midpoint")
    content = page(client, coach, cancel_url(session))
    assert sponsor.get_full_name() in content
    assert "not one of the contracted sessions" in content


def test_a_session_that_cannot_be_cancelled_sends_back_with_the_reason(client, active, coach):
    begun = session_in(active, hours=-1)
    client.force_login(coach)
    response = client.get(cancel_url(begun), follow=True)
    assert response.redirect_chain[-1][0].endswith(
        reverse("session_detail", args=[active.pk, begun.pk])
    )
    assert "record its attendance instead" in response.content.decode()


# -- cancelling: the message ------------------------------------------------------------


def test_the_message_reaches_the_other_party_and_never_the_sponsor_of_a_development_session(
    client, active, coach, coachee, sponsor, django_capture_on_commit_callbacks
):
    session = session_in(active, hours=24 * 10)
    client.force_login(coachee)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            cancel_url(session), {"message": "Un imprévu, je vous propose jeudi.", "late": "0"}
        )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == "cancelled" and not session.cancelled_late
    assert session.cancellation_message == "Un imprévu, je vous propose jeudi."
    assert recipients() == sorted([coach.email, coachee.email])
    to_coach = next(m for m in mail.outbox if m.to == [coach.email])
    to_coachee = next(m for m in mail.outbox if m.to == [coachee.email])
    assert "Un imprévu" in to_coach.body
    assert "Un imprévu" not in to_coachee.body  # her own words are not sent back to her
    assert sponsor.email not in recipients()
    # Each e-mail goes once, even if the task runs again.
    assert tasks.send_session_invitations(session.pk) == 0
    assert len(mail.outbox) == 2


def test_the_message_of_a_tripartite_meeting_reaches_the_sponsor_who_attends_it(
    active, coach, coachee, sponsor, django_capture_on_commit_callbacks
):
    session = session_in(active, hours=24 * 10, kind="midpoint")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        service.session_cancel(session=session, user=coach, message="Reportons en juin.")
    assert recipients() == sorted([coach.email, coachee.email, sponsor.email])
    assert "Reportons en juin." in next(m for m in mail.outbox if m.to == [sponsor.email]).body


def test_the_message_is_optional(client, active, coach, django_capture_on_commit_callbacks):
    session = session_in(active, hours=24 * 10)
    client.force_login(coach)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(cancel_url(session), {"late": "0"})
    session.refresh_from_db()
    assert session.status == "cancelled" and session.cancellation_message == ""


def test_a_message_too_long_is_refused_and_nothing_is_cancelled(client, active, coach):
    session = session_in(active, hours=24 * 10)
    client.force_login(coach)
    response = client.post(cancel_url(session), {"message": "x" * 501, "late": "0"})
    assert response.status_code == 200
    assert "message" in response.context["form"].errors
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"


def test_a_cancellation_that_became_late_since_the_page_was_shown_is_asked_again(
    client, active, coach
):
    session = session_in(active, hours=5)
    client.force_login(coach)
    # The page had said "not late" (opened before the notice period began).
    response = client.post(cancel_url(session), {"message": "", "late": "0"})
    assert response.status_code == 200
    assert response.context["late_since"]
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"
    client.post(cancel_url(session), {"message": "", "late": "1"})
    session.refresh_from_db()
    assert session.status == "cancelled" and session.cancelled_late


# -- attendance -----------------------------------------------------------------------------


def test_recording_attendance_is_confirmed_first(client, active, coach):
    session = session_in(active, hours=-3)
    client.force_login(coach)
    response = client.get(attendance_url(session) + "?status=missed")
    assert "counts as used (1 of 12 sessions used)" in response.content.decode()
    assert response.context["form"]["status"].value() == "missed"
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"
    client.post(attendance_url(session), {"status": "missed"})
    session.refresh_from_db()
    assert session.status == "missed" and session.attendance_recorded_at is not None


def test_attendance_without_a_choice_is_a_form_error_and_nothing_changes(client, active, coach):
    session = session_in(active, hours=-3)
    client.force_login(coach)
    response = client.post(attendance_url(session), {"status": "maybe"})
    assert response.status_code == 200
    assert "status" in response.context["form"].errors
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"


def test_the_coach_corrects_the_attendance_within_the_period_and_it_is_logged(
    client, active, coach
):
    session = session_in(active, hours=-3)
    service.session_attendance_record(session=session, coach=coach, status="held")
    content = page(client, coach, reverse("session_detail", args=[active.pk, session.pk]))
    assert "Correct the attendance" in content
    content = page(client, coach, attendance_url(session))
    assert "Correct the attendance" in content
    client.post(attendance_url(session), {"status": "missed"})
    session.refresh_from_db()
    assert session.status == "missed"
    logged = AuditEvent.objects.filter(
        record_type="session_attendance", record_id=session.pk
    ).order_by("pk")
    assert [event.detail for event in logged] == [
        {"from": "planned", "to": "held"},
        {"from": "held", "to": "missed"},
    ]
    assert logged.last().actor == coach
    assert logged.last().action == AuditEvent.Action.TRANSITION


def test_a_correction_after_the_period_is_refused(client, active, coach, settings):
    settings.ATTENDANCE_CORRECTION_DAYS = 14
    session = session_in(active, hours=-24 * 20)
    CoachingSession.objects.filter(pk=session.pk).update(
        status="held", attendance_recorded_at=timezone.now() - timedelta(days=15)
    )
    client.force_login(coach)
    response = client.post(attendance_url(session), {"status": "missed"}, follow=True)
    assert "it is now final" in response.content.decode()
    assert CoachingSession.objects.get(pk=session.pk).status == "held"
    assert not AuditEvent.objects.filter(record_type="session_attendance").exists()
    # The page says so rather than offering a correction.
    content = page(client, coach, reverse("session_detail", args=[active.pk, session.pk]))
    assert "it is now final" in content and "Correct the attendance…" not in content


def test_a_correction_is_refused_once_a_released_report_covers_the_session(client, active, coach):
    session = session_in(active, hours=-24 * 3)
    service.session_attendance_record(session=session, coach=coach, status="held")
    factories.SponsorReportFactory(
        engagement=active,
        status=SponsorReport.Status.RELEASED,
        period_start=active.start_date,
        period_end=timezone.localdate(),
        approved_at=timezone.now(),
        released_at=timezone.now(),
    )
    client.force_login(coach)
    response = client.post(attendance_url(session), {"status": "missed"}, follow=True)
    assert "released to the sponsor" in response.content.decode()
    assert CoachingSession.objects.get(pk=session.pk).status == "held"


def test_a_correction_updates_the_figures_of_a_report_awaiting_approval(active, coach):
    session = session_in(active, hours=-24 * 3)
    service.session_attendance_record(session=session, coach=coach, status="held")
    report = factories.SponsorReportFactory(
        engagement=active,
        status=SponsorReport.Status.AWAITING_APPROVAL,
        period_start=active.start_date,
        period_end=timezone.localdate(),
        sessions_held=1,
    )
    service.session_attendance_record(session=session, coach=coach, status="missed")
    report.refresh_from_db()
    assert (report.sessions_held, report.sessions_missed) == (0, 1)


def test_only_the_coach_records_attendance(client, active, coachee):
    session = session_in(active, hours=-3)
    client.force_login(coachee)
    assert client.get(attendance_url(session)).status_code == 404
    assert client.post(attendance_url(session), {"status": "held"}).status_code == 404
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"


# -- the series preview ---------------------------------------------------------------------


def series_data(**overrides):
    first = timezone.localdate() + timedelta(days=7)
    data = {
        "first_day": first.isoformat(),
        "weekday": str(first.weekday()),
        "at": "09:30",
        "duration_minutes": "120",
        "count": "3",
        "every_weeks": "1",
        "format": "video",
        "video_url": "https://visio.example.com/s",
        "location": "",
        "action": "preview",
    }
    data.update(overrides)
    return data


def test_the_series_preview_marks_a_clash_with_another_engagement_of_the_coach(
    client, active, coach
):
    other = factories.EngagementFactory(coach=active.coach)
    first = timezone.localdate() + timedelta(days=7)
    factories.CoachingSessionFactory(
        engagement=other, starts_at=datetime.combine(first + timedelta(days=7), time(10), PARIS)
    )
    client.force_login(coach)
    response = client.post(reverse("series", args=[active.pk]), series_data())
    preview = response.context["preview"]
    assert [bool(item["clashes"]) for item in preview] == [False, True, False]
    content = response.content.decode()
    assert "Clash" in content and 'aria-describedby="clash-2"' in content
    assert not active.sessions.exists()
    # The coach moves the date and checks again: no clash left, still nothing booked.
    starts = [item["start"].strftime("%Y-%m-%dT%H:%M") for item in preview]
    starts[1] = starts[1].replace("09:30", "14:00")
    response = client.post(
        reverse("series", args=[active.pk]), {**series_data(action="check"), "start": starts}
    )
    assert not any(item["clashes"] for item in response.context["preview"])
    assert not active.sessions.exists()


# -- a new engagement starting in the past --------------------------------------------------


def test_a_start_date_in_the_past_is_questioned_then_accepted_once_confirmed(
    client, coach, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    past = timezone.localdate() - timedelta(days=20)
    data = valid_data(
        start_date=past.isoformat(), end_date=(past + timedelta(days=365)).isoformat()
    )
    response = client.post(reverse("engagement_new"), data)
    assert response.status_code == 200
    assert "start_in_past_confirmed" in response.context["form"].errors
    assert "Yes, this engagement started in the past" in response.content.decode()
    assert not Engagement.objects.filter(title=data["title"]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("engagement_new"), {**data, "start_in_past_confirmed": "on"})
    assert response.status_code == 302
    assert Engagement.objects.get(title=data["title"]).start_date == past


def test_a_start_date_from_today_asks_nothing(client, coach):
    client.force_login(coach)
    content = client.get(reverse("engagement_new")).content.decode()
    assert "start_in_past_confirmed" not in content
