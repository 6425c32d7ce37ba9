"""
Concurrent requests against PostgreSQL (row locks and the exclusion
constraint need it): one coach is never booked twice, a session changes
once, signing and objective edits never deadlock, the code limit holds.
"""

import itertools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagements.models import (
    CoachingSession,
    Convention,
    Engagement,
    Notification,
    SignatureChallenge,
)
from engagements.services import convention as convention_service
from engagements.services import kickoff as kickoff_service
from engagements.services import sessions as session_service

from . import factories
from .conftest import move_to, race
from .test_convention import code_for, open_document

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
ROUNDS = 10


def at(days, hour=10):
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def active_engagement(**kwargs):
    engagement = move_to(factories.EngagementFactory(**kwargs), Engagement.Status.ACTIVE)
    return engagement


def book(engagement, starts_at):
    return lambda: session_service.session_schedule(
        engagement=engagement,
        coach=engagement.coach.user,
        kind="development",
        starts_at=starts_at,
        duration_minutes=120,
        format="video",
        video_url="https://visio.example.com/s",
    )


def test_one_coach_is_never_booked_twice_at_once_across_engagements(postgres):
    first = active_engagement()
    second = active_engagement(coach=first.coach)
    for round_ in range(ROUNDS):
        starts_at = at(3 + round_)
        outcomes = race(book(first, starts_at), book(second, starts_at))
        assert outcomes.count("refused") == 1, outcomes
        assert any(isinstance(outcome, CoachingSession) for outcome in outcomes), outcomes
    assert CoachingSession.objects.filter(coach=first.coach).count() == ROUNDS


def test_a_move_and_a_booking_of_one_coach_at_once_never_overlap(postgres):
    first = active_engagement()
    second = active_engagement(coach=first.coach)
    for round_ in range(ROUNDS):
        target = at(3 + round_, hour=14)
        moved = book(first, at(3 + round_, hour=9))()
        outcomes = race(
            lambda moved=moved, target=target: session_service.session_reschedule(
                session=moved, user=first.coach.user, starts_at=target, duration_minutes=120
            ),
            book(second, target),
        )
        assert outcomes.count("refused") == 1, outcomes
    planned = CoachingSession.objects.filter(status="planned").order_by("starts_at")
    for earlier, later in itertools.pairwise(planned):
        assert earlier.ends_at <= later.starts_at


def test_the_database_refuses_two_planned_meetings_of_one_coach_that_overlap(postgres):
    first = factories.EngagementFactory()
    second = factories.EngagementFactory(coach=first.coach)
    factories.CoachingSessionFactory(engagement=first, starts_at=at(5))
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.CoachingSessionFactory(engagement=second, starts_at=at(5) + timedelta(hours=1))
    # Back to back, or one of them cancelled, is allowed.
    factories.CoachingSessionFactory(engagement=second, starts_at=at(5) + timedelta(hours=2))
    factories.CoachingSessionFactory(
        engagement=second, starts_at=at(5), status="cancelled", cancelled_at=timezone.now()
    )


def test_two_cancellations_of_one_session_give_one_outcome_and_one_notice(postgres):
    engagement = active_engagement()
    session = book(engagement, at(10))()
    mail.outbox.clear()
    sent_before = Notification.objects.count()
    cancel = lambda user: lambda: session_service.session_cancel(session=session, user=user)  # noqa: E731
    outcomes = race(cancel(engagement.coach.user), cancel(engagement.coachee))
    assert outcomes.count("refused") == 1, outcomes
    session.refresh_from_db()
    assert session.status == "cancelled"
    assert session.sequence == 1
    # One cancellation notice per invited party (coach and coachee), not two.
    assert Notification.objects.count() - sent_before == 2


def test_a_cancellation_and_a_move_at_once_give_one_outcome(postgres):
    engagement = active_engagement()
    for round_ in range(ROUNDS):
        session = book(engagement, at(10 + round_))()
        outcomes = race(
            lambda session=session: session_service.session_cancel(
                session=session, user=engagement.coachee
            ),
            lambda session=session, round_=round_: session_service.session_reschedule(
                session=session,
                user=engagement.coach.user,
                starts_at=at(10 + round_, hour=15),
                duration_minutes=120,
            ),
        )
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        session.refresh_from_db()
        # One after the other: a move then a cancellation are both applied;
        # a cancellation first refuses the move. Never two overwriting writes.
        assert session.sequence == 2 - outcomes.count("refused")
        assert session.status == "cancelled"


def test_signing_and_editing_an_objective_at_once_never_deadlock(postgres, settings):
    for _round in range(3):
        engagement = move_to(factories.EngagementFactory(), Engagement.Status.KICKOFF)
        factories.KickoffFactory(engagement=engagement)
        objective = factories.ObjectiveFactory(
            engagement=engagement, approved_by_coachee_at=timezone.now()
        )
        convention = convention_service.convention_send(
            engagement=engagement, coach=engagement.coach.user
        )
        parties = [engagement.coach.user, engagement.coachee, engagement.sponsor]
        for person in parties[:2]:
            convention_service.convention_sign(
                convention=convention,
                signer=person,
                code=code_for(convention, person),
                typed_name=person.get_full_name(),
                consent=True,
                ip_address="203.0.113.9",
                user_agent="test",
            )
        sponsor = parties[2]
        code = code_for(convention, sponsor)
        outcomes = race(
            lambda convention=convention, sponsor=sponsor, code=code: (
                convention_service.convention_sign(
                    convention=convention,
                    signer=sponsor,
                    code=code,
                    typed_name=sponsor.get_full_name(),
                    consent=True,
                    ip_address="203.0.113.9",
                    user_agent="test",
                )
            ),
            lambda engagement=engagement, objective=objective: kickoff_service.objective_save(
                engagement=engagement,
                author=engagement.coachee,
                title="Nouvelle formulation",
                success_indicators="Indicateur",
                objective=objective,
            ),
        )
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert outcomes.count("refused") <= 1
        convention.refresh_from_db()
        assert convention.status in (Convention.Status.SIGNED, Convention.Status.VOIDED)


def test_the_hourly_code_limit_holds_under_parallel_requests(postgres):
    engagement = move_to(factories.EngagementFactory(), Engagement.Status.KICKOFF)
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
    convention = convention_service.convention_send(
        engagement=engagement, coach=engagement.coach.user
    )
    coachee = engagement.coachee
    open_document(convention, coachee)
    ask = lambda: convention_service.signature_code_send(convention=convention, user=coachee)  # noqa: E731
    outcomes = race(*[ask] * (convention_service.MAX_CODES_PER_HOUR + 3))
    assert outcomes.count("refused") == 3, outcomes
    assert (
        SignatureChallenge.objects.filter(user=coachee).count()
        == convention_service.MAX_CODES_PER_HOUR
    )
