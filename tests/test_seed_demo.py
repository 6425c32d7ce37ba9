"""
The demo data: one engagement in each state the product reaches, for the three
demo personas, built through the services and the workflow as the users' clicks
build it (so it holds nothing the product could not have written), loaded
idempotently.
"""

import hashlib
import itertools
from io import StringIO
from types import SimpleNamespace

import pytest
from asn1crypto import pem, x509
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.test import RequestFactory
from django.test.utils import override_settings
from django.utils import timezone

from engagements import signing, workflow
from engagements.models import (
    ClosingReview,
    CoachingSession,
    Convention,
    Engagement,
    HRMembership,
    Kickoff,
    Notification,
    Objective,
    ObjectiveScore,
    Organization,
    PrivateNote,
    SharedSummary,
    Signature,
    SignatureChallenge,
    SponsorReport,
    StatusChange,
    User,
)

pytestmark = pytest.mark.django_db

Status = Engagement.Status
SessionStatus = CoachingSession.Status
Kind = CoachingSession.Kind

DEMO_LOGINS = [
    "coach@demo.example",
    "coach2@demo.example",
    "coachee@demo.example",
    "sponsor@demo.example",
    "hr@demo.example",
    "admin@demo.example",
]

REACHABLE_STATES = list(Status.values)


def read(field):
    field.open("rb")
    try:
        return field.read()
    finally:
        field.close()


def main_engagement(status):
    """The engagement in ``status`` whose parties are the three main personas."""
    return Engagement.objects.get(
        status=status,
        coach__user__email="coach@demo.example",
        coachee__email="coachee@demo.example",
        sponsor__email="sponsor@demo.example",
    )


def test_seed_refuses_to_run_in_production(settings):
    # Runs before the demo below is loaded: the database is still empty.
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


@pytest.fixture(scope="module")
def demo_database(django_db_setup, django_db_blocker, signing_material, tmp_path_factory):
    """
    The demo, loaded once for this module (it renders and seals real PDFs) and
    committed, as ``make run`` loads it, so that the tasks it queues run; the
    database is flushed after the module's last test, as a transactional test
    would leave it.
    """
    media = tmp_path_factory.mktemp("demo-media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=True, MEDIA_ROOT=media, PASSWORD_HASHERS=fast),
    ):
        out = StringIO()
        try:
            call_command("seed_demo", stdout=out)
            yield SimpleNamespace(output=out.getvalue(), media=media, outbox=list(mail.outbox))
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def seeded(demo_database, settings):
    settings.DEBUG = True
    settings.MEDIA_ROOT = demo_database.media
    return demo_database.output


def test_the_demo_emails_nobody(seeded, demo_database):
    """The story's e-mails were sent as the product sends them, to an outbox then emptied."""
    assert Notification.objects.filter(key__startswith="signature-code:").exists()
    assert Notification.objects.filter(key__startswith="session:", sent_at__isnull=False).exists()
    assert demo_database.outbox == []


# -- the practice --------------------------------------------------------------


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


def test_two_organizations_each_with_hr(seeded):
    assert Organization.objects.count() == 2
    for organization in Organization.objects.all():
        assert HRMembership.objects.filter(organization=organization).exists()


def test_demo_sponsor_is_also_coached_elsewhere(seeded):
    sponsor = User.objects.get(email="sponsor@demo.example")
    assert sponsor.engagements_as_sponsor.exists()
    assert sponsor.engagements_as_coachee.filter(
        coach__user__email="coach2@demo.example", status=Status.ACTIVE
    ).exists()


def test_second_coach_has_engagements(seeded):
    assert Engagement.objects.filter(coach__user__email="coach2@demo.example").exists()


def test_the_other_coachees_keep_their_engagements(seeded):
    assert Engagement.objects.filter(
        coachee__email="julien.petit@demo.example", status=Status.KICKOFF
    ).exists()
    assert Engagement.objects.filter(
        coachee__email="lea.fontaine@demo.example", status=Status.ACTIVE
    ).exists()


# -- one engagement per reachable state ---------------------------------------


def test_demo_personas_are_the_three_parties_of_an_engagement_in_each_reachable_state(seeded):
    for status in REACHABLE_STATES:
        assert main_engagement(status), status


def test_the_reports_show_each_step_of_the_coachees_approval(seeded):
    """One report awaits the coachee's approval, one came back to the coach, one is released."""
    statuses = set(SponsorReport.objects.values_list("status", flat=True))
    assert {
        SponsorReport.Status.AWAITING_APPROVAL,
        SponsorReport.Status.CHANGES_REQUESTED,
        SponsorReport.Status.RELEASED,
    } <= statuses
    returned = SponsorReport.objects.get(status=SponsorReport.Status.CHANGES_REQUESTED)
    assert returned.coachee_comment and returned.returned_at
    for report in SponsorReport.objects.exclude(status=SponsorReport.Status.DRAFT):
        assert report.submitted_at and report.objective_progress.exclude(text="").exists()
    awaiting = main_engagement(Status.ACTIVE).reports.get(
        status=SponsorReport.Status.AWAITING_APPROVAL
    )
    assert not awaiting.scores.exists()


def test_a_released_report_carries_both_parties_scores_given_by_themselves(seeded):
    for report in SponsorReport.objects.filter(status=SponsorReport.Status.RELEASED):
        engagement = report.engagement
        objectives = engagement.objectives.count()
        scores = report.scores.all()
        assert scores.filter(rater="coachee", scored_by=engagement.coachee).count() == objectives
        assert scores.filter(rater="sponsor", scored_by=engagement.sponsor).count() == objectives
        assert report.approved_at <= min(s.scored_at for s in scores.filter(rater="sponsor"))


def test_the_coach_never_scores(seeded):
    coaches = Engagement.objects.values("coach__user")
    assert ObjectiveScore.objects.exists()
    assert not ObjectiveScore.objects.filter(scored_by__in=coaches).exists()


def test_the_completed_engagement_has_its_two_sealed_final_syntheses(seeded):
    import io

    from pypdf import PdfReader

    from engagements.signing import validate_seal

    engagement = main_engagement(Status.COMPLETED)
    review = engagement.closing_review
    assert review.status == ClosingReview.Status.COMPLETED
    change = engagement.status_changes.get(to_status=Status.COMPLETED)
    assert change.actor is None  # the platform, on issuing the synthesis
    texts = {}
    for field, digest in (("synthesis_pdf", "synthesis_sha256"), ("sponsor_pdf", "sponsor_sha256")):
        data = read(getattr(review, field))
        assert hashlib.sha256(data).hexdigest() == getattr(review, digest)
        assert validate_seal(data).intact
        texts[field] = " ".join(
            " ".join((page.extract_text() or "").split())
            for page in PdfReader(io.BytesIO(data)).pages
        )
    # The coachee kept one part between herself and her coach: the versions differ.
    assert not review.share_metacognitive_skills
    secret = " ".join(review.metacognitive_skills.split())[:40]
    assert secret in texts["synthesis_pdf"]
    assert secret not in texts["sponsor_pdf"]
    shared = " ".join(review.learnings.split())[:40]
    assert shared in texts["sponsor_pdf"]


def test_the_closing_synthesis_awaits_the_coachee(seeded):
    review = main_engagement(Status.CLOSING).closing_review
    assert review.status == ClosingReview.Status.AWAITING_COACHEE
    assert all(text for _name, _label, text, _shared in review.parts())


def test_the_kickoff_meeting_is_ahead_and_the_objectives_are_being_agreed(seeded):
    engagement = main_engagement(Status.KICKOFF)
    meeting = engagement.sessions.get(kind=Kind.KICKOFF)
    assert meeting.status == SessionStatus.PLANNED
    assert meeting.starts_at > timezone.now()
    assert not hasattr(engagement, "kickoff")
    objectives = engagement.objectives.all()
    written_by_coachee = objectives.filter(proposed_by=engagement.coachee)
    assert written_by_coachee.exists()
    assert not written_by_coachee.filter(approved_by_coachee_at=None).exists()
    proposed_by_coach = objectives.filter(proposed_by=engagement.coach.user)
    assert proposed_by_coach.exclude(approved_by_coachee_at=None).exists()
    assert proposed_by_coach.filter(approved_by_coachee_at=None).exists()


def test_the_contracting_convention_awaits_the_signatures_of_the_personas(seeded):
    engagement = main_engagement(Status.CONTRACTING)
    convention = engagement.conventions.get()
    assert convention.status == Convention.Status.SENT
    assert convention.signatures.count() <= 1
    assert engagement.kickoff.recorded_at >= engagement.sessions.get(kind=Kind.KICKOFF).starts_at


def test_the_active_engagement_has_held_sessions_with_notes_a_cancelled_one_and_more_ahead(
    seeded,
):
    engagement = main_engagement(Status.ACTIVE)
    development = engagement.sessions.filter(kind=Kind.DEVELOPMENT)
    held = development.filter(status=SessionStatus.HELD)
    assert held.count() >= 3
    for session in held:
        assert session.private_note.body
        assert session.shared_summary.summary and session.shared_summary.action_plan
    cancelled = development.get(status=SessionStatus.CANCELLED)
    assert cancelled.cancelled_by == engagement.coachee
    assert not cancelled.cancelled_late
    assert development.filter(status=SessionStatus.PLANNED, starts_at__gt=timezone.now()).exists()


def test_the_closing_engagement_has_done_its_sessions_and_plans_the_closing_meeting(seeded):
    engagement = main_engagement(Status.CLOSING)
    development = engagement.sessions.filter(kind=Kind.DEVELOPMENT)
    assert development.count() == development.filter(status=SessionStatus.HELD).count() > 0
    closing = engagement.sessions.get(kind=Kind.CLOSING)
    assert closing.status == SessionStatus.PLANNED
    assert closing.starts_at > timezone.now()
    start = engagement.status_changes.get(to_status=Status.CLOSING)
    assert start.actor == engagement.coach.user
    assert start.created_at > development.latest("starts_at").ends_at


def test_the_withdrawn_engagement_stopped_after_a_few_sessions(seeded):
    engagement = main_engagement(Status.WITHDRAWN)
    withdrawal = engagement.status_changes.get(to_status=Status.WITHDRAWN)
    assert (withdrawal.actor, withdrawal.reason) == (engagement.coachee, "")
    development = engagement.sessions.filter(kind=Kind.DEVELOPMENT)
    assert 0 < development.filter(status=SessionStatus.HELD).count() < 6
    after = development.filter(starts_at__gt=withdrawal.created_at)
    assert after.exists()
    assert set(after.values_list("status", "cancelled_by", "cancelled_at")) == {
        (SessionStatus.CANCELLED, engagement.coachee_id, withdrawal.created_at)
    }
    # The signed convention stays on file.
    assert engagement.conventions.get().status == Convention.Status.SIGNED


def test_the_cancelled_engagement_was_cancelled_by_the_sponsor_before_any_session(seeded):
    engagement = main_engagement(Status.CANCELLED)
    cancellation = engagement.status_changes.get(to_status=Status.CANCELLED)
    assert cancellation.actor == engagement.sponsor
    assert cancellation.reason
    assert not engagement.sessions.filter(kind=Kind.DEVELOPMENT).exists()
    # The version out for signature was voided with its signatures.
    assert engagement.conventions.get().status == Convention.Status.VOIDED


# -- built as the product builds it -------------------------------------------


def test_every_engagement_history_is_a_chain_of_workflow_moves(seeded):
    for engagement in Engagement.objects.all():
        changes = list(engagement.status_changes.order_by("created_at", "id"))
        if engagement.status == Status.DRAFT:
            assert changes == []
            continue
        assert changes[0].from_status == Status.DRAFT
        for previous, change in itertools.pairwise(changes):
            assert change.from_status == previous.to_status, engagement
        for change in changes:
            assert any(
                change.from_status in move.sources and change.to_status == move.target
                for move in workflow.TRANSITIONS.values()
            ), change
        last = changes[-1]
        assert last.to_status == engagement.status
        assert engagement.status_changed_at == last.created_at
        if engagement.is_terminal:
            assert engagement.ended_at == last.created_at
        else:
            assert engagement.ended_at is None


def test_the_story_happened_in_the_past(seeded):
    now = timezone.now()
    assert not StatusChange.objects.filter(created_at__gte=now).exists()
    assert not Signature.objects.filter(signed_at__gte=now).exists()
    assert not Convention.objects.filter(sent_at__gte=now).exists()
    assert not Kickoff.objects.filter(recorded_at__gte=now).exists()
    assert not Objective.objects.filter(approved_by_coachee_at__gte=now).exists()
    assert not CoachingSession.objects.filter(cancelled_at__gte=now).exists()


def test_the_story_happened_in_working_hours(seeded):
    for change in StatusChange.objects.all():
        moment = timezone.localtime(change.created_at)
        assert moment.weekday() < 5 and 8 <= moment.hour < 19, change


def test_the_kickoff_outcome_was_recorded_once_the_meeting_had_begun(seeded):
    for kickoff in Kickoff.objects.all():
        meeting = kickoff.engagement.sessions.get(kind=Kind.KICKOFF)
        assert meeting.status == SessionStatus.HELD
        assert kickoff.recorded_at >= meeting.starts_at


def test_every_signature_was_made_with_a_verified_code(seeded):
    assert Signature.objects.exists()
    for signature in Signature.objects.select_related("convention", "signer"):
        assert SignatureChallenge.objects.filter(
            convention=signature.convention,
            user=signature.signer,
            verified_at=signature.authenticated_at,
        ).exists(), signature
        assert signature.document_sha256 == signature.convention.document_sha256
        assert signature.signer.email in signature.auth_method
        assert signature.ip_address and signature.user_agent.startswith("Mozilla/5.0")
        assert signature.typed_name == signature.signer.get_full_name()


def test_every_convention_document_is_the_pdf_its_hash_names(seeded):
    for convention in Convention.objects.all():
        document = read(convention.document)
        assert document.startswith(b"%PDF")
        assert hashlib.sha256(document).hexdigest() == convention.document_sha256


def test_every_signed_convention_is_sealed_when_the_engagement_starts(seeded):
    trust_root = x509.Certificate.load(
        pem.unarmor(django_settings.SIGNING_CHAIN_PATH.read_bytes())[2]
    )
    signed = Convention.objects.filter(status=Convention.Status.SIGNED)
    assert signed.exists()
    for convention in signed:
        assert convention.signatures.count() == 3
        status = signing.validate_seal(read(convention.signed_document), [trust_root])
        assert status.intact and status.valid and status.trusted
        start = convention.engagement.status_changes.get(to_status=Status.ACTIVE)
        assert start.actor is None
        assert convention.signed_at == start.created_at
        assert convention.signed_at > convention.signatures.latest("signed_at").signed_at


def test_no_held_or_missed_session_starts_in_the_future(seeded):
    assert not CoachingSession.objects.filter(
        status__in=[SessionStatus.HELD, SessionStatus.MISSED], starts_at__gt=timezone.now()
    ).exists()


def test_notes_are_kept_only_for_sessions_that_took_place(seeded):
    assert PrivateNote.objects.exists()
    assert not PrivateNote.objects.exclude(session__status=SessionStatus.HELD).exists()
    assert not SharedSummary.objects.exclude(session__status=SessionStatus.HELD).exists()


def test_every_cancelled_session_went_out_as_a_calendar_cancellation(seeded):
    cancelled = CoachingSession.objects.filter(status=SessionStatus.CANCELLED)
    assert cancelled.exists()
    for session in cancelled:
        assert session.sequence >= 1
        assert session.cancelled_at and session.cancelled_by


def test_development_sessions_fall_within_the_period_and_the_contract(seeded):
    for engagement in Engagement.objects.all():
        development = engagement.sessions.filter(kind=Kind.DEVELOPMENT)
        for session in development:
            day = timezone.localdate(session.starts_at)
            assert engagement.start_date <= day <= engagement.end_date
        taken = development.filter(CoachingSession.USED | Q(status=SessionStatus.PLANNED))
        assert taken.count() <= engagement.sessions_contracted


def test_no_coach_is_ever_double_booked(seeded):
    meetings = CoachingSession.objects.filter(
        status__in=[SessionStatus.PLANNED, SessionStatus.HELD]
    ).order_by("engagement__coach", "starts_at")
    for coach, sessions in itertools.groupby(meetings, key=lambda s: s.engagement.coach_id):
        for first, second in itertools.pairwise(sessions):
            assert second.starts_at >= first.ends_at, (coach, first, second)


def test_running_the_seed_twice_changes_nothing(seeded):
    models = [User, Engagement, StatusChange, CoachingSession, Convention, Signature, Notification]
    counts = [model.objects.count() for model in models]
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert "coach@demo.example" in out.getvalue()
    assert counts == [model.objects.count() for model in models]
