"""The tripartite kickoff: the meeting, its outcome, and the objectives."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from .. import clock, permissions, tasks, workflow
from ..errors import ApplicationError, NotAllowed
from ..models import (
    CoachingSession,
    Engagement,
    Kickoff,
    Objective,
    Role,
    User,
)
from .convention import convention_void
from .sessions import session_schedule


def kickoff_schedule(
    *,
    engagement: Engagement,
    coach: User,
    starts_at: datetime,
    duration_minutes: int,
    format: str,
    location: str = "",
    video_url: str = "",
) -> CoachingSession:
    """
    The coach plans the tripartite kickoff meeting: the first session, with
    the three parties invited, checked like any other session (in the
    future, the coach free). The engagement moves from draft to kickoff.
    """
    return session_schedule(
        engagement=engagement,
        coach=coach,
        kind=CoachingSession.Kind.KICKOFF,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        format=format,
        location=location,
        video_url=video_url,
    )


def kickoff_record(
    *,
    engagement: Engagement,
    coach: User,
    coachee_expectations: str,
    sponsor_expectations: str,
    coach_expectations: str,
    reporting_scope: str,
) -> Kickoff:
    """
    The coach records what was agreed at the kickoff meeting, once it has
    started; the meeting is then marked as held.
    """
    if not permissions.can_manage_engagement(permissions.roles_in(engagement, coach)):
        raise NotAllowed
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require(engagement, "record_kickoff")
        now = clock.now()
        kickoff, _created = Kickoff.objects.update_or_create(
            engagement=engagement,
            defaults={
                "coachee_expectations": coachee_expectations.strip(),
                "sponsor_expectations": sponsor_expectations.strip(),
                "coach_expectations": coach_expectations.strip(),
                "reporting_scope": reporting_scope.strip(),
                "recorded_by": coach,
                "recorded_at": now,
            },
        )
        # Its outcome is recorded: the kickoff meeting took place.
        engagement.sessions.filter(
            kind=CoachingSession.Kind.KICKOFF,
            status=CoachingSession.Status.PLANNED,
            starts_at__lte=now,
        ).update(status=CoachingSession.Status.HELD, updated_at=now)
    return kickoff


def _require_objective_editor(engagement, user):
    """
    Check who may change the objectives, and when; call inside the change's
    transaction. Out for signature, a change voids the pending version: the
    coach sends a new one once the coachee has approved the wording.
    """
    roles = permissions.roles_in(engagement, user)
    if not permissions.can_edit_objectives(roles):
        raise NotAllowed
    locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
    workflow.require(locked, "edit_objectives")
    convention_void(engagement=locked)
    return roles


def objective_save(
    *,
    engagement: Engagement,
    author: User,
    title: str,
    success_indicators: str,
    objective: Objective | None = None,
) -> Objective:
    """
    Add or reword an objective. The coachee owns the wording: what they
    write is approved at once; what the coach writes waits for their approval.
    """
    title, success_indicators = title.strip(), success_indicators.strip()
    if not title or not success_indicators:
        raise ApplicationError(_("An objective needs a wording and success indicators."))
    with transaction.atomic():
        roles = _require_objective_editor(engagement, author)
        approved_at = clock.now() if Role.COACHEE in roles else None
        if objective is None:
            last = engagement.objectives.order_by("-position").first()
            objective = Objective(
                engagement=engagement,
                position=(last.position + 1) if last else 1,
                proposed_by=author,
            )
        elif objective.engagement_id != engagement.pk:
            raise NotAllowed
        objective.title = title
        objective.success_indicators = success_indicators
        objective.approved_by_coachee_at = approved_at
        objective.save()
        if approved_at is None:
            # One e-mail a day at most, however many objectives the coach words.
            tasks.send_objectives_to_approve.delay_on_commit(
                engagement.pk, clock.today().isoformat()
            )
    return objective


def objective_approve(*, objective: Objective, coachee: User) -> Objective:
    """The coachee approves the wording of an objective."""
    with transaction.atomic():
        roles = _require_objective_editor(objective.engagement, coachee)
        if Role.COACHEE not in roles:
            raise NotAllowed
        objective.approved_by_coachee_at = clock.now()
        objective.save(update_fields=["approved_by_coachee_at", "updated_at"])
    return objective


def objective_delete(*, objective: Objective, user: User) -> None:
    with transaction.atomic():
        _require_objective_editor(objective.engagement, user)
        objective.delete()
