"""Helpers shared by the views."""

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404
from django.template.defaultfilters import capfirst
from django.urls import reverse
from django.utils import timezone

from .. import permissions, selectors
from ..models import Engagement
from ..templatetags.french_dates import date


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


def session_urls(engagement):
    """
    Each session's page address from its id, for lists of sessions: one
    ``reverse()`` for the whole list, the id put where the pattern has it.
    """
    head, marker, tail = reverse("session_detail", args=[engagement.pk, 0]).rpartition("/0/")
    assert marker, "session_detail ends with the session's id"
    return lambda pk: f"{head}/{pk}/{tail}"


def label_sessions(sessions, *, date_format="l j F Y, H:i"):
    """
    What every list of sessions shows of each, set on it once here rather
    than by template tags and filters per row: its start (``iso``, and
    ``when`` written out in ``date_format``) and its kind.
    """
    for session in sessions:
        start = timezone.localtime(session.starts_at)
        session.iso = start.isoformat()
        session.when = capfirst(date(start, date_format))
        session.kind_label = capfirst(session.get_kind_display())
    return sessions


def label_schedule(engagement, sessions):
    """An engagement's sessions labelled (``label_sessions``), each with its page's ``url``."""
    url = session_urls(engagement)
    for session in label_sessions(sessions):
        session.url = url(session.pk)
    return sessions


def show_refusal(request, error, *, form=None):
    """
    Show a refused action (a ``ValidationError``: the services' and the
    workflow's ``ApplicationError``, or a model's ``full_clean()``): on the
    form when the page has one, each message beside its field when the form
    has that field; as a message at the top of the page otherwise.
    """
    if form is None:
        messages.error(request, " ".join(error.messages))
        return
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            known = field in form.fields and field != NON_FIELD_ERRORS
            form.add_error(field if known else None, errors)
    else:
        form.add_error(None, error.messages)
