"""People: invitations, HR access, their own settings."""

import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .. import tasks
from ..errors import ApplicationError, NotAllowed
from ..models import Coach, Engagement, HRMembership, Organization, User


def person_get_or_invite(*, email: str, first_name: str, last_name: str, invited_by: User) -> User:
    """
    The account for ``email``, created if needed. A new account has no
    password: it receives an invitation with a one-time link to choose one.
    An existing account is left as it is (names are not overwritten).
    """
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    user.set_unusable_password()
    user.language = invited_by.language
    user.save()
    occasion = uuid.uuid4().hex
    tasks.send_invitation.delay_on_commit(user.pk, invited_by.pk, occasion)
    return user


def hr_invite(
    *, organization: Organization, email: str, first_name: str, last_name: str, invited_by: User
) -> HRMembership:
    """
    Give HR access to ``organization``. The practice owner may invite HR for
    any organization; a coach only for an organization they coach in.
    """
    if not invited_by.is_superuser:
        coach = Coach.objects.filter(user=invited_by).first()
        if (
            coach is None
            or not Engagement.objects.filter(coach=coach, organization=organization).exists()
        ):
            raise NotAllowed(_("You can only invite HR of organizations you coach in."))
    email = User.objects.normalize_email(email).strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None and (
        hasattr(existing, "coach_profile")
        or Engagement.objects.filter(organization=organization)
        .filter(Q(coachee=existing) | Q(sponsor=existing))
        .exists()
    ):
        # HR sees every engagement of the organization: never a coach, nor a
        # coachee or a sponsor of one of them (they would see their peers').
        raise ApplicationError(
            _("This person takes part in coaching engagements and cannot be given HR access.")
        )
    with transaction.atomic():
        user = person_get_or_invite(
            email=email, first_name=first_name, last_name=last_name, invited_by=invited_by
        )
        membership, created = HRMembership.objects.get_or_create(
            user=user, organization=organization
        )
        if not created:
            raise ApplicationError(_("This person already has HR access to this organization."))
    return membership


def user_set_language(*, user: User, language: str) -> None:
    """Remember the interface language a person chose (also used for their e-mails)."""
    if language not in dict(settings.LANGUAGES):
        raise ApplicationError(_("This language is not available."))
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
