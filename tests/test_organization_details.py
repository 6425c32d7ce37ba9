"""The coach completes the client organization's details that the convention prints."""

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.errors import ApplicationError, NotAllowed
from engagements.models import Convention, Engagement, Organization
from engagements.services import convention as convention_service
from engagements.services.engagements import organization_details_update

from . import factories

pytestmark = pytest.mark.django_db

ADDRESS = "12 rue des Forges\n69002 Lyon"


def url(engagement):
    return reverse("organization_details", args=[engagement.pk])


@pytest.fixture
def ready(engagement_in):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
    return engagement


def test_the_coach_completes_the_details_and_the_next_version_prints_them(client, ready, coach):
    client.force_login(coach)
    assert url(ready) in client.get(ready.get_absolute_url()).content.decode()
    assert client.get(url(ready)).status_code == 200
    response = client.post(
        url(ready), {"registration_number": " 552 100 554 00019 ", "address": ADDRESS}
    )
    assert response.status_code == 302
    organization = Organization.objects.get(pk=ready.organization_id)
    assert (organization.registration_number, organization.address) == (
        "552 100 554 00019",
        ADDRESS,
    )
    convention = convention_service.convention_send(engagement=ready, coach=coach)
    assert convention.terms["organization"]["registration_number"] == "552 100 554 00019"
    assert convention.terms["organization"]["address"] == ADDRESS


def test_a_change_while_out_for_signature_makes_a_new_version(ready, coach):
    first = convention_service.convention_send(engagement=ready, coach=coach)
    organization_details_update(
        engagement=ready, coach=coach, registration_number="552 100 554 00019", address=ADDRESS
    )
    first.refresh_from_db()
    assert first.status == Convention.Status.VOIDED
    second = ready.conventions.get(status=Convention.Status.SENT)
    assert second.version == 2
    assert second.terms["organization"]["address"] == ADDRESS


def test_saving_the_same_details_makes_no_new_version(ready, coach):
    organization_details_update(engagement=ready, coach=coach, registration_number="1", address="")
    convention_service.convention_send(engagement=ready, coach=coach)
    organization_details_update(engagement=ready, coach=coach, registration_number="1", address="")
    assert ready.conventions.count() == 1


@pytest.mark.parametrize(
    ("registration_number", "address", "field"),
    [
        ("552 100\n554", "", "registration_number"),
        ("1" * 41, "", "registration_number"),
        ("", "\n".join(f"Ligne {n}" for n in range(7)), "address"),
        ("", "x" * 101, "address"),
        ("", "12 rue\x00 des Forges", "address"),
        ("", "y" * 601, "address"),
    ],
)
def test_bad_details_are_a_form_error_and_nothing_is_written(
    client, ready, coach, registration_number, address, field
):
    client.force_login(coach)
    before = Organization.objects.values().get(pk=ready.organization_id)
    response = client.post(
        url(ready), {"registration_number": registration_number, "address": address}
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Organization.objects.values().get(pk=ready.organization_id) == before


def test_the_details_are_fixed_once_the_convention_is_signed(client, engagement_in, coach):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    with pytest.raises(ApplicationError):
        organization_details_update(
            engagement=engagement, coach=coach, registration_number="1", address=""
        )
    client.force_login(coach)
    assert url(engagement) not in client.get(engagement.get_absolute_url()).content.decode()
    response = client.post(url(engagement), {"registration_number": "1", "address": ""})
    assert response.status_code == 302
    assert Organization.objects.get(pk=engagement.organization_id).registration_number != "1"


@pytest.mark.parametrize(
    "persona", ["coachee", "sponsor", "hr", "other_coach", "other_hr", "outsider"], indirect=True
)
def test_only_the_coach_of_the_engagement_edits_its_organization(client, ready, persona):
    client.force_login(persona)
    assert client.get(url(ready)).status_code == 404
    assert client.post(url(ready), {"registration_number": "1", "address": ""}).status_code == 404
    with pytest.raises(NotAllowed):
        organization_details_update(
            engagement=ready, coach=persona, registration_number="1", address=""
        )
    assert Organization.objects.get(pk=ready.organization_id).registration_number != "1"


def test_the_organization_page_is_get_or_post_only(client, ready, coach):
    client.force_login(coach)
    assert client.put(url(ready)).status_code == 405
