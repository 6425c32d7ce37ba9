"""Database constraints: what the database itself refuses."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagements.models import (
    ClosingReview,
    CoachingSession,
    Convention,
    Engagement,
    ObjectiveScore,
    SponsorReport,
    User,
)

from . import factories

pytestmark = pytest.mark.django_db


def refused(make):
    """Assert that ``make()`` hits a database constraint."""
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def _update_refused(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


def test_user_logs_in_with_a_unique_case_insensitive_email():
    user = User.objects.create_user("Camille@Example.COM", "pw-123456789")
    assert user.email == "camille@example.com"
    assert User.USERNAME_FIELD == "email"
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("camille@example.com", "pw")


def test_superuser_is_staff():
    admin = User.objects.create_superuser("owner@example.com", "pw")
    assert admin.is_staff and admin.is_superuser


def test_engagement_must_end_after_it_starts():
    today = timezone.localdate()
    refused(lambda: factories.EngagementFactory(start_date=today, end_date=today))


def test_coachee_cannot_be_their_own_sponsor():
    person = factories.UserFactory()
    refused(lambda: factories.EngagementFactory(coachee=person, sponsor=person))


def test_one_person_can_sponsor_one_engagement_and_be_coached_in_another():
    director = factories.UserFactory()
    sponsored = factories.EngagementFactory(sponsor=director)
    coached = factories.EngagementFactory(coachee=director)
    assert director.engagements_as_sponsor.get() == sponsored
    assert director.engagements_as_coachee.get() == coached


@pytest.mark.parametrize(
    "field, value",
    [
        ("sessions_contracted", 0),
        ("sessions_contracted", 41),
        ("session_minutes", 15),
        ("session_minutes", 600),
        ("fee_amount", -1),
        ("format", "telepathy"),
        ("status", "paused"),
    ],
)
def test_engagement_values_out_of_range_are_refused(field, value):
    engagement = factories.EngagementFactory()
    _update_refused(Engagement.objects.filter(pk=engagement.pk), **{field: value})


def test_only_terminal_engagements_have_an_end():
    engagement = factories.EngagementFactory()
    _update_refused(Engagement.objects.filter(pk=engagement.pk), ended_at=timezone.now())


def test_engagement_validation_gives_a_readable_message():
    engagement = factories.EngagementFactory.build(
        organization=factories.OrganizationFactory(),
        coach=factories.CoachFactory(),
        coachee=factories.UserFactory(),
        sponsor=factories.UserFactory(),
    )
    engagement.end_date = engagement.start_date - timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        engagement.full_clean()
    assert "The end date must be after the start date." in str(error.value) or (
        "La date de fin" in str(error.value)
    )


@pytest.mark.parametrize("score", [-3, 3])
def test_goal_attainment_score_stays_between_minus_two_and_plus_two(score):
    refused(lambda: factories.ObjectiveScoreFactory(score=score))


@pytest.mark.parametrize("score", [-2, -1, 0, 1, 2])
def test_goal_attainment_scale_is_accepted(score):
    assert factories.ObjectiveScoreFactory(score=score).score == score


def test_one_baseline_score_per_objective_and_rater():
    first = factories.ObjectiveScoreFactory()
    refused(lambda: factories.ObjectiveScoreFactory(objective=first.objective))
    other_rater = factories.ObjectiveScoreFactory(
        objective=first.objective, rater=ObjectiveScore.Rater.SPONSOR
    )
    assert other_rater.pk


def test_report_scores_point_to_their_report():
    refused(lambda: factories.ObjectiveScoreFactory(milestone=ObjectiveScore.Milestone.REPORT))
    report = factories.SponsorReportFactory()
    refused(lambda: factories.ObjectiveScoreFactory(report=report))


def test_one_score_per_report_objective_and_rater():
    objective = factories.ObjectiveFactory()
    report = factories.SponsorReportFactory(engagement=objective.engagement)
    values = {"objective": objective, "milestone": "report", "report": report}
    factories.ObjectiveScoreFactory(**values)
    refused(lambda: factories.ObjectiveScoreFactory(**values))


def test_objective_positions_are_unique_in_an_engagement():
    objective = factories.ObjectiveFactory(position=1)
    refused(lambda: factories.ObjectiveFactory(engagement=objective.engagement, position=1))


def test_convention_versions_are_unique():
    convention = factories.ConventionFactory()
    refused(
        lambda: factories.ConventionFactory(
            engagement=convention.engagement, version=1, status=Convention.Status.VOIDED
        )
    )


def test_only_one_current_convention_per_engagement():
    convention = factories.ConventionFactory()
    refused(lambda: factories.ConventionFactory(engagement=convention.engagement, version=2))
    Convention.objects.filter(pk=convention.pk).update(
        status=Convention.Status.VOIDED,
        voided_at=timezone.now(),
        sent_at=timezone.now(),
        document_sha256="b" * 64,
    )
    assert factories.ConventionFactory(engagement=convention.engagement, version=2).pk


def test_a_convention_sent_for_signature_is_frozen_with_its_hash():
    refused(lambda: factories.ConventionFactory(status=Convention.Status.SENT))


def test_a_signed_convention_has_its_date():
    refused(
        lambda: factories.ConventionFactory(
            status=Convention.Status.SIGNED, sent_at=timezone.now(), document_sha256="c" * 64
        )
    )


def test_one_signature_per_party():
    signature = factories.SignatureFactory(role="coachee")
    refused(lambda: factories.SignatureFactory(convention=signature.convention, role="coachee"))
    sponsor_signature = factories.SignatureFactory(convention=signature.convention, role="sponsor")
    assert sponsor_signature.signer == signature.convention.engagement.sponsor


def test_signature_roles_are_the_three_parties():
    refused(lambda: factories.SignatureFactory(role="hr", signer=factories.UserFactory()))


def test_signature_keeps_the_document_hash():
    refused(lambda: factories.SignatureFactory(document_sha256=""))


@pytest.mark.parametrize(
    "values",
    [
        {"duration_minutes": 10},
        {"duration_minutes": 500},
        {"kind": "party"},
        {"status": "postponed"},
        {"status": CoachingSession.Status.CANCELLED},
    ],
)
def test_session_values_are_checked(values):
    refused(lambda: factories.CoachingSessionFactory(**values))


def test_session_defaults_to_two_hours_and_has_a_stable_calendar_uid():
    session = factories.CoachingSessionFactory()
    assert session.duration_minutes == 120
    assert session.ends_at - session.starts_at == timedelta(hours=2)
    uid = session.uid
    session.starts_at += timedelta(days=1)
    session.save()
    session.refresh_from_db()
    assert session.uid == uid


def test_report_period_is_ordered():
    today = timezone.localdate()
    refused(
        lambda: factories.SponsorReportFactory(
            period_start=today, period_end=today - timedelta(days=1)
        )
    )


def test_report_cannot_be_released_without_the_coachees_approval():
    refused(
        lambda: factories.SponsorReportFactory(
            status=SponsorReport.Status.RELEASED, released_at=timezone.now()
        )
    )


def test_closing_review_is_validated_before_it_is_issued_with_its_documents():
    refused(lambda: factories.ClosingReviewFactory(status=ClosingReview.Status.VALIDATED))
    refused(
        lambda: factories.ClosingReviewFactory(
            status=ClosingReview.Status.COMPLETED,
            coachee_validated_at=timezone.now(),
            completed_at=timezone.now(),
        )
    )


def test_one_closing_review_per_engagement():
    review = factories.ClosingReviewFactory()
    refused(lambda: factories.ClosingReviewFactory(engagement=review.engagement))


def test_status_change_must_change_the_status():
    refused(lambda: factories.StatusChangeFactory(from_status="active", to_status="active"))


def test_hr_membership_is_unique_per_organization():
    membership = factories.HRMembershipFactory()
    refused(
        lambda: factories.HRMembershipFactory(
            user=membership.user, organization=membership.organization
        )
    )


def test_every_model_has_a_readable_name():
    for instance in [
        factories.HRMembershipFactory(),
        factories.CoachFactory(),
        factories.EngagementFactory(),
        factories.ObjectiveScoreFactory(),
        factories.SignatureFactory(),
        factories.PrivateNoteFactory(),
        factories.SharedSummaryFactory(),
        factories.SponsorReportFactory(),
        factories.ClosingReviewFactory(),
        factories.StatusChangeFactory(),
        factories.AuditEventFactory(),
    ]:
        assert str(instance).strip()
