"""The language switch."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from ..services.accounts import user_set_language


@login_not_required
@require_POST
def switch_language(request):
    """Django's set_language (cookie, safe redirect), remembered on the account too."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response
