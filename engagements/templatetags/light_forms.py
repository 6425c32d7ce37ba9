"""
The fields of a form as crispy-bootstrap5 writes them (``|as_crispy_field``
and ``{% crispy form %}`` for our forms without a layout), written in Python.

Crispy renders each field through a dozen templates, and Django each widget
through two or three more: most of a form page's time. The common widgets
(text, number, date, time, URL inputs, selects, text areas) are written here
with the same markup: the same label, asterisk, classes, attributes, help text
and errors, so the same accessibility. Anything else (checkboxes, radio
buttons, files, hidden fields, a form with a layout or its own error display)
goes through crispy as before.
"""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from crispy_forms.templatetags.crispy_forms_tags import do_uni_form
from django import forms, template
from django.utils.safestring import mark_safe

from .coaching import escape

register = template.Library()

# Django's widget templates that are only ``{% include "…/input.html" %}``.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "number", "email", "url", "password", "date", "time", "datetime")
)
SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"


def _text(value):
    """``{{ value }}`` in a template: a string, escaped unless already safe."""
    return escape(value)


def _formatted(value):
    """``{{ value|stringformat:'s' }}``."""
    return escape(f"{value}")


def _attrs(attrs):
    """Django's ``attrs.html``."""
    parts = []
    for name, value in attrs.items():
        if value is not False:
            parts.append(f" {_text(name)}")
            if value is not True:
                parts.append(f'="{_formatted(value)}"')
    return "".join(parts)


def _input(widget):
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    kind, name = _text(widget["type"]), _text(widget["name"])
    return f'<input type="{kind}" name="{name}"{shown}{_attrs(widget["attrs"])}>'


def _select(widget):
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"'
                f"{_attrs(option['attrs'])}>{_text(option['label'])}</option>"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget):
    value = widget["value"]
    return (
        f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_text(value) if value else ''}</textarea>"
    )


def _widget(field):
    """``BoundField.as_widget()``, the common widgets written without their templates."""
    widget = field.field.widget
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    name = widget.template_name
    html = None
    if name in INPUT_TEMPLATES:
        html = _input(context)
    elif name == SELECT_TEMPLATE:
        html = _select(context)
    elif name == TEXTAREA_TEMPLATE:
        html = _textarea(context)
    if html is None:
        return widget._render(name, {"widget": context}, field.form.renderer)
    return mark_safe(html)


def _simple(field):
    """Whether crispy's ``field.html`` comes down to a label, the widget, help and errors."""
    widget = field.field.widget
    return not (
        field.is_hidden
        or hasattr(widget, "widgets")
        or hasattr(widget, "widget")
        or isinstance(
            widget,
            (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple, forms.FileInput),
        )
        or field.use_fieldset
    )


def _helper_plain(helper):
    """Whether the form's crispy helper (if any) leaves crispy's defaults as they are."""
    return helper is None or not (
        helper.form_tag
        or helper.layout is not None
        or helper.disable_csrf
        or helper.form_method.lower() != "post"
        or not helper.form_show_errors
        or not helper.form_show_labels
        or helper.help_text_inline
        or helper.field_template
        or helper.label_class
        or helper.field_class
        or helper.template
        or helper.inputs
        or "form-horizontal" in helper.form_class
    )


def _field(field, *, inline_errors):
    """
    Crispy-bootstrap5's ``field.html`` with the default helper, for a
    ``_simple`` field; ``inline_errors``: the helper's ``error_text_inline``.
    """
    widget = field.field.widget
    # What crispy's {% crispy_field %} does to the widget: its class name, then Bootstrap's.
    class_name = widget.__class__.__name__.lower()
    css_class = widget.attrs.get("class", "")
    if css_class:
        if css_class.find(class_name) == -1:
            css_class += f" {class_name}"
    else:
        css_class = class_name
    widget.attrs["class"] = css_class
    errors = field.errors
    wanted = "form-select" if isinstance(widget, forms.Select) else "form-control"
    for extra in (wanted, "is-invalid") if errors else (wanted,):
        if extra not in widget.attrs["class"].split():
            widget.attrs["class"] += f" {extra}"

    required = field.field.required
    css = field.css_classes()
    parts = [f'<div id="div_{_text(field.auto_id)}" class="mb-3{" " + _text(css) if css else ""}">']
    if field.label:
        label_for = f'for="{_text(field.id_for_label)}" ' if field.id_for_label else ""
        parts.append(
            f"<label {label_for}"
            f'class="form-label{" requiredField" if required else ""}">\n'
            f"{_text(field.label)}"
            f"{'<span class="asteriskField">*</span>' if required else ''}\n</label>"
        )
    parts.append(_widget(field))
    if errors:
        errors_id = _text(getattr(errors, "field_id", None))
        parts.append(f'<div id="{errors_id}_error" class="invalid-feedback">')
        tag = "span" if inline_errors else "p"
        for number, error in enumerate(errors, start=1):
            parts.append(
                f'<{tag} id="error_{number}_{_text(field.auto_id)}">'
                f"<strong>{_text(error)}</strong></{tag}>"
            )
        parts.append("</div>")
    if field.help_text:
        help_id = f'id="{_text(field.auto_id)}_helptext" ' if field.auto_id else ""
        parts.append(f'<div {help_id}class="form-text">{field.help_text}</div>')
    parts.append("</div>")
    return mark_safe("\n".join(parts))


@register.filter
def as_field(field):
    """``|as_crispy_field``, lighter for the common widgets."""
    helper = getattr(field.form, "helper", None)
    if not (_simple(field) and _helper_plain(helper)):
        return as_crispy_field(field)
    return _field(field, inline_errors=helper.error_text_inline if helper is not None else False)


class LightFormNode(template.Node):
    def __init__(self, form, crispy_node):
        self.form = form
        self.crispy_node = crispy_node

    def render(self, context):
        form = self.form.resolve(context)
        helper = getattr(form, "helper", None)
        if (
            helper is None
            or not _helper_plain(helper)
            or not getattr(form, "errors_shown_by_page", False)
            or str(form.media)
            or not all(_simple(field) for field in form)
        ):
            return self.crispy_node.render(context)
        parts = []
        # As {% csrf_token %} writes it.
        token = context.get("csrf_token")
        if token and token != "NOTPROVIDED":
            parts.append(f'<input type="hidden" name="csrfmiddlewaretoken" value="{_text(token)}">')
        parts.extend(_field(field, inline_errors=helper.error_text_inline) for field in form)
        return mark_safe("\n".join(parts))


@register.tag
def light_crispy(parser, token):
    """``{% crispy form %}`` for our forms without a layout, lighter for the common widgets."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("light_crispy takes one form.")
    return LightFormNode(parser.compile_filter(bits[1]), do_uni_form(parser, token))
