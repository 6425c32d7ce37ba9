"""Helpers shared by the views."""

from django.core.exceptions import ValidationError
from django.http import Http404

from .. import permissions, selectors
from ..models import Engagement


def engagement_for_rule(request, pk, *, rule):
    """
    The engagement and the user's roles in it, if ``rule`` (a function of
    permissions.py) lets the user in; a 404 otherwise, as for a stranger.
    """
    try:
        engagement = selectors.engagement_for(request.user, pk)
    except Engagement.DoesNotExist:
        raise Http404 from None
    roles = permissions.roles_in(engagement, request.user)
    if not rule(roles):
        raise Http404
    return engagement, roles


def error_messages(error):
    """The messages of a refused action, whatever raised it."""
    if isinstance(error, ValidationError):
        return error.messages
    return [getattr(error, "message", None) or str(error)]
