"""
One home for the engagement's rules: every "may this happen in this state?"
question is answered by workflow.py, every refusal is one error type, and each
rule of DOMAIN.md lives once.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from engagements import clock, permissions, workflow
from engagements.errors import ApplicationError
from engagements.models import CoachingSession, Convention, Engagement, Format
from engagements.services import kickoff as kickoff_service
from engagements.services import sessions as session_service
from engagements.services.convention import convention_send, convention_void

from . import factories

pytestmark = pytest.mark.django_db
S = Engagement.Status

# The engagement's states, named in code, e.g. ``Engagement.Status.ACTIVE``,
# ``EngagementStatus.DRAFT``, or a comparison of ``engagement.status``.
STATE_IN_PYTHON = re.compile(
    r"Engagement\.Status\.[A-Z]|EngagementStatus\.[A-Z]"
    r"|engagement\.status\s*(==|!=|in\b|not in\b)"
)
STATE_IN_TEMPLATE = re.compile(r"engagement\.status\s*(==|!=|in\b|not in\b)")


def test_no_module_but_the_workflow_lists_engagement_states_for_a_rule():
    offenders = []
    for path in Path("engagements").rglob("*.py"):
        if path.name in ("workflow.py", "models.py") or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if STATE_IN_PYTHON.search(line):
                offenders.append(f"{path}:{number}: {line.strip()}")
    for path in Path("templates").rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if STATE_IN_TEMPLATE.search(line):
                offenders.append(f"{path}:{number}: {line.strip()}")
    assert offenders == []


def test_the_scan_would_catch_a_state_list():
    assert STATE_IN_PYTHON.search("if engagement.status in (Engagement.Status.DRAFT,):")
    assert STATE_IN_TEMPLATE.search('{% if engagement.status == "draft" %}')


def test_transition_error_is_the_application_error_which_is_a_validation_error():
    assert issubclass(workflow.TransitionError, ApplicationError)
    assert issubclass(ApplicationError, ValidationError)


def test_no_service_raises_permission_denied():
    """Refusals reach the views as one error type, never as a 403 or a 500."""
    for path in Path("engagements/services").glob("*.py"):
        assert "PermissionDenied" not in path.read_text(), path


def test_services_import_tasks_at_module_level_and_tasks_import_services_lazily():
    import ast

    tasks_tree = ast.parse(Path("engagements/tasks.py").read_text())
    for node in tasks_tree.body:
        if isinstance(node, ast.ImportFrom):
            assert "services" not in (node.module or ""), ast.unparse(node)
    for path in Path("engagements/services").glob("*.py"):
        tree = ast.parse(path.read_text())
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom):
                    assert "tasks" not in (node.module or ""), f"{path}: {ast.unparse(node)}"


# -- the rules themselves --------------------------------------------------------


EDITABLE = {S.DRAFT, S.KICKOFF, S.CONTRACTING}


@pytest.mark.parametrize("state", S.values)
def test_terms_and_objectives_are_editable_until_the_three_signatures(state):
    engagement = factories.EngagementFactory.build(status=state)
    assert workflow.allows(engagement, "edit_terms") == (state in EDITABLE)
    assert workflow.allows(engagement, "edit_objectives") == (state in EDITABLE)


@pytest.mark.parametrize("state", S.values)
def test_a_convention_is_sent_from_the_kickoff_or_again_while_out(state):
    engagement = factories.EngagementFactory.build(status=state)
    assert workflow.allows(engagement, "send_convention") == (state in {S.KICKOFF, S.CONTRACTING})
    assert workflow.allows(engagement, "sign_convention") == (state == S.CONTRACTING)


@pytest.mark.parametrize("state", S.values)
def test_which_meetings_may_be_booked_in_each_state(state):
    engagement = factories.EngagementFactory.build(status=state)
    expected = {
        S.DRAFT: {"kickoff"},
        S.ACTIVE: {"development", "midpoint"},
        S.CLOSING: {"closing"},
        # The closing session after a withdrawal only if the coachee wished it.
        S.WITHDRAWN: set(),
    }.get(state, set())
    assert set(workflow.bookable_kinds(engagement)) == expected


def _kickoff_at(engagement, starts_at):
    return factories.CoachingSessionFactory(
        engagement=engagement, kind=CoachingSession.Kind.KICKOFF, starts_at=starts_at
    )


OUTCOME = {
    "coachee_expectations": "Prendre ma place.",
    "sponsor_expectations": "Qu'elle délègue.",
    "coach_expectations": "",
    "reporting_scope": "Assiduité et progression.",
}


def test_the_kickoff_outcome_waits_for_the_kickoff_meeting(engagement_in, coach):
    engagement = engagement_in(S.KICKOFF)
    meeting = _kickoff_at(engagement, timezone.now() + timedelta(days=2))
    with (
        translation.override("en"),
        pytest.raises(workflow.TransitionError, match="once the kickoff meeting has started"),
    ):
        kickoff_service.kickoff_record(engagement=engagement, coach=coach, **OUTCOME)
    assert not hasattr(Engagement.objects.get(pk=engagement.pk), "kickoff")

    with clock.at(meeting.starts_at + timedelta(hours=2)):
        kickoff_service.kickoff_record(engagement=engagement, coach=coach, **OUTCOME)
    meeting.refresh_from_db()
    assert meeting.status == CoachingSession.Status.HELD


def test_the_kickoff_page_offers_the_outcome_form_once_the_meeting_began(
    client, engagement_in, coach
):
    engagement = engagement_in(S.KICKOFF)
    _kickoff_at(engagement, timezone.now() + timedelta(days=2))
    client.force_login(coach)
    page = client.get(reverse("kickoff", args=[engagement.pk])).content.decode()
    assert reverse("kickoff_outcome", args=[engagement.pk]) not in page
    response = client.post(reverse("kickoff_outcome", args=[engagement.pk]), OUTCOME)
    assert response.status_code == 200
    assert response.context["outcome_form"].non_field_errors()
    assert not Engagement.objects.filter(pk=engagement.pk, kickoff__isnull=False).exists()


def test_a_signed_convention_is_never_voided(engagement_in):
    engagement = engagement_in(S.ACTIVE)
    factories.ConventionFactory(
        engagement=engagement,
        status=Convention.Status.SENT,
        sent_at=timezone.now(),
        document_sha256="a" * 64,
    )
    with pytest.raises(workflow.TransitionError):
        convention_void(engagement=engagement)
    assert engagement.conventions.get().status == Convention.Status.SENT


def test_sending_from_a_state_that_does_not_allow_it_is_one_clear_refusal(engagement_in, coach):
    engagement = engagement_in(S.ACTIVE)
    with translation.override("en"), pytest.raises(ApplicationError, match="before the engagement"):
        convention_send(engagement=engagement, coach=coach)


# -- each rule of one record lives on the model ------------------------------------


def test_an_in_person_meeting_needs_a_place_says_the_model():
    session = factories.CoachingSessionFactory.build(format=Format.IN_PERSON, location="  ")
    with pytest.raises(ValidationError) as error:
        session.full_clean(exclude=["engagement"])
    assert "location" in error.value.error_dict


def test_the_database_refuses_an_in_person_meeting_without_a_place(engagement):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        factories.CoachingSessionFactory(
            engagement=engagement, format=Format.IN_PERSON, location=""
        )


def test_the_coach_cannot_be_a_party_says_the_model(engagement):
    engagement.sponsor = engagement.coach.user
    with translation.override("en"), pytest.raises(ValidationError, match="coach cannot also be"):
        engagement.full_clean()


def test_the_session_form_shows_the_models_error_beside_the_place(client, engagement_in, coach):
    engagement = engagement_in(S.ACTIVE)
    client.force_login(coach)
    response = client.post(
        reverse("session_new", args=[engagement.pk]),
        {
            "kind": "development",
            "starts_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 120,
            "format": Format.IN_PERSON,
            "location": "",
        },
    )
    assert response.status_code == 200
    assert response.context["session_form"].errors["location"]
    assert not engagement.sessions.exists()


# -- who attends which meeting lives in permissions.py -------------------------------


def test_the_sponsor_attends_the_tripartite_meetings_only():
    for kind in CoachingSession.Kind.values:
        session = CoachingSession(kind=kind)
        parties = permissions.meeting_parties(session)
        assert ("sponsor" in parties) == (kind in CoachingSession.Kind.tripartite())


# -- a refused action is never a 500 -------------------------------------------------


def test_a_withdrawal_landing_before_the_booking_gives_a_message_not_a_500(
    client, engagement_in, coach, monkeypatch
):
    """The view read the engagement active; the coachee withdrew before the lock."""
    engagement = engagement_in(S.ACTIVE)
    real_require = workflow.require_bookable

    def withdraw_then_check(locked, kind):
        workflow.transition(locked, "withdraw", actor=locked.coachee)
        locked.refresh_from_db()
        return real_require(locked, kind)

    monkeypatch.setattr(workflow, "require_bookable", withdraw_then_check)
    client.force_login(coach)
    response = client.post(
        reverse("session_new", args=[engagement.pk]),
        {
            "kind": "development",
            "starts_at": (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 120,
            "format": Format.VIDEO,
        },
    )
    assert response.status_code == 200
    assert response.context["session_form"].non_field_errors()
    assert not engagement.sessions.exists()


def test_a_refused_series_is_a_form_error(client, engagement_in, coach):
    engagement = engagement_in(S.CONTRACTING)
    client.force_login(coach)
    start = timezone.localtime() + timedelta(days=3)
    response = client.post(
        reverse("series", args=[engagement.pk]),
        {
            "action": "create",
            "first_day": start.date().isoformat(),
            "weekday": start.weekday(),
            "at": "09:30",
            "count": 1,
            "every_weeks": 4,
            "duration_minutes": 120,
            "format": Format.VIDEO,
            "start": start.strftime("%Y-%m-%dT09:30"),
        },
    )
    assert response.status_code == 200
    assert response.context["series_form"].non_field_errors()
    assert not engagement.sessions.exists()


def test_the_clock_can_be_set_for_a_block_only():
    moment = timezone.now() - timedelta(days=100)
    with clock.at(moment):
        assert clock.now() == moment
    assert clock.now() > moment + timedelta(days=99)
    with pytest.raises(ValueError), clock.at(moment.replace(tzinfo=None)):
        pass


def test_session_service_uses_the_workflow_for_bookable_kinds():
    assert not hasattr(session_service, "KINDS_BY_STATE")
