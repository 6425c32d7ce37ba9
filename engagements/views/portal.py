"""The four portals (coach, coachee, sponsor, HR) and the landing page that picks one."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.defaultfilters import capfirst
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import permissions, selectors, workflow
from ..forms import HRFilterForm
from ..middleware import portals_refresh
from ..models import (
    Role,
)
from ..templatetags.french_dates import date
from .common import label_sessions

PORTAL_URLS = {
    Role.COACH: "coach_portal",
    Role.COACHEE: "coachee_portal",
    Role.SPONSOR: "sponsor_portal",
    Role.HR: "hr_portal",
}
HR_PAGE_SIZE = 25
ENDED_PAGE_SIZE = 10
# The coach's engagements in progress, those waiting for him first, by pages;
# his to-do card shows the first few of those waiting.
OPEN_PAGE_SIZE = 25
TO_DO_SHOWN = 8


def _require_portal(request, role):
    if role not in request.portals and role not in portals_refresh(request):
        raise Http404


def _portal_lists(request, role):
    """
    The person's engagements in ``role``: the open ones, each with its next
    step, those waiting for this person first, then in workflow order; and a
    page of the ended ones, most recent first.
    """
    _require_portal(request, role)
    today = timezone.localdate()
    open_engagements = selectors.with_portal_figures(
        selectors.portal_engagements(request.user, role).open(), role, request.user
    )
    ended = Paginator(
        selectors.portal_ended_engagements(request.user, role), ENDED_PAGE_SIZE
    ).get_page(request.GET.get("ended"))
    for engagement in [*open_engagements, *ended]:
        engagement.next = workflow.next_step(engagement, role, today)
        engagement.shows_progress = workflow.allows(engagement, "show_progress")
        # The coachee may ask her coach for the closing review from her portal.
        closing_open = permissions.can_request_closing({role}) and workflow.allows(
            engagement, "request_closing"
        )
        engagement.closing_askable = closing_open and not engagement.closing_requested_at
        engagement.closing_asked = closing_open and bool(engagement.closing_requested_at)
    open_engagements.sort(
        key=lambda e: (not e.next.urgent, workflow.display_order(e.status), e.start_date)
    )
    return open_engagements, ended


def _linked(*lists):
    """
    The engagements of ``lists`` (those shown only) each with the URL of its
    next step and its state's label (written once here, not by a filter per row).
    """
    for engagements in lists:
        for engagement in engagements:
            engagement.next_url = _next_step_url(engagement)
            engagement.status_label = capfirst(engagement.get_status_display())
    return lists


def _next_step_url(engagement):
    """The page where the person does their next step (the engagement page by default)."""
    pk = engagement.pk
    subject = engagement.next.subject
    if subject == "objectives":
        return engagement.get_absolute_url() + "#objectives-title"
    if subject == "baseline":
        return reverse("baseline_scores", args=[pk])
    if subject == "report_due":
        return reverse("report_new", args=[pk])
    if subject in ("closing_start", "synthesis", "closing_scores", "sessions"):
        return reverse(subject, args=[pk])
    if subject == "report_edit" and getattr(engagement, "open_report_id", None):
        return reverse("report_edit", args=[pk, engagement.open_report_id])
    if subject == "report":
        report_id = getattr(engagement, "report_to_score_id", None) or getattr(
            engagement, "open_report_id", None
        )
        if report_id:
            return reverse("report_detail", args=[pk, report_id])
    return engagement.get_absolute_url()


@require_GET
def home(request):
    """Land on the last portal used, else the first role the person holds."""
    portals = request.portals or portals_refresh(request)
    if not portals:
        return render(request, "engagements/no_portal.html")
    last = request.session.get("portal")
    role = last if last in portals else portals[0]
    return redirect(PORTAL_URLS[role])


def _render_portal(request, role, template, context):
    if request.session.get("portal") != role:  # the session is written on a change only
        request.session["portal"] = role
    return render(request, template, {"portal": role, **context})


def _upcoming(sessions, *, date_format="l j F Y, H:i"):
    """
    Meetings to come, each with its labels (``label_sessions``) and its
    format's (not every list of sessions loads the format).
    """
    sessions = label_sessions(list(sessions), date_format=date_format)
    for session in sessions:
        session.format_label = session.get_format_display()
    return sessions


@require_GET
def coach_portal(request):
    open_engagements, ended = _portal_lists(request, Role.COACH)
    to_do = [e for e in open_engagements if e.next.urgent]
    open_page = Paginator(open_engagements, OPEN_PAGE_SIZE).get_page(request.GET.get("open"))
    _linked(to_do[:TO_DO_SHOWN], open_page, ended)
    # The next session of each row, written out once here (not by filters per row).
    for engagement in open_page:
        if engagement.next_session_at:
            start = timezone.localtime(engagement.next_session_at)
            engagement.next_session_iso = start.isoformat()
            engagement.next_session_label = date(start, "D j N, H:i")
    return _render_portal(
        request,
        Role.COACH,
        "engagements/portal_coach.html",
        {
            "open_engagements": open_engagements,
            "open_page": open_page,
            "ended_engagements": ended,
            "to_do": to_do[:TO_DO_SHOWN],
            "to_do_count": len(to_do),
            "upcoming_sessions": _upcoming(
                selectors.upcoming_sessions_for_coach(request.user), date_format="l j F, H:i"
            ),
        },
    )


@require_GET
def coachee_portal(request):
    open_engagements, ended = _linked(*_portal_lists(request, Role.COACHEE))
    return _render_portal(
        request,
        Role.COACHEE,
        "engagements/portal_coachee.html",
        {
            "open_engagements": open_engagements,
            "ended_engagements": ended,
            "upcoming_sessions": _upcoming(selectors.upcoming_sessions_for_coachee(request.user)),
        },
    )


@require_GET
def sponsor_portal(request):
    open_engagements, ended = _linked(*_portal_lists(request, Role.SPONSOR))
    return _render_portal(
        request,
        Role.SPONSOR,
        "engagements/portal_sponsor.html",
        {"open_engagements": open_engagements, "ended_engagements": ended},
    )


@require_GET
def hr_portal(request):
    _require_portal(request, Role.HR)
    engagements = selectors.portal_engagements(request.user, Role.HR)
    form = HRFilterForm(request.GET or None)
    engagements = engagements.filter(selectors.engagement_filters(form.filters()))
    page = Paginator(engagements.order_by("-start_date", "-pk"), HR_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = selectors.with_portal_figures(page.object_list, Role.HR, request.user)
    # Each row's state and period written out once here, not by filters per row.
    for engagement in page.object_list:
        engagement.status_label = capfirst(engagement.get_status_display())
        engagement.period = " → ".join(
            date(day, "SHORT_DATE_FORMAT") for day in (engagement.start_date, engagement.end_date)
        )
    return _render_portal(
        request,
        Role.HR,
        "engagements/portal_hr.html",
        {
            "form": form,
            "page": page,
            "pending_proposals": selectors.hr_proposals_to_decide(request.user).count(),
        },
    )
