"""People's own settings."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import User


def user_set_language(*, user: User, language: str) -> None:
    """Remember the interface language a person chose (also used for their e-mails)."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("This language is not available."))
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
