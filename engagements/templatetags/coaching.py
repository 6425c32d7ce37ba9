from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..models import Role

register = template.Library()


@register.filter
def hours(minutes):
    """120 -> '2 h', 150 -> '2 h 30'."""
    minutes = int(minutes or 0)
    whole, rest = divmod(minutes, 60)
    return f"{whole} h {rest:02d}" if rest else f"{whole} h"


@register.filter
def portal_url(role):
    from ..views.portal import PORTAL_URLS

    return PORTAL_URLS[role]


@register.filter
def portal_label(role):
    return {
        Role.COACH: _("Coach"),
        Role.COACHEE: _("My coaching"),
        Role.SPONSOR: _("Sponsor"),
        Role.HR: _("HR"),
    }[role]


@register.filter
def percent(part, whole):
    try:
        return max(0, min(100, round(100 * int(part) / int(whole))))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0


@register.filter
def signed_score(value):
    return f"{value:+d}" if value else "0"


@register.filter
def input_tag(widget):
    """
    The ``<input>`` of one choice of a RadioSelect or CheckboxSelectMultiple
    (a ``BoundWidget``), exactly as Django's ``input.html`` and ``attrs.html``
    write it, without rendering those two templates for each choice.
    """
    data = widget.data
    kind, name = conditional_escape(data["type"]), conditional_escape(data["name"])
    parts = [f'<input type="{kind}" name="{name}"']
    if data["value"] is not None:
        parts.append(f' value="{conditional_escape(f"{data['value']}")}"')
    for name, value in data["attrs"].items():
        if value is False:
            continue
        parts.append(f" {conditional_escape(name)}")
        if value is not True:
            parts.append(f'="{conditional_escape(f"{value}")}"')
    parts.append(">")
    return mark_safe("".join(parts))
