# ruff: noqa: F811 - the ``active`` fixture comes from test_sessions
"""
The calendar feed under polling: conditional requests (ETag, Last-Modified,
304), the serialized calendar kept until a meeting of that person changes,
a bounded window — and never a stale meeting after a change.
"""

from datetime import timedelta

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements import calendar
from engagements.services import engagements as engagement_service
from engagements.services import sessions as service

from . import factories
from .test_sessions import active, at, schedule  # noqa: F401

pytestmark = pytest.mark.django_db


def _address(client, user):
    client.force_login(user)
    client.post(reverse("calendar_settings"), {"action": "renew"})
    client.logout()
    user.calendar_feed.refresh_from_db()
    return reverse("calendar_feed", args=[user.calendar_feed.token])


def _events(response):
    return icalendar.Calendar.from_ical(response.content).walk("VEVENT")


@pytest.fixture
def builds(monkeypatch):
    """How many times a feed was built (serialized)."""
    calls = []
    original = calendar.feed

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr("engagements.views.sessions.feed", counting)
    return calls


def test_an_unchanged_feed_answers_304_to_its_etag_and_its_date(
    client, active, coach, coachee, builds
):
    schedule(active, coach, at(7))
    url = _address(client, coachee)
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-store"
    etag, modified = first["ETag"], first["Last-Modified"]

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert len(builds) == 1


def test_a_feed_is_built_once_for_every_poll_until_a_meeting_changes(
    client, active, coach, coachee, builds
):
    schedule(active, coach, at(7))
    url = _address(client, coachee)
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert len(builds) == 1


def test_a_304_costs_the_same_few_queries_whatever_the_number_of_meetings(
    client, active, coach, coachee
):
    schedule(active, coach, at(7))
    url = _address(client, coachee)
    etag = client.get(url)["ETag"]
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    for day in range(8, 20):
        factories.CoachingSessionFactory(engagement=active, starts_at=at(day))
    etag = client.get(url)["ETag"]
    with CaptureQueriesContext(connection) as many:
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert len(few) == len(many) <= 3


def test_a_moved_meeting_is_shown_at_its_new_time_at_once(client, active, coach, coachee):
    session = schedule(active, coach, at(7, 10))
    url = _address(client, coachee)
    before = client.get(url)
    service.session_reschedule(
        session=session, user=coach, starts_at=at(9, 15), duration_minutes=60
    )
    after = client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    [event] = _events(after)
    assert event.start == at(9, 15)


def test_a_cancelled_meeting_is_shown_cancelled_at_once(client, active, coach, coachee):
    session = schedule(active, coach, at(7))
    url = _address(client, coach)
    before = client.get(url)
    service.session_cancel(session=session, user=coachee)
    after = client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    [event] = _events(after)
    assert str(event["status"]) == "CANCELLED"


def test_after_a_withdrawal_the_sponsor_and_the_coach_see_the_meetings_cancelled(
    client, active, coach, coachee, sponsor
):
    factories.CoachingSessionFactory(engagement=active, starts_at=at(7), kind="midpoint")
    sponsor_url = _address(client, sponsor)
    coach_url = _address(client, coach)
    seen = {url: client.get(url) for url in (sponsor_url, coach_url)}
    assert all(str(e["status"]) == "CONFIRMED" for e in _events(seen[sponsor_url]))

    engagement_service.engagement_withdraw(engagement=active, coachee=coachee)

    for url, before in seen.items():
        after = client.get(url, headers={"If-None-Match": before["ETag"]})
        assert after.status_code == 200, url
        assert [str(e["status"]) for e in _events(after)] == ["CANCELLED"]


def test_a_renewed_feed_leaves_the_old_address_dead_even_when_cached(
    client, active, coach, coachee
):
    schedule(active, coach, at(7))
    old = _address(client, coachee)
    assert client.get(old).status_code == 200
    new = _address(client, coachee)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_the_feed_holds_90_days_back_to_400_days_ahead(client, active, coach, coachee):
    inside = [
        factories.CoachingSessionFactory(engagement=active, starts_at=at(-80)),
        factories.CoachingSessionFactory(engagement=active, starts_at=at(390)),
    ]
    for days in (-100, 420):
        factories.CoachingSessionFactory(engagement=active, starts_at=at(days))
    events = _events(client.get(_address(client, coachee)))
    assert sorted(str(e["uid"]).split("@")[0] for e in events) == sorted(str(s.uid) for s in inside)


def test_the_window_moves_once_a_day():
    start, end = calendar.feed_window()
    assert (start.hour, start.minute, end.hour, end.minute) == (0, 0, 0, 0)
    assert end - start == timedelta(days=calendar.FEED_DAYS_BACK + calendar.FEED_DAYS_AHEAD)
