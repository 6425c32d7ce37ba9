"""The four portals (coach, coachee, sponsor, HR) and the landing page that picks one."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import charts, permissions, selectors, workflow
from ..auth import client_ip
from ..forms import HRFilterForm
from ..middleware import portals_refresh
from ..models import (
    CoachingSession,
    Convention,
    Engagement,
    ObjectiveScore,
    Role,
    SponsorReport,
)
from ..services import privacy

PORTAL_URLS = {
    Role.COACH: "coach_portal",
    Role.COACHEE: "coachee_portal",
    Role.SPONSOR: "sponsor_portal",
    Role.HR: "hr_portal",
}
HR_PAGE_SIZE = 25
ENDED_PAGE_SIZE = 20


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
    open_engagements = list(selectors.portal_engagements(request.user, role).open())
    ended = Paginator(
        selectors.portal_ended_engagements(request.user, role), ENDED_PAGE_SIZE
    ).get_page(request.GET.get("ended"))
    for engagement in [*open_engagements, *ended]:
        engagement.next = workflow.next_step(engagement, role, today)
        engagement.next_url = _next_step_url(engagement)
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


@require_GET
def coach_portal(request):
    open_engagements, ended = _portal_lists(request, Role.COACH)
    return _render_portal(
        request,
        Role.COACH,
        "engagements/portal_coach.html",
        {
            "open_engagements": open_engagements,
            "ended_engagements": ended,
            "to_do": [e for e in open_engagements if e.next.urgent],
            "upcoming_sessions": selectors.upcoming_sessions_for_coach(request.user),
        },
    )


@require_GET
def coachee_portal(request):
    open_engagements, ended = _portal_lists(request, Role.COACHEE)
    return _render_portal(
        request,
        Role.COACHEE,
        "engagements/portal_coachee.html",
        {
            "open_engagements": open_engagements,
            "ended_engagements": ended,
            "upcoming_sessions": selectors.upcoming_sessions_for_coachee(request.user),
        },
    )


@require_GET
def sponsor_portal(request):
    open_engagements, ended = _portal_lists(request, Role.SPONSOR)
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


@require_GET
def engagement_detail(request, pk):
    """The engagement page: the five steps, the parties, and each section the person may see."""
    try:
        engagement = selectors.engagement_for(request.user, pk)
    except Engagement.DoesNotExist:
        raise Http404 from None
    roles = permissions.roles_in(engagement, request.user)
    history = list(selectors.status_history(engagement))
    reports = list(selectors.reports_for(engagement, roles))
    closing_review = selectors.closing_review_for(engagement, roles)
    sessions = list(selectors.sessions_for(engagement, roles))
    session_view = permissions.session_view(roles)
    conventions = list(selectors.conventions_for(engagement, roles))
    objectives = list(selectors.objectives_for(engagement, roles))
    counts = selectors.session_counts(engagement)
    can_sign = permissions.can_sign_convention(roles)
    sign_version = next(
        (
            c.version
            for c in conventions
            if c.status == Convention.Status.SENT
            and can_sign
            and not any(s.signer_id == request.user.pk for s in c.signatures.all())
        ),
        None,
    )
    permitted = workflow.permitted(engagement)
    rater = permissions.score_rater(roles)
    # What the mid-point rule needs (the portals annotate the same two figures).
    engagement.sessions_used = counts["used"]
    engagement.reports_started = sum(r.status != SponsorReport.Status.CLOSED for r in reports)
    if closing_review:
        privacy.confidential_views_log(
            user=request.user,
            engagement=engagement,
            records=[closing_review],
            ip_address=client_ip(request),
        )
    return render(
        request,
        "engagements/engagement_detail.html",
        {
            "engagement": engagement,
            "roles": roles,
            "history": history,
            "steps": workflow.steps(engagement, history),
            "actions": {t.name for t in workflow.allowed_transitions(engagement, request.user)},
            "permitted": permitted,
            "objectives": objectives,
            "can_view_objectives": permissions.can_view_objectives(roles),
            "charts": charts.objective_charts(objectives, reports)
            if permissions.can_view_scores(roles) and objectives
            else [],
            "is_sponsor": permissions.can_give_observed_scores(roles),
            "baseline_to_give": rater
            and "score_baseline" in permitted
            and objectives
            and all(o.approved_by_coachee_at for o in objectives)
            and any(
                not o.has_score(milestone=ObjectiveScore.Milestone.BASELINE, rater=rater)
                for o in objectives
            ),
            "session_view": session_view,
            "sessions": sessions,
            "counts": counts,
            "can_view_summaries": permissions.can_view_shared_summaries(roles),
            "can_view_private_notes": permissions.can_view_private_notes(roles),
            "reports": reports,
            "can_view_reports": bool(permissions.report_statuses_visible(roles)),
            "can_start_report": permissions.can_write_reports(roles)
            and "start_report" in permitted
            and not any(r.status in SponsorReport.Status.open() for r in reports),
            "report_due": permissions.can_write_reports(roles) and workflow.report_due(engagement),
            "conventions": conventions,
            "can_sign": can_sign,
            "sign_version": sign_version,
            "can_manage": permissions.can_manage_engagement(roles),
            "invitations": selectors.invitation_statuses(engagement, roles),
            "can_edit_objectives": permissions.can_edit_objectives(roles),
            "closing_review": closing_review,
            "can_view_closing_review": permissions.can_view_closing_review(roles),
            # Only the coach learns that a coachee who withdrew wishes a closing session.
            "farewell_bookable": permissions.can_manage_sessions(roles)
            and CoachingSession.Kind.FAREWELL in workflow.bookable_kinds(engagement),
            "can_request_closing": permissions.can_request_closing(roles)
            and "request_closing" in permitted
            and not engagement.closing_requested_at,
            "final_scores_to_give": rater
            and "score_closing" in permitted
            and any(
                not o.has_score(milestone=ObjectiveScore.Milestone.CLOSING, rater=rater)
                for o in objectives
            ),
        },
    )
