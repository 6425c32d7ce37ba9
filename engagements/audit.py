"""
The tamper-evident audit log (DOMAIN.md, "Records, retention and privacy").

Every event is written here, never with ``AuditEvent.objects.create``: the
writers are serialized so that each new event carries the hash of the one
before it, even when two requests write at the same moment. ``verify`` walks
the chain and names the first broken link (``manage.py verify_audit``).

Call ``record`` as the last write of a transaction: on PostgreSQL it locks the
log until the transaction ends.
"""

import ipaddress
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .models import AuditEvent

VERIFY_BATCH = 2000


def _lock_log():
    """Serialize the writers of the chain until the transaction ends."""
    if connection.vendor == "postgresql":
        # Conflicts with itself, not with readers.
        table = connection.ops.quote_name(AuditEvent._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    # SQLite: every transaction begins IMMEDIATE (settings), which takes the
    # database's write lock; other backends are not supported.


def _normalized_ip(value):
    if not value:
        return None
    try:
        return ipaddress.ip_address(value).compressed
    except ValueError:
        return None


def event(
    *,
    action,
    record_type,
    actor=None,
    engagement=None,
    engagement_id=None,
    record_id=None,
    ip_address="",
    detail=None,
    at=None,
) -> AuditEvent:
    """An unsaved audit event, for ``record``."""
    return AuditEvent(
        actor=actor if actor is not None and actor.is_authenticated else None,
        engagement=engagement,
        engagement_id=engagement.pk if engagement is not None else engagement_id,
        action=action,
        record_type=record_type,
        record_id=record_id,
        ip_address=_normalized_ip(ip_address),
        detail=detail or {},
        created_at=at or timezone.now(),
    )


def record(*events: AuditEvent) -> list[AuditEvent]:
    """Append ``events`` to the log, in order, each chained to the one before."""
    if not events:
        return []
    with transaction.atomic():
        _lock_log()
        previous = AuditEvent.objects.order_by("-pk").values_list("hash", flat=True).first()
        for item in events:
            item.previous_hash = previous or ""
            item.hash = previous = item.content_hash()
        return AuditEvent.objects.bulk_create(events)


def log(**kwargs) -> AuditEvent:
    """Append one event (the keyword arguments of ``event``)."""
    return record(event(**kwargs))[0]


@dataclass(frozen=True)
class Verification:
    checked: int
    broken_at: int | None = None
    reason: str = ""
    last_hash: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify() -> Verification:
    """
    Check every event's hash and its link to the one before, in the order
    they were written; stop at the first broken link.
    """
    previous = ""
    checked = 0
    last_pk = 0
    while True:
        batch = list(AuditEvent.objects.filter(pk__gt=last_pk).order_by("pk")[:VERIFY_BATCH])
        if not batch:
            return Verification(checked=checked, last_hash=previous)
        for item in batch:
            if item.previous_hash != previous:
                return Verification(
                    checked=checked,
                    broken_at=item.pk,
                    reason="its link to the previous event is broken "
                    "(an event was removed or changed)",
                )
            if item.content_hash() != item.hash:
                return Verification(
                    checked=checked,
                    broken_at=item.pk,
                    reason="its content does not match its hash (the event was changed)",
                )
            previous = item.hash
            checked += 1
        last_pk = batch[-1].pk
