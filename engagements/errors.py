"""
The one application error. Every refusal of a service or of the workflow
(wrong state, wrong person, bad input that only the service can judge) is an
``ApplicationError``; views catch ``ValidationError`` (its base, which the
models' ``full_clean()`` raises too) and show it through one helper
(``views.common.show_refusal``). A refused action is never a 500.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ApplicationError(ValidationError):
    """An action the platform refuses, with a message for the person who tried it."""


class NotAllowed(ApplicationError):
    """The person holds no role that allows this action (the views normally hide it)."""

    def __init__(self, message=None):
        super().__init__(message or _("You are not allowed to do this."))
