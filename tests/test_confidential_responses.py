"""Confidential answers are never cached; the sponsor sees dates and counts, no statuses."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.models import CoachingSession
from engagements.services.sessions import calendar_feed_renew

from . import factories
from .test_policy import url_for

pytestmark = pytest.mark.django_db

CONFIDENTIAL = {
    "engagement_detail": "coach",
    "sessions": "coachee",
    "session_detail": "coach",
    "report_detail": "sponsor",
    "report_pdf": "sponsor",
    "convention_document": "hr",
    "convention_signed_document": "hr",
    "hr_export": "hr",
    "hr_portal": "hr",
    "kickoff": "coachee",
}


def stamp(session):
    return timezone.localtime(session.starts_at).isoformat()[:16]


def assert_not_stored(response):
    directives = {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= directives, response.headers.get("Cache-Control")


@pytest.mark.parametrize("name", sorted(CONFIDENTIAL))
def test_confidential_pages_and_files_are_never_stored(request, client, world, name):
    client.force_login(request.getfixturevalue(CONFIDENTIAL[name]))
    response = client.get(url_for(name, world))
    assert response.status_code == 200, name
    assert_not_stored(response)


def test_the_calendar_feed_is_never_stored(client, world, coach):
    feed = calendar_feed_renew(user=coach)
    response = client.get(reverse("calendar_feed", args=[feed.token]))
    assert response.status_code == 200
    assert_not_stored(response)


def test_the_sponsor_sees_dates_of_planned_sessions_and_counts_but_no_status(
    client, world, sponsor
):
    now = timezone.now()
    factories.CoachingSessionFactory(
        engagement=world, starts_at=now - timedelta(days=20), status="held"
    )
    factories.CoachingSessionFactory(
        engagement=world, starts_at=now - timedelta(days=10), status="missed"
    )
    factories.CoachingSessionFactory(
        engagement=world,
        starts_at=now + timedelta(days=30),
        status="cancelled",
        cancelled_at=now,
        cancelled_late=True,
    )
    client.force_login(sponsor)
    page = client.get(world.get_absolute_url())
    text = page.content.decode()
    shown = list(page.context["sessions"])
    assert shown and all(s.status == CoachingSession.Status.PLANNED for s in shown)
    # Only the planned session's date is on the page: none of the others'.
    for session in world.sessions.exclude(status=CoachingSession.Status.PLANNED):
        assert f'datetime="{stamp(session)}' not in text
    assert f'datetime="{stamp(shown[0])}' in text
