"""Accounts: the language switch, accepting an invitation, inviting HR."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from .. import selectors
from ..forms import HRInviteForm
from ..models import Organization
from ..services.accounts import hr_invite, user_set_language
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
    """A coach (or the practice owner) gives HR access to an organization they coach in."""
    if request.user.is_superuser:
        organizations = Organization.objects.order_by("name")
    else:
        coach = selectors.active_coach(request.user)
        if coach is None:
            raise Http404
        organizations = (
            Organization.objects.filter(engagements__coach=coach).distinct().order_by("name")
        )
    form = HRInviteForm(
        request.POST if request.method == "POST" else None, organizations=organizations
    )
    if request.method == "POST" and form.is_valid():
        try:
            membership = hr_invite(invited_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                _("%(person)s now has HR access to %(organization)s.")
                % {"person": membership.user, "organization": membership.organization},
            )
            return redirect("coach_portal")
    return render(request, "engagements/hr_invite.html", {"form": form})
