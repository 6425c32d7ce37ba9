"""Retention and privacy (DOMAIN.md, "Records, retention and privacy")."""

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from .. import audit, clock, permissions, selectors
from ..models import (
    AuditEvent,
    CalendarFeed,
    ClosingReview,
    CoachingSession,
    Convention,
    Engagement,
    Format,
    HRMembership,
    Kickoff,
    Notification,
    Objective,
    PrivateNote,
    ReportProgress,
    Role,
    SharedSummary,
    Signature,
    SignatureChallenge,
    SponsorReport,
    StatusChange,
    User,
)
from . import reporting
from .convention import signatures_evidence

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
            audit.log(
                engagement_id=engagement_id,
                action=AuditEvent.Action.PURGE,
                record_type="session_notes",
                detail={**counts, "retention_days": retention_days},
                at=now,
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
    audit.record(
        *(
            audit.event(
                actor=user,
                engagement=engagement,
                action=AuditEvent.Action.VIEW,
                record_type=record._meta.model_name,
                record_id=record.pk,
                ip_address=ip_address,
            )
            for record in records
        )
    )


def record_download_log(*, user, engagement, record, ip_address="", detail=None) -> None:
    """Every download of a confidential document (a report's PDF, a synthesis) is logged."""
    audit.log(
        actor=user,
        engagement=engagement,
        action=AuditEvent.Action.DOWNLOAD,
        record_type=record._meta.model_name,
        record_id=record.pk,
        ip_address=ip_address,
        detail=detail,
    )


# -- the coachee's own data (GDPR portability) -------------------------------------
#
# What she sees is what permissions.py lets a coachee see: the rules are asked
# with her role, never re-derived here.

COACHEE_ROLES = frozenset({Role.COACHEE})
ARCHIVE_DATA_NAME = "data.json"


def retention_periods() -> dict:
    """The configured retention periods, in days (shown on the privacy page)."""
    return {
        "session_notes_days": settings.SESSION_NOTES_RETENTION_DAYS,
        "personal_data_days": settings.PERSONAL_DATA_RETENTION_DAYS,
        "convention_days": settings.CONVENTION_RETENTION_DAYS,
    }


def own_data_engagements(user):
    """The engagements in which ``user`` is the coachee: her own data is about these."""
    if not user.is_authenticated:
        return Engagement.objects.none()
    return (
        Engagement.objects.filter(coachee=user)
        .select_related("organization", "coach__user", "sponsor")
        .order_by("start_date", "pk")
    )


def has_own_data(user) -> bool:
    """Whether ``user`` is the coachee of some engagement (the archive is hers to download)."""
    return own_data_engagements(user).exists()


def _person(user):
    return {"name": user.get_full_name() or user.email, "email": user.email}


def _at(value):
    return value.isoformat() if value else None


def _engagement_data(engagement, documents):
    """
    One engagement as its coachee sees it. ``documents`` collects the PDFs to
    add to the archive: (archive name, open-able file field or render function).
    """
    roles = set(COACHEE_ROLES)
    objectives = list(selectors.objectives_for(engagement, roles))
    sessions = list(selectors.sessions_for(engagement, roles))
    summaries_visible = permissions.can_view_shared_summaries(roles)
    conventions = [
        c
        for c in selectors.conventions_for(engagement, roles)
        if c.status != Convention.Status.DRAFT
    ]
    # The reports she approved: released to the sponsor (never a draft, never
    # one still waiting on her, never one closed without release).
    released = [
        r
        for r in selectors.reports_for(engagement, roles)
        if r.status == SponsorReport.Status.RELEASED
    ]
    review = selectors.closing_review_for(engagement, roles)
    kickoff = Kickoff.objects.filter(engagement=engagement).first()

    data = {
        "id": engagement.pk,
        "title": engagement.title,
        "organization": engagement.organization.name,
        "coach": _person(engagement.coach.user),
        "sponsor": {**_person(engagement.sponsor), "job_title": engagement.sponsor_job_title},
        "my_job_title": engagement.coachee_job_title,
        "status": engagement.status,
        "status_label": str(engagement.get_status_display()),
        "start_date": engagement.start_date,
        "end_date": engagement.end_date,
        "ended_at": _at(engagement.ended_at),
        "anonymized_at": _at(engagement.anonymized_at),
        "terms": {
            "language": engagement.language,
            "sessions_contracted": engagement.sessions_contracted,
            "session_minutes": engagement.session_minutes,
            "format": engagement.format,
            "cancellation_notice_hours": engagement.cancellation_notice_hours,
            "fee_amount": str(engagement.fee_amount),
        },
        "my_availability": engagement.coachee_availability,
        "closing_review_asked_at": _at(engagement.closing_requested_at),
        "history": [
            {"at": _at(change.created_at), "from": change.from_status, "to": change.to_status}
            for change in StatusChange.objects.filter(engagement=engagement)
        ],
        # The kickoff's outcome reaches her in the convention sent for signature.
        "kickoff": {
            "coachee_expectations": kickoff.coachee_expectations,
            "sponsor_expectations": kickoff.sponsor_expectations,
            "coach_expectations": kickoff.coach_expectations,
            "reporting_scope": kickoff.reporting_scope,
            "recorded_at": _at(kickoff.recorded_at),
        }
        if kickoff and conventions
        else None,
        "objectives": [
            {
                "position": objective.position,
                "title": objective.title,
                "success_indicators": objective.success_indicators,
                "approved_at": _at(objective.approved_by_coachee_at),
                "scores": [
                    {
                        "milestone": score.milestone,
                        "rater": score.rater,
                        "score": score.score,
                        "report": score.report_id,
                        "at": _at(score.scored_at),
                    }
                    for score in objective.scores.all()
                ],
            }
            for objective in objectives
        ],
        "sessions": [_session_data(s, summaries_visible) for s in sessions],
        "reports": [],
        "closing_review": None,
        "conventions": [],
    }
    for report in released:
        name = f"rapports/rapport-{engagement.pk}-{report.period_end.isoformat()}-{report.pk}.pdf"
        entry = {
            "id": report.pk,
            "period_start": report.period_start,
            "period_end": report.period_end,
            "sessions_held": report.sessions_held,
            "sessions_missed": report.sessions_missed,
            "late_cancellations": report.late_cancellations,
            "hours_used": str(report.hours_used),
            "general_comment": report.general_comment,
            "progress": [
                {"objective": p.objective.title, "text": p.text}
                for p in report.objective_progress.select_related("objective").order_by(
                    "objective__position"
                )
            ],
            "approved_at": _at(report.approved_at),
            "released_at": _at(report.released_at),
            "document": name,
        }
        data["reports"].append(entry)
        documents.append((name, entry, ("report", engagement, report)))
    if review is not None:
        entry = {
            "status": review.status,
            "parts": [
                {"part": name, "title": str(label), "text": text, "shared_with_sponsor": shared}
                for name, label, text, shared in review.parts()
            ],
            "my_comment": review.coachee_comment,
            "validated_at": _at(review.coachee_validated_at),
            "issued_at": _at(review.completed_at),
            "document": None,
        }
        if review.is_completed and "coachee" in permissions.synthesis_versions(roles):
            entry["document"] = f"syntheses/synthese-finale-{engagement.pk}-coachee.pdf"
            documents.append((entry["document"], entry, ("file", review.synthesis_pdf)))
        data["closing_review"] = entry
    for convention in conventions:
        entry = {
            "version": convention.version,
            "status": convention.status,
            "sent_at": _at(convention.sent_at),
            "signed_at": _at(convention.signed_at),
            "voided_at": _at(convention.voided_at),
            "terms": convention.terms,
            "my_signature": next(
                (
                    evidence
                    for evidence in signatures_evidence(convention)
                    if evidence.get("role") == Role.COACHEE
                ),
                None,
            )
            if convention.evidence or convention.signatures.all()
            else None,
            "document": None,
        }
        if convention.status == Convention.Status.SIGNED and convention.signed_document:
            entry["document"] = (
                f"conventions/convention-{engagement.pk}-v{convention.version}-signee.pdf"
            )
            documents.append((entry["document"], entry, ("file", convention.signed_document)))
        data["conventions"].append(entry)
    return data


def _session_data(session, summaries_visible):
    data = {
        "kind": session.kind,
        "starts_at": _at(session.starts_at),
        "duration_minutes": session.duration_minutes,
        "format": session.format,
        "status": session.status,
        "place": session.location,
        "video_link": session.video_url,
        "cancelled_at": _at(session.cancelled_at),
        "cancelled_late": session.cancelled_late,
    }
    if summaries_visible:
        summary = getattr(session, "shared_summary", None)
        data["shared_summary"] = (
            {
                "summary": summary.summary,
                "action_plan": summary.action_plan,
                "updated_at": _at(summary.updated_at),
            }
            if summary
            else None
        )
    return data


def own_data(user, documents=None) -> dict:
    """
    Everything about ``user`` that is hers to take away, as data: her account,
    each engagement where she is the coachee as she sees it, her signatures'
    evidence, whether she has a calendar feed. Never anyone's private notes,
    never what the sponsor has not been given by her.
    """
    documents = [] if documents is None else documents
    feed = CalendarFeed.objects.filter(user=user).first()
    return {
        "generated_at": _at(clock.now()),
        "account": {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "language": user.language,
            "joined_at": _at(user.date_joined),
            "last_login_at": _at(user.last_login),
        },
        "calendar_feed": {
            "exists": feed is not None,
            "created_at": _at(feed.created_at) if feed else None,
        },
        "engagements": [
            _engagement_data(engagement, documents) for engagement in own_data_engagements(user)
        ],
        "retention": retention_periods(),
    }


def own_data_archive(*, user, language) -> Callable:
    """
    The build function for ``archives.stream``: the coachee's PDFs (sealed
    conventions, released reports, her synthesis), each copied or rendered
    one at a time, then ``data.json``, which names the files really included.
    """

    def build(writer) -> Iterator:
        documents = []
        data = own_data(user, documents)
        yield
        for name, entry, (kind, *source) in documents:
            if kind == "report":
                engagement, report = source
                writer.add_bytes(
                    name,
                    reporting.report_document(
                        engagement=engagement, report=report, language=language
                    ),
                )
            else:
                (field,) = source
                try:
                    handle = field.open("rb")
                except FileNotFoundError:
                    logger.warning("Own data of user %s: %s is missing", user.pk, field.name)
                    entry["document"] = None
                    continue
                try:
                    writer.add_file(name, handle)
                finally:
                    handle.close()
            yield
        writer.add_json(ARCHIVE_DATA_NAME, data)
        yield

    return build


def own_data_download_log(*, user, ip_address="") -> None:
    """The coachee downloaded her own data: logged like any export."""
    audit.log(
        actor=user,
        action=AuditEvent.Action.EXPORT,
        record_type="personal_data",
        record_id=user.pk,
        ip_address=ip_address,
        detail={"engagements": list(own_data_engagements(user).values_list("pk", flat=True))},
    )


# -- retention ----------------------------------------------------------------------
#
# DOMAIN.md: personal data other than the signed convention and its evidence
# is anonymized some years after the end; the signed convention and its
# evidence are kept longer, then deleted. Each engagement is handled in its
# own transaction with its row locked, and checked again once locked, so that
# two runs at once (a redelivered task) do the work and log it once.

ANONYMOUS_DOMAIN = "anonyme.invalid"


def _delete_files(*fields) -> int:
    """Delete stored files; returns how many existed. The rows are changed by the caller."""
    deleted = 0
    for field in fields:
        if field and field.storage.exists(field.name):
            field.storage.delete(field.name)
            deleted += 1
    return deleted


def _conventions_delete(conventions) -> dict:
    """Delete conventions with their signatures, codes and files; returns the counts."""
    counts = {"conventions": 0, "signatures": 0, "signature_codes": 0, "files": 0}
    for convention in conventions:
        counts["files"] += _delete_files(convention.document, convention.signed_document)
        counts["signature_codes"] += SignatureChallenge.objects.filter(
            convention=convention
        ).delete()[0]
        counts["signatures"] += Signature.objects.filter(convention=convention).delete()[0]
        convention.delete()
        counts["conventions"] += 1
    return counts


def _engagement_anonymize(engagement, now) -> dict:
    """Everything personal of one (locked) engagement, but its signed convention and evidence."""
    counts = {}
    # First the evidence of the signed conventions, kept as data while the
    # signers' accounts still hold their names and addresses.
    signed = list(engagement.conventions.filter(status=Convention.Status.SIGNED))
    for convention in signed:
        if not convention.evidence:
            convention.evidence = signatures_evidence(convention)
            convention.save(update_fields=["evidence"])
    counts["evidence_kept"] = len(signed)
    # Versions never signed have no legal use left: gone with their codes.
    unsigned = engagement.conventions.exclude(status=Convention.Status.SIGNED)
    counts["unsigned_conventions"] = _conventions_delete(unsigned)["conventions"]
    counts["signature_codes"] = SignatureChallenge.objects.filter(
        convention__engagement=engagement
    ).delete()[0]

    sessions = CoachingSession.objects.filter(engagement=engagement)
    counts["private_notes"] = PrivateNote.objects.filter(session__in=sessions).delete()[0]
    counts["shared_summaries"] = SharedSummary.objects.filter(session__in=sessions).delete()[0]
    # An in-person meeting keeps a place (a database rule): a neutral one.
    # (updated_at moves: the coach's calendar feed is built again.)
    counts["sessions"] = sessions.filter(format=Format.IN_PERSON).update(
        location="—", video_url="", updated_at=now
    ) + sessions.exclude(format=Format.IN_PERSON).update(location="", video_url="", updated_at=now)

    counts["kickoff"] = Kickoff.objects.filter(engagement=engagement).update(
        coachee_expectations="", sponsor_expectations="", coach_expectations="", reporting_scope=""
    )
    objectives = Objective.objects.filter(engagement=engagement)
    with translation.override(settings.LANGUAGE_CODE):
        for objective in objectives:
            objective.title = gettext("Objective %(position)s") % {"position": objective.position}
            objective.success_indicators = ""
            objective.save(update_fields=["title", "success_indicators", "updated_at"])
        title = gettext("Anonymized engagement")
    counts["objectives"] = len(objectives)
    reports = SponsorReport.objects.filter(engagement=engagement)
    counts["reports"] = reports.update(general_comment="", coachee_comment="")
    ReportProgress.objects.filter(report__in=reports).update(text="")

    counts["synthesis_files"] = 0
    review = ClosingReview.objects.filter(engagement=engagement).first()
    if review is not None:
        # The file names stay (a completed review names its documents); the
        # files, which say everything, are deleted.
        counts["synthesis_files"] = _delete_files(review.synthesis_pdf, review.sponsor_pdf)
        for part in ClosingReview.PARTS:
            setattr(review, part, "")
        review.coachee_comment = ""
        review.save()
    StatusChange.objects.filter(engagement=engagement).update(reason="")
    Notification.objects.filter(engagement=engagement).update(subject="")

    engagement.title = title
    engagement.coachee_job_title = ""
    engagement.sponsor_job_title = ""
    engagement.coachee_availability = ""
    engagement.anonymized_at = now
    engagement.save(
        update_fields=[
            "title",
            "coachee_job_title",
            "sponsor_job_title",
            "coachee_availability",
            "anonymized_at",
            "updated_at",
        ]
    )
    return counts


def _anonymizable_people(users):
    """
    The ids of ``users`` (a User queryset) who were coachee or sponsor, whose
    every engagement is anonymized and who work for nobody here: not a coach,
    not HR, not staff, and not anonymized already.
    """
    keeps_a_part = (
        Q(coach_profile__isnull=False)
        | Q(pk__in=HRMembership.objects.values("user"))
        | Q(is_staff=True)
        | Q(is_superuser=True)
        | Q(email__endswith=f"@{ANONYMOUS_DOMAIN}")
        | Exists(
            Engagement.objects.filter(
                Q(coachee=OuterRef("pk")) | Q(sponsor=OuterRef("pk")),
                anonymized_at__isnull=True,
            )
        )
    )
    was_a_party = Exists(
        Engagement.objects.filter(Q(coachee=OuterRef("pk")) | Q(sponsor=OuterRef("pk")))
    )
    return list(
        users.filter(was_a_party).exclude(keeps_a_part).order_by("pk").values_list("pk", flat=True)
    )


def _person_anonymize(user_id, now) -> bool:
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if not _anonymizable_people(User.objects.filter(pk=user_id)):
            return False
        feeds = CalendarFeed.objects.filter(user=user).delete()[0]
        user.first_name = ""
        user.last_name = ""
        user.email = f"anonyme-{user.pk}@{ANONYMOUS_DOMAIN}"
        user.set_unusable_password()
        user.is_active = False
        user.save()
        audit.log(
            action=AuditEvent.Action.PURGE,
            record_type="person",
            record_id=user.pk,
            detail={"calendar_feeds": feeds},
            at=now,
        )
    logger.info("Anonymized person %s", user_id)
    return True


def personal_data_anonymize(*, now=None, retention_days=None) -> dict:
    """
    Anonymize the personal data of the engagements that ended more than
    ``retention_days`` ago (setting ``PERSONAL_DATA_RETENTION_DAYS``), all but
    the signed convention and its evidence, then the people who have nothing
    left here. One audit event per engagement and per person. Safe to run any
    number of times. Returns how many engagements and people were anonymized.
    """
    now = now or clock.now()
    if retention_days is None:
        retention_days = settings.PERSONAL_DATA_RETENTION_DAYS
    cutoff = now - timedelta(days=retention_days)
    due = Engagement.objects.filter(ended_at__lt=cutoff, anonymized_at__isnull=True)
    engagements = 0
    for engagement_id in due.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            engagement = (
                Engagement.objects.select_for_update()
                .filter(pk=engagement_id, anonymized_at__isnull=True)
                .first()
            )
            if engagement is None:
                continue
            counts = _engagement_anonymize(engagement, now)
            audit.log(
                engagement_id=engagement_id,
                action=AuditEvent.Action.PURGE,
                record_type="personal_data",
                detail={**counts, "retention_days": retention_days},
                at=now,
            )
        engagements += 1
        logger.info("Anonymized the personal data of engagement %s: %s", engagement_id, counts)
    people = sum(_person_anonymize(pk, now) for pk in _anonymizable_people(User.objects.all()))
    return {"engagements": engagements, "people": people}


def conventions_purge(*, now=None, retention_days=None) -> int:
    """
    Delete the conventions (the sealed documents, the signatures and their
    evidence) of the engagements that ended more than ``retention_days`` ago
    (setting ``CONVENTION_RETENTION_DAYS``). One audit event per engagement;
    safe to run any number of times. Returns how many engagements were purged.
    """
    now = now or clock.now()
    if retention_days is None:
        retention_days = settings.CONVENTION_RETENTION_DAYS
    cutoff = now - timedelta(days=retention_days)
    due = (
        Convention.objects.filter(engagement__ended_at__lt=cutoff)
        .order_by("engagement_id")
        .values_list("engagement_id", flat=True)
        .distinct()
    )
    purged = 0
    for engagement_id in list(due):
        with transaction.atomic():
            Engagement.objects.select_for_update().filter(pk=engagement_id).first()
            conventions = list(Convention.objects.filter(engagement_id=engagement_id))
            if not conventions:
                continue
            counts = _conventions_delete(conventions)
            audit.log(
                engagement_id=engagement_id,
                action=AuditEvent.Action.PURGE,
                record_type="convention",
                detail={**counts, "retention_days": retention_days},
                at=now,
            )
        purged += 1
        logger.info("Deleted the conventions of engagement %s: %s", engagement_id, counts)
    return purged


def retention_apply(*, now=None) -> dict:
    """The periodic retention run: anonymize, then delete the conventions past their term."""
    now = now or clock.now()
    result = personal_data_anonymize(now=now)
    result["conventions"] = conventions_purge(now=now)
    return result
