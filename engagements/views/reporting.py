"""Sponsor reports (write, approve or return, read, score, PDF) and the parties' baseline scores."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import charts, permissions, selectors, workflow
from ..auth import client_ip
from ..forms import ReportForm, ReportReturnForm, ReportStartForm, ScoresForm
from ..models import ObjectiveScore, SponsorReport
from ..services import privacy, reporting
from .common import engagement_for_rule as _engagement_for
from .common import show_refusal


def _report(request, pk, report_id, *, rule=permissions.can_view_scores):
    """The report if the person may read it in its current status; a 404 otherwise."""
    engagement, roles = _engagement_for(request, pk, rule=rule)
    try:
        report = selectors.report_for(engagement, roles, report_id)
    except SponsorReport.DoesNotExist:
        raise Http404 from None
    report.engagement = engagement
    return engagement, roles, report


# -- the coach writes -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def report_new(request, pk):
    """The coach starts a report: the period (the suggested one by default)."""
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_write_reports)
    start, end = reporting.report_suggested_period(engagement)
    form = ReportStartForm(
        request.POST if request.method == "POST" else None,
        initial={"period_start": start, "period_end": end},
    )
    if request.method == "POST" and form.is_valid():
        try:
            report = reporting.report_start(
                engagement=engagement, coach=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request, _("Report started: attendance and hours come from the sessions.")
            )
            return redirect("report_edit", pk=engagement.pk, report_id=report.pk)
    return render(
        request,
        "engagements/report_new.html",
        {
            "engagement": engagement,
            "form": form,
            "open_report": engagement.reports.filter(
                status__in=SponsorReport.Status.open()
            ).first(),
            "counts": selectors.session_counts(engagement),
        },
    )


@require_http_methods(["GET", "POST"])
def report_edit(request, pk, report_id):
    """The coach's draft: progress per objective and a general comment; save or submit."""
    engagement, _roles, report = _report(request, pk, report_id, rule=permissions.can_write_reports)
    if not report.is_editable:
        if request.method == "POST":
            messages.error(
                request, _("This report is no longer a draft: a correction is a new report.")
            )
        return redirect(report)
    entries = list(report.objective_progress.all())
    form = ReportForm(
        request.POST if request.method == "POST" else None,
        entries=entries,
        initial={"general_comment": report.general_comment},
    )
    if request.method == "POST" and form.is_valid():
        try:
            # Saved and submitted in one step: a refused submission writes nothing.
            with transaction.atomic():
                report = reporting.report_save(
                    report=report,
                    coach=request.user,
                    progress=form.progress(),
                    general_comment=form.cleaned_data["general_comment"],
                )
                if request.POST.get("action") == "submit":
                    report = reporting.report_submit(report=report, coach=request.user)
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            if report.status == SponsorReport.Status.AWAITING_APPROVAL:
                messages.success(
                    request,
                    _("Report submitted: the coachee reads it and approves it, or returns it."),
                )
                return redirect(report)
            messages.success(request, _("Draft saved."))
            return redirect("report_edit", pk=engagement.pk, report_id=report.pk)
    return render(
        request,
        "engagements/report_edit.html",
        {"engagement": engagement, "report": report, "form": form},
    )


# -- everyone reads; the coachee approves; the sponsor scores -----------------------


def _charts(engagement, roles):
    objectives = list(selectors.objectives_for(engagement, roles))
    return objectives, charts.objective_charts(objectives, selectors.reports_for(engagement, roles))


@require_http_methods(["GET"])
def report_detail(request, pk, report_id):
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_view_scores)
    try:
        page = selectors.report_page_for(engagement, roles, report_id)
    except SponsorReport.DoesNotExist:
        raise Http404 from None
    page.report.engagement = engagement
    return _render_report(request, engagement, roles, page.report, page=page)


def _render_report(
    request, engagement, roles, report, *, page=None, scores_form=None, return_form=None
):
    privacy.confidential_views_log(
        user=request.user, engagement=engagement, records=[report], ip_address=client_ip(request)
    )
    if page is None:
        objectives, objective_charts = _charts(engagement, roles)
        report_scores = report.scores.all()
    else:
        objectives = page.objectives
        objective_charts = charts.objective_charts(objectives, page.reports)
        report_scores = page.scores
    can_approve = (
        permissions.can_approve_reports(roles)
        and report.status == SponsorReport.Status.AWAITING_APPROVAL
        and workflow.allows(engagement, "handle_report")
    )
    my_report_scores = [s for s in report_scores if s.rater == permissions.score_rater(roles)]
    can_score = (
        permissions.can_give_observed_scores(roles)
        and report.is_released
        and not my_report_scores
        and workflow.allows(engagement, "score_report")
    )
    scores_by_objective = {}
    for score in report_scores:
        scores_by_objective.setdefault(score.objective_id, {})[score.rater] = score
    return render(
        request,
        "engagements/report_detail.html",
        {
            "engagement": engagement,
            "report": report,
            "roles": roles,
            "is_coach": permissions.can_write_reports(roles),
            "rows": [
                (entry, scores_by_objective.get(entry.objective_id, {}))
                for entry in report.objective_progress.all()
            ],
            "charts": objective_charts,
            "can_approve": can_approve,
            "can_score": can_score,
            "scores_form": scores_form
            or (ScoresForm(objectives=objectives) if can_approve or can_score else None),
            "return_form": return_form or (ReportReturnForm() if can_approve else None),
        },
    )


@require_POST
def report_approve(request, pk, report_id):
    engagement, roles, report = _report(
        request, pk, report_id, rule=permissions.can_approve_reports
    )
    form = ScoresForm(request.POST, objectives=selectors.objectives_for(engagement, roles))
    if form.is_valid():
        try:
            reporting.report_approve(report=report, coachee=request.user, scores=form.scores())
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Report approved: your sponsor can now read it."))
            return redirect(report)
    return _render_report(request, engagement, roles, report, scores_form=form)


@require_POST
def report_return(request, pk, report_id):
    engagement, roles, report = _report(
        request, pk, report_id, rule=permissions.can_approve_reports
    )
    form = ReportReturnForm(request.POST)
    if form.is_valid():
        try:
            reporting.report_return(
                report=report, coachee=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request, _("Report returned to your coach. Your sponsor has seen nothing.")
            )
            return redirect(report)
    return _render_report(request, engagement, roles, report, return_form=form)


@require_POST
def report_scores(request, pk, report_id):
    """The sponsor's observed scores on a released report."""
    engagement, roles, report = _report(
        request, pk, report_id, rule=permissions.can_give_observed_scores
    )
    form = ScoresForm(request.POST, objectives=selectors.objectives_for(engagement, roles))
    if form.is_valid():
        try:
            reporting.report_scores_give(report=report, sponsor=request.user, scores=form.scores())
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Thank you: your scores are recorded."))
            return redirect(report)
    return _render_report(request, engagement, roles, report, scores_form=form)


@require_http_methods(["GET"])
def report_pdf(request, pk, report_id):
    """A released report as a PDF, with the progress charts (each download is logged)."""
    engagement, _roles, report = _report(request, pk, report_id)
    if not report.is_released:
        raise Http404
    # The same document whoever downloads it: the sponsor's view as of this report.
    document = reporting.report_document(
        engagement=engagement, report=report, language=request.LANGUAGE_CODE
    )
    privacy.record_download_log(
        user=request.user,
        engagement=engagement,
        record=report,
        ip_address=client_ip(request),
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="rapport-{engagement.pk}-{report.period_end.isoformat()}.pdf"'
    )
    return response


# -- baseline scores (the coachee and the sponsor, each their own) ------------------


@require_http_methods(["GET", "POST"])
def baseline_scores(request, pk):
    """The coachee's or the sponsor's baseline: one score per agreed objective, given once."""
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_give_scores)
    return scores_page(
        request,
        engagement,
        roles,
        milestone=ObjectiveScore.Milestone.BASELINE,
        rule="score_baseline",
        give=reporting.baseline_scores_give,
        done=_("Thank you: your baseline scores are recorded."),
        then=engagement.get_absolute_url(),
    )


def scores_page(request, engagement, roles, *, milestone, rule, give, done, then):
    """
    The page where the coachee (self) or the sponsor (observed) gives their
    score on each agreed objective not yet scored at ``milestone``, through
    the service ``give``; ``rule`` (workflow.RULES) says when the page is open.
    """
    objectives = list(selectors.objectives_for(engagement, roles))
    rater = permissions.score_rater(roles)
    given = [
        score
        for objective in objectives
        for score in objective.scores.all()
        if score.milestone == milestone and score.rater == rater
    ]
    to_score = [o for o in objectives if not o.has_score(milestone=milestone, rater=rater)]
    form = ScoresForm(request.POST if request.method == "POST" else None, objectives=to_score)
    if request.method == "POST" and form.is_valid():
        try:
            give(engagement=engagement, user=request.user, scores=form.scores())
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, done)
            return redirect(then)
    agreed = bool(objectives) and all(o.approved_by_coachee_at for o in objectives)
    return render(
        request,
        "engagements/scores_give.html",
        {
            "engagement": engagement,
            "milestone": milestone,
            "form": form,
            "given": given,
            "rater": rater,
            "open": workflow.allows(engagement, rule) and agreed and bool(to_score),
        },
    )
