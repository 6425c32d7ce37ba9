"""People: invitations, HR access (granted, or proposed then confirmed), their own settings."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import clock, permissions, tasks
from ..errors import ApplicationError, NotAllowed
from ..models import (
    HR_AND_PARTY_REFUSED,
    HRMembership,
    HRProposal,
    Notification,
    Organization,
    Role,
    User,
)


def person_get_or_invite(
    *, email: str, first_name: str, last_name: str, invited_by: User, language: str
) -> User:
    """
    The account for ``email``, created if needed. A new account has no
    password: it receives an invitation with a one-time link to choose one,
    in ``language`` (the engagement's, or the one chosen on the form), which
    also becomes the person's, never the screen language of whoever invites
    them. An existing account is left as it is (names and language are theirs).
    """
    if language not in dict(settings.LANGUAGES):
        raise ApplicationError(_("This language is not available."))
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    user.set_unusable_password()
    user.language = language
    user.save()
    occasion = uuid.uuid4().hex
    tasks.send_invitation.delay_on_commit(user.pk, invited_by.pk, occasion)
    return user


def _hr_candidate_check(*, organization: Organization, email: str, actor: User) -> str:
    """
    The normalized ``email`` if its owner may become HR of ``organization``:
    not the person giving or confirming the access (nobody grants themselves
    HR access), nor a party to one of the organization's engagements (the
    rule of models.HR_AND_PARTY_REFUSED, checked the other way round by
    ``Engagement.clean``), nor already HR there.
    """
    email = User.objects.normalize_email(email).strip().lower()
    if email == actor.email.lower():
        raise ApplicationError(_("Nobody can give themselves HR access."))
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        if organization.has_party(existing):
            raise ApplicationError(HR_AND_PARTY_REFUSED)
        if organization.has_hr(existing):
            raise ApplicationError(_("This person already has HR access to this organization."))
    return email


def hr_grant(
    *,
    organization: Organization,
    email: str,
    first_name: str,
    last_name: str,
    granted_by: User,
    language: str = settings.LANGUAGE_CODE,
) -> HRMembership:
    """
    Give HR access to ``organization``: only the practice owner or a person
    who already holds HR access to that organization may (DOMAIN.md). A new
    person receives an invitation to choose a password, in ``language`` (the
    practice's unless chosen: never the screen language of the granter).
    """
    if not Organization.objects.filter(
        permissions.hr_grantable_organizations(granted_by), pk=organization.pk
    ).exists():
        raise NotAllowed(
            _("Only the practice owner or HR of this organization can give HR access to it.")
        )
    email = _hr_candidate_check(organization=organization, email=email, actor=granted_by)
    with transaction.atomic():
        user = person_get_or_invite(
            email=email,
            first_name=first_name,
            last_name=last_name,
            invited_by=granted_by,
            language=language,
        )
        membership, created = HRMembership.objects.get_or_create(
            user=user, organization=organization
        )
        if not created:
            raise ApplicationError(_("This person already has HR access to this organization."))
    return membership


def hr_propose(
    *, organization: Organization, email: str, first_name: str, last_name: str, proposed_by: User
) -> HRProposal:
    """
    A coach proposes an HR contact for an organization where they hold an
    engagement. Nothing is granted: the practice owner and the HR of the
    organization are told, and one of them confirms or declines.
    """
    if not Organization.objects.filter(
        permissions.hr_proposable_organizations(proposed_by), pk=organization.pk
    ).exists():
        raise NotAllowed(_("You can only propose HR of organizations you coach in."))
    email = _hr_candidate_check(organization=organization, email=email, actor=proposed_by)
    proposal = HRProposal(
        organization=organization,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        proposed_by=proposed_by,
    )
    proposal.full_clean()
    with transaction.atomic():
        proposal.save()
        tasks.send_hr_proposal.delay_on_commit(proposal.pk)
    return proposal


def _hr_proposal_decide(*, proposal: HRProposal, actor: User, confirm: bool) -> HRProposal:
    with transaction.atomic():
        # The lock makes a proposal decided once, even by two deciders at once.
        proposal = (
            HRProposal.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=proposal.pk)
        )
        if proposal.status != HRProposal.Status.PENDING:
            raise ApplicationError(_("This proposal has already been decided."))
        if actor.pk == proposal.proposed_by_id:
            raise NotAllowed(_("Someone other than the person who proposed it must decide."))
        if confirm:
            hr_grant(
                organization=proposal.organization,
                email=proposal.email,
                first_name=proposal.first_name,
                last_name=proposal.last_name,
                granted_by=actor,
            )
        elif not Organization.objects.filter(
            permissions.hr_grantable_organizations(actor), pk=proposal.organization_id
        ).exists():
            raise NotAllowed
        proposal.status = HRProposal.Status.CONFIRMED if confirm else HRProposal.Status.DECLINED
        proposal.decided_by = actor
        proposal.decided_at = clock.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        tasks.send_hr_proposal_decided.delay_on_commit(proposal.pk)
    return proposal


def hr_proposal_deciders(organization: Organization) -> list[User]:
    """Who may confirm an HR proposal for ``organization``: the practice owner and its HR."""
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(hr_memberships__organization=organization))
        .distinct()
        .order_by("pk")
    )


def hr_proposal_confirm(*, proposal: HRProposal, confirmed_by: User) -> HRProposal:
    """The practice owner or an HR of the organization confirms a coach's proposal."""
    return _hr_proposal_decide(proposal=proposal, actor=confirmed_by, confirm=True)


def hr_proposal_decline(*, proposal: HRProposal, declined_by: User) -> HRProposal:
    """The practice owner or an HR of the organization declines a coach's proposal."""
    return _hr_proposal_decide(proposal=proposal, actor=declined_by, confirm=False)


MAX_PASSWORD_RESETS_PER_HOUR = 3


def password_reset_claim(*, user: User) -> bool:
    """
    Count one password-reset e-mail to ``user``; False when the last hour's
    limit is reached (then none is sent, and the page says the same as ever:
    it never reveals whether an address is known). The person's row is locked
    so that parallel requests cannot pass the limit together.
    """
    now = clock.now()
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        recent = Notification.objects.filter(
            recipient=user, key__startswith="password-reset:", sent_at__gte=now - timedelta(hours=1)
        ).count()
        if recent >= MAX_PASSWORD_RESETS_PER_HOUR:
            return False
        Notification.objects.create(
            key=f"password-reset:{user.pk}:{uuid.uuid4().hex}", recipient=user, sent_at=now
        )
    return True


def user_set_language(*, user: User, language: str) -> None:
    """Remember the interface language a person chose (also used for their e-mails)."""
    if language not in dict(settings.LANGUAGES):
        raise ApplicationError(_("This language is not available."))
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


INVITATION_RESEND_INTERVAL = timedelta(hours=1)


def invitation_resend(*, engagement, role: str, by: User) -> User:
    """
    The coach sends the invitation again to the coachee or the sponsor of
    ``engagement`` who has not accepted it yet (chosen a password). Each click
    is its own occasion, so it goes out exactly once however often its task
    runs; at most one resend per person and hour. The claim is recorded under
    the person's lock, before the task runs, so that two clicks at once
    cannot both pass.
    """
    if Role.COACH not in engagement.roles_of(by):
        raise NotAllowed(_("Only the coach of the engagement resends an invitation."))
    if role not in (Role.COACHEE, Role.SPONSOR):
        raise ApplicationError(_("Invitations go to the coachee and the sponsor."))
    person = engagement.party_for(role)
    now = clock.now()
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        if person.has_usable_password():
            raise ApplicationError(
                _("%(person)s has already accepted the invitation.") % {"person": person}
            )
        if not person.is_active:
            raise ApplicationError(_("The account of %(person)s is closed.") % {"person": person})
        last = (
            Notification.objects.filter(
                recipient=person, key__startswith=f"invitation:{person.pk}:resend-"
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None and last > now - INVITATION_RESEND_INTERVAL:
            raise ApplicationError(
                _(
                    "The invitation was sent again to %(person)s less than an hour ago. "
                    "You can resend it from %(time)s."
                )
                % {
                    "person": person,
                    "time": formats.time_format(
                        timezone.localtime(last + INVITATION_RESEND_INTERVAL), "TIME_FORMAT"
                    ),
                }
            )
        occasion = f"resend-{uuid.uuid4().hex}"
        # The e-mail's own once-only record, made now: it dates the resend.
        Notification.objects.create(
            key=f"invitation:{person.pk}:{occasion}", recipient=person, engagement=engagement
        )
        tasks.send_invitation.delay_on_commit(person.pk, by.pk, occasion)
    return person
