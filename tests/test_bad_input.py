"""Bad input gets a clear form error and changes nothing; names stay one line everywhere."""

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from engagements import calendar
from engagements.models import CoachingSession, Engagement, HRProposal, User

from . import factories

pytestmark = pytest.mark.django_db

FAR = ["0001-01-01T00:00", "9999-12-31T23:59"]


@pytest.fixture
def active(engagement_in):
    return engagement_in(Engagement.Status.ACTIVE)


@pytest.mark.parametrize("moment", FAR)
def test_a_session_far_in_the_past_or_future_is_a_form_error(client, active, coach, moment):
    client.force_login(coach)
    response = client.post(
        reverse("session_new", args=[active.pk]),
        {
            "kind": "development",
            "starts_at": moment,
            "duration_minutes": "120",
            "format": "video",
            "video_url": "https://visio.example.com/s",
        },
    )
    assert response.status_code == 200
    assert "starts_at" in response.context["session_form"].errors
    assert not active.sessions.exists()


@pytest.mark.parametrize("moment", FAR)
def test_a_kickoff_far_in_the_past_or_future_is_a_form_error(client, engagement, coach, moment):
    client.force_login(coach)
    response = client.post(
        reverse("kickoff_schedule", args=[engagement.pk]),
        {"starts_at": moment, "duration_minutes": "120", "format": "video"},
    )
    assert response.status_code == 200
    assert "starts_at" in response.context["form"].errors
    assert not engagement.sessions.exists()


@pytest.mark.parametrize("moment", FAR)
def test_a_move_far_in_the_past_or_future_is_a_form_error(client, active, coach, moment):
    session = factories.CoachingSessionFactory(engagement=active)
    client.force_login(coach)
    response = client.post(
        reverse("session_reschedule", args=[active.pk, session.pk]),
        {"starts_at": moment, "duration_minutes": "120"},
    )
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.sequence == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_series_far_in_the_past_or_future_is_a_form_error(client, active, coach, day):
    client.force_login(coach)
    data = {
        "first_day": day,
        "weekday": "0",
        "at": "10:00",
        "count": "3",
        "every_weeks": "4",
        "duration_minutes": "120",
        "format": "video",
    }
    response = client.post(reverse("series", args=[active.pk]), data)
    assert response.status_code == 200
    assert "first_day" in response.context["series_form"].errors
    # The adjusted dates of the second step are judged the same way.
    data.update(first_day=timezone.localdate().isoformat(), action="create", start=FAR)
    response = client.post(reverse("series", args=[active.pk]), data)
    assert response.status_code == 200
    assert response.context["series_form"].non_field_errors()
    assert not active.sessions.exists()


def test_the_cancellation_notice_has_bounds_that_fit_the_column(client, engagement, coach):
    client.force_login(coach)
    response = client.post(
        reverse("engagement_terms", args=[engagement.pk]),
        {
            "title": engagement.title,
            "start_date": engagement.start_date.isoformat(),
            "end_date": engagement.end_date.isoformat(),
            "sessions_contracted": "12",
            "session_minutes": "120",
            "format": "video",
            "fee_amount": "1000",
            "cancellation_notice_hours": "99999999",
            "language": "fr",
        },
    )
    assert response.status_code == 200
    assert "cancellation_notice_hours" in response.context["form"].errors
    engagement.refresh_from_db()
    assert engagement.cancellation_notice_hours == 48


@pytest.mark.parametrize("name", ["Anne\nBcc: x@example.com", "Anne\x07", "Anne\u2028Marie"])
def test_a_name_with_a_line_break_or_control_character_is_refused(client, coach, name):
    client.force_login(coach)
    response = client.post(
        reverse("engagement_new"),
        {
            "new_organization_name": "Société Nouvelle",
            "title": "Prise de poste",
            "coachee_first_name": name,
            "coachee_last_name": "Dupont",
            "coachee_email": "anne@example.com",
            "coachee_job_title": "Directrice",
            "sponsor_first_name": "Paul",
            "sponsor_last_name": "Martin",
            "sponsor_email": "paul@example.com",
            "sponsor_job_title": "DG",
            "start_date": "2027-01-01",
            "end_date": "2028-01-01",
            "sessions_contracted": "12",
            "session_minutes": "120",
            "format": "video",
            "fee_amount": "1000",
            "language": "fr",
        },
    )
    assert response.status_code == 200
    assert "coachee_first_name" in response.context["form"].errors
    assert not User.objects.filter(email="anne@example.com").exists()


def test_hr_names_are_one_line_too(client, engagement, coach):
    client.force_login(coach)
    response = client.post(
        reverse("hr_invite"),
        {
            "organization": engagement.organization.pk,
            "first_name": "Rose\r\nX-Header: 1",
            "last_name": "Hache",
            "email": "rose@example.com",
        },
    )
    assert response.status_code == 200
    assert not HRProposal.objects.exists()


def test_the_model_refuses_a_control_character_in_a_name():
    user = User(email="x@example.com", first_name="A\x00B", last_name="C")
    with pytest.raises(ValidationError):
        user.full_clean()


def test_a_stored_name_with_a_line_break_never_breaks_a_calendar(engagement_in):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    User.objects.filter(pk=engagement.coachee_id).update(first_name="Anne\r\nATTENDEE:evil")
    engagement.coachee.refresh_from_db()
    assert (
        engagement.coachee.get_full_name() == f"Anne ATTENDEE:evil {engagement.coachee.last_name}"
    )
    session = factories.CoachingSessionFactory(engagement=engagement)
    session = CoachingSession.objects.select_related(
        "engagement__coachee", "engagement__coach__user", "engagement__sponsor"
    ).get(pk=session.pk)
    content = calendar.invitation(session, role="coach")
    [event] = icalendar.Calendar.from_ical(content).walk("VEVENT")
    assert len(event.get("attendee")) == 2
    assert b"\r\nATTENDEE:evil" not in content
