import html

from django import template
from django.utils.functional import Promise
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


def escape(value):
    """``conditional_escape``, without the lazy-string wrapper of ``escape`` it calls."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _input(data):
    """Django's ``input.html`` and ``attrs.html`` for one widget's context ``data``."""
    parts = [f'<input type="{escape(data["type"])}" name="{escape(data["name"])}"']
    if data["value"] is not None:
        parts.append(f' value="{escape(f"{data['value']}")}"')
    for name, value in data["attrs"].items():
        if value is False:
            continue
        parts.append(f" {escape(name)}")
        if value is not True:
            parts.append(f'="{escape(f"{value}")}"')
    parts.append(">")
    return "".join(parts)


@register.filter
def input_tag(widget):
    """
    The ``<input>`` of one choice of a RadioSelect or CheckboxSelectMultiple
    (a ``BoundWidget``), exactly as Django's ``input.html`` and ``attrs.html``
    write it, without rendering those two templates for each choice.
    """
    return mark_safe(_input(widget.data))


@register.filter
def score_choices(field):
    """
    The choices of a score (``forms.ScoresForm``), each its radio button and
    its label, as ``_scores_fields.html`` wrote them one by one.
    """
    return mark_safe(
        "".join(
            f'\n        <div class="form-check">\n          {_input(radio.data)}\n'
            f'          <label class="form-check-label small" for="{escape(radio.id_for_label)}">'
            f"{escape(radio.choice_label)}</label>\n        </div>"
            for radio in field
        )
    )
