"""
HR's export of signed conventions (DOMAIN.md, "Records, retention and
privacy"): a ZIP with each sealed PDF, ``manifest.csv`` (UTF-8 with BOM) and
each signature's evidence as JSON.

Up to ``EXPORT_STREAM_LIMIT`` conventions the ZIP is streamed in the request;
beyond, a Celery task builds it into storage and HR downloads it from an
expiring link. Either way files are copied in chunks: memory does not grow
with the count.
"""

import csv
import hashlib
import logging
import tempfile
from datetime import UTC, timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _

from .. import archives, audit, permissions, selectors, tasks
from ..errors import NotAllowed
from ..models import AuditEvent, ConventionExport, Engagement, Role, User
from .convention import signatures_evidence

logger = logging.getLogger(__name__)

SIGNING_ORDER = (Role.COACH, Role.COACHEE, Role.SPONSOR)
HEARTBEAT_EVERY = 10  # conventions between two progress writes
MAX_ATTEMPTS = 5  # runs that died or failed before an export is given up


def _manifest_header():
    return [
        _("Engagement"),
        _("Purpose"),
        _("Organization"),
        _("Coachee"),
        _("Sponsor"),
        _("Coach"),
        _("Start"),
        _("End"),
        _("State"),
        _("Convention version"),
        _("Sent for signature at (UTC)"),
        _("Fully signed at (UTC)"),
        _("File"),
        _("SHA-256 of the PDF"),
        _("Coach's signature (UTC)"),
        _("Coachee's signature (UTC)"),
        _("Sponsor's signature (UTC)"),
        _("Evidence"),
    ]


def _utc(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _base_name(convention):
    terms = convention.terms
    coachee = terms.get("coachee", {}).get("name", "")
    return slugify(f"{coachee} {convention.engagement_id} v{convention.version}") or str(
        convention.pk
    )


def _entries(writer, conventions):
    """
    Write each convention's sealed PDF and evidence, then the manifest;
    yield after each convention (for streaming and progress).
    """
    statuses = dict(Engagement.Status.choices)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rows:
        manifest = csv.writer(rows, lineterminator="\r\n")
        for convention in conventions.iterator(chunk_size=100):
            engagement = convention.engagement
            terms = convention.terms
            folder = slugify(terms.get("organization", {}).get("name", "")) or "organisation"
            name = f"{folder}/{_base_name(convention)}"
            with convention.signed_document.open("rb") as document:
                sha256 = writer.add_file(f"{name}.pdf", document)
            evidence = signatures_evidence(convention)
            writer.add_json(
                f"{name}.evidence.json",
                {
                    "engagement": engagement.pk,
                    "convention_version": convention.version,
                    "document_sha256": convention.document_sha256,
                    "signatures": evidence,
                },
            )
            signed = {item["role"]: item["signed_at"] for item in evidence if "role" in item}
            manifest.writerow(
                [
                    engagement.pk,
                    terms.get("title", engagement.title),
                    terms.get("organization", {}).get("name", ""),
                    terms.get("coachee", {}).get("name", ""),
                    terms.get("sponsor", {}).get("name", ""),
                    terms.get("coach", {}).get("name", ""),
                    terms.get("start_date", ""),
                    terms.get("end_date", ""),
                    capfirst(statuses.get(engagement.status, engagement.status)),
                    convention.version,
                    _utc(convention.sent_at),
                    _utc(convention.signed_at),
                    f"{name}.pdf",
                    sha256,
                    *[signed.get(role, "") for role in SIGNING_ORDER],
                    f"{name}.evidence.json",
                ]
            )
            yield
        rows.seek(0)
        writer.add_csv("manifest.csv", _manifest_header(), csv.reader(rows))
        yield


def _log(*, user, conventions_ids, filters, ip_address="", export=None):
    audit.log(
        actor=user,
        action=AuditEvent.Action.EXPORT,
        record_type="conventions_signed",
        record_id=export.pk if export else None,
        ip_address=ip_address,
        detail={"conventions": conventions_ids, "filters": filters, "export": bool(export)},
    )


def export_stream(*, user: User, filters: dict, ip_address: str = ""):
    """
    The ZIP of the signed conventions ``user`` may export with ``filters``,
    streamed (a small export, in the request). The export is logged first.
    """
    conventions = selectors.signed_conventions(user=user, filters=filters)
    _log(
        user=user,
        conventions_ids=list(conventions.values_list("pk", flat=True)),
        filters=filters,
        ip_address=ip_address,
    )
    return archives.stream(lambda writer: _entries(writer, conventions))


def export_count(*, user: User, filters: dict, all_organizations=False) -> int:
    return selectors.signed_conventions(
        user=user, filters=filters, all_organizations=all_organizations
    ).count()


def export_start(
    *, user: User, filters: dict, all_organizations=False, ip_address: str = ""
) -> ConventionExport:
    """Ask for a large export: it is built in the background (``export_build``)."""
    if all_organizations and not permissions.can_export_all_organizations(user):
        raise NotAllowed
    with transaction.atomic():
        conventions = selectors.signed_conventions(
            user=user, filters=filters, all_organizations=all_organizations
        )
        ids = list(conventions.values_list("pk", flat=True))
        export = ConventionExport.objects.create(
            requested_by=user,
            all_organizations=all_organizations,
            filters=filters,
            total=len(ids),
        )
        _log(user=user, conventions_ids=ids, filters=filters, ip_address=ip_address, export=export)
        tasks.build_convention_export.delay_on_commit(export.pk)
    return export


class _Superseded(Exception):
    """Another run took the export over (this one was thought dead)."""


def _claim(export_id):
    """Take the export for this run; None when there is nothing to do."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    with transaction.atomic():
        export = ConventionExport.objects.select_for_update().get(pk=export_id)
        if export.status not in (ConventionExport.Status.PENDING, ConventionExport.Status.RUNNING):
            return None
        if export.status == ConventionExport.Status.RUNNING and export.heartbeat_at > stale:
            return None  # another worker is building it
        if export.attempt >= MAX_ATTEMPTS:
            export.status = ConventionExport.Status.FAILED
            export.finished_at = now
            export.save(update_fields=["status", "finished_at"])
            logger.error("Export %s failed %s times: given up", export_id, export.attempt)
            return None
        export.status = ConventionExport.Status.RUNNING
        export.attempt += 1
        export.done = 0
        export.heartbeat_at = now
        export.save(update_fields=["status", "attempt", "done", "heartbeat_at"])
    return export


def _progress(export, done):
    updated = ConventionExport.objects.filter(
        pk=export.pk, attempt=export.attempt, status=ConventionExport.Status.RUNNING
    ).update(done=done, heartbeat_at=timezone.now())
    if not updated:
        raise _Superseded


def export_build(*, export_id: int) -> str:
    """
    Build a large export into storage. Idempotent and safe to run twice at
    once: a run claims the export (a later run takes it over only when the
    first has given no sign of life for ``EXPORT_STALE_SECONDS``), the ZIP is
    written to a temporary file, and only the run that still owns the export
    stores it, under one name per export: one ZIP, whatever happened.
    """
    export = _claim(export_id)
    if export is None:
        return "nothing to do"
    user = export.requested_by
    conventions = selectors.signed_conventions(
        user=user, filters=export.filters, all_organizations=export.all_organizations
    )
    try:
        with translation.override(user.language), tempfile.TemporaryFile() as scratch:
            with archives.ZipWriter(scratch) as writer:
                for done, _step in enumerate(_entries(writer, conventions), start=1):
                    if done % HEARTBEAT_EVERY == 0:
                        _progress(export, min(done, export.total))
            _store(export, scratch)
    except _Superseded:
        logger.info("Export %s: taken over by another run", export_id)
        return "superseded"
    except Exception:
        # Let the retry (or beat) take it again at once.
        ConventionExport.objects.filter(
            pk=export.pk, attempt=export.attempt, status=ConventionExport.Status.RUNNING
        ).update(status=ConventionExport.Status.PENDING)
        raise
    logger.info("Export %s ready", export_id)
    return "ready"


def _store(export, scratch):
    digest = hashlib.sha256()
    scratch.seek(0)
    while chunk := scratch.read(archives.CHUNK_SIZE):
        digest.update(chunk)
    size = scratch.tell()
    scratch.seek(0)
    with transaction.atomic():
        locked = ConventionExport.objects.select_for_update().get(pk=export.pk)
        if locked.attempt != export.attempt or locked.status != ConventionExport.Status.RUNNING:
            raise _Superseded
        name = f"exports/conventions-{locked.pk}.zip"
        storage = locked.file.storage
        if storage.exists(name):  # left by a run that died before its commit
            storage.delete(name)
        locked.file.save(name.removeprefix("exports/"), File(scratch), save=False)
        now = timezone.now()
        locked.status = ConventionExport.Status.READY
        locked.done = locked.total
        locked.size = size
        locked.sha256 = digest.hexdigest()
        locked.finished_at = now
        locked.expires_at = now + timedelta(hours=settings.EXPORT_LINK_HOURS)
        locked.save()
        tasks.send_export_ready.delay_on_commit(locked.pk)


def export_download_log(*, user: User, export: ConventionExport, ip_address: str = "") -> None:
    audit.log(
        actor=user,
        action=AuditEvent.Action.DOWNLOAD,
        record_type="conventions_signed",
        record_id=export.pk,
        ip_address=ip_address,
        detail={"sha256": export.sha256},
    )


def exports_stale() -> list[int]:
    """Exports whose run died (no sign of life): for the beat to queue again."""
    stale = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    return list(
        ConventionExport.objects.filter(
            Q(status=ConventionExport.Status.PENDING, created_at__lt=stale)
            | Q(status=ConventionExport.Status.RUNNING, heartbeat_at__lt=stale)
        ).values_list("pk", flat=True)
    )


def exports_expire() -> int:
    """Delete the files of exports past their link's expiry. Returns how many."""
    expired = 0
    now = timezone.now()
    for export_id in ConventionExport.objects.filter(
        status=ConventionExport.Status.READY, expires_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            export = ConventionExport.objects.select_for_update().get(pk=export_id)
            if export.status != ConventionExport.Status.READY:
                continue
            if export.file:
                export.file.delete(save=False)
            export.status = ConventionExport.Status.EXPIRED
            export.save(update_fields=["file", "status"])
        expired += 1
    return expired
