"""The parties of an engagement: its organization's details, the invitations of its people."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import permissions, workflow
from ..forms import OrganizationDetailsForm
from ..models import Convention, Role
from ..services.accounts import invitation_resend
from ..services.engagements import organization_details_update
from .common import engagement_for_rule, show_refusal


@require_http_methods(["GET", "POST"])
def organization_details(request, pk):
    """
    The coach completes the registration number and address of the
    engagement's organization while its convention can still change.
    """
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_manage_engagement)
    try:
        workflow.require(engagement, "edit_terms")
    except ValidationError as error:
        show_refusal(request, error)
        return redirect(engagement)
    organization = engagement.organization
    form = OrganizationDetailsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "registration_number": organization.registration_number,
            "address": organization.address,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            organization_details_update(
                engagement=engagement, coach=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("The details of %(organization)s are saved.") % {"organization": organization},
            )
            return redirect(engagement)
    return render(
        request,
        "engagements/organization_details.html",
        {
            "engagement": engagement,
            "organization": organization,
            "form": form,
            "out_for_signature": engagement.conventions.filter(
                status=Convention.Status.SENT
            ).exists(),
        },
    )


@require_POST
def invitation_resend_view(request, pk, role):
    """The coach sends the invitation again to a party who has not accepted it."""
    engagement, _roles = engagement_for_rule(request, pk, rule=permissions.can_manage_engagement)
    if role not in (Role.COACHEE, Role.SPONSOR):
        raise Http404
    try:
        person = invitation_resend(engagement=engagement, role=role, by=request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            _("The invitation is sent again to %(person)s (%(email)s).")
            % {"person": person, "email": person.email},
        )
    return redirect(engagement)
