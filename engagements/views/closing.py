"""The closing review: starting it, the synthesis, the final scores and the final synthesis PDF."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import charts, permissions, selectors, workflow
from ..auth import client_ip
from ..forms import (
    ClosingStartForm,
    ReportReturnForm,
    SynthesisForm,
    SynthesisValidateForm,
)
from ..models import ClosingReview, ObjectiveScore
from ..services import closing, privacy
from .common import engagement_for_rule as _engagement_for
from .common import show_refusal
from .reporting import scores_page

# -- entering the closing review ---------------------------------------------------


@require_http_methods(["GET", "POST"])
def closing_start(request, pk):
    """The coach starts the closing review, having seen what happens to planned sessions."""
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_start_closing)
    if not workflow.allows_transition(engagement, "start_closing", actor=request.user):
        return redirect(engagement)
    planned = list(closing.planned_development_sessions(engagement))
    form = ClosingStartForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            closing.closing_start(
                engagement=engagement,
                coach=request.user,
                cancel_planned=form.cleaned_data["planned_sessions"] == "cancel",
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("The closing review has started. Now schedule the closing tripartite meeting."),
            )
            return redirect("sessions", pk=engagement.pk)
    counts = selectors.session_counts(engagement)
    return render(
        request,
        "engagements/closing_start.html",
        {
            "engagement": engagement,
            "form": form,
            "planned": planned,
            "counts": counts,
            "sessions_done": counts["used"] >= counts["contracted"],
        },
    )


@require_POST
def closing_request(request, pk):
    """The coachee asks her coach to move on to the closing review."""
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_request_closing)
    try:
        closing.closing_request(engagement=engagement, coachee=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("Your coach has been asked to start the closing review."))
    return redirect(engagement)


# -- the synthesis ------------------------------------------------------------------


def _review(request, pk, *, rule):
    """The engagement and its closing review as the person may see it; a 404 otherwise."""
    engagement, roles = _engagement_for(request, pk, rule=rule)
    review = selectors.closing_review_for(engagement, roles)
    if review is None:
        raise Http404
    review.engagement = engagement
    return engagement, roles, review


@require_http_methods(["GET", "POST"])
def synthesis(request, pk):
    """
    The synthesis: the coach writes it; the coachee reads, scores and validates
    it (or returns it); once issued, each party downloads their version.
    """
    engagement, roles, review = _review(request, pk, rule=permissions.can_view_synthesis)
    form = None
    if permissions.can_write_synthesis(roles) and review.is_editable:
        form = SynthesisForm(request.POST if request.method == "POST" else None, instance=review)
        if request.method == "POST" and form.is_valid():
            data = {part: form.cleaned_data[part] for part in ClosingReview.PARTS}
            try:
                # Saved and given in one step: a refused submission writes nothing.
                with transaction.atomic():
                    closing.synthesis_save(engagement=engagement, coach=request.user, **data)
                    if request.POST.get("action") == "submit":
                        closing.synthesis_submit(engagement=engagement, coach=request.user)
            except ValidationError as error:
                show_refusal(request, error, form=form)
            else:
                if request.POST.get("action") == "submit":
                    messages.success(
                        request, _("The synthesis is with the coachee for validation.")
                    )
                else:
                    messages.success(request, _("Draft saved."))
                return redirect("synthesis", pk=engagement.pk)
    elif request.method == "POST":
        if not permissions.can_write_synthesis(roles):
            raise Http404
        messages.error(request, _("The synthesis is with the coachee: it cannot change now."))
        return redirect("synthesis", pk=engagement.pk)
    return _render_synthesis(request, engagement, roles, review, form=form)


def _render_synthesis(
    request, engagement, roles, review, *, form=None, validate_form=None, return_form=None
):
    privacy.confidential_views_log(
        user=request.user, engagement=engagement, records=[review], ip_address=client_ip(request)
    )
    objectives = list(selectors.objectives_for(engagement, roles))
    # For the charts' milestones only.
    reports = list(
        selectors.reports_for(engagement, roles).only("id", "engagement_id", "status", "period_end")
    )
    rater = permissions.score_rater(roles)
    my_final_missing = bool(
        rater
        and objectives
        and workflow.allows(engagement, "score_closing")
        and closing.closing_scores_missing(engagement, rater)
    )
    can_validate = (
        permissions.can_validate_synthesis(roles)
        and review.status == ClosingReview.Status.AWAITING_COACHEE
    )
    return render(
        request,
        "engagements/synthesis.html",
        {
            "engagement": engagement,
            "review": review,
            "is_coach": permissions.can_write_synthesis(roles),
            "full_view": permissions.can_view_closing_review(roles),
            # The sponsor reads only the parts the coachee shared.
            "parts": review.parts()
            if permissions.can_view_closing_review(roles)
            else review.shared_parts(),
            "form": form,
            "charts": charts.objective_charts(objectives, reports, closing=True),
            "my_final_missing": my_final_missing,
            "can_validate": can_validate,
            "validate_form": validate_form
            or (
                SynthesisValidateForm(
                    review=review,
                    initial={"shared_parts": [name for name, *_rest in review.shared_parts()]},
                )
                if can_validate
                else None
            ),
            "return_form": return_form or (ReportReturnForm() if can_validate else None),
            "can_issue": permissions.can_write_synthesis(roles)
            and review.status == ClosingReview.Status.VALIDATED,
            "sponsor_final_missing": review.status == ClosingReview.Status.VALIDATED
            and closing.closing_scores_missing(engagement, ObjectiveScore.Rater.SPONSOR),
            "versions": permissions.synthesis_versions(roles) if review.is_completed else (),
        },
    )


@require_POST
def synthesis_validate(request, pk):
    engagement, roles, review = _review(request, pk, rule=permissions.can_validate_synthesis)
    form = SynthesisValidateForm(request.POST, review=review)
    if form.is_valid():
        try:
            closing.synthesis_validate(
                engagement=engagement,
                coachee=request.user,
                shared_parts=form.cleaned_data["shared_parts"],
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("Synthesis validated. Your coach now issues the final synthesis."),
            )
            return redirect("synthesis", pk=engagement.pk)
    return _render_synthesis(request, engagement, roles, review, validate_form=form)


@require_POST
def synthesis_return(request, pk):
    engagement, roles, review = _review(request, pk, rule=permissions.can_validate_synthesis)
    form = ReportReturnForm(request.POST)
    if form.is_valid():
        try:
            closing.synthesis_return(
                engagement=engagement, coachee=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Synthesis returned to your coach."))
            return redirect("synthesis", pk=engagement.pk)
    return _render_synthesis(request, engagement, roles, review, return_form=form)


@require_POST
def synthesis_issue(request, pk):
    """The coach issues the final synthesis (the PDFs are made by a task)."""
    engagement, _roles, _unused = _review(request, pk, rule=permissions.can_write_synthesis)
    try:
        closing.synthesis_issue(engagement=engagement, coach=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            _("The final synthesis is being issued; the parties are told when it is ready."),
        )
    return redirect("synthesis", pk=engagement.pk)


@require_http_methods(["GET"])
def synthesis_pdf(request, pk, version):
    """One version of the final synthesis, to whoever may have it; each download is logged."""
    engagement, roles, review = _review(request, pk, rule=permissions.can_view_synthesis)
    if not review.is_completed or version not in permissions.synthesis_versions(roles):
        raise Http404
    field = review.synthesis_pdf if version == "coachee" else review.sponsor_pdf
    try:
        document = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    privacy.record_download_log(
        user=request.user,
        engagement=engagement,
        record=review,
        ip_address=client_ip(request),
        detail={"version": version},
    )
    return FileResponse(
        document,
        content_type="application/pdf",
        filename=f"synthese-finale-{engagement.pk}-{version}.pdf",
    )


# -- final scores --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def closing_scores(request, pk):
    """The coachee's or the sponsor's final score on each objective, given once."""
    engagement, roles = _engagement_for(request, pk, rule=permissions.can_give_scores)
    return scores_page(
        request,
        engagement,
        roles,
        milestone=ObjectiveScore.Milestone.CLOSING,
        rule="score_closing",
        give=closing.closing_scores_give,
        done=_("Thank you: your final scores are recorded."),
        # The coachee goes on to the synthesis, once her coach has given it to her.
        then=reverse("synthesis", args=[engagement.pk])
        if permissions.can_validate_synthesis(roles)
        and selectors.closing_review_for(engagement, roles)
        else engagement.get_absolute_url(),
    )
