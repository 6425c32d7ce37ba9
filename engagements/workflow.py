"""
The engagement workflow of DOMAIN.md: its states, its transitions, and the one
function that applies a transition.

``Engagement.status`` is never assigned anywhere else. Services that need a
move (scheduling the kickoff, the third signature, a withdrawal...) call
``transition()`` inside their own transaction and do their side effects
(e-mails, cancelled sessions, PDFs) themselves.

    draft -> kickoff -> contracting -> active -> closing -> completed
       \\________\\____________\\___________\\________\\-----> withdrawn  (coachee, no reason)
       \\________\\____________\\-----> cancelled (coach or sponsor, before any
                                               development session, with a reason)
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import audit, clock
from .errors import ApplicationError
from .models import AuditEvent, ClosingReview, CoachingSession, Engagement, Role, StatusChange

Status = Engagement.Status
Kind = CoachingSession.Kind

#: The platform itself, acting after an event (e.g. the last signature landed
#: or the final synthesis PDF was generated). Passed as ``actor=None``.
PLATFORM = "platform"


class TransitionError(ApplicationError):
    """A forbidden move or action: wrong state, wrong actor, or a failed precondition."""


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple
    target: str
    actors: frozenset
    reason_required: bool = False
    reason_forbidden: bool = False


_OPEN_STATES = (
    Status.DRAFT,
    Status.KICKOFF,
    Status.CONTRACTING,
    Status.ACTIVE,
    Status.CLOSING,
)

TRANSITIONS = {
    t.name: t
    for t in [
        Transition(
            name="schedule_kickoff",
            label=_("schedule the kickoff"),
            sources=(Status.DRAFT,),
            target=Status.KICKOFF,
            actors=frozenset({Role.COACH}),
        ),
        Transition(
            name="send_convention",
            label=_("send the convention for signature"),
            sources=(Status.KICKOFF,),
            target=Status.CONTRACTING,
            actors=frozenset({Role.COACH}),
        ),
        Transition(
            name="activate",
            label=_("start the engagement after the third signature"),
            sources=(Status.CONTRACTING,),
            target=Status.ACTIVE,
            actors=frozenset({PLATFORM, Role.COACH, Role.COACHEE, Role.SPONSOR}),
        ),
        Transition(
            name="start_closing",
            label=_("start the closing review"),
            sources=(Status.ACTIVE,),
            target=Status.CLOSING,
            actors=frozenset({Role.COACH}),
        ),
        # Only the generation of the final synthesis PDF completes an engagement.
        Transition(
            name="complete",
            label=_("complete the engagement with the final synthesis"),
            sources=(Status.CLOSING,),
            target=Status.COMPLETED,
            actors=frozenset({PLATFORM}),
        ),
        Transition(
            name="withdraw",
            label=_("withdraw from the engagement"),
            sources=_OPEN_STATES,
            target=Status.WITHDRAWN,
            actors=frozenset({Role.COACHEE}),
            reason_forbidden=True,
        ),
        Transition(
            name="cancel",
            label=_("cancel the engagement"),
            sources=(Status.DRAFT, Status.KICKOFF, Status.CONTRACTING, Status.ACTIVE),
            target=Status.CANCELLED,
            actors=frozenset({Role.COACH, Role.SPONSOR}),
            reason_required=True,
        ),
    ]
}


def _actor_roles(engagement, actor):
    if actor is None:
        return {PLATFORM}
    return engagement.roles_of(actor)


def _check_preconditions(transition, engagement):
    """Facts beyond the state table that a move depends on."""
    if transition.name == "complete":
        validated = ClosingReview.objects.filter(
            engagement=engagement,
            status__in=[ClosingReview.Status.VALIDATED, ClosingReview.Status.COMPLETED],
        ).exists()
        if not validated:
            raise TransitionError(
                gettext("The engagement completes with the synthesis the coachee validated.")
            )
    if transition.name == "cancel" and development_started(engagement):
        raise TransitionError(
            gettext(
                "This engagement can no longer be cancelled: a development "
                "session has already taken place."
            )
        )


def development_started_q(now):
    """Q on CoachingSession: a development session held, missed, or under way since ``now``."""
    return Q(kind=Kind.DEVELOPMENT) & (
        Q(status__in=[CoachingSession.Status.HELD, CoachingSession.Status.MISSED])
        | Q(status=CoachingSession.Status.PLANNED, starts_at__lte=now)
    )


def development_session_started(session, now):
    """``development_started_q`` for one session already fetched."""
    return session.kind == Kind.DEVELOPMENT and (
        session.status in (CoachingSession.Status.HELD, CoachingSession.Status.MISSED)
        or (session.status == CoachingSession.Status.PLANNED and session.starts_at <= now)
    )


def development_started(engagement):
    """
    Whether a development session has taken place (no cancelling then). Uses
    ``engagement.development_started`` when the page already knows it, from
    every session of the engagement (``selectors.session_counts``).
    """
    known = getattr(engagement, "development_started", None)
    if known is not None:
        return known
    return engagement.sessions.filter(development_started_q(clock.now())).exists()


def check(engagement, name, actor):
    """
    Raise ``TransitionError`` unless ``actor`` may apply transition ``name``
    to ``engagement`` in its current state. Returns the transition.
    """
    try:
        transition = TRANSITIONS[name]
    except KeyError:
        raise TransitionError(gettext("Unknown action.")) from None
    if engagement.status not in transition.sources:
        raise TransitionError(
            gettext("You cannot %(action)s: the engagement is %(status)s.")
            % {"action": transition.label, "status": engagement.get_status_display()}
        )
    if not _actor_roles(engagement, actor) & transition.actors:
        raise TransitionError(
            gettext("You are not allowed to %(action)s.") % {"action": transition.label}
        )
    _check_preconditions(transition, engagement)
    return transition


def allows_transition(engagement, name, *, actor):
    """Whether ``actor`` may apply transition ``name`` now (``None`` for the platform)."""
    try:
        check(engagement, name, actor)
    except TransitionError:
        return False
    return True


def allowed_transitions(engagement, actor):
    """The transitions ``actor`` may apply now, for showing the right buttons."""
    allowed = []
    for name in TRANSITIONS:
        try:
            allowed.append(check(engagement, name, actor))
        except TransitionError:
            continue
    return allowed


def transition(engagement, name, *, actor, reason=""):
    """
    Apply transition ``name`` to ``engagement`` as ``actor`` (``None`` for the
    platform), and record it. The row is locked for the duration, so two
    concurrent moves cannot both succeed from the same state.

    Returns the refreshed engagement. Raises ``TransitionError`` for a
    forbidden move, in which case nothing is written.
    """
    reason = (reason or "").strip()
    with transaction.atomic():
        # Only the engagement's row (``of``): locking the joined coach too
        # would take it after the engagement, against the services' order
        # (coach, then engagement) that serializes a coach's bookings.
        locked = (
            Engagement.objects.select_for_update(of=("self",))
            .select_related("coach__user")
            .get(pk=engagement.pk)
        )
        move = check(locked, name, actor)
        if move.reason_required and not reason:
            raise TransitionError(gettext("Please give a reason."))
        if move.reason_forbidden and reason:
            # Withdrawal never asks for, nor keeps, a reason (DOMAIN.md).
            raise TransitionError(gettext("No reason is asked for this action."))

        now = clock.now()
        previous = locked.status
        roles = _actor_roles(locked, actor) & move.actors
        locked.status = move.target
        locked.status_changed_at = now
        if move.target in Status.terminal():
            locked.ended_at = now
        locked.save(update_fields=["status", "status_changed_at", "ended_at", "updated_at"])
        StatusChange.objects.create(
            engagement=locked,
            from_status=previous,
            to_status=move.target,
            actor=actor,
            actor_role=sorted(roles)[0] if roles else "",
            reason=reason,
            created_at=now,
        )
        audit.log(
            actor=actor,
            engagement=locked,
            action=AuditEvent.Action.TRANSITION,
            record_type="engagement",
            record_id=locked.pk,
            detail={"transition": name, "from": previous, "to": move.target},
            at=now,
        )
    engagement.status = locked.status
    engagement.status_changed_at = locked.status_changed_at
    engagement.ended_at = locked.ended_at
    return locked


# -- what may happen in which state --------------------------------------------
#
# Every "may this happen now?" question of the product is answered here, and
# nowhere else lists states: services call ``require()`` before acting, views
# and templates ask ``permitted()`` which buttons to show.


def _kickoff_meeting_started(engagement):
    started = engagement.sessions.filter(
        kind=Kind.KICKOFF,
        status__in=[CoachingSession.Status.PLANNED, CoachingSession.Status.HELD],
        starts_at__lte=clock.now(),
    ).exists()
    if not started:
        return gettext("The kickoff outcome is recorded once the kickoff meeting has started.")
    return None


@dataclass(frozen=True)
class Rule:
    states: tuple
    refusal: str
    # A fact beyond the state that the action depends on: returns the refusal, or None.
    precondition: Callable | None = None


_BEFORE_SIGNATURE = (Status.DRAFT, Status.KICKOFF, Status.CONTRACTING)

RULES = {
    # Until the three signatures, the terms and objectives can change; out for
    # signature, a change voids the version sent and calls for a new one.
    "edit_terms": Rule(_BEFORE_SIGNATURE, _("The terms are fixed once the convention is signed.")),
    "edit_objectives": Rule(
        _BEFORE_SIGNATURE, _("The objectives are fixed once the convention is signed.")
    ),
    "record_kickoff": Rule(
        (Status.KICKOFF,),
        _("The kickoff outcome is recorded while the kickoff is under way."),
        precondition=_kickoff_meeting_started,
    ),
    "send_convention": Rule(
        (Status.KICKOFF, Status.CONTRACTING),
        _("The convention is sent after the kickoff, before the engagement starts."),
    ),
    "sign_convention": Rule(
        (Status.CONTRACTING,), _("This version of the convention can no longer be signed.")
    ),
    # A version out for signature is voided when the terms change, or when the
    # engagement ends before the third signature; a signed one never is.
    "void_convention": Rule(
        (Status.CONTRACTING, Status.WITHDRAWN, Status.CANCELLED),
        _("A signed convention stays on file: it cannot be voided."),
    ),
    # Sponsor reports (DOMAIN.md step 4): started while the engagement is
    # active; one already open may still be finished during the closing review.
    "start_report": Rule(
        (Status.ACTIVE,), _("Reports to the sponsor are written while the engagement is active.")
    ),
    "handle_report": Rule(
        (Status.ACTIVE, Status.CLOSING), _("The engagement has ended: this report is closed.")
    ),
    # Goal-attainment scores: the baseline once the objectives are agreed (an
    # objective added later gets its own), the sponsor's observed score on
    # each released report.
    "score_baseline": Rule(
        (Status.KICKOFF, Status.CONTRACTING, Status.ACTIVE),
        _("Baseline scores are given at the start of the engagement."),
    ),
    "score_report": Rule(
        (Status.ACTIVE, Status.CLOSING), _("The engagement has ended: scores are closed.")
    ),
    # The closing review (DOMAIN.md step 5): the coachee may ask for it while
    # the engagement is active; the synthesis and the final scores belong to it.
    "request_closing": Rule(
        (Status.ACTIVE,), _("The closing review is asked for while the engagement is active.")
    ),
    "write_synthesis": Rule(
        (Status.CLOSING,), _("The synthesis is written during the closing review.")
    ),
    "score_closing": Rule(
        (Status.CLOSING,), _("Final scores are given during the closing review.")
    ),
    # Sessions used and remaining are worth showing once the convention is out.
    "show_progress": Rule(
        tuple(s for s in Status.values if s not in (Status.DRAFT, Status.KICKOFF)),
        _("No session is counted before the convention."),
    ),
}

# Which meetings may be booked in which state. Booking the kickoff starts the
# kickoff step; the tripartite closing meeting is booked once the closing
# review has started (``start_closing``).
BOOKABLE_KINDS = {
    Status.DRAFT: (Kind.KICKOFF,),
    Status.ACTIVE: (Kind.DEVELOPMENT, Kind.MIDPOINT),
    Status.CLOSING: (Kind.CLOSING,),
    # A coachee who withdrew and said she would welcome it: one session with
    # her coach only (never the sponsor); the engagement stays withdrawn.
    Status.WITHDRAWN: (Kind.FAREWELL,),
}
_BOOKING_MOVES = {
    (Status.DRAFT, Kind.KICKOFF): "schedule_kickoff",
}


def require(engagement, action):
    """Raise ``TransitionError`` unless ``action`` (a key of ``RULES``) may happen now."""
    rule = RULES[action]
    if engagement.status not in rule.states:
        raise TransitionError(rule.refusal)
    if rule.precondition and (problem := rule.precondition(engagement)):
        raise TransitionError(problem)


def allows(engagement, action):
    try:
        require(engagement, action)
    except TransitionError:
        return False
    return True


def states_allowing(action):
    """The states in which ``action`` may happen, for a query over many engagements."""
    return RULES[action].states


def permitted(engagement):
    """The actions of ``RULES`` allowed now, for the templates to show the right buttons."""
    return frozenset(action for action in RULES if allows(engagement, action))


def bookable_kinds(engagement):
    kinds = BOOKABLE_KINDS.get(engagement.status, ())
    if Kind.FAREWELL in kinds and not _farewell_open(engagement):
        return ()
    return kinds


def _farewell_open(engagement):
    """The closing session after a withdrawal: if the coachee wished it, once."""
    return (
        engagement.closing_session_wanted
        and not engagement.sessions.filter(kind=Kind.FAREWELL)
        .exclude(status=CoachingSession.Status.CANCELLED)
        .exists()
    )


def require_bookable(engagement, kind):
    """Refuse a meeting of ``kind`` the engagement's state does not allow."""
    if kind not in bookable_kinds(engagement):
        raise TransitionError(
            gettext("A %(kind)s cannot be planned while the engagement is %(status)s.")
            % {"kind": Kind(kind).label, "status": engagement.get_status_display()}
        )


def move_for_booking(engagement, kind):
    """The transition that booking a meeting of ``kind`` makes now, or None."""
    return _BOOKING_MOVES.get((engagement.status, kind))


def display_order(status):
    """Open engagements in workflow order, then the ended ones."""
    return _POSITIONS[status]


_POSITIONS = {status: position for position, status in enumerate(Status.values)}


# The five steps of DOMAIN.md, each with the states during which it is the
# current step. Development sessions and reporting run side by side.
STEPS = [
    (_("Tripartite kickoff"), (Status.DRAFT, Status.KICKOFF)),
    (_("Tripartite convention"), (Status.CONTRACTING,)),
    (_("Development sessions"), (Status.ACTIVE,)),
    (_("Follow-up and reports"), (Status.ACTIVE,)),
    (_("Closing review"), (Status.CLOSING,)),
]
_ORDER = [
    Status.DRAFT,
    Status.KICKOFF,
    Status.CONTRACTING,
    Status.ACTIVE,
    Status.CLOSING,
]


@dataclass(frozen=True)
class Step:
    number: int
    label: str
    state: str  # "done", "current", "upcoming" or "stopped"


def steps(engagement, history):
    """
    The five steps with where ``engagement`` stands in them. ``history`` is the
    engagement's status changes in order; it tells at which step a withdrawn
    or cancelled engagement stopped.
    """
    status = engagement.status
    stopped = status in (Status.WITHDRAWN, Status.CANCELLED)
    if status == Status.COMPLETED:
        position = len(_ORDER)
    elif stopped:
        last_open = history[-1].from_status if history else Status.DRAFT
        position = _ORDER.index(last_open)
    else:
        position = _ORDER.index(status)
    result = []
    for number, (label, current_states) in enumerate(STEPS, start=1):
        first = min(_ORDER.index(s) for s in current_states)
        last = max(_ORDER.index(s) for s in current_states)
        if position > last:
            state = "done"
        elif position >= first:
            state = "stopped" if stopped else "current"
        else:
            state = "upcoming"
        result.append(Step(number=number, label=label, state=state))
    return result


# -- what comes next, for the portals -----------------------------------------

CLOSING_WARNING_DAYS = 45


@dataclass(frozen=True)
class NextStep:
    text: str
    urgent: bool = False
    # What the step is about, for the portal to link to the right page.
    subject: str = ""


def report_due(engagement):
    """
    The mid-point report is due once about half the contracted development
    sessions are used and no report has been started (others are written on
    request). Uses the portal selectors' ``sessions_used`` and ``reports_started``.
    """
    if not allows(engagement, "start_report"):
        return False
    half_used = engagement.sessions_used * 2 >= engagement.sessions_contracted
    return half_used and not getattr(engagement, "reports_started", 0)


def _coach_closing_step(engagement):
    """The coach's next step in the closing review, from the portal's annotations."""
    if not getattr(engagement, "closing_meeting_planned", True):
        return NextStep(gettext("Schedule the closing meeting"), urgent=True, subject="sessions")
    synthesis = getattr(engagement, "synthesis_status", None) or ClosingReview.Status.DRAFT
    if synthesis == ClosingReview.Status.CHANGES_REQUESTED:
        return NextStep(
            gettext("The coachee returned the synthesis"), urgent=True, subject="synthesis"
        )
    if synthesis == ClosingReview.Status.DRAFT:
        return NextStep(gettext("Write the synthesis"), urgent=True, subject="synthesis")
    if synthesis == ClosingReview.Status.VALIDATED:
        return NextStep(gettext("Issue the final synthesis"), urgent=True, subject="synthesis")
    return NextStep(gettext("Awaiting the coachee's validation of the synthesis"))


def next_step(engagement, role, today):
    """
    What ``role`` has to do or expect next, from the state and the counts the
    portal selectors annotate (``sessions_used``, ``signature_count``...).
    """
    status = engagement.status
    signatures = getattr(engagement, "signature_count", 0)
    i_must_sign = getattr(engagement, "convention_out", 0) and not getattr(
        engagement, "my_signature_count", 0
    )
    if status == Status.CONTRACTING and i_must_sign and role != Role.HR:
        return NextStep(gettext("Sign the convention"), urgent=True, subject="sign")
    # Annotated for the coachee and the sponsor once the objectives are agreed.
    if getattr(engagement, "my_baseline_missing", False) and allows(engagement, "score_baseline"):
        return NextStep(gettext("Give your baseline scores"), urgent=True, subject="baseline")
    if role == Role.COACH:
        if status == Status.DRAFT:
            return NextStep(gettext("Schedule the kickoff"), urgent=True)
        if status == Status.KICKOFF:
            return NextStep(gettext("Record the kickoff and send the convention"), urgent=True)
        if status == Status.CONTRACTING:
            return NextStep(gettext("Awaiting signatures (%(count)s of 3)") % {"count": signatures})
        if getattr(engagement, "reports_returned", 0):
            return NextStep(
                gettext("A report came back from the coachee"), urgent=True, subject="report_edit"
            )
        if status == Status.ACTIVE:
            if engagement.closing_requested_at:
                return NextStep(
                    gettext("The coachee asks for the closing review"),
                    urgent=True,
                    subject="closing_start",
                )
            if report_due(engagement):
                return NextStep(
                    gettext("Mid-point report to the sponsor due"),
                    urgent=True,
                    subject="report_due",
                )
            if (
                engagement.sessions_used >= engagement.sessions_contracted
                or (engagement.end_date - today).days <= CLOSING_WARNING_DAYS
            ):
                return NextStep(
                    gettext("Start the closing review"), urgent=True, subject="closing_start"
                )
            return NextStep(gettext("Sessions in progress"))
        if status == Status.CLOSING:
            return _coach_closing_step(engagement)
    if role == Role.COACHEE:
        if getattr(engagement, "objectives_to_approve", 0) and allows(
            engagement, "edit_objectives"
        ):
            return NextStep(gettext("Approve your objectives"), urgent=True, subject="objectives")
        if status == Status.DRAFT:
            return NextStep(gettext("Your coach is preparing the engagement"))
        if status == Status.KICKOFF:
            return NextStep(gettext("Kickoff meeting: agree on your objectives"))
        if status == Status.CONTRACTING:
            return NextStep(gettext("Waiting for the other signatures"))
        if getattr(engagement, "reports_awaiting", 0):
            return NextStep(gettext("A report awaits your approval"), urgent=True, subject="report")
        if status == Status.CLOSING:
            if getattr(engagement, "synthesis_status", "") == ClosingReview.Status.AWAITING_COACHEE:
                return NextStep(
                    gettext("Read and validate the synthesis"), urgent=True, subject="synthesis"
                )
            if getattr(engagement, "my_closing_missing", False):
                return NextStep(
                    gettext("Give your final scores"), urgent=True, subject="closing_scores"
                )
            return NextStep(gettext("Closing review under way"))
        if status == Status.COMPLETED:
            return NextStep(gettext("Your final synthesis is ready"), subject="synthesis")
    if role == Role.SPONSOR:
        if status in (Status.DRAFT, Status.KICKOFF):
            return NextStep(gettext("The kickoff meeting sets the objectives"))
        if status == Status.CONTRACTING:
            return NextStep(gettext("Waiting for the other signatures"))
        if getattr(engagement, "reports_to_score", 0):
            return NextStep(
                gettext("A report is ready: read it and give your scores"),
                urgent=True,
                subject="report",
            )
        if status == Status.CLOSING:
            if getattr(engagement, "my_closing_missing", False):
                return NextStep(
                    gettext("Give your final scores"), urgent=True, subject="closing_scores"
                )
            return NextStep(gettext("Closing review under way"))
        if status == Status.COMPLETED:
            return NextStep(gettext("The final synthesis is available"), subject="synthesis")
    if status == Status.ACTIVE:
        return NextStep(gettext("Sessions in progress"))
    return NextStep("")
