"""Opening an engagement, changing its terms, and ending it early."""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import permissions, selectors
from ..forms import CancelForm, EngagementOpenForm, EngagementTermsForm, WithdrawForm
from ..models import Convention
from ..services.engagements import (
    Person,
    engagement_cancel,
    engagement_open,
    engagement_terms_update,
    engagement_withdraw,
)
from .common import engagement_for_rule, show_refusal


def _person(data, prefix):
    return Person(
        email=data[f"{prefix}_email"],
        first_name=data[f"{prefix}_first_name"],
        last_name=data[f"{prefix}_last_name"],
        job_title=data[f"{prefix}_job_title"],
    )


@require_http_methods(["GET", "POST"])
def engagement_new(request):
    coach = selectors.active_coach(request.user)
    if coach is None:
        raise Http404
    form = EngagementOpenForm(
        request.POST if request.method == "POST" else None,
        organizations=selectors.coach_organizations(coach),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            engagement = engagement_open(
                coach=coach,
                organization=data["organization"],
                new_organization_name=data["new_organization_name"],
                coachee=_person(data, "coachee"),
                sponsor=_person(data, "sponsor"),
                title=data["title"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                sessions_contracted=data["sessions_contracted"],
                session_minutes=data["session_minutes"],
                format=data["format"],
                fee_amount=data["fee_amount"],
                language=data["language"],
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("Engagement created. The coachee and the sponsor have been invited."),
            )
            return redirect(engagement)
    return render(request, "engagements/engagement_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
def engagement_withdraw_view(request, pk):
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_withdraw)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement_withdraw(
                engagement=engagement,
                coachee=request.user,
                closing_session_wanted=form.cleaned_data["closing_session_wanted"],
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("Your engagement has ended. Your coach and your sponsor have been informed."),
            )
            return redirect(engagement)
    return render(
        request,
        "engagements/engagement_withdraw.html",
        {"engagement": engagement, "form": form},
    )


@require_http_methods(["GET", "POST"])
def engagement_cancel_view(request, pk):
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_cancel)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            engagement_cancel(
                engagement=engagement, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request, _("The engagement is cancelled. The parties have been informed.")
            )
            return redirect(engagement)
    return render(
        request, "engagements/engagement_cancel.html", {"engagement": engagement, "form": form}
    )


@require_http_methods(["GET", "POST"])
def engagement_terms(request, pk):
    """The coach changes the terms; out for signature, that makes a new version."""
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_manage_engagement)
    # The form validates a copy: the service applies the change, or nothing.
    form = EngagementTermsForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(engagement)
    )
    if request.method == "POST" and form.is_valid():
        try:
            engagement_terms_update(
                engagement=engagement,
                coach=request.user,
                **{field: form.cleaned_data[field] for field in form.Meta.fields},
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(request, _("Terms saved."))
            return redirect(engagement)
    return render(
        request,
        "engagements/engagement_terms.html",
        {
            "engagement": engagement,
            "form": form,
            "out_for_signature": engagement.conventions.filter(
                status=Convention.Status.SENT
            ).exists(),
        },
    )
