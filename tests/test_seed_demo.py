"""The demo data: every state, for the three demo personas, loaded idempotently."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from engagements.models import (
    Engagement,
    HRMembership,
    Organization,
    StatusChange,
    User,
)

pytestmark = pytest.mark.django_db

DEMO_LOGINS = [
    "coach@demo.example",
    "coach2@demo.example",
    "coachee@demo.example",
    "sponsor@demo.example",
    "hr@demo.example",
    "admin@demo.example",
]


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_prints_the_demo_logins(seeded):
    for email in DEMO_LOGINS:
        assert email in seeded
    assert "demo12345" in seeded


def test_every_demo_login_works_with_the_demo_password(seeded):
    for email in DEMO_LOGINS:
        request = RequestFactory().post("/connexion/")
        assert authenticate(request=request, email=email, password="demo12345"), email


def test_admin_is_a_superuser(seeded):
    assert User.objects.get(email="admin@demo.example").is_superuser


def test_demo_personas_are_the_three_parties_of_an_engagement_in_each_state(seeded):
    for status in Engagement.Status.values:
        assert Engagement.objects.filter(
            status=status,
            coach__user__email="coach@demo.example",
            coachee__email="coachee@demo.example",
            sponsor__email="sponsor@demo.example",
        ).exists(), status


def test_two_organizations_each_with_hr(seeded):
    assert Organization.objects.count() == 2
    for organization in Organization.objects.all():
        assert HRMembership.objects.filter(organization=organization).exists()


def test_demo_sponsor_is_also_coached_elsewhere(seeded):
    sponsor = User.objects.get(email="sponsor@demo.example")
    assert sponsor.engagements_as_sponsor.exists()
    assert sponsor.engagements_as_coachee.exists()


def test_second_coach_has_engagements(seeded):
    assert Engagement.objects.filter(coach__user__email="coach2@demo.example").exists()


def test_every_state_change_went_through_the_workflow(seeded):
    for engagement in Engagement.objects.exclude(status=Engagement.Status.DRAFT):
        last = engagement.status_changes.order_by("created_at", "id").last()
        assert last.to_status == engagement.status


def test_running_the_seed_twice_changes_nothing(seeded, settings):
    counts = (User.objects.count(), Engagement.objects.count(), StatusChange.objects.count())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert "coach@demo.example" in out.getvalue()
    assert counts == (
        User.objects.count(),
        Engagement.objects.count(),
        StatusChange.objects.count(),
    )


def test_seed_refuses_to_run_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()
