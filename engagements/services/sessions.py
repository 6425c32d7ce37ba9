"""
Sessions: scheduling one or a whole series, changes, attendance, notes, the
coachee's availability, and calendar feeds.
"""

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .. import audit, clock, permissions, tasks, workflow
from ..calendar import PARIS
from ..errors import ApplicationError, NotAllowed
from ..models import (
    CANCELLATION_MESSAGE_MAX_LENGTH,
    AuditEvent,
    CalendarFeed,
    Coach,
    CoachingSession,
    Engagement,
    PrivateNote,
    SharedSummary,
    SponsorReport,
    User,
)
from .reporting import reports_attendance_refresh

Kind = CoachingSession.Kind
Status = CoachingSession.Status


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    duration_minutes: int

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)


def _when(moment):
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _check_slots(engagement, slots, *, kind, exclude=None):
    """
    Every reason the ``slots`` cannot be booked, as messages: in the past,
    outside the convention's period, beyond the contracted sessions, or
    overlapping another session of the coach (in any engagement) or each other.
    """
    errors = []
    now = clock.now()
    for slot in slots:
        if slot.duration_minutes <= 0:
            errors.append(_("A session must end after it starts."))
        if slot.starts_at <= now:
            errors.append(_("%(when)s is in the past.") % {"when": _when(slot.starts_at)})
        day = timezone.localtime(slot.starts_at).date()
        # The kickoff comes before the convention, so before its period; the
        # closing session after a withdrawal may come after it.
        in_period = engagement.start_date <= day <= engagement.end_date
        if kind not in (Kind.KICKOFF, Kind.FAREWELL) and not in_period:
            errors.append(
                _("%(when)s is outside the convention's period (%(start)s – %(end)s).")
                % {
                    "when": _when(slot.starts_at),
                    "start": formats.date_format(engagement.start_date),
                    "end": formats.date_format(engagement.end_date),
                }
            )
    if kind == Kind.DEVELOPMENT:
        taken = (
            engagement.sessions.development()
            .filter(
                Q(status__in=[Status.PLANNED, Status.HELD, Status.MISSED]) | CoachingSession.USED
            )
            .exclude(pk=getattr(exclude, "pk", None))
            .count()
        )
        if taken + len(slots) > engagement.sessions_contracted:
            errors.append(
                _(
                    "The convention provides %(contracted)s sessions: %(taken)s are already "
                    "planned or used, %(asked)s more would exceed it."
                )
                % {
                    "contracted": engagement.sessions_contracted,
                    "taken": taken,
                    "asked": len(slots),
                }
            )
    ordered = sorted(slots, key=lambda s: s.starts_at)
    for first, second in itertools.pairwise(ordered):
        if second.starts_at < first.ends_at:
            errors.append(
                _("Two sessions of the series overlap on %(when)s.")
                % {"when": _when(second.starts_at)}
            )
    if slots:
        busy = (
            CoachingSession.objects.filter(
                coach_id=engagement.coach_id,
                status__in=[Status.PLANNED, Status.HELD],
                starts_at__lt=max(s.ends_at for s in slots),
                starts_at__gte=min(s.starts_at for s in slots) - timedelta(hours=8),
            )
            .exclude(pk=getattr(exclude, "pk", None))
            .select_related("engagement__coachee")
        )
        for slot in slots:
            for other in busy:
                if other.starts_at < slot.ends_at and slot.starts_at < other.ends_at:
                    errors.append(
                        _("The coach already has a session on %(when)s.")
                        % {"when": _when(other.starts_at)}
                    )
    if errors:
        raise ApplicationError(list(dict.fromkeys(errors)))


def _lock_coach_calendar(engagement):
    """
    Serialize every booking of the engagement's coach, whatever the
    engagement: the coach's row is locked until the caller's transaction
    ends, so the overlap check and the insert of one booking see the other's
    result. Lock order everywhere: coach, then engagement, then session.
    """
    Coach.objects.select_for_update().filter(pk=engagement.coach_id).first()


def _save_placed(session, **kwargs):
    """
    Save a session placed in the calendar. On PostgreSQL the database refuses
    an overlap of the coach's planned meetings (the last guard, should a
    path ever skip the lock): that refusal is told as the check tells it.
    """
    try:
        with transaction.atomic():
            session.save(**kwargs)
    except IntegrityError as error:
        if CoachingSession.OVERLAP_CONSTRAINT not in str(error):
            raise
        raise ApplicationError(
            _("The coach already has a session on %(when)s.") % {"when": _when(session.starts_at)}
        ) from error


def _require_coach(engagement, user):
    permissions.require(engagement, user, permissions.can_manage_sessions)


def _new_session(engagement, *, kind, starts_at, duration_minutes, format, location, video_url):
    """A session checked by the model (e.g. an in-person meeting has a place), not yet saved."""
    session = CoachingSession(
        engagement=engagement,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        format=format,
        location=location,
        video_url=video_url,
    )
    session.full_clean(exclude=["engagement", "uid"])
    return session


def session_schedule(
    *,
    engagement: Engagement,
    coach: User,
    kind: str,
    starts_at: datetime,
    duration_minutes: int,
    format: str,
    location: str = "",
    video_url: str = "",
) -> CoachingSession:
    """
    The coach plans one session. Scheduling the kickoff starts the kickoff
    step; scheduling the tripartite closing meeting, the closing review.
    """
    _require_coach(engagement, coach)
    session = _new_session(
        engagement,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        format=format,
        location=location,
        video_url=video_url,
    )
    with transaction.atomic():
        _lock_coach_calendar(engagement)
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require_bookable(engagement, kind)
        _check_slots(engagement, [Slot(starts_at, duration_minutes)], kind=kind)
        if move := workflow.move_for_booking(engagement, kind):
            workflow.transition(engagement, move, actor=coach)
        session.engagement = engagement
        _save_placed(session)
        tasks.send_session_invitations.delay_on_commit(session.pk)
    return session


def series_plan(*, first_day: date, weekday: int, at: time, count: int, every_weeks: int):
    """
    The starts of a series: from the first ``weekday`` on or after
    ``first_day``, every ``every_weeks`` weeks, at ``at`` Paris time (so the
    time of day holds across daylight-saving changes).
    """
    if count < 1 or every_weeks < 1:
        raise ApplicationError(_("A series needs at least one session and a rhythm."))
    day = first_day + timedelta(days=(weekday - first_day.weekday()) % 7)
    return [
        datetime.combine(day + timedelta(weeks=every_weeks * index), at, tzinfo=PARIS)
        for index in range(count)
    ]


def series_create(
    *,
    engagement: Engagement,
    coach: User,
    starts: list[datetime],
    duration_minutes: int,
    format: str,
    location: str = "",
    video_url: str = "",
) -> list[CoachingSession]:
    """Plan a whole series of development sessions at once: all of them, or none."""
    _require_coach(engagement, coach)
    sessions = [
        _new_session(
            engagement,
            kind=Kind.DEVELOPMENT,
            starts_at=start,
            duration_minutes=duration_minutes,
            format=format,
            location=location,
            video_url=video_url,
        )
        for start in sorted(starts)
    ]
    with transaction.atomic():
        _lock_coach_calendar(engagement)
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require_bookable(engagement, Kind.DEVELOPMENT)
        _check_slots(
            engagement, [Slot(start, duration_minutes) for start in starts], kind=Kind.DEVELOPMENT
        )
        for session in sessions:
            session.engagement = engagement
            _save_placed(session)
        # One message per person for the whole series, with one calendar file.
        tasks.send_series_invitations.delay_on_commit(
            engagement.pk, [session.pk for session in sessions]
        )
    return sessions


def _require_party_who_changes(session, user):
    roles = permissions.roles_in(session.engagement, user)
    if not permissions.can_change_own_sessions(roles):
        raise NotAllowed
    if session.status != Status.PLANNED:
        raise ApplicationError(_("Only a planned session can be changed."))
    if session.starts_at <= clock.now():
        raise ApplicationError(_("This session has begun: record its attendance instead."))
    return roles


def _locked_planned(session):
    """
    ``session`` locked for a change, read again: of two concurrent changes
    (two cancellations, a cancellation and a move) the second sees the first
    one's outcome and is refused if the session is no longer planned.
    """
    session = (
        CoachingSession.objects.select_for_update(of=("self",))
        .select_related("engagement__coach")
        .get(pk=session.pk)
    )
    if session.status != Status.PLANNED:
        raise ApplicationError(_("Only a planned session can be changed."))
    return session


def session_reschedule(
    *, session: CoachingSession, user: User, starts_at: datetime, duration_minutes: int
) -> CoachingSession:
    """Move a planned session (coach or coachee); everyone invited gets the update."""
    _require_party_who_changes(session, user)
    with transaction.atomic():
        _lock_coach_calendar(session.engagement)
        session = _locked_planned(session)
        _check_slots(
            session.engagement,
            [Slot(starts_at, duration_minutes)],
            kind=session.kind,
            exclude=session,
        )
        session.starts_at = starts_at
        session.duration_minutes = duration_minutes
        session.sequence += 1
        _save_placed(
            session, update_fields=["starts_at", "duration_minutes", "sequence", "updated_at"]
        )
        tasks.send_session_invitations.delay_on_commit(session.pk)
    return session


def session_cancel_check(*, session: CoachingSession, user: User) -> None:
    """Refuse as ``session_cancel`` would, before its confirmation page is shown."""
    _require_party_who_changes(session, user)


def session_cancel(*, session: CoachingSession, user: User, message: str = "") -> CoachingSession:
    """
    Cancel a planned session (coach or coachee). Cancelled within the
    convention's notice period, it counts as used. ``message``, optional,
    reaches the other parties of the meeting with the cancellation e-mail.
    """

    _require_party_who_changes(session, user)
    message = message.strip()
    if len(message) > CANCELLATION_MESSAGE_MAX_LENGTH:
        raise ApplicationError(
            _("Keep the message under %(count)s characters.")
            % {"count": CANCELLATION_MESSAGE_MAX_LENGTH}
        )
    now = clock.now()
    with transaction.atomic():
        # The lock order of every change to a meeting: coach, then session.
        _lock_coach_calendar(session.engagement)
        session = _locked_planned(session)
        session.cancellation_message = message
        cancel_and_notify(session, by=user, late=session.cancellation_is_late(now), now=now)
    return session


def sessions_cancel_together(sessions, *, by, now) -> list[int]:
    """
    Cancel ``sessions`` (locked by the caller, inside its transaction) as
    one action: an ending or the closing review. No notice per session: the
    caller sends one notice to each person, with one calendar file
    cancelling them all. Not late: no party chose the moment. Returns their ids.
    """
    cancelled = []
    for session in sessions:
        _mark_cancelled(session, by=by, late=False, now=now)
        cancelled.append(session.pk)
    return cancelled


def cancel_and_notify(session, *, by, late, now):
    """
    Mark ``session`` cancelled (inside the caller's transaction) and queue the
    calendar cancellation for everyone invited.
    """
    _mark_cancelled(session, by=by, late=late, now=now)
    tasks.send_session_invitations.delay_on_commit(session.pk)


def _mark_cancelled(session, *, by, late, now):
    """The session cancelled, its SEQUENCE raised for the calendar cancellation."""
    session.status = Status.CANCELLED
    session.cancelled_at = now
    session.cancelled_by = by
    session.cancelled_late = late
    session.sequence += 1
    session.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancelled_late",
            "cancellation_message",
            "sequence",
            "updated_at",
        ]
    )


def session_attendance_record(*, session: CoachingSession, coach: User, status: str):
    """
    The coach records whether a session that has begun was held or missed,
    or corrects what he recorded: for ``ATTENDANCE_CORRECTION_DAYS`` after
    recording it, and never once a report released to the sponsor covers the
    session (a released report is never changed). Every recording and
    correction goes to the audit log; the open report of the period follows.
    """
    _require_coach(session.engagement, coach)
    if status not in (Status.HELD, Status.MISSED):
        raise ApplicationError(_("Attendance is either held or missed."))
    now = clock.now()
    with transaction.atomic():
        # Lock order: engagement, then session (a report is released under
        # the engagement's lock: it cannot slip in between the check and the write).
        engagement = Engagement.objects.select_for_update().get(pk=session.engagement_id)
        given, session = (
            session,
            CoachingSession.objects.select_for_update(of=("self",))
            .select_related("engagement")
            .get(pk=session.pk),
        )
        if session.starts_at > now:
            raise ApplicationError(_("Attendance is recorded once the session has begun."))
        if session.status == Status.CANCELLED:
            raise ApplicationError(_("This session was cancelled."))
        previous = session.status
        if previous == status:
            raise ApplicationError(
                _("This session is already recorded as %(status)s.")
                % {"status": session.get_status_display()}
            )
        if previous != Status.PLANNED:
            _require_correctable(session, now)
        session.status = status
        fields = ["status", "updated_at"]
        if previous == Status.PLANNED:
            session.attendance_recorded_at = now
            fields.append("attendance_recorded_at")
        session.save(update_fields=fields)
        for field in fields:  # the caller's instance tells the outcome too
            setattr(given, field, getattr(session, field))
        reports_attendance_refresh(engagement=engagement, day=timezone.localdate(session.starts_at))
        audit.log(
            action=AuditEvent.Action.TRANSITION,
            record_type="session_attendance",
            record_id=session.pk,
            actor=coach,
            engagement=engagement,
            detail={"from": previous, "to": status},
            at=now,
        )
    return session


def _require_correctable(session, now):
    """Refuse to correct an attendance past its period or told to the sponsor in a report."""
    released = session.engagement.reports.filter(
        status=SponsorReport.Status.RELEASED,
        period_start__lte=timezone.localdate(session.starts_at),
        period_end__gte=timezone.localdate(session.starts_at),
    ).first()
    if released is not None:
        raise ApplicationError(
            _(
                "The report of %(start)s – %(end)s, released to the sponsor, covers this "
                "session: its attendance can no longer be corrected."
            )
            % {
                "start": formats.date_format(released.period_start),
                "end": formats.date_format(released.period_end),
            }
        )
    until = session.attendance_correctable_until
    if now > until:
        raise ApplicationError(
            _("The attendance could be corrected until %(when)s; it is now final.")
            % {"when": _when(until)}
        )


def attendance_correction_refusal(session) -> str:
    """Why the coach can no longer correct the attendance of ``session``, or ''."""
    try:
        _require_correctable(session, clock.now())
    except ApplicationError as error:
        return " ".join(error.messages)
    return ""


def session_notes_save(
    *,
    session: CoachingSession,
    user: User,
    private_note: str | None = None,
    summary: str | None = None,
    action_plan: str | None = None,
):
    """
    The coach's private note (coach only) and the shared summary and action
    plan (coach and coachee). ``None`` leaves a part unchanged.
    """
    roles = permissions.roles_in(session.engagement, user)
    with transaction.atomic():
        if private_note is not None:
            if not permissions.can_view_private_notes(roles):
                raise NotAllowed
            PrivateNote.objects.update_or_create(session=session, defaults={"body": private_note})
        if summary is not None or action_plan is not None:
            if not permissions.can_view_shared_summaries(roles):
                raise NotAllowed
            defaults = {"updated_by": user}
            if summary is not None:
                defaults["summary"] = summary
            if action_plan is not None:
                defaults["action_plan"] = action_plan
            SharedSummary.objects.update_or_create(session=session, defaults=defaults)


def availability_request(*, engagement: Engagement, coach: User) -> None:
    """The coach asks the coachee which days and times suit them."""
    _require_coach(engagement, coach)
    now = clock.now()
    with transaction.atomic():
        Engagement.objects.filter(pk=engagement.pk).update(availability_requested_at=now)
        tasks.send_availability_request.delay_on_commit(engagement.pk, now.isoformat())


def availability_save(*, engagement: Engagement, coachee: User, availability: str) -> None:
    """The coachee says which days and times suit them; the coach is told when it changes."""
    if not permissions.can_give_availability(permissions.roles_in(engagement, coachee)):
        raise NotAllowed
    availability = availability.strip()
    with transaction.atomic():
        locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
        if locked.coachee_availability == availability:
            return
        locked.coachee_availability = availability
        locked.save(update_fields=["coachee_availability", "updated_at"])
        if availability:
            tasks.send_availability_shared.delay_on_commit(
                engagement.pk, hashlib.sha256(availability.encode()).hexdigest()[:16]
            )


def calendar_feed_renew(*, user: User) -> CalendarFeed:
    """A new secret address for the person's calendar; the previous one stops working."""
    feed, _created = CalendarFeed.objects.update_or_create(
        user=user, defaults={"token": secrets.token_urlsafe(32), "created_at": timezone.now()}
    )
    return feed


def calendar_feed_revoke(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()
