"""
Every form of the app, posted with out-of-range dates, huge numbers, control
characters and 10,000-character strings by each persona allowed to post it:
never a 500, and a refusal writes nothing.
"""

from datetime import timedelta

import pytest
from django import forms
from django.apps import apps
from django.utils import timezone

from engagements import forms as app_forms
from engagements.models import Engagement

from . import factories
from .test_policy import POST_POLICY, url_for

pytestmark = pytest.mark.django_db

# Pages whose form is posted to themselves, beside the actions of POST_POLICY.
FORM_PAGES = {
    "engagement_new": ["coach"],
    "hr_invite": ["coach", "hr"],
    "calendar_settings": ["coach", "coachee"],
    "password_reset": ["anonymous"],
    "login": ["anonymous"],
}
# Forms that only a draft engagement shows (the policy world is active).
DRAFT_FORMS = {"kickoff_schedule", "engagement_terms", "objective_add", "objective_edit"}

FLAVORS = ["far_past", "far_future", "huge_numbers", "control_characters", "ten_thousand"]
CONTROL = "Nom\x01\x07\x1b\x7f\r\nBcc: intrus@example.com\u2028fin"


def _catalogue():
    """Every field name of the app's forms, with one of its fields (for its type)."""
    fields = {}
    for form_class in vars(app_forms).values():
        if isinstance(form_class, type) and issubclass(form_class, forms.BaseForm):
            fields.update(getattr(form_class, "base_fields", {}))
    fields.update(
        {
            "username": forms.EmailField(),
            "password": forms.CharField(),
            "shared_parts": forms.MultipleChoiceField(),
        }
    )
    return fields


def _valid(field):
    today = timezone.localdate()
    if isinstance(field, forms.DateTimeField):
        return f"{today + timedelta(days=10):%Y-%m-%d}T10:00"
    if isinstance(field, forms.DateField):
        return f"{today + timedelta(days=30):%Y-%m-%d}"
    if isinstance(field, forms.TimeField):
        return "10:00"
    if isinstance(field, forms.BooleanField):
        return "on"
    if isinstance(field, forms.ModelChoiceField):
        return ""
    if isinstance(field, forms.ChoiceField) and list(field.choices):
        return str(list(field.choices)[-1][0])
    if isinstance(field, forms.EmailField):
        return "fuzz@example.com"
    if isinstance(field, forms.URLField):
        return "https://visio.example.com/fuzz"
    if isinstance(field, forms.IntegerField):
        return str(field.min_value if field.min_value is not None else 1)
    if isinstance(field, forms.DecimalField):
        return "100"
    return "Texte"


def _bad(field, flavor):
    """The bad value of ``flavor`` for ``field``, or None to keep a valid one."""
    if flavor == "far_past":
        if isinstance(field, forms.DateTimeField):
            return "0001-01-01T00:00"
        if isinstance(field, forms.DateField):
            return "0001-01-01"
    if flavor == "far_future":
        if isinstance(field, forms.DateTimeField):
            return "9999-12-31T23:59"
        if isinstance(field, forms.DateField):
            return "9999-12-31"
    if flavor == "huge_numbers" and isinstance(field, forms.IntegerField | forms.DecimalField):
        return "99999999999999999999999"
    if isinstance(field, forms.CharField) and not isinstance(field, forms.EmailField):
        if flavor == "control_characters":
            return CONTROL
        if flavor == "ten_thousand":
            return "x" * 10_000
    return None


def payload(flavor, objectives):
    fields = _catalogue()
    for objective in objectives:
        fields[f"score_{objective.pk}"] = forms.ChoiceField(choices=[("2", "2")])
        fields[f"progress_{objective.pk}"] = forms.CharField()
    data = {}
    for name, field in fields.items():
        bad = _bad(field, flavor)
        data[name] = bad if bad is not None else _valid(field)
    return data


def snapshot():
    """Everything the app stores, to see that a refusal wrote nothing."""
    state = {}
    for model in apps.get_app_config("engagements").get_models():
        state[model.__name__] = sorted(
            tuple(sorted((k, str(v)) for k, v in row.items()))
            for row in model.objects.values()
            if model.__name__ not in ("Notification", "AuditEvent")
        )
    return state


@pytest.fixture
def draft(engagement, coach):
    """A second engagement of the same parties, in draft, with an objective."""
    other = factories.EngagementFactory(
        organization=engagement.organization,
        coach=engagement.coach,
        coachee=engagement.coachee,
        sponsor=engagement.sponsor,
    )
    factories.ObjectiveFactory(engagement=other)
    return other


ALL = {**{name: personas for name, personas in POST_POLICY.items()}, **FORM_PAGES}


@pytest.mark.parametrize("name", sorted(ALL))
def test_no_form_answers_500_and_a_refusal_writes_nothing(request, client, world, draft, name):
    client.raise_request_exception = False
    target = draft if name in DRAFT_FORMS else world
    url = url_for(name, target)
    for persona in ALL[name]:
        client.logout()
        if persona != "anonymous":
            client.force_login(request.getfixturevalue(persona))
        for flavor in FLAVORS:
            before = snapshot()
            response = client.post(url, payload(flavor, target.objectives.all()))
            assert response.status_code < 500, (name, persona, flavor)
            if response.status_code == 200:
                assert snapshot() == before, (name, persona, flavor)
    assert Engagement.objects.filter(pk=world.pk).exists()
