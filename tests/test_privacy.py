"""Retention: session notes are purged automatically after the end, and the purge is logged."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagements.models import AuditEvent, Engagement, PrivateNote, SharedSummary, Signature
from engagements.services.privacy import session_notes_purge
from engagements.tasks import purge_expired_session_notes

from . import factories
from .conftest import move_to

pytestmark = pytest.mark.django_db


def ended(days_ago, status=Engagement.Status.WITHDRAWN):
    engagement = move_to(factories.EngagementFactory(), status)
    Engagement.objects.filter(pk=engagement.pk).update(
        ended_at=timezone.now() - timedelta(days=days_ago)
    )
    session = factories.CoachingSessionFactory(engagement=engagement)
    factories.PrivateNoteFactory(session=session)
    factories.SharedSummaryFactory(session=session)
    return engagement


def test_notes_are_purged_after_the_retention_period(settings):
    settings.SESSION_NOTES_RETENTION_DAYS = 183
    old = ended(days_ago=200)
    recent = ended(days_ago=30)

    assert session_notes_purge() == 1

    assert not PrivateNote.objects.filter(session__engagement=old).exists()
    assert not SharedSummary.objects.filter(session__engagement=old).exists()
    assert PrivateNote.objects.filter(session__engagement=recent).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.PURGE)
    assert event.engagement == old
    assert event.detail == {"private_notes": 1, "shared_summaries": 1, "retention_days": 183}


def test_open_engagements_keep_their_notes():
    engagement = move_to(factories.EngagementFactory(), Engagement.Status.ACTIVE)
    factories.PrivateNoteFactory(session__engagement=engagement)
    assert session_notes_purge(now=timezone.now() + timedelta(days=3650)) == 0
    assert PrivateNote.objects.exists()


def test_purging_twice_purges_and_logs_once():
    ended(days_ago=400)
    assert session_notes_purge() == 1
    assert session_notes_purge() == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PURGE).count() == 1


def test_purge_keeps_the_signed_convention_and_the_sessions():
    engagement = ended(days_ago=400, status=Engagement.Status.COMPLETED)
    signature = factories.SignatureFactory(convention__engagement=engagement)
    session_notes_purge()
    assert Signature.objects.filter(pk=signature.pk).exists()
    assert engagement.sessions.exists()


def test_the_retention_period_is_configurable(settings):
    ended(days_ago=40)
    settings.SESSION_NOTES_RETENTION_DAYS = 30
    assert purge_expired_session_notes.delay().get() == 1


def test_the_purge_is_scheduled_with_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-expired-session-notes"]
    assert schedule["task"] == "engagements.tasks.purge_expired_session_notes"
