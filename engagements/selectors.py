"""
Reads scoped to a user: the only way views fetch records. Each selector
returns a queryset already filtered by ``permissions`` and already carrying
what its pages display, so the number of queries does not grow with the data.
"""

from django.db.models import Prefetch

from . import permissions
from .models import Engagement, HRMembership, StatusChange


def engagements_for(user):
    """Engagements ``user`` has a part in, with parties and organization loaded."""
    return (
        Engagement.objects.filter(permissions.engagement_visibility(user))
        .distinct()
        .select_related("organization", "coach__user", "coachee", "sponsor")
        .prefetch_related(
            Prefetch(
                "organization__hr_memberships",
                queryset=HRMembership.objects.only("id", "user_id", "organization_id"),
            )
        )
    )


def engagement_for(user, pk):
    """One engagement ``user`` has a part in; ``Engagement.DoesNotExist`` otherwise."""
    return engagements_for(user).get(pk=pk)


def status_history(engagement):
    """The recorded transitions of an engagement already fetched through a selector."""
    return StatusChange.objects.filter(engagement=engagement).select_related("actor")
