"""The kickoff (meeting, outcome, objectives) and the convention (sending, signing, documents)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import permissions, selectors, workflow
from ..auth import client_ip
from ..forms import (
    BaselineScoresForm,
    KickoffOutcomeForm,
    KickoffScheduleForm,
    ObjectiveForm,
    SignatureForm,
)
from ..models import Convention, Engagement, Kickoff, Role, SignatureChallenge
from ..services import convention as convention_service
from ..services import kickoff as kickoff_service
from ..services import privacy
from .common import engagement_for_rule as _engagement_for
from .common import error_messages as _errors

# -- kickoff ---------------------------------------------------------------------


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
        except (ValidationError, workflow.TransitionError) as error:
            form.add_error(None, _errors(error))
        else:
            messages.success(request, _("Kickoff planned. The three parties have been invited."))
            return redirect("kickoff", pk=engagement.pk)
    return render(
        request, "engagements/kickoff_schedule.html", {"engagement": engagement, "form": form}
    )


@require_http_methods(["GET"])
def kickoff(request, pk):
    """The kickoff workspace: outcome, objectives, baseline (coach); approvals (coachee)."""
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_edit_objectives)
    return _render_kickoff(request, engagement, roles)


def _render_kickoff(request, engagement, roles, **forms):
    objectives = list(selectors.objectives_for(engagement, roles))
    outcome = Kickoff.objects.filter(engagement=engagement).first()
    editable = engagement.status in kickoff_service.EDITABLE_STATES
    context = {
        "engagement": engagement,
        "roles": roles,
        "is_coach": Role.COACH in roles,
        "editable": editable,
        "objectives": objectives,
        "outcome": outcome,
        "kickoff_session": engagement.sessions.filter(kind="kickoff").order_by("starts_at").first(),
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
        "scores_form": forms.get("scores_form")
        or BaselineScoresForm(objectives=objectives, initial=_baseline_initial(objectives)),
        "problems": convention_service.readiness_problems(engagement),
        "can_send": Role.COACH in roles
        and engagement.status in (Engagement.Status.KICKOFF, Engagement.Status.CONTRACTING),
    }
    return render(request, "engagements/kickoff.html", context)


def _baseline_initial(objectives):
    return {
        f"score_{objective.pk}_{score.rater}": str(score.score)
        for objective in objectives
        for score in objective.scores.all()
        if score.milestone == "baseline"
    }


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
            form.add_error(None, error)
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
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, _errors(error))
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
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(_errors(error)))
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
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(_errors(error)))
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
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(_errors(error)))
    else:
        messages.success(request, _("Objective removed."))
    return redirect("kickoff", pk=engagement.pk)


@require_POST
def baseline_scores(request, pk):
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_manage_engagement)
    objectives = list(selectors.objectives_for(engagement, roles))
    form = BaselineScoresForm(request.POST, objectives=objectives)
    if form.is_valid():
        try:
            kickoff_service.baseline_scores_save(
                engagement=engagement, coach=request.user, scores=form.scores()
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Baseline scores saved."))
            return redirect("kickoff", pk=engagement.pk)
    return _render_kickoff(request, engagement, roles, scores_form=form)


# -- convention ------------------------------------------------------------------


@require_POST
def convention_send(request, pk):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_manage_engagement)
    try:
        convention = convention_service.convention_send(engagement=engagement, coach=request.user)
    except (ValidationError, workflow.TransitionError) as error:
        messages.error(request, " ".join(_errors(error)))
        return redirect("kickoff", pk=engagement.pk)
    messages.success(
        request,
        _("Version %(version)s of the convention is sent to the three parties for signature.")
        % {"version": convention.version},
    )
    return redirect(engagement)


def _convention(engagement, version):
    return get_object_or_404(
        Convention.objects.prefetch_related("signatures__signer"),
        engagement=engagement,
        version=version,
    )


@require_http_methods(["GET"])
def convention_sign_page(request, pk, version):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_sign_convention)
    convention = _convention(engagement, version)
    return _render_sign(
        request,
        engagement,
        convention,
        SignatureForm(
            consent_text=convention_service.consent_text(convention),
            initial={"typed_name": request.user.get_full_name()},
        ),
    )


def _render_sign(request, engagement, convention, form):
    privacy.confidential_views_log(
        user=request.user,
        engagement=engagement,
        records=[convention],
        ip_address=client_ip(request),
    )
    my_signature = next(
        (s for s in convention.signatures.all() if s.signer_id == request.user.pk), None
    )
    challenge = (
        SignatureChallenge.objects.filter(
            convention=convention, user=request.user, verified_at__isnull=True
        )
        .order_by("-created_at")
        .first()
    )
    return render(
        request,
        "engagements/convention_sign.html",
        {
            "engagement": engagement,
            "convention": convention,
            "terms": convention_service.terms_for_display(convention.terms),
            "form": form,
            "my_signature": my_signature,
            "challenge": challenge,
        },
    )


@require_POST
def convention_code(request, pk, version):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_sign_convention)
    convention = _convention(engagement, version)
    try:
        challenge = convention_service.signature_code_send(convention=convention, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("A code has been sent to %(email)s.") % {"email": challenge.sent_to}
        )
    return redirect("convention_sign", pk=engagement.pk, version=convention.version)


@require_POST
def convention_sign(request, pk, version):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_sign_convention)
    convention = _convention(engagement, version)
    form = SignatureForm(request.POST, consent_text=convention_service.consent_text(convention))
    if form.is_valid():
        try:
            convention_service.convention_sign(
                convention=convention,
                signer=request.user,
                code=form.cleaned_data["code"],
                typed_name=form.cleaned_data["typed_name"],
                consent=form.cleaned_data["consent"],
                ip_address=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your signature is recorded. Thank you."))
            return redirect(engagement)
    return _render_sign(request, engagement, convention, form)


def _pdf_response(request, engagement, convention, *, signed):
    field = convention.signed_document if signed else convention.document
    if not field:
        raise Http404
    convention_service.document_access_log(
        user=request.user, convention=convention, signed=signed, ip_address=client_ip(request)
    )
    suffix = "-signee" if signed else ""
    return FileResponse(
        field.open("rb"),
        content_type="application/pdf",
        as_attachment=False,
        filename=f"convention-{engagement.pk}-v{convention.version}{suffix}.pdf",
    )


@require_http_methods(["GET"])
def convention_document(request, pk, version):
    """The version as sent for signature: the parties and HR may read it."""
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_view_convention)
    return _pdf_response(request, engagement, _convention(engagement, version), signed=False)


@require_http_methods(["GET"])
def convention_signed_document(request, pk, version):
    """The sealed final PDF with the evidence pages: the parties and HR."""
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_view_convention)
    return _pdf_response(request, engagement, _convention(engagement, version), signed=True)
