"""Edge cases found in review: each one a way to leak, to cheat the workflow, or to crash."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from engagements import calendar
from engagements.auth import client_ip
from engagements.models import AuditEvent, Convention, Engagement, HRMembership, HRProposal
from engagements.services import accounts
from engagements.services import convention as convention_service
from engagements.services import kickoff as kickoff_service
from engagements.services import sessions as session_service
from engagements.services.engagements import engagement_withdraw

from . import factories
from .test_convention import code_for, open_document, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(engagement_in, coach):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
    return convention_service.convention_send(engagement=engagement, coach=coach)


def test_a_coach_cannot_give_themselves_hr_access(engagement, coach):
    with pytest.raises(ValidationError):
        accounts.hr_propose(
            organization=engagement.organization,
            email=coach.email,
            first_name="C",
            last_name="C",
            proposed_by=coach,
        )
    assert not HRMembership.objects.exists()
    assert not HRProposal.objects.exists()


def test_a_party_of_the_organization_cannot_be_made_its_hr(engagement, hr):
    with pytest.raises(ValidationError):
        accounts.hr_grant(
            organization=engagement.organization,
            email=engagement.sponsor.email,
            first_name="S",
            last_name="S",
            granted_by=hr,
        )
    assert not HRMembership.objects.filter(user=engagement.sponsor).exists()


def test_the_signature_code_is_never_stored_in_clear(sent, coachee):
    code = code_for(sent, coachee)
    message = mail.outbox[-1]
    assert code not in message.subject
    from engagements.models import Notification

    assert not any(code in n.subject for n in Notification.objects.all())


def test_codes_cannot_be_asked_for_without_limit(sent, coachee):
    open_document(sent, coachee)
    for _ in range(convention_service.MAX_CODES_PER_HOUR):
        convention_service.signature_code_send(convention=sent, user=coachee)
    with pytest.raises(ValidationError):
        convention_service.signature_code_send(convention=sent, user=coachee)


@pytest.mark.parametrize("forwarded", ["foo", "1.2.3.4, <script>", ""])
def test_a_forged_forwarded_address_never_ends_up_in_the_evidence(settings, forwarded):
    settings.PROXY_COUNT = 1
    request = RequestFactory().get("/", headers={"x-forwarded-for": forwarded})
    assert client_ip(request) == "127.0.0.1"


def test_a_long_email_address_can_sign(engagement_in, coach):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    engagement.coachee.email = "prenom.nom-tres-long.de.la.direction@filiale-europeenne.example.com"
    engagement.coachee.save()
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
    convention = convention_service.convention_send(engagement=engagement, coach=coach)
    signature = sign(convention, engagement.coachee)
    assert engagement.coachee.email in signature.auth_method


def test_a_fully_signed_version_cannot_be_replaced_while_it_is_being_sealed(
    sent, coach, coachee, sponsor
):
    for person in (coach, coachee, sponsor):
        sign(sent, person)  # the sealing task is queued, not yet run
    with pytest.raises(ValidationError):
        convention_service.convention_send(engagement=sent.engagement, coach=coach)
    sent.refresh_from_db()
    assert sent.status == Convention.Status.SENT


def test_changing_an_objective_while_out_for_signature_withdraws_the_version(sent, coachee):
    kickoff_service.objective_save(
        engagement=sent.engagement, author=coachee, title="Nouveau", success_indicators="Un signe"
    )
    sent.refresh_from_db()
    assert sent.status == Convention.Status.VOIDED


def test_an_impossible_date_in_a_series_is_a_form_error(client, engagement_in, coach):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    client.force_login(coach)
    response = client.post(
        reverse("series", args=[engagement.pk]),
        {
            "first_day": timezone.localdate().isoformat(),
            "weekday": "0",
            "at": "10:00",
            "count": "1",
            "every_weeks": "4",
            "duration_minutes": "120",
            "format": "video",
            "action": "create",
            "start": ["2030-02-30T10:00"],
        },
    )
    assert response.status_code == 200
    assert not engagement.sessions.exists()


def test_a_long_video_link_is_accepted(engagement_in, coach):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    link = "https://teams.example.com/l/meetup-join/" + "a" * 260
    session = session_service.session_schedule(
        engagement=engagement,
        coach=coach,
        kind="development",
        starts_at=timezone.now() + timedelta(days=3),
        duration_minutes=120,
        format="video",
        video_url=link,
    )
    session.refresh_from_db()
    assert session.video_url == link


def test_withdrawal_leaves_a_session_that_has_begun_for_the_coach_to_record(engagement_in, coachee):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    begun = factories.CoachingSessionFactory(
        engagement=engagement, starts_at=timezone.now() - timedelta(minutes=30)
    )
    engagement_withdraw(engagement=engagement, coachee=coachee)
    begun.refresh_from_db()
    assert begun.status == "planned"


def test_cancelling_is_refused_once_a_development_session_has_begun(engagement_in, sponsor):
    from engagements import workflow

    engagement = engagement_in(Engagement.Status.ACTIVE)
    factories.CoachingSessionFactory(
        engagement=engagement, starts_at=timezone.now() - timedelta(minutes=30)
    )
    with pytest.raises(workflow.TransitionError):
        workflow.transition(engagement, "cancel", actor=sponsor, reason="Budget")


def test_the_closing_session_can_be_planned_after_a_withdrawal(engagement_in, coach, coachee):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    engagement_withdraw(engagement=engagement, coachee=coachee, closing_session_wanted=True)
    engagement.refresh_from_db()
    session = session_service.session_schedule(
        engagement=engagement,
        coach=coach,
        kind="farewell",
        starts_at=timezone.now() + timedelta(days=5),
        duration_minutes=60,
        format="video",
    )
    engagement.refresh_from_db()
    assert session.kind == "farewell" and engagement.status == Engagement.Status.WITHDRAWN
    # Coach and coachee only, never the sponsor; and only once.
    assert engagement.sponsor not in calendar.invited(session)
    with pytest.raises(ValidationError):
        session_service.session_schedule(
            engagement=engagement,
            coach=coach,
            kind="farewell",
            starts_at=timezone.now() + timedelta(days=9),
            duration_minutes=60,
            format="video",
        )


def test_no_closing_session_after_a_withdrawal_unless_the_coachee_wished_it(
    engagement_in, coach, coachee
):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    engagement_withdraw(engagement=engagement, coachee=coachee)
    engagement.refresh_from_db()
    for kind in ("farewell", "closing", "development"):
        with pytest.raises(ValidationError):
            session_service.session_schedule(
                engagement=engagement,
                coach=coach,
                kind=kind,
                starts_at=timezone.now() + timedelta(days=5),
                duration_minutes=60,
                format="video",
            )


def test_a_session_that_has_begun_cannot_be_moved_or_cancelled(engagement_in, coachee):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    begun = factories.CoachingSessionFactory(
        engagement=engagement, starts_at=timezone.now() - timedelta(minutes=10)
    )
    with pytest.raises(ValidationError):
        session_service.session_cancel(session=begun, user=coachee)
    with pytest.raises(ValidationError):
        session_service.session_reschedule(
            session=begun,
            user=coachee,
            starts_at=timezone.now() + timedelta(days=2),
            duration_minutes=120,
        )


def test_the_kickoff_can_be_moved_before_the_convention_period(engagement_in, coach):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    Engagement.objects.filter(pk=engagement.pk).update(
        start_date=timezone.localdate() + timedelta(days=30),
        end_date=timezone.localdate() + timedelta(days=400),
    )
    kickoff = factories.CoachingSessionFactory(
        engagement=engagement, kind="kickoff", starts_at=timezone.now() + timedelta(days=3)
    )
    moved = session_service.session_reschedule(
        session=kickoff,
        user=coach,
        starts_at=timezone.now() + timedelta(days=5),
        duration_minutes=120,
    )
    assert moved.sequence == 1


def test_reading_reports_and_the_closing_review_is_logged(client, engagement_in, sponsor):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    now = timezone.now()
    report = factories.SponsorReportFactory(
        engagement=engagement, status="released", approved_at=now, released_at=now
    )
    client.force_login(sponsor)
    client.get(report.get_absolute_url())
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.record_type, event.record_id) == (
        sponsor,
        "sponsorreport",
        report.pk,
    )


def test_someone_whose_invitation_expired_can_still_choose_a_password(client, coach):
    user = accounts.person_get_or_invite(
        email="late.joiner@example.com",
        first_name="L",
        last_name="J",
        invited_by=coach,
        language="fr",
    )
    mail.outbox.clear()
    client.post(reverse("password_reset"), {"email": "late.joiner@example.com"})
    [message] = mail.outbox
    assert message.to == [user.email]
    assert re.search(r"/mot-de-passe/[^/]+/[^/]+/", message.body)
