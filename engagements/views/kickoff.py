"""The tripartite kickoff: the meeting, its outcome and the objectives."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import method, permissions, selectors, workflow
from ..forms import KickoffOutcomeForm, KickoffScheduleForm, ObjectiveForm
from ..models import CoachingSession, Convention, Kickoff, ObjectiveScore, Role
from ..services import convention as convention_service
from ..services import kickoff as kickoff_service
from .common import engagement_for_rule as _engagement_for
from .common import show_refusal


@require_http_methods(["GET", "POST"])
def kickoff_schedule(request, pk):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_manage_engagement)
    form = KickoffScheduleForm(
        request.POST if request.method == "POST" else None,
        initial={"duration_minutes": engagement.session_minutes, "format": engagement.format},
    )
    if request.method == "POST" and form.is_valid():
        try:
            kickoff_service.kickoff_schedule(
                engagement=engagement, coach=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Kickoff planned. The three parties have been invited."))
            return redirect("kickoff", pk=engagement.pk)
    return render(
        request, "engagements/kickoff_schedule.html", {"engagement": engagement, "form": form}
    )


@require_http_methods(["GET"])
def kickoff(request, pk):
    """The kickoff workspace: outcome and objectives (coach); wording and approvals (coachee)."""
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_edit_objectives)
    return _render_kickoff(request, engagement, roles)


def _render_kickoff(request, engagement, roles, **forms):
    objectives = list(selectors.objectives_for(engagement, roles))
    outcome = Kickoff.objects.filter(engagement=engagement).first()
    permitted = workflow.permitted(engagement)
    context = {
        "engagement": engagement,
        "roles": roles,
        "is_coach": Role.COACH in roles,
        "editable": "edit_objectives" in permitted,
        "can_record": "record_kickoff" in permitted,
        "objectives": objectives,
        "outcome": outcome,
        "kickoff_session": engagement.sessions.filter(kind=CoachingSession.Kind.KICKOFF)
        .order_by("starts_at")
        .first(),
        "outcome_form": forms.get("outcome_form")
        or KickoffOutcomeForm(
            initial={
                "coachee_expectations": outcome.coachee_expectations,
                "sponsor_expectations": outcome.sponsor_expectations,
                "coach_expectations": outcome.coach_expectations,
                "reporting_scope": outcome.reporting_scope,
            }
            if outcome
            else None
        ),
        "objective_form": forms.get("objective_form") or ObjectiveForm(),
        # The practice's situations and traps, in the engagement's language
        # (the objectives go into its convention).
        "themes": method.themes(engagement.language) if Role.COACH in roles else [],
        "can_score": "score_baseline" in permitted
        and Role.COACHEE in roles
        and objectives
        and all(o.approved_by_coachee_at for o in objectives),
        "baseline_given": any(
            o.has_score(milestone=ObjectiveScore.Milestone.BASELINE, rater=Role.COACHEE)
            for o in objectives
        ),
        "problems": convention_service.readiness_problems(engagement),
        "can_send": Role.COACH in roles and "send_convention" in permitted,
        "out_for_signature": engagement.conventions.filter(status=Convention.Status.SENT).exists(),
    }
    return render(request, "engagements/kickoff.html", context)


@require_POST
def kickoff_outcome(request, pk):
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_manage_engagement)
    form = KickoffOutcomeForm(request.POST)
    if form.is_valid():
        try:
            kickoff_service.kickoff_record(
                engagement=engagement, coach=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Kickoff outcome saved."))
            return redirect("kickoff", pk=engagement.pk)
    return _render_kickoff(request, engagement, roles, outcome_form=form)


@require_POST
def objective_add(request, pk):
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_edit_objectives)
    form = ObjectiveForm(request.POST)
    if form.is_valid():
        try:
            kickoff_service.objective_save(
                engagement=engagement, author=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Objective added."))
            return redirect("kickoff", pk=engagement.pk)
    return _render_kickoff(request, engagement, roles, objective_form=form)


def _objective(engagement, objective_id):
    return get_object_or_404(engagement.objectives, pk=objective_id)


@require_POST
def objective_edit(request, pk, objective_id):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_edit_objectives)
    objective = _objective(engagement, objective_id)
    form = ObjectiveForm(request.POST)
    if form.is_valid():
        try:
            kickoff_service.objective_save(
                engagement=engagement, author=request.user, objective=objective, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Objective updated."))
    else:
        messages.error(request, _("An objective needs a wording and success indicators."))
    return redirect("kickoff", pk=engagement.pk)


@require_POST
def objective_approve(request, pk, objective_id):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_approve_objectives)
    try:
        kickoff_service.objective_approve(
            objective=_objective(engagement, objective_id), coachee=request.user
        )
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Wording approved."))
    return redirect("kickoff", pk=engagement.pk)


@require_POST
def objective_delete(request, pk, objective_id):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_edit_objectives)
    try:
        kickoff_service.objective_delete(
            objective=_objective(engagement, objective_id), user=request.user
        )
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Objective removed."))
    return redirect("kickoff", pk=engagement.pk)
