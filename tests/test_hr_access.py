"""
HR access (DOMAIN.md, "Who uses it"): granted only by the practice owner or
an existing HR of the same organization; a coach only proposes it, for an
organization where he holds an engagement, and someone entitled confirms.
"""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from engagements.errors import NotAllowed
from engagements.models import HRMembership, HRProposal, User
from engagements.services import accounts
from engagements.services.engagements import Person, engagement_open

from . import factories
from .conftest import race

pytestmark = pytest.mark.django_db


def invite(client, organization, email="rose.hache@example.com"):
    return client.post(
        reverse("hr_invite"),
        {
            "organization": organization.pk,
            "first_name": "Rose",
            "last_name": "Hache",
            "email": email,
        },
    )


@pytest.fixture
def owner(db):
    return User.objects.create_superuser("owner@example.com", "x")


@pytest.fixture
def proposal(engagement, coach):
    return accounts.hr_propose(
        organization=engagement.organization,
        email="rose.hache@example.com",
        first_name="Rose",
        last_name="Hache",
        proposed_by=coach,
    )


def test_a_coach_only_proposes_hr_and_grants_nothing(
    client, engagement, coach, hr, owner, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, engagement.organization)
    assert response.status_code == 302
    assert not HRMembership.objects.filter(user__email="rose.hache@example.com").exists()
    assert not User.objects.filter(email="rose.hache@example.com").exists()
    proposal = HRProposal.objects.get()
    assert proposal.status == HRProposal.Status.PENDING
    # Those who may confirm it are told; the proposed person is not invited yet.
    assert sorted(message.to[0] for message in mail.outbox) == [hr.email, owner.email]


def test_a_coach_cannot_propose_hr_of_an_organization_he_does_not_coach_in(client, coach):
    other = factories.OrganizationFactory()
    client.force_login(coach)
    response = invite(client, other)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not HRProposal.objects.exists()
    with pytest.raises(NotAllowed):
        accounts.hr_propose(
            organization=other,
            email="x@example.com",
            first_name="X",
            last_name="Y",
            proposed_by=coach,
        )


def test_a_coach_cannot_grant_hr_through_the_service(engagement, coach):
    with pytest.raises(NotAllowed):
        accounts.hr_grant(
            organization=engagement.organization,
            email="mine@example.com",
            first_name="M",
            last_name="E",
            granted_by=coach,
        )
    assert not HRMembership.objects.exists()


def test_hr_sees_and_confirms_a_pending_proposal(
    client, proposal, hr, coach, django_capture_on_commit_callbacks
):
    client.force_login(hr)
    page = client.get(reverse("hr_proposals"))
    assert "rose.hache@example.com" in page.content.decode()
    portal = client.get(reverse("hr_portal"))
    assert reverse("hr_proposals") in portal.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("hr_proposal_confirm", args=[proposal.pk]))
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == HRProposal.Status.CONFIRMED
    assert proposal.decided_by == hr
    assert HRMembership.objects.filter(
        user__email="rose.hache@example.com", organization=proposal.organization
    ).exists()
    recipients = {message.to[0] for message in mail.outbox}
    assert {"rose.hache@example.com", coach.email} <= recipients


def test_hr_declines_a_proposal(client, proposal, hr):
    client.force_login(hr)
    client.post(reverse("hr_proposal_decline", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.status == HRProposal.Status.DECLINED
    assert not User.objects.filter(email=proposal.email).exists()


def test_hr_of_another_organization_neither_sees_nor_confirms_it(client, proposal, other_hr):
    client.force_login(other_hr)
    assert "rose.hache" not in client.get(reverse("hr_proposals")).content.decode()
    response = client.post(reverse("hr_proposal_confirm", args=[proposal.pk]))
    assert response.status_code == 404
    assert HRProposal.objects.get().status == HRProposal.Status.PENDING


def test_the_practice_owner_confirms_a_proposal(proposal, owner):
    accounts.hr_proposal_confirm(proposal=proposal, confirmed_by=owner)
    assert HRMembership.objects.filter(user__email=proposal.email).exists()


def test_a_proposal_is_decided_once(proposal, hr):
    accounts.hr_proposal_decline(proposal=proposal, declined_by=hr)
    with pytest.raises(accounts.ApplicationError):
        accounts.hr_proposal_confirm(proposal=proposal, confirmed_by=hr)
    assert not HRMembership.objects.filter(user__email=proposal.email).exists()


def test_nobody_confirms_their_own_proposal(engagement, coach):
    coach.is_superuser = True
    coach.save()
    proposal = factories.HRProposalFactory(organization=engagement.organization, proposed_by=coach)
    with pytest.raises(NotAllowed):
        accounts.hr_proposal_confirm(proposal=proposal, confirmed_by=coach)
    assert not HRMembership.objects.filter(user__email=proposal.email).exists()


def test_nobody_grants_themselves_hr_access(engagement, hr):
    other = factories.OrganizationFactory()
    with pytest.raises(NotAllowed):
        accounts.hr_grant(
            organization=other, email=hr.email, first_name="H", last_name="R", granted_by=hr
        )
    with pytest.raises(accounts.ApplicationError):
        accounts.hr_grant(
            organization=engagement.organization,
            email=hr.email,
            first_name="H",
            last_name="R",
            granted_by=hr,
        )
    assert HRMembership.objects.filter(user=hr).count() == 1


def _open(coach, organization, *, sponsor_email, coachee_email="new.coachee@example.com"):
    from datetime import date
    from decimal import Decimal

    return engagement_open(
        coach=coach.coach_profile,
        organization=organization,
        coachee=Person(coachee_email, "Nina", "Nouvelle", "Directrice"),
        sponsor=Person(sponsor_email, "Hugo", "Rh", "DRH"),
        title="Prise de poste",
        start_date=date(2027, 1, 1),
        end_date=date(2028, 1, 1),
        fee_amount=Decimal("1000"),
    )


def test_hr_of_an_organization_cannot_become_a_party_in_it(engagement, coach, hr):
    """The rule of HR grants, the other way round."""
    with pytest.raises(ValidationError):
        _open(coach, engagement.organization, sponsor_email=hr.email)
    assert engagement.organization.engagements.count() == 1


def test_hr_of_one_organization_may_be_a_party_in_another(engagement, coach, hr):
    other = factories.OrganizationFactory()
    factories.EngagementFactory(organization=other, coach=coach.coach_profile)
    opened = _open(coach, other, sponsor_email=hr.email)
    assert opened.sponsor == hr


def test_the_new_engagement_form_offers_only_the_coachs_organizations(client, engagement, coach):
    stranger = factories.OrganizationFactory(name="Organisation d'un autre coach")
    client.force_login(coach)
    page = client.get(reverse("engagement_new"))
    choices = list(page.context["form"].fields["organization"].queryset)
    assert choices == [engagement.organization]
    assert stranger.name not in page.content.decode()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_hr_confirming_at_once_grant_once(postgres, engagement, coach, hr):
    second_hr = factories.HRMembershipFactory(organization=engagement.organization).user
    proposal = factories.HRProposalFactory(organization=engagement.organization, proposed_by=coach)
    outcomes = race(
        *(
            lambda user=user: accounts.hr_proposal_confirm(proposal=proposal, confirmed_by=user)
            for user in (hr, second_hr)
        )
    )
    assert outcomes.count("refused") == 1
    assert HRMembership.objects.filter(user__email=proposal.email).count() == 1


def test_the_admin_cannot_make_a_party_hr_of_its_organization(engagement):
    membership = HRMembership(user=engagement.coachee, organization=engagement.organization)
    with pytest.raises(ValidationError):
        membership.full_clean()
