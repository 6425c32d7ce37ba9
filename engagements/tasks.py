"""
Celery tasks. Each takes ids (never model instances), is idempotent (e-mails
go through ``emails.send_once``), and is queued after the transaction commits
(``delay_on_commit``).
"""

import hashlib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone

from . import calendar, emails, permissions, workflow
from .models import (
    ClosingReview,
    CoachingSession,
    Convention,
    Engagement,
    HRProposal,
    SponsorReport,
    User,
)
from .tokens import invitation_path

PARTIES = ("coach", "coachee", "sponsor")

# E-mail and documents depend on other systems (SMTP, storage): a failed run
# is retried with growing delays. Every task is idempotent, so a retry after
# a partial run does not repeat what was done.
RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "max_retries": 8,
}


@shared_task
def purge_expired_session_notes():
    """Periodic (beat): purge session notes past their retention period."""
    from .services.privacy import session_notes_purge

    return session_notes_purge()


# A retention run may have years of ended engagements to go through; each is
# handled and logged once even if a copy of the task runs at the same time.
@shared_task(soft_time_limit=15 * 60, time_limit=16 * 60)
def apply_retention():
    """Periodic (beat, daily): anonymize personal data, delete conventions past their term."""
    from .services.privacy import retention_apply

    return retention_apply()


def _engagement(engagement_id):
    return Engagement.objects.select_related(
        "coach__user", "coachee", "sponsor", "organization"
    ).get(pk=engagement_id)


def _notify(engagement, *, roles, occasion, name, context=None, only=None, attachments=None):
    """
    E-mail ``name`` to the parties of ``engagement`` holding ``roles``, once
    per ``occasion``. ``context`` may be a function of the role (what one party
    reads may differ from another's); ``only`` filters the recipients;
    ``attachments(role, person)`` gives each one's files.
    Returns how many e-mails went out.
    """
    sent = 0
    for role in roles:
        person = engagement.party_for(role)
        if only is not None and not only(person):
            continue
        extra = context(role) if callable(context) else (context or {})
        sent += emails.send_once(
            key=f"{occasion}:{role}",
            recipient=person,
            engagement=engagement,
            name=name,
            context={
                "engagement": engagement,
                "role": role,
                "link": settings.SITE_URL + engagement.get_absolute_url(),
                **extra,
            },
            attachments=attachments(role, person) if attachments else (),
        )
    return sent


def _ics(session):
    """The session's .ics for each recipient, in their language."""

    def attach(role, person):
        content = calendar.invitation(session, role=role, language=person.language)
        return [("invitation.ics", content, "text/calendar")]

    return attach


def _sessions(session_ids):
    """The sessions of one action (a series, the meetings an ending cancels), in date order."""
    return list(
        CoachingSession.objects.filter(pk__in=session_ids)
        .select_related("engagement__coach__user", "engagement__coachee", "engagement__sponsor")
        .order_by("starts_at", "pk")
    )


def _attended(sessions, role):
    """The meetings of ``sessions`` that ``role`` is invited to (``meeting_parties``)."""
    return [session for session in sessions if role in permissions.meeting_parties(session)]


def _roles_invited(sessions):
    return [role for role in PARTIES if _attended(sessions, role)]


def _ics_of_many(sessions):
    """
    One .ics per recipient holding every meeting of ``sessions`` they are
    invited to (the sponsor's holds the tripartite meetings only), in their
    language; no file for a recipient invited to none.
    """

    def attach(role, person):
        own = _attended(sessions, role)
        if not own:
            return []
        content = calendar.invitations(own, role=role, language=person.language)
        return [("invitation.ics", content, "text/calendar")]

    return attach


def _occasion_of(session_ids):
    """A short stable name for a set of sessions, for the notification keys."""
    ids = ",".join(str(pk) for pk in sorted(session_ids))
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


def _cancelled(session_ids):
    return [
        session
        for session in _sessions(session_ids)
        if session.status == CoachingSession.Status.CANCELLED
    ]


@shared_task(**RETRY)
def send_invitation(user_id, invited_by_id, occasion):
    """The one-time link with which a new person chooses their password."""
    user = User.objects.get(pk=user_id)
    if user.has_usable_password():
        return False  # already joined: the link would be useless
    inviter = User.objects.filter(pk=invited_by_id).first()
    return emails.send_once(
        key=f"invitation:{user_id}:{occasion}",
        recipient=user,
        name="invitation",
        context={
            "inviter": inviter,
            "link": settings.SITE_URL + invitation_path(user),
            "days": settings.INVITATION_TIMEOUT // 86400,
        },
    )


@shared_task(**RETRY)
def send_engagement_opened(engagement_id):
    """Tell the coachee and the sponsor who already have an account about a new engagement."""
    return _notify(
        _engagement(engagement_id),
        roles=("coachee", "sponsor"),
        occasion=f"opened:{engagement_id}",
        name="engagement_opened",
        only=lambda person: person.has_usable_password(),  # others get their invitation
    )


@shared_task(**RETRY)
def send_withdrawal_notices(engagement_id, closing_session_wanted=False, session_ids=()):
    """
    One neutral notice to the coach and the sponsor (no reason, no content)
    and one confirmation to the coachee, each with one calendar file
    cancelling the meetings of ``session_ids`` that person was invited to.
    """
    engagement = _engagement(engagement_id)
    convention_signed = engagement.conventions.filter(status=Convention.Status.SIGNED).exists()
    cancelled = _cancelled(session_ids)
    return _notify(
        engagement,
        roles=PARTIES,
        occasion=f"withdrawal:{engagement_id}",
        name="withdrawal_notice",
        context=lambda role: {
            "convention_signed": convention_signed,
            # Only the coach learns that a closing session would be welcome.
            "closing_session_wanted": closing_session_wanted and role == "coach",
            "sessions": _attended(cancelled, role),
        },
        attachments=_ics_of_many(cancelled),
    )


@shared_task(**RETRY)
def send_cancellation_notices(engagement_id, session_ids=()):
    """
    The reason for a cancellation, to the three parties: one notice each,
    with one calendar file cancelling the meetings they were invited to.
    """
    engagement = _engagement(engagement_id)
    change = engagement.status_changes.select_related("actor").latest("created_at")
    cancelled = _cancelled(session_ids)
    return _notify(
        engagement,
        roles=PARTIES,
        occasion=f"cancellation:{engagement_id}",
        name="cancellation_notice",
        context=lambda role: {"change": change, "sessions": _attended(cancelled, role)},
        attachments=_ics_of_many(cancelled),
    )


@shared_task(**RETRY)
def send_series_invitations(engagement_id, session_ids):
    """
    A series just booked: one message to each person invited, listing every
    date, with one calendar file holding every meeting. A meeting cancelled
    before this runs is left out (its own cancellation went, or goes, apart).
    """
    sessions = [
        session
        for session in _sessions(session_ids)
        if session.status == CoachingSession.Status.PLANNED
    ]
    if not sessions:
        return 0
    return _notify(
        _engagement(engagement_id),
        roles=_roles_invited(sessions),
        occasion=f"series:{engagement_id}:{_occasion_of(session_ids)}",
        name="sessions_planned",
        context=lambda role: {"sessions": _attended(sessions, role)},
        attachments=_ics_of_many(sessions),
    )


@shared_task(**RETRY)
def send_closing_cancellations(engagement_id, session_ids):
    """
    Entering the closing review cancelled the development sessions still
    planned: one notice to each person invited, listing them, with one
    calendar file cancelling them all.
    """
    cancelled = _cancelled(session_ids)
    if not cancelled:
        return 0
    return _notify(
        _engagement(engagement_id),
        roles=_roles_invited(cancelled),
        occasion=f"closing-cancelled:{engagement_id}:{_occasion_of(session_ids)}",
        name="closing_sessions_cancelled",
        context=lambda role: {"sessions": _attended(cancelled, role)},
        attachments=_ics_of_many(cancelled),
    )


@shared_task(**RETRY)
def send_session_invitations(session_id):
    """
    A planned, moved or cancelled meeting, to everyone invited, with its
    calendar invitation: REQUEST (a higher SEQUENCE for a change) or CANCEL.
    """
    session = CoachingSession.objects.select_related(
        "engagement__coach__user", "engagement__coachee", "engagement__sponsor"
    ).get(pk=session_id)
    if session.status == CoachingSession.Status.CANCELLED:
        name = "session_cancelled"
    elif session.sequence:
        name = "session_updated"
    else:
        name = "session_planned"
    return _notify(
        session.engagement,
        roles=permissions.meeting_parties(session),
        occasion=f"session:{session_id}:{session.sequence}",
        name=name,
        context={"session": session},
        attachments=_ics(session),
    )


@shared_task
def send_session_reminders():
    """Periodic (beat): the reminders due now (see ``session_reminders``)."""
    return session_reminders(now=timezone.now())


def session_reminders(*, now):
    """
    Remind the invited parties before each session, at the nearest of
    ``SESSION_REMINDER_HOURS`` (48 h and 2 h), and remind coaches of
    attendance not recorded. Each e-mail goes once, even if this runs twice
    or a worker dies half-way (``emails.send_once``). Returns how many went out.
    """
    thresholds = sorted(settings.SESSION_REMINDER_HOURS)
    sent = 0
    upcoming = CoachingSession.objects.filter(
        status=CoachingSession.Status.PLANNED,
        starts_at__gt=now,
        starts_at__lte=now + timedelta(hours=thresholds[-1]),
    ).select_related("engagement__coach__user", "engagement__coachee", "engagement__sponsor")
    for session in upcoming:
        hours = next(h for h in thresholds if session.starts_at <= now + timedelta(hours=h))
        sent += _notify(
            session.engagement,
            roles=permissions.meeting_parties(session),
            occasion=f"reminder-{hours}h:{session.pk}:{session.sequence}",
            name="session_reminder",
            context={"session": session},
        )
    overdue = CoachingSession.objects.filter(
        status=CoachingSession.Status.PLANNED,
        starts_at__lt=now - timedelta(hours=settings.ATTENDANCE_DUE_HOURS),
    ).select_related("engagement__coach__user", "engagement__coachee", "engagement__sponsor")
    for session in overdue:
        sent += _notify(
            session.engagement,
            roles=("coach",),
            occasion=f"attendance-due:{session.pk}",
            name="attendance_due",
            context={"session": session},
        )
    return sent


@shared_task(**RETRY)
def send_availability_request(engagement_id, occasion):
    """The coach asks the coachee which days and times suit them."""
    engagement = _engagement(engagement_id)
    return _notify(
        engagement,
        roles=("coachee",),
        occasion=f"availability:{engagement_id}:{occasion}",
        name="availability_request",
        context={"link": settings.SITE_URL + reverse("sessions", args=[engagement_id])},
    )


@shared_task(**RETRY)
def send_convention_to_sign(convention_id):
    """The convention version is ready: each party is asked to sign it."""
    convention = Convention.objects.get(pk=convention_id)
    if convention.status != Convention.Status.SENT:
        return 0
    engagement = _engagement(convention.engagement_id)
    sign_url = reverse("convention_sign", args=[engagement.pk, convention.version])
    return _notify(
        engagement,
        roles=PARTIES,
        occasion=f"convention-to-sign:{convention_id}",
        name="convention_to_sign",
        context={"convention": convention, "link": settings.SITE_URL + sign_url},
    )


@shared_task(**RETRY)
def seal_convention(convention_id):
    """After the third signature: the final sealed PDF, then the engagement starts."""
    from .services.convention import convention_seal

    if not convention_seal(convention_id=convention_id):
        return False
    convention = Convention.objects.get(pk=convention_id)
    _notify(
        _engagement(convention.engagement_id),
        roles=PARTIES,
        occasion=f"convention-signed:{convention_id}",
        name="convention_signed",
        context={"convention": convention},
    )
    return True


@shared_task
def seal_pending_conventions():
    """
    Periodic (beat): seal any convention signed by the three parties whose
    sealing has not happened (its task failed for good, or was lost).
    """
    waiting = list(
        Convention.objects.filter(status=Convention.Status.SENT, signed_document="")
        .annotate(signed_by=Count("signatures"), last_signed=Max("signatures__signed_at"))
        .filter(signed_by__gte=len(PARTIES), last_signed__lt=timezone.now() - timedelta(minutes=5))
        .values_list("pk", flat=True)
    )
    for convention_id in waiting:
        seal_convention.delay(convention_id)
    return len(waiting)


# -- sponsor reports ---------------------------------------------------------------


def _report(report_id):
    return SponsorReport.objects.select_related(
        "engagement__coach__user", "engagement__coachee", "engagement__sponsor"
    ).get(pk=report_id)


def _report_link(report):
    return settings.SITE_URL + report.get_absolute_url()


@shared_task(**RETRY)
def send_report_submitted(report_id, occasion):
    """The coach submitted a report: the coachee is asked to read and approve it."""
    report = _report(report_id)
    if report.status != SponsorReport.Status.AWAITING_APPROVAL:
        return 0
    return _notify(
        report.engagement,
        roles=("coachee",),
        occasion=f"report-submitted:{report_id}:{occasion}",
        name="report_submitted",
        context={"report": report, "link": _report_link(report)},
    )


@shared_task(**RETRY)
def send_report_returned(report_id, occasion):
    """The coachee returned a report: the coach is told (the sponsor never is)."""
    report = _report(report_id)
    if report.status != SponsorReport.Status.CHANGES_REQUESTED:
        return 0
    return _notify(
        report.engagement,
        roles=("coach",),
        occasion=f"report-returned:{report_id}:{occasion}",
        name="report_returned",
        context={
            "report": report,
            "link": settings.SITE_URL
            + reverse("report_edit", args=[report.engagement_id, report.pk]),
        },
    )


@shared_task(**RETRY)
def send_report_released(report_id):
    """The coachee approved a report: the sponsor may read it and score; the coach is told."""
    report = _report(report_id)
    if report.status != SponsorReport.Status.RELEASED:
        return 0
    return _notify(
        report.engagement,
        roles=("sponsor", "coach"),
        occasion=f"report-released:{report_id}",
        name="report_released",
        context={"report": report, "link": _report_link(report)},
    )


@shared_task
def remind_reports_due():
    """
    Periodic (beat): tell each coach, once per engagement, that its mid-point
    report is due and not started.
    """
    from .services.reporting import reports_due

    sent = 0
    for engagement in reports_due():
        sent += _notify(
            engagement,
            roles=("coach",),
            occasion=f"report-due:{engagement.pk}",
            name="report_due",
            context={
                "link": settings.SITE_URL + reverse("report_new", args=[engagement.pk]),
            },
        )
    return sent


# -- the closing review ------------------------------------------------------------


def _synthesis_notice(engagement_id, *, status, roles, occasion, name):
    """
    E-mail ``name`` about the synthesis to ``roles``, once per ``occasion``, if
    the closing review is still at ``status`` (otherwise the news is moot).
    """
    if not ClosingReview.objects.filter(engagement_id=engagement_id, status=status).exists():
        return 0
    return _notify(
        _engagement(engagement_id),
        roles=roles,
        occasion=occasion,
        name=name,
        context={"link": settings.SITE_URL + reverse("synthesis", args=[engagement_id])},
    )


@shared_task(**RETRY)
def send_closing_requested(engagement_id):
    """The coachee asked for the closing review: her coach is told."""
    engagement = _engagement(engagement_id)
    return _notify(
        engagement,
        roles=("coach",),
        occasion=f"closing-requested:{engagement_id}",
        name="closing_requested",
        context={"link": settings.SITE_URL + reverse("closing_start", args=[engagement_id])},
    )


@shared_task(**RETRY)
def send_synthesis_submitted(engagement_id, occasion):
    """The synthesis awaits the coachee's validation."""
    return _synthesis_notice(
        engagement_id,
        status=ClosingReview.Status.AWAITING_COACHEE,
        roles=("coachee",),
        occasion=f"synthesis-submitted:{engagement_id}:{occasion}",
        name="synthesis_submitted",
    )


@shared_task(**RETRY)
def send_synthesis_returned(engagement_id, occasion):
    """The coachee returned the synthesis: her coach is told (never the sponsor)."""
    return _synthesis_notice(
        engagement_id,
        status=ClosingReview.Status.CHANGES_REQUESTED,
        roles=("coach",),
        occasion=f"synthesis-returned:{engagement_id}:{occasion}",
        name="synthesis_returned",
    )


@shared_task(**RETRY)
def send_synthesis_validated(engagement_id):
    """The coachee validated the synthesis: the coach may issue the final PDF."""
    return _synthesis_notice(
        engagement_id,
        status=ClosingReview.Status.VALIDATED,
        roles=("coach",),
        occasion=f"synthesis-validated:{engagement_id}",
        name="synthesis_validated",
    )


@shared_task(**RETRY)
def generate_synthesis(review_id):
    """Render and seal the two versions of the final synthesis; the engagement completes."""
    from .services.closing import synthesis_generate

    return synthesis_generate(review_id=review_id)


@shared_task(**RETRY)
def send_synthesis_issued(engagement_id):
    """The final synthesis exists: each party is told where to read their version."""
    return _synthesis_notice(
        engagement_id,
        status=ClosingReview.Status.COMPLETED,
        roles=PARTIES,
        occasion=f"synthesis-issued:{engagement_id}",
        name="synthesis_issued",
    )


@shared_task
def generate_pending_syntheses():
    """
    Periodic (beat): issue any final synthesis asked for whose task failed
    for good or was lost (the task makes the documents once).
    """
    now = timezone.now()
    waiting = list(
        ClosingReview.objects.filter(
            status=ClosingReview.Status.VALIDATED,
            generation_requested_at__lt=now - timedelta(minutes=5),
            engagement__status__in=workflow.TRANSITIONS["complete"].sources,
        ).values_list("pk", flat=True)
    )
    # Stamped again, so that a busy queue is not sent the same review each run.
    ClosingReview.objects.filter(pk__in=waiting).update(generation_requested_at=now)
    for review_id in waiting:
        generate_synthesis.delay(review_id)
    return len(waiting)


# A large export takes longer than the default limits: its run gives signs of
# life (services/exports.py), so a copy redelivered while it runs does nothing
# and a run killed mid-way is taken over.
EXPORT_LIMITS = {"soft_time_limit": 30 * 60, "time_limit": 31 * 60}


@shared_task(**RETRY, **EXPORT_LIMITS)
def build_convention_export(export_id):
    """Build a large export of signed conventions into storage."""
    from .services.exports import export_build

    return export_build(export_id=export_id)


@shared_task
def resume_convention_exports():
    """Periodic (beat): queue again the exports whose run died."""
    from .services.exports import exports_stale

    stale = exports_stale()
    for export_id in stale:
        build_convention_export.delay(export_id)
    return len(stale)


@shared_task
def expire_convention_exports():
    """Periodic (beat): delete the files of exports whose link has expired."""
    from .services.exports import exports_expire

    return exports_expire()


@shared_task(**RETRY)
def send_export_ready(export_id):
    """The export asked for is ready: its requester gets the link."""
    from .models import ConventionExport

    export = ConventionExport.objects.select_related("requested_by").get(pk=export_id)
    if export.status != ConventionExport.Status.READY:
        return False
    return emails.send_once(
        key=f"export-ready:{export_id}",
        recipient=export.requested_by,
        name="export_ready",
        context={
            "export": export,
            "link": settings.SITE_URL + reverse("convention_export", args=[export_id]),
        },
    )


@shared_task(**RETRY)
def send_objectives_to_approve(engagement_id, day):
    """Objectives worded by the coach await the coachee's approval (one e-mail a day at most)."""
    from .models import Objective

    if not Objective.objects.filter(
        engagement_id=engagement_id, approved_by_coachee_at__isnull=True
    ).exists():
        return 0
    engagement = _engagement(engagement_id)
    return _notify(
        engagement,
        roles=("coachee",),
        occasion=f"objectives-to-approve:{engagement_id}:{day}",
        name="objectives_to_approve",
        context={"link": settings.SITE_URL + engagement.get_absolute_url() + "#objectives-title"},
    )


@shared_task(**RETRY)
def send_availability_shared(engagement_id, version):
    """The coachee said which days and times suit them: the coach is told."""
    engagement = _engagement(engagement_id)
    return _notify(
        engagement,
        roles=("coach",),
        occasion=f"availability-shared:{engagement_id}:{version}",
        name="availability_shared",
        context={"link": settings.SITE_URL + reverse("sessions", args=[engagement_id])},
    )


@shared_task(**RETRY)
def send_hr_proposal(proposal_id):
    """
    A coach proposed an HR contact: tell everyone who may confirm it (the
    practice owner and the HR of the organization).
    """
    from .services.accounts import hr_proposal_deciders

    proposal = HRProposal.objects.select_related("organization", "proposed_by").get(pk=proposal_id)
    if proposal.status != HRProposal.Status.PENDING:
        return 0
    link = settings.SITE_URL + reverse("hr_proposals")
    return sum(
        emails.send_once(
            key=f"hr-proposal:{proposal_id}:{person.pk}",
            recipient=person,
            name="hr_proposal",
            context={"proposal": proposal, "link": link},
        )
        for person in hr_proposal_deciders(proposal.organization)
    )


@shared_task(**RETRY)
def send_hr_proposal_decided(proposal_id):
    """Tell the coach who proposed an HR contact whether it was confirmed."""
    proposal = HRProposal.objects.select_related("organization", "proposed_by").get(pk=proposal_id)
    return emails.send_once(
        key=f"hr-proposal-decided:{proposal_id}",
        recipient=proposal.proposed_by,
        name="hr_proposal_decided",
        context={"proposal": proposal},
    )
