"""Retention and privacy (DOMAIN.md, "Records, retention and privacy")."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from ..models import AuditEvent, Engagement, PrivateNote, SharedSummary

logger = logging.getLogger(__name__)


def session_notes_purge(*, now=None, retention_days=None) -> int:
    """
    Delete the coach's private notes and the shared session summaries of
    engagements that ended more than ``retention_days`` ago (setting
    ``SESSION_NOTES_RETENTION_DAYS`` by default), and log one audit event per
    engagement purged. Safe to run any number of times: a second run finds
    nothing left to purge. Returns the number of engagements purged.
    """
    now = now or timezone.now()
    if retention_days is None:
        retention_days = settings.SESSION_NOTES_RETENTION_DAYS
    cutoff = now - timedelta(days=retention_days)
    expired = Engagement.objects.filter(ended_at__lt=cutoff)
    engagement_ids = set(
        PrivateNote.objects.filter(session__engagement__in=expired).values_list(
            "session__engagement_id", flat=True
        )
    ) | set(
        SharedSummary.objects.filter(session__engagement__in=expired).values_list(
            "session__engagement_id", flat=True
        )
    )
    purged = 0
    for engagement_id in sorted(engagement_ids):
        with transaction.atomic():
            # Lock the engagement so two concurrent runs do not log twice.
            Engagement.objects.select_for_update().filter(pk=engagement_id).first()
            notes = PrivateNote.objects.filter(session__engagement_id=engagement_id)
            summaries = SharedSummary.objects.filter(session__engagement_id=engagement_id)
            counts = {
                "private_notes": notes.aggregate(n=Count("pk"))["n"],
                "shared_summaries": summaries.aggregate(n=Count("pk"))["n"],
            }
            if not any(counts.values()):
                continue
            notes.delete()
            summaries.delete()
            AuditEvent.objects.create(
                engagement_id=engagement_id,
                action=AuditEvent.Action.PURGE,
                record_type="session_notes",
                detail={**counts, "retention_days": retention_days},
                created_at=now,
            )
        purged += 1
        logger.info("Purged session notes of engagement %s: %s", engagement_id, counts)
    return purged


def confidential_views_log(*, user, engagement, records, ip_address="") -> None:
    """
    Every view of a confidential record (a report, the closing review, a
    convention) is logged: who, what, when (DOMAIN.md). ``records`` are the
    model instances shown.
    """
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=user,
                engagement=engagement,
                action=AuditEvent.Action.VIEW,
                record_type=record._meta.model_name,
                record_id=record.pk,
                ip_address=ip_address or None,
            )
            for record in records
        ]
    )


def record_download_log(*, user, engagement, record, ip_address="", detail=None) -> None:
    """Every download of a confidential document (a report's PDF, a synthesis) is logged."""
    AuditEvent.objects.create(
        actor=user,
        engagement=engagement,
        action=AuditEvent.Action.DOWNLOAD,
        record_type=record._meta.model_name,
        record_id=record.pk,
        ip_address=ip_address or None,
        detail=detail or {},
    )
