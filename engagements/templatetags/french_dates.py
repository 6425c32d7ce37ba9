"""
Django's ``date`` filter, with the first of the month written as French
readers expect: « 1er décembre », not « 1 décembre ». A builtin of the
template engine (settings.TEMPLATES), so every page, e-mail and PDF has it.
"""

import re

from django import template
from django.template.defaultfilters import date as django_date
from django.utils import formats, translation

register = template.Library()

UNESCAPED_DAY = re.compile(r"(?<!\\)j")


def french_first(value, format_string):
    """``format_string`` with « 1er » for the first of the month, in French, with a month name."""
    if getattr(value, "day", None) != 1:
        return format_string
    format_string = format_string or "DATE_FORMAT"
    if not (translation.get_language() or "").startswith("fr"):
        return format_string
    if format_string.isupper() and format_string.endswith("FORMAT"):
        format_string = formats.get_format(format_string)
    if "F" not in format_string and "N" not in format_string:
        return format_string
    return UNESCAPED_DAY.sub(r"j\\e\\r", format_string)


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    return django_date(value, french_first(value, arg))
