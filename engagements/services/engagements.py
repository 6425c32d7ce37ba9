"""Opening an engagement, and ending it early (withdrawal, cancellation)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import clock, tasks, workflow
from ..errors import ApplicationError, NotAllowed
from ..models import (
    Coach,
    CoachingSession,
    Convention,
    Engagement,
    Format,
    Language,
    Organization,
    Role,
    User,
    validate_single_line,
)
from .accounts import person_get_or_invite
from .convention import convention_is_binding, convention_send, convention_void
from .reporting import reports_close_open
from .sessions import sessions_cancel_together


@dataclass(frozen=True)
class Person:
    email: str
    first_name: str
    last_name: str
    job_title: str


def engagement_create(
    *,
    coach: Coach,
    organization: Organization,
    coachee: User,
    sponsor: User,
    title: str,
    coachee_job_title: str,
    sponsor_job_title: str,
    start_date: date,
    end_date: date,
    fee_amount: Decimal,
    sessions_contracted: int = 12,
    session_minutes: int = 120,
    format: str = Format.VIDEO,
    language: str = Language.FRENCH,
    cancellation_notice_hours: int = 48,
) -> Engagement:
    """
    Create an engagement in draft. The model checks that the three parties
    are three different people (nobody holds two roles in one engagement).
    """
    engagement = Engagement(
        organization=organization,
        coach=coach,
        coachee=coachee,
        sponsor=sponsor,
        title=title,
        coachee_job_title=coachee_job_title,
        sponsor_job_title=sponsor_job_title,
        start_date=start_date,
        end_date=end_date,
        fee_amount=fee_amount,
        sessions_contracted=sessions_contracted,
        session_minutes=session_minutes,
        format=format,
        language=language,
        cancellation_notice_hours=cancellation_notice_hours,
    )
    engagement.full_clean()
    with transaction.atomic():
        engagement.save()
    return engagement


def engagement_open(
    *,
    coach: Coach,
    organization: Organization | None,
    new_organization_name: str = "",
    coachee: Person,
    sponsor: Person,
    **terms,
) -> Engagement:
    """
    The coach opens an engagement: the organization (existing or new), the
    coachee's and the sponsor's accounts (invited by e-mail if they have
    none), and the engagement in draft, all in one transaction. Invitations
    leave only once it is committed, in the engagement's language, which new
    accounts take too (not the coach's screen language).
    """
    language = terms.get("language", Language.FRENCH)
    with transaction.atomic():
        if organization is None:
            name = new_organization_name.strip()
            if not name:
                raise ApplicationError(_("Choose the organization or give the name of a new one."))
            organization, _created = Organization.objects.get_or_create(name=name)
        parties = {}
        for role, person in (("coachee", coachee), ("sponsor", sponsor)):
            parties[role] = person_get_or_invite(
                email=person.email,
                first_name=person.first_name,
                last_name=person.last_name,
                invited_by=coach.user,
                language=language,
            )
        engagement = engagement_create(
            coach=coach,
            organization=organization,
            coachee=parties["coachee"],
            sponsor=parties["sponsor"],
            coachee_job_title=coachee.job_title,
            sponsor_job_title=sponsor.job_title,
            **terms,
        )
        tasks.send_engagement_opened.delay_on_commit(engagement.pk)
    return engagement


def _stop_pending_work(engagement, *, by) -> list[int]:
    """
    Cancel the sessions still to come (their ids are returned: the caller's
    one notice to each party carries the calendar cancellation), void a
    convention still waiting for signatures (one the three parties have
    signed is binding: it is sealed and kept), and close
    a report still being written or approved (it is never released). A
    session that has already begun is left for the coach to record.
    """
    now = clock.now()
    # Locked (after the engagement): a cancellation or a move of the coachee
    # at the same moment waits, then finds the session no longer planned.
    cancelled = sessions_cancel_together(
        engagement.sessions.select_for_update().filter(
            status=CoachingSession.Status.PLANNED, starts_at__gt=now
        ),
        by=by,
        now=now,
    )
    if not convention_is_binding(engagement):
        convention_void(engagement=engagement)
    reports_close_open(engagement=engagement)
    return cancelled


def engagement_withdraw(
    *, engagement: Engagement, coachee: User, closing_session_wanted: bool = False
) -> Engagement:
    """
    The coachee leaves the engagement, without giving a reason (none is
    asked, none is kept). Planned sessions are cancelled, a convention still
    waiting for signatures is voided (a signed one stays on file), and the
    coach and the sponsor receive a neutral notice. Only the coach learns
    whether the coachee would welcome a closing session.
    """
    with transaction.atomic():
        engagement = workflow.transition(engagement, "withdraw", actor=coachee)
        if closing_session_wanted:
            # Lets the coach book one session with her (never the sponsor).
            engagement.closing_session_wanted = True
            engagement.save(update_fields=["closing_session_wanted", "updated_at"])
        cancelled = _stop_pending_work(engagement, by=coachee)
        tasks.send_withdrawal_notices.delay_on_commit(
            engagement.pk, closing_session_wanted, cancelled
        )
    return engagement


def engagement_cancel(*, engagement: Engagement, actor: User, reason: str) -> Engagement:
    """
    The coach or the sponsor cancels the engagement before any development
    session took place, with a reason the other parties receive.
    """
    with transaction.atomic():
        engagement = workflow.transition(engagement, "cancel", actor=actor, reason=reason)
        cancelled = _stop_pending_work(engagement, by=actor)
        tasks.send_cancellation_notices.delay_on_commit(engagement.pk, cancelled)
    return engagement


TERM_FIELDS = (
    "title",
    "start_date",
    "end_date",
    "sessions_contracted",
    "session_minutes",
    "format",
    "fee_amount",
    "cancellation_notice_hours",
    "language",
)


def engagement_terms_update(*, engagement: Engagement, coach: User, **terms) -> Engagement:
    """
    The coach changes the terms before the three signatures. If a convention
    is already out for signature, the change makes a new version, sent to be
    signed again (the earlier one is voided with its signatures).
    """
    if Role.COACH not in engagement.roles_of(coach):
        raise NotAllowed(_("Only the coach of the engagement changes its terms."))
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require(engagement, "edit_terms")
        if convention_is_binding(engagement):
            raise ApplicationError(_("The three parties have signed: the convention is binding."))
        for field in TERM_FIELDS:
            if field in terms:
                setattr(engagement, field, terms[field])
        engagement.full_clean()
        engagement.save(update_fields=[*TERM_FIELDS, "updated_at"])
        if engagement.conventions.filter(status=Convention.Status.SENT).exists():
            convention_send(engagement=engagement, coach=coach)
    return engagement


ADDRESS_MAX_LINES = 6
ADDRESS_MAX_LINE_LENGTH = 100


def _clean_address(address: str) -> str:
    """An address as the convention prints it: a few lines of printable text."""
    lines = [" ".join(line.split()) for line in address.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    for line in lines:
        validate_single_line(line)
    if len(lines) > ADDRESS_MAX_LINES:
        raise ApplicationError(
            {
                "address": _("An address fits on %(count)s lines at most.")
                % {"count": ADDRESS_MAX_LINES}
            }
        )
    if any(len(line) > ADDRESS_MAX_LINE_LENGTH for line in lines):
        raise ApplicationError(
            {
                "address": _("Each line of the address holds %(count)s characters at most.")
                % {"count": ADDRESS_MAX_LINE_LENGTH}
            }
        )
    return "\n".join(lines)


def organization_details_update(
    *, engagement: Engagement, coach: User, registration_number: str, address: str
) -> Organization:
    """
    The coach completes the client organization's details that the
    convention prints (registration number, address), while the convention
    of ``engagement`` can still change. The next version sent takes them (a
    version out for signature is replaced by a new one, as for the terms);
    versions already signed, here or in the organization's other
    engagements, keep the details they were signed with (frozen terms).
    """
    if Role.COACH not in engagement.roles_of(coach):
        raise NotAllowed(_("Only the coach of the engagement completes its organization."))
    registration_number = registration_number.strip()
    try:
        validate_single_line(registration_number)
    except ValidationError as error:
        raise ApplicationError({"registration_number": error.messages}) from None
    try:
        address = _clean_address(address)
    except ApplicationError:
        raise
    except ValidationError as error:
        raise ApplicationError({"address": error.messages}) from None
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require(engagement, "edit_terms")
        if convention_is_binding(engagement):
            raise ApplicationError(_("The three parties have signed: the convention is binding."))
        organization = Organization.objects.select_for_update().get(pk=engagement.organization_id)
        changed = (organization.registration_number, organization.address) != (
            registration_number,
            address,
        )
        organization.registration_number = registration_number
        organization.address = address
        organization.full_clean()
        if changed:
            organization.save(update_fields=["registration_number", "address"])
            if engagement.conventions.filter(status=Convention.Status.SENT).exists():
                convention_send(engagement=engagement, coach=coach)
    return organization
