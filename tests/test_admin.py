"""The practice owner's admin: every model, status read-only, evidence untouchable."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from engagements.models import Engagement, PrivateNote, SharedSummary

from . import factories

pytestmark = pytest.mark.django_db

APP_MODELS = list(apps.get_app_config("engagements").get_models())


@pytest.fixture
def owner(client):
    user = factories.UserFactory(email="owner@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def one_of_everything():
    session = factories.CoachingSessionFactory()
    factories.PrivateNoteFactory(session=session, body="SECRET-NOTE-MARKER")
    factories.SharedSummaryFactory(session=session, summary="SECRET-SUMMARY-MARKER")
    factories.ObjectiveScoreFactory()
    factories.SignatureFactory()
    factories.ReportProgressFactory()
    factories.ClosingReviewFactory()
    factories.StatusChangeFactory()
    factories.AuditEventFactory()
    factories.NotificationFactory()
    factories.CalendarFeedFactory()
    factories.KickoffFactory()
    factories.SignatureChallengeFactory()
    factories.HRMembershipFactory()
    factories.ConventionExportFactory()
    factories.HRProposalFactory()


def test_every_model_of_the_app_is_registered():
    for model in APP_MODELS:
        assert admin.site.is_registered(model), model.__name__


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m.__name__)
def test_every_changelist_and_change_page_opens(client, owner, one_of_everything, model):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert client.get(reverse(f"{name}_changelist")).status_code == 200
    instance = model.objects.first()
    assert client.get(reverse(f"{name}_change", args=[instance.pk])).status_code == 200


def test_engagement_status_cannot_be_changed_in_the_admin(client, owner):
    engagement = factories.EngagementFactory()
    url = reverse("admin:engagements_engagement_change", args=[engagement.pk])
    page = client.get(url)
    assert 'name="status"' not in page.text
    data = {
        "organization": engagement.organization_id,
        "coach": engagement.coach_id,
        "coachee": engagement.coachee_id,
        "sponsor": engagement.sponsor_id,
        "title": "Nouveau titre",
        "coachee_job_title": engagement.coachee_job_title,
        "sponsor_job_title": engagement.sponsor_job_title,
        "language": "fr",
        "start_date": engagement.start_date.isoformat(),
        "end_date": engagement.end_date.isoformat(),
        "sessions_contracted": 12,
        "session_minutes": 120,
        "format": "video",
        "fee_amount": "12000.00",
        "cancellation_notice_hours": 48,
        "status": "completed",
        "objectives-TOTAL_FORMS": 0,
        "objectives-INITIAL_FORMS": 0,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    engagement.refresh_from_db()
    assert engagement.title == "Nouveau titre"
    assert engagement.status == Engagement.Status.DRAFT


@pytest.mark.parametrize("model", [PrivateNote, SharedSummary], ids=lambda m: m.__name__)
def test_admin_never_shows_the_content_of_session_notes(client, owner, one_of_everything, model):
    name = f"admin:engagements_{model._meta.model_name}"
    pages = [
        client.get(reverse(f"{name}_changelist")),
        client.get(reverse(f"{name}_change", args=[model.objects.get().pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "SECRET-NOTE-MARKER" not in page.text
        assert "SECRET-SUMMARY-MARKER" not in page.text


def test_signatures_are_evidence_and_cannot_be_edited(client, owner):
    signature = factories.SignatureFactory()
    url = reverse("admin:engagements_signature_change", args=[signature.pk])
    response = client.post(url, {"typed_name": "Forged"})
    assert response.status_code == 403
    signature.refresh_from_db()
    assert signature.typed_name != "Forged"


def test_staff_without_the_superuser_flag_cannot_open_the_admin_models(client):
    staff = factories.UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.get(reverse("admin:engagements_engagement_changelist"))
    assert response.status_code == 403


def test_the_engagement_changelist_costs_the_same_whatever_the_number_of_coaches(client, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:engagements_engagement_changelist")
    factories.EngagementFactory.create_batch(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    factories.EngagementFactory.create_batch(15)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_the_practice_owner_confirms_an_hr_proposal_in_the_admin(client, owner):
    proposal = factories.HRProposalFactory()
    client.post(
        reverse("admin:engagements_hrproposal_changelist"),
        {"action": "confirm", "_selected_action": [proposal.pk]},
    )
    proposal.refresh_from_db()
    assert proposal.status == "confirmed"
    assert proposal.organization.hr_memberships.filter(user__email=proposal.email).exists()
