"""The signed-in home page and the engagement page."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import permissions, selectors, workflow
from ..models import Engagement, Role


@require_GET
def home(request):
    """Every engagement the user has a part in, grouped by the role they hold."""
    groups = {role: [] for role in (Role.COACH, Role.COACHEE, Role.SPONSOR, Role.HR)}
    for engagement in selectors.engagements_for(request.user).order_by("status", "-start_date"):
        for role in sorted(permissions.roles_in(engagement, request.user)):
            groups[role].append(engagement)
    return render(
        request,
        "engagements/home.html",
        {"groups": [(role, items) for role, items in groups.items() if items]},
    )


@require_GET
def engagement_detail(request, pk):
    try:
        engagement = selectors.engagement_for(request.user, pk)
    except Engagement.DoesNotExist:
        raise Http404 from None
    history = list(selectors.status_history(engagement))
    return render(
        request,
        "engagements/engagement_detail.html",
        {
            "engagement": engagement,
            "roles": permissions.roles_in(engagement, request.user),
            "history": history,
            "steps": workflow.steps(engagement, history),
        },
    )
