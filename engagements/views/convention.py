"""The convention: sending it, signing it, and its documents."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import permissions
from ..auth import client_ip
from ..forms import SignatureForm
from ..models import Convention, SignatureChallenge
from ..services import convention as convention_service
from ..services import privacy
from .common import engagement_for_rule as _engagement_for
from .common import show_refusal


@require_POST
def convention_send(request, pk):
    engagement, _roles = _engagement_for(request, pk, rule=permissions.can_manage_engagement)
    try:
        convention = convention_service.convention_send(engagement=engagement, coach=request.user)
    except ValidationError as error:
        show_refusal(request, error)
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
        show_refusal(request, error)
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
            show_refusal(request, error, form=form)
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
