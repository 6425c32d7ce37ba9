"""A coach opens an engagement and invites the coachee and the sponsor."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagements.models import Engagement, Organization, User

pytestmark = pytest.mark.django_db


def valid_data(**overrides):
    today = timezone.localdate()
    data = {
        "new_organization_name": "Nouvelle Société",
        "title": "Premier poste de directeur",
        "coachee_first_name": "Paul",
        "coachee_last_name": "Martin",
        "coachee_email": "paul.martin@example.com",
        "coachee_job_title": "Directeur d'usine",
        "sponsor_first_name": "Anne",
        "sponsor_last_name": "Leroy",
        "sponsor_email": "anne.leroy@example.com",
        "sponsor_job_title": "DG",
        "start_date": today.isoformat(),
        "end_date": today.replace(year=today.year + 1).isoformat(),
        "sessions_contracted": 12,
        "session_minutes": 120,
        "format": "video",
        "fee_amount": "15000",
        "language": "fr",
    }
    data.update(overrides)
    return data


@pytest.fixture
def coach_client(client, coach):
    client.force_login(coach)
    return client


def test_a_coach_opens_an_engagement_and_both_parties_are_invited(
    coach_client, coach, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = coach_client.post(reverse("engagement_new"), valid_data())
    engagement = Engagement.objects.get(title="Premier poste de directeur")
    assert response.url == engagement.get_absolute_url()
    assert engagement.status == Engagement.Status.DRAFT
    assert engagement.coach.user == coach
    assert engagement.organization.name == "Nouvelle Société"
    assert sorted(m.to[0] for m in mail.outbox) == [
        "anne.leroy@example.com",
        "paul.martin@example.com",
    ]


def test_an_existing_person_is_told_rather_than_invited(
    coach_client, engagement, django_capture_on_commit_callbacks
):
    data = valid_data(
        organization=engagement.organization.pk,
        new_organization_name="",
        sponsor_email=engagement.sponsor.email,
    )
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(reverse("engagement_new"), data)
    assert Organization.objects.count() == 1
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "/invitation/" in bodies["paul.martin@example.com"]
    assert "/invitation/" not in bodies[engagement.sponsor.email]


@pytest.mark.parametrize(
    "overrides",
    [
        {"end_date": "2000-01-01"},
        {"sponsor_email": "paul.martin@example.com"},
        {"new_organization_name": ""},
        {"coachee_email": "not-an-email"},
        {"sessions_contracted": 0},
        {"fee_amount": "-5"},
        {"session_minutes": 10},
    ],
)
def test_bad_input_shows_errors_and_writes_nothing(coach_client, overrides):
    response = coach_client.post(reverse("engagement_new"), valid_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Engagement.objects.filter(title="Premier poste de directeur").exists()
    assert not User.objects.filter(email="anne.leroy@example.com").exists()


def test_the_coach_cannot_be_a_party_of_their_own_engagement(coach_client, coach):
    response = coach_client.post(reverse("engagement_new"), valid_data(coachee_email=coach.email))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Engagement.objects.filter(title="Premier poste de directeur").exists()


def test_only_coaches_open_engagements(client, coachee):
    client.force_login(coachee)
    assert client.get(reverse("engagement_new")).status_code == 404
    assert client.post(reverse("engagement_new"), valid_data()).status_code == 404
    assert not Engagement.objects.filter(title="Premier poste de directeur").exists()


def test_an_inactive_coach_cannot_open_engagements(coach_client, coach):
    coach.coach_profile.is_active = False
    coach.coach_profile.save()
    assert coach_client.get(reverse("engagement_new")).status_code == 404


def test_the_form_offers_twelve_sessions_of_two_hours_over_a_year(coach_client):
    form = coach_client.get(reverse("engagement_new")).context["form"]
    assert form.fields["sessions_contracted"].initial == 12
    assert form.fields["session_minutes"].initial == 120
    assert "status" not in form.fields
