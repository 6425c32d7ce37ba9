"""
The confidentiality table of DOMAIN.md ("who sees what"), as code.

Selectors build their querysets from these rules and views ask these
functions before showing or changing anything; no rule lives anywhere else.
"""

from django.db.models import Q

from .models import Role


def engagement_visibility(user):
    """
    Q filter on Engagement: the engagements ``user`` has a part in, as coach,
    coachee, sponsor or HR of the organization. Status, dates and parties of
    these engagements are visible to all of them.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    return (
        Q(coach__user=user)
        | Q(coachee=user)
        | Q(sponsor=user)
        | Q(organization__hr_memberships__user=user)
    )


def roles_in(engagement, user):
    """Every role ``user`` holds for ``engagement``, HR included."""
    roles = engagement.roles_of(user)
    if user.is_authenticated and any(
        membership.user_id == user.pk for membership in engagement.organization.hr_memberships.all()
    ):
        roles.add(Role.HR)
    return roles


def can_see_status_history(engagement, user):
    """Every party and HR may see who moved the engagement and when."""
    return bool(roles_in(engagement, user))
