"""Accounts: the language switch, accepting an invitation, inviting HR."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language

from .. import selectors
from ..forms import HRInviteForm
from ..services.accounts import (
    hr_grant,
    hr_proposal_confirm,
    hr_proposal_decline,
    hr_propose,
    user_set_language,
)
from ..tokens import invitation_token_generator
from .common import show_refusal


@login_not_required
@require_POST
def switch_language(request):
    """Django's set_language (cookie, safe redirect), remembered on the account too."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response


@method_decorator(login_not_required, name="dispatch")
class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation link: choose a password once, then land on one's portal."""

    template_name = "registration/invitation_accept.html"
    token_generator = invitation_token_generator
    reset_url_token = "choisir-mot-de-passe"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, _("Welcome! Your password is saved."))
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def hr_invite_view(request):
    """
    Invite an HR contact. The practice owner and an organization's HR give
    the access; a coach proposes it for an organization they coach in, and
    it takes effect once one of those confirms it (DOMAIN.md).
    """
    grantable = selectors.organizations_hr_grantable(request.user)
    organizations = grantable | selectors.organizations_hr_proposable(request.user)
    if not organizations.exists():
        raise Http404
    form = HRInviteForm(
        request.POST if request.method == "POST" else None, organizations=organizations
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if grantable.filter(pk=data["organization"].pk).exists():
                hr_grant(granted_by=request.user, **data)
                done = _("%(person)s now has HR access to %(organization)s.")
            else:
                hr_propose(proposed_by=request.user, **data)
                done = _(
                    "Your proposal to give %(person)s HR access to %(organization)s is sent: "
                    "the access opens once HR of the organization or the practice owner "
                    "confirms it."
                )
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            person = f"{data['first_name']} {data['last_name']}".strip()
            messages.success(
                request, done % {"person": person, "organization": data["organization"]}
            )
            return redirect("home")
    return render(request, "engagements/hr_invite.html", {"form": form})


def _require_hr_decider(request):
    """Only the practice owner and HR see and decide proposals: a 404 for anyone else."""
    if not selectors.organizations_hr_grantable(request.user).exists():
        raise Http404


@require_GET
def hr_proposals(request):
    """The coaches' HR proposals waiting for this person's confirmation."""
    _require_hr_decider(request)
    proposals = selectors.hr_proposals_to_decide(request.user)
    return render(request, "engagements/hr_proposals.html", {"proposals": proposals})


def _decide(request, proposal_id, *, service, done):
    _require_hr_decider(request)
    proposal = get_object_or_404(selectors.hr_proposals_to_decide(request.user), pk=proposal_id)
    try:
        proposal = service(proposal, request.user)
    except ValidationError as error:
        show_refusal(request, error)
    else:
        messages.success(
            request,
            done % {"person": proposal.full_name, "organization": proposal.organization},
        )
    return redirect("hr_proposals")


@require_POST
def hr_proposal_confirm_view(request, proposal_id):
    return _decide(
        request,
        proposal_id,
        service=lambda proposal, user: hr_proposal_confirm(proposal=proposal, confirmed_by=user),
        done=_("%(person)s now has HR access to %(organization)s."),
    )


@require_POST
def hr_proposal_decline_view(request, proposal_id):
    return _decide(
        request,
        proposal_id,
        service=lambda proposal, user: hr_proposal_decline(proposal=proposal, declined_by=user),
        done=_("The proposal to give %(person)s HR access to %(organization)s is declined."),
    )
