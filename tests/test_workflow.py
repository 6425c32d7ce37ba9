"""
Every transition of DOMAIN.md, allowed and forbidden, for every actor.

The expected table below is written from DOMAIN.md, independently of
``workflow.TRANSITIONS``, so that a wrong entry in the code fails here.
"""

import ast
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.utils import translation

from engagements import workflow
from engagements.models import CoachingSession, Engagement, StatusChange

from . import factories
from .conftest import PATHS, _validated_synthesis, move_to

S = Engagement.Status
OPEN = {S.DRAFT, S.KICKOFF, S.CONTRACTING, S.ACTIVE, S.CLOSING}

# name: (states it leaves from, state it reaches, who may do it)
EXPECTED = {
    "schedule_kickoff": ({S.DRAFT}, S.KICKOFF, {"coach"}),
    "send_convention": ({S.KICKOFF}, S.CONTRACTING, {"coach"}),
    # The third signature, whoever gives it, or the platform's sealing task.
    "activate": ({S.CONTRACTING}, S.ACTIVE, {"platform", "coach", "coachee", "sponsor"}),
    "start_closing": ({S.ACTIVE}, S.CLOSING, {"coach"}),
    # Generation of the final synthesis PDF, by the platform only.
    "complete": ({S.CLOSING}, S.COMPLETED, {"platform"}),
    "withdraw": (OPEN, S.WITHDRAWN, {"coachee"}),
    "cancel": ({S.DRAFT, S.KICKOFF, S.CONTRACTING, S.ACTIVE}, S.CANCELLED, {"coach", "sponsor"}),
}
ACTORS = ["coach", "coachee", "sponsor", "hr", "other_coach", "outsider", "platform"]
CASES = [(name, state, actor) for name in EXPECTED for state in S.values for actor in ACTORS]


def test_the_code_knows_exactly_the_transitions_of_the_domain():
    assert set(workflow.TRANSITIONS) == set(EXPECTED)


def _actor(request, key):
    return None if key == "platform" else request.getfixturevalue(key)


def _reason(name):
    return "Réorganisation" if name == "cancel" else ""


@pytest.mark.parametrize(("name", "state", "actor_key"), CASES)
def test_transition_is_allowed_exactly_as_domain_says(
    request, engagement_in, name, state, actor_key
):
    sources, target, actors = EXPECTED[name]
    engagement = engagement_in(state)
    actor = _actor(request, actor_key)
    if name == "complete" and state == S.CLOSING:
        _validated_synthesis(engagement)  # the fact completion depends on
    changes_before = StatusChange.objects.count()

    if state in sources and actor_key in actors:
        moved = workflow.transition(engagement, name, actor=actor, reason=_reason(name))
        assert moved.status == target
        engagement.refresh_from_db()
        assert engagement.status == target
        change = StatusChange.objects.latest("id")
        assert (change.from_status, change.to_status, change.actor) == (state, target, actor)
        assert StatusChange.objects.count() == changes_before + 1
    else:
        with pytest.raises(workflow.TransitionError) as error:
            workflow.transition(engagement, name, actor=actor, reason=_reason(name))
        assert error.value.message
        engagement.refresh_from_db()
        assert engagement.status == state
        assert StatusChange.objects.count() == changes_before


def test_completion_needs_the_synthesis_the_coachee_validated(engagement_in):
    engagement = engagement_in(S.CLOSING)
    with pytest.raises(workflow.TransitionError):
        workflow.transition(engagement, "complete", actor=None)
    factories.ClosingReviewFactory(engagement=engagement)  # a draft is not enough
    with pytest.raises(workflow.TransitionError):
        workflow.transition(engagement, "complete", actor=None)
    engagement.refresh_from_db()
    assert engagement.status == S.CLOSING


def test_every_state_is_reachable_and_recorded(engagement):
    for status, path in PATHS.items():
        fresh = factories.EngagementFactory()
        fresh = move_to(fresh, status)
        assert fresh.status == status
        assert fresh.status_changes.count() == len(path)


def test_terminal_states_record_when_the_engagement_ended(engagement_in):
    engagement = engagement_in(S.WITHDRAWN)
    assert engagement.ended_at is not None
    assert engagement.status_changed_at == engagement.ended_at


def test_open_states_have_no_end_date(engagement_in):
    engagement = engagement_in(S.ACTIVE)
    assert engagement.ended_at is None


def test_withdrawal_takes_no_reason(engagement_in, coachee):
    engagement = engagement_in(S.ACTIVE)
    with pytest.raises(workflow.TransitionError):
        workflow.transition(engagement, "withdraw", actor=coachee, reason="Trop de travail")
    engagement.refresh_from_db()
    assert engagement.status == S.ACTIVE


def test_withdrawal_records_no_reason(engagement_in, coachee):
    engagement = engagement_in(S.ACTIVE)
    workflow.transition(engagement, "withdraw", actor=coachee)
    assert engagement.status_changes.latest("id").reason == ""


def test_cancellation_needs_a_reason(engagement_in, sponsor):
    engagement = engagement_in(S.KICKOFF)
    with translation.override("fr"), pytest.raises(workflow.TransitionError) as error:
        workflow.transition(engagement, "cancel", actor=sponsor, reason="   ")
    assert error.value.message == "Veuillez indiquer un motif."


def test_cancellation_keeps_its_reason(engagement_in, sponsor):
    engagement = engagement_in(S.KICKOFF)
    workflow.transition(engagement, "cancel", actor=sponsor, reason="Poste supprimé")
    assert engagement.status_changes.latest("id").reason == "Poste supprimé"


@pytest.mark.parametrize("status", [CoachingSession.Status.HELD, CoachingSession.Status.MISSED])
def test_cannot_cancel_after_a_development_session_took_place(engagement_in, coach, status):
    engagement = engagement_in(S.ACTIVE)
    factories.CoachingSessionFactory(engagement=engagement, status=status)
    with pytest.raises(workflow.TransitionError):
        workflow.transition(engagement, "cancel", actor=coach, reason="Budget")
    engagement.refresh_from_db()
    assert engagement.status == S.ACTIVE


def test_can_cancel_when_only_the_kickoff_was_held(engagement_in, coach):
    engagement = engagement_in(S.ACTIVE)
    factories.CoachingSessionFactory(
        engagement=engagement,
        kind=CoachingSession.Kind.KICKOFF,
        status=CoachingSession.Status.HELD,
    )
    workflow.transition(engagement, "cancel", actor=coach, reason="Budget")
    assert engagement.status == S.CANCELLED


def test_unknown_transition_is_refused(engagement, coach):
    with pytest.raises(workflow.TransitionError):
        workflow.transition(engagement, "teleport", actor=coach)


def test_allowed_transitions_lists_the_buttons_of_each_person(engagement_in, coach, coachee, hr):
    engagement = engagement_in(S.ACTIVE)
    names = {t.name for t in workflow.allowed_transitions(engagement, coach)}
    assert names == {"start_closing", "cancel"}
    names = {t.name for t in workflow.allowed_transitions(engagement, coachee)}
    assert names == {"withdraw"}
    assert workflow.allowed_transitions(engagement, hr) == []


def test_forbidden_message_is_translated(engagement, coachee):
    with translation.override("fr"), pytest.raises(workflow.TransitionError) as error:
        workflow.transition(engagement, "schedule_kickoff", actor=coachee)
    assert "Votre rôle ne vous permet pas" in error.value.message


def test_status_is_only_assigned_in_workflow():
    """No module of the app assigns ``<engagement>.status`` but workflow.py."""
    offenders = []
    for path in Path("engagements").rglob("*.py"):
        if path.name == "workflow.py" or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "status"
                    and "engagement" in ast.unparse(target.value).lower()
                ):
                    offenders.append(f"{path}:{node.lineno}")
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func).endswith(".update")
                and "Engagement" in ast.unparse(node.func)
                and any(keyword.arg == "status" for keyword in node.keywords)
            ):
                offenders.append(f"{path}:{node.lineno}")
    assert offenders == []


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_from_one_state_cannot_both_succeed(request):
    """The row lock: a withdrawal and a cancellation racing, only one lands."""
    from .conftest import require_service

    require_service("PostgreSQL", connection.vendor == "postgresql", "row locks need it")
    engagement = move_to(factories.EngagementFactory(), S.ACTIVE)
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(name, actor, reason):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            workflow.transition(engagement, name, actor=actor, reason=reason)
            outcomes.append(name)
        except workflow.TransitionError:
            outcomes.append("refused")
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=attempt, args=("withdraw", engagement.coachee, "")),
        threading.Thread(target=attempt, args=("cancel", engagement.sponsor, "Budget")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("refused") == 1
    engagement.refresh_from_db()
    assert engagement.status_changes.filter(from_status=S.ACTIVE).count() == 1
