"""factory_boy factories for every model."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from engagements import audit
from engagements.models import (
    AuditEvent,
    CalendarFeed,
    ClosingReview,
    Coach,
    CoachingSession,
    Convention,
    ConventionExport,
    Engagement,
    HRMembership,
    HRProposal,
    Kickoff,
    Notification,
    Objective,
    ObjectiveScore,
    Organization,
    PrivateNote,
    ReportProgress,
    SharedSummary,
    Signature,
    SignatureChallenge,
    SponsorReport,
    StatusChange,
    User,
)
from engagements.services.convention import convention_terms

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    address = "1 rue de la Paix, 75002 Paris"


class HRMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HRMembership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)


class HRProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HRProposal

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"proposed.hr{n}@example.com")
    first_name = "Rose"
    last_name = "Hache"
    proposed_by = factory.SubFactory(UserFactory)


class CoachFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coach

    user = factory.SubFactory(UserFactory)
    credentials = "ICF PCC"


class EngagementFactory(factory.django.DjangoModelFactory):
    """An engagement in draft; see ``conftest.engagement_in`` for other states."""

    class Meta:
        model = Engagement

    organization = factory.SubFactory(OrganizationFactory)
    coach = factory.SubFactory(CoachFactory)
    coachee = factory.SubFactory(UserFactory)
    sponsor = factory.SubFactory(UserFactory)
    title = "Prise de poste de direction"
    coachee_job_title = "Directrice des opérations"
    sponsor_job_title = "Directeur général"
    start_date = factory.LazyFunction(timezone.localdate)
    end_date = factory.LazyAttribute(lambda o: o.start_date + timedelta(days=365))
    fee_amount = Decimal("12000.00")


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    engagement = factory.SubFactory(EngagementFactory)
    position = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Objectif {n}")
    success_indicators = "Indicateur observable"


class ObjectiveScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ObjectiveScore

    objective = factory.SubFactory(ObjectiveFactory)
    milestone = ObjectiveScore.Milestone.BASELINE
    rater = ObjectiveScore.Rater.COACHEE
    score = 0


class ConventionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Convention

    engagement = factory.SubFactory(EngagementFactory)
    version = 1
    terms = factory.LazyAttribute(lambda o: convention_terms(o.engagement, o.version))


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    convention = factory.SubFactory(
        ConventionFactory,
        status=Convention.Status.SENT,
        document_sha256="a" * 64,
        sent_at=factory.LazyFunction(timezone.now),
    )
    role = "coachee"
    signer = factory.LazyAttribute(lambda o: o.convention.engagement.party_for(o.role))
    typed_name = factory.LazyAttribute(lambda o: o.signer.get_full_name())
    ip_address = "203.0.113.7"
    user_agent = "pytest"
    auth_method = "password + e-mail one-time code"
    authenticated_at = factory.LazyFunction(timezone.now)
    consent_text = "J'accepte."
    document_sha256 = factory.LazyAttribute(lambda o: o.convention.document_sha256)


class CoachingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoachingSession

    engagement = factory.SubFactory(EngagementFactory)
    # A week ahead, each session in its own two-hour slot: a coach's planned
    # meetings never overlap (PostgreSQL refuses it, see CoachingSession).
    starts_at = factory.Sequence(lambda n: timezone.now() + timedelta(days=7, hours=2 * (n % 500)))
    video_url = "https://visio.example.com/room"


class PrivateNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrivateNote

    session = factory.SubFactory(CoachingSessionFactory)
    body = "Note privée du coach"


class SharedSummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SharedSummary

    session = factory.SubFactory(CoachingSessionFactory)
    summary = "Synthèse partagée"
    action_plan = "Plan d'action"


class SponsorReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SponsorReport

    engagement = factory.SubFactory(EngagementFactory)
    status = SponsorReport.Status.DRAFT
    period_start = factory.LazyFunction(timezone.localdate)
    period_end = factory.LazyAttribute(lambda o: o.period_start + timedelta(days=90))
    general_comment = "Bonne dynamique."
    submitted_at = factory.LazyAttribute(
        lambda o: None if o.status in ("draft", "changes_requested", "closed") else timezone.now()
    )


class ReportProgressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportProgress

    report = factory.SubFactory(SponsorReportFactory)
    objective = factory.SubFactory(
        ObjectiveFactory, engagement=factory.SelfAttribute("..report.engagement")
    )
    text = "Progrès visibles."


class ClosingReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClosingReview

    engagement = factory.SubFactory(EngagementFactory)
    learnings = "Ce qui a été appris"


class StatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StatusChange

    engagement = factory.SubFactory(EngagementFactory)
    from_status = Engagement.Status.DRAFT
    to_status = Engagement.Status.KICKOFF


class KickoffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kickoff

    engagement = factory.SubFactory(EngagementFactory)
    coachee_expectations = "Prendre ma place au comité"
    sponsor_expectations = "Plus de délégation"
    reporting_scope = "assiduité, heures, progression"


class SignatureChallengeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignatureChallenge

    convention = factory.SubFactory(ConventionFactory)
    user = factory.SubFactory(UserFactory)
    code_hash = "0" * 64
    sent_to = factory.LazyAttribute(lambda o: o.user.email)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=10))


class CalendarFeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarFeed

    user = factory.SubFactory(UserFactory)
    token = factory.Sequence(lambda n: f"token-{n:040d}")


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    key = factory.Sequence(lambda n: f"test:{n}")
    recipient = factory.SubFactory(UserFactory)


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Through the chained log, as the app writes it."""
        return audit.record(model_class(*args, **kwargs))[0]

    actor = factory.SubFactory(UserFactory)
    action = AuditEvent.Action.VIEW
    record_type = "convention"


class ConventionExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConventionExport

    requested_by = factory.SubFactory(UserFactory)
    total = 3
