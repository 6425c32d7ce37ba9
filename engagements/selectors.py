"""
Reads scoped to a user: the only way views fetch records.

Each selector applies ``permissions`` and returns a queryset already carrying
what its page displays (joins, prefetches, counts as subqueries), so that the
number of queries of a page does not grow with the data.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import clock, permissions, workflow
from .models import (
    ClosingReview,
    Coach,
    CoachingSession,
    Convention,
    ConventionExport,
    Engagement,
    HRMembership,
    HRProposal,
    Notification,
    Objective,
    ObjectiveScore,
    Organization,
    ReportProgress,
    Role,
    Signature,
    SponsorReport,
    StatusChange,
)
from .permissions import SessionView

# -- engagements --------------------------------------------------------------


def active_coach(user):
    """The user's coach profile if they coach for the practice now; None otherwise."""
    return Coach.objects.filter(user=user, is_active=True).first()


def _with_parties(queryset, user):
    """
    Parties and organization loaded, and whether ``user`` is HR of the
    organization (``permissions.roles_in`` reads it, for ``user`` only).
    """
    queryset = queryset.select_related("organization", "coach__user", "coachee", "sponsor")
    if not user.is_authenticated:
        return queryset
    return queryset.annotate(
        viewer_id=Value(user.pk), viewer_is_hr=permissions.hr_of_organization(user)
    )


def engagements_for(user):
    """Engagements ``user`` has a part in, with parties and organization loaded."""
    return _with_parties(Engagement.objects.filter(permissions.engagement_visibility(user)), user)


def engagement_for(user, pk, *, with_closing_review=False):
    """
    One engagement ``user`` has a part in; ``Engagement.DoesNotExist`` otherwise.
    Fetched by its key, then kept only if ``user`` holds a role in it: the rule
    of ``permissions.engagement_visibility``, asked of the row already loaded
    (``roles_in``) rather than compiled into the query. ``with_closing_review``
    loads the closing review with it, for ``closing_review_for`` to filter.
    """
    if not user.is_authenticated:
        raise Engagement.DoesNotExist
    queryset = _with_parties(Engagement.objects.all(), user)
    if with_closing_review:
        queryset = queryset.select_related("closing_review")
    engagement = queryset.get(pk=pk)
    if not permissions.can_view_engagement(permissions.roles_in(engagement, user)):
        raise Engagement.DoesNotExist
    return engagement


def _count(queryset):
    """A correlated COUNT(*) of ``queryset`` (already filtered on the outer engagement)."""
    return Coalesce(
        Subquery(
            queryset.order_by().values("engagement").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _sessions_of_outer():
    return CoachingSession.objects.filter(engagement=OuterRef("pk"))


def with_session_counts(queryset):
    """Counts every party and HR may see: development sessions used and planned, hours used."""
    development = _sessions_of_outer().development()
    minutes_used = Coalesce(
        Subquery(
            development.used()
            .order_by()
            .values("engagement")
            .annotate(total=Sum("duration_minutes"))
            .values("total")[:1],
            output_field=IntegerField(),
        ),
        0,
    )
    return queryset.annotate(
        sessions_used=_count(development.used()),
        sessions_planned=_count(development.filter(status=CoachingSession.Status.PLANNED)),
        minutes_used=minutes_used,
        signature_count=_count(
            Signature.objects.filter(
                convention__engagement=OuterRef("pk"),
                convention__status__in=[Convention.Status.SENT, Convention.Status.SIGNED],
            ).annotate(engagement=F("convention__engagement"))
        ),
        signed_on=Subquery(
            Convention.objects.filter(
                engagement=OuterRef("pk"), status=Convention.Status.SIGNED
            ).values("signed_at")[:1]
        ),
    )


_ROLE_FILTERS = {
    Role.COACH: lambda user: Q(coach__user=user),
    Role.COACHEE: lambda user: Q(coachee=user),
    Role.SPONSOR: lambda user: Q(sponsor=user),
    Role.HR: lambda user: Q(
        organization__in=HRMembership.objects.filter(user=user).values("organization")
    ),
}


# Who each portal names in its list of engagements.
_PORTAL_PARTIES = {
    Role.COACH: ("organization", "coachee"),
    Role.COACHEE: ("coach__user", "sponsor"),
    Role.SPONSOR: ("coach__user", "coachee"),
    Role.HR: ("coach__user", "coachee", "sponsor"),
}


def portal_engagements(user, role):
    """
    The engagements of one portal, with their parties and organization; what
    the portal shows of each comes from ``with_portal_figures``.
    """
    queryset = Engagement.objects.filter(_ROLE_FILTERS[role](user)).select_related(
        *_PORTAL_PARTIES[role]
    )
    # The closing review's state, joined (one per engagement): the sponsor
    # learns only whether the final synthesis is out.
    if role in (Role.COACH, Role.COACHEE):
        queryset = queryset.annotate(synthesis_status=F("closing_review__status"))
    elif role == Role.SPONSOR:
        queryset = queryset.annotate(
            synthesis_released=Case(
                When(closing_review__status=ClosingReview.Status.COMPLETED, then=True),
                default=False,
            )
        )
    if role == Role.COACHEE:
        queryset = queryset.prefetch_related(
            Prefetch("objectives", queryset=Objective.objects.order_by("position")),
            Prefetch(
                "sessions",
                # The latest action plan is the last held session's, never
                # one written ahead for a meeting still to come.
                queryset=CoachingSession.objects.filter(
                    shared_summary__isnull=False, status=CoachingSession.Status.HELD
                )
                .select_related("shared_summary")
                .order_by("-starts_at"),
                to_attr="summarized_sessions",
            ),
        )
    return queryset


def with_portal_figures(engagements, role, user):
    """
    ``engagements`` (a list, returned) each with the figures its portal shows
    and ``workflow.next_step`` reads, and nothing more (HR gets counts, never
    dates of sessions or report figures): one grouped query per kind of record
    for the whole list, however long.

    Every role: ``sessions_used``, ``sessions_planned``, ``minutes_used``,
    ``signature_count``, ``signed_on``. The parties: ``next_session_at`` (for
    the sponsor, the next meeting he attends), ``convention_out`` and
    ``my_signature_count``, the reports they may read counted by state
    (``reports_started``, ``reports_returned``, ``reports_awaiting``,
    ``reports_released``, ``open_report_id``). The coach:
    ``closing_meeting_planned``. The coachee and the sponsor:
    ``my_baseline_missing``, ``my_closing_missing``; the coachee:
    ``objectives_to_approve``; the sponsor: ``reports_to_score``,
    ``report_to_score_id``. (``portal_engagements`` joins the closing review's
    ``synthesis_status``, or for the sponsor ``synthesis_released``.)
    """
    engagements = list(engagements)
    by_pk = {engagement.pk: engagement for engagement in engagements}
    if not by_pk:
        return engagements
    party = role in (Role.COACH, Role.COACHEE, Role.SPONSOR)
    _session_figures(by_pk, role, party)
    _convention_figures(by_pk, user, party)
    if party:
        _report_figures(by_pk, role)
    if role in (Role.COACHEE, Role.SPONSOR):
        _score_figures(by_pk, role)
    return engagements


def _set(by_pk, **defaults):
    for engagement in by_pk.values():
        for name, value in defaults.items():
            setattr(engagement, name, value)


def _session_figures(by_pk, role, party):
    development = Q(kind=CoachingSession.Kind.DEVELOPMENT)
    used = development & CoachingSession.USED
    figures = {
        "sessions_used": Count("pk", filter=used),
        "sessions_planned": Count(
            "pk", filter=development & Q(status=CoachingSession.Status.PLANNED)
        ),
        "minutes_used": Sum("duration_minutes", filter=used, default=0),
    }
    defaults = {"sessions_used": 0, "sessions_planned": 0, "minutes_used": 0}
    if party:
        upcoming = Q(status=CoachingSession.Status.PLANNED, starts_at__gte=timezone.now())
        if role == Role.SPONSOR:
            upcoming &= permissions.sponsor_meetings()
        figures["next_session_at"] = Min("starts_at", filter=upcoming)
        defaults["next_session_at"] = None
    if role == Role.COACH:
        figures["closing_meeting_planned"] = Count(
            "pk",
            filter=Q(
                kind=CoachingSession.Kind.CLOSING,
                status__in=[CoachingSession.Status.PLANNED, CoachingSession.Status.HELD],
            ),
        )
        defaults["closing_meeting_planned"] = 0
    _set(by_pk, **defaults)
    rows = (
        CoachingSession.objects.filter(engagement_id__in=by_pk)
        .order_by()
        .values("engagement_id")
        .annotate(**figures)
    )
    for row in rows:
        engagement = by_pk[row.pop("engagement_id")]
        for name, value in row.items():
            setattr(engagement, name, value)
    if role == Role.COACH:
        for engagement in by_pk.values():
            engagement.closing_meeting_planned = bool(engagement.closing_meeting_planned)


def _convention_figures(by_pk, user, party):
    """Signatures of the conventions out or signed; the date it was signed; one out to sign."""
    _set(by_pk, signature_count=0, signed_on=None)
    if party:
        _set(by_pk, convention_out=0, my_signature_count=0)
    rows = (
        Convention.objects.filter(
            engagement_id__in=by_pk,
            status__in=[Convention.Status.SENT, Convention.Status.SIGNED],
        )
        .order_by("version")
        .values("engagement_id", "status", "signed_at")
        .annotate(
            signers=Count("signatures"),
            mine=Count("signatures", filter=Q(signatures__signer=user)),
        )
    )
    for row in rows:
        engagement = by_pk[row["engagement_id"]]
        engagement.signature_count += row["signers"]
        if row["status"] == Convention.Status.SIGNED:
            engagement.signed_on = row["signed_at"]
        elif party:
            engagement.convention_out += 1
            engagement.my_signature_count += row["mine"]


def _report_figures(by_pk, role):
    """The reports ``role`` may read, counted by state (the sponsor: those he has not scored)."""
    Status = SponsorReport.Status
    _set(
        by_pk,
        reports_started=0,
        reports_returned=0,
        reports_awaiting=0,
        reports_released=0,
        open_report_id=None,
    )
    reports = SponsorReport.objects.filter(
        engagement_id__in=by_pk, status__in=permissions.report_statuses_visible({role})
    ).order_by("period_end", "pk")
    if role == Role.SPONSOR:
        _set(by_pk, reports_to_score=0, report_to_score_id=None)
        reports = reports.annotate(
            scored=Exists(
                ObjectiveScore.objects.filter(
                    report=OuterRef("pk"), rater=ObjectiveScore.Rater.SPONSOR
                )
            )
        )
    for report in reports.values(
        "engagement_id", "pk", "status", *(["scored"] * (role == Role.SPONSOR))
    ):
        engagement = by_pk[report["engagement_id"]]
        status = report["status"]
        engagement.reports_started += status != Status.CLOSED
        engagement.reports_returned += status == Status.CHANGES_REQUESTED
        engagement.reports_awaiting += status == Status.AWAITING_APPROVAL
        engagement.reports_released += status == Status.RELEASED
        if status in Status.open():
            engagement.open_report_id = report["pk"]
        if status == Status.RELEASED and report.get("scored") is False:
            engagement.reports_to_score += 1
            if engagement.report_to_score_id is None:
                engagement.report_to_score_id = report["pk"]


def _score_figures(by_pk, role):
    """
    What the coachee or the sponsor still has to score: the baseline (once
    every objective is approved) and the closing scores; the coachee, the
    objectives she has to approve.
    """
    rater = ObjectiveScore.Rater.SPONSOR if role == Role.SPONSOR else ObjectiveScore.Rater.COACHEE

    def mine(milestone):
        # A join on the objectives' scores (never a subquery the planner may
        # answer by scanning every score of the practice).
        return Count("scores", filter=Q(scores__milestone=milestone, scores__rater=rater))

    objectives = {}
    for objective in (
        Objective.objects.filter(engagement_id__in=by_pk)
        .order_by()
        .values("pk", "engagement_id", "approved_by_coachee_at")
        .annotate(
            baseline=mine(ObjectiveScore.Milestone.BASELINE),
            closing=mine(ObjectiveScore.Milestone.CLOSING),
        )
    ):
        objectives.setdefault(objective["engagement_id"], []).append(objective)
    for pk, engagement in by_pk.items():
        rows = objectives.get(pk, [])
        to_approve = sum(row["approved_by_coachee_at"] is None for row in rows)
        engagement.my_baseline_missing = bool(
            rows and not to_approve and not all(row["baseline"] for row in rows)
        )
        engagement.my_closing_missing = not all(row["closing"] for row in rows)
        if role == Role.COACHEE:
            engagement.objectives_to_approve = to_approve


def portal_ended_engagements(user, role):
    """
    A portal's ended engagements, most recent first: a light list (names,
    state, date, whether the final synthesis is out), for pages of them.
    """
    return (
        Engagement.objects.filter(_ROLE_FILTERS[role](user))
        .ended()
        .select_related("coachee")
        .annotate(
            synthesis_released=Exists(
                ClosingReview.objects.filter(
                    engagement=OuterRef("pk"), status=ClosingReview.Status.COMPLETED
                )
            )
        )
        .order_by("-ended_at", "-pk")
    )


def upcoming_sessions_for_coach(user, *, days=7):
    """The coach's meetings of the next ``days``: when, what, and with whom (nothing else)."""
    now = timezone.now()
    return (
        CoachingSession.objects.filter(engagement__coach__user=user)
        .upcoming(now)
        .filter(starts_at__lt=now + timedelta(days=days))
        .select_related("engagement__coachee")
        .only(
            "starts_at",
            "kind",
            "format",
            "engagement__id",
            "engagement__coachee__first_name",
            "engagement__coachee__last_name",
            "engagement__coachee__email",
        )
        .order_by("starts_at")
    )


def upcoming_sessions_for_coachee(user, *, limit=5):
    return (
        CoachingSession.objects.filter(engagement__coachee=user)
        .upcoming()
        .select_related("engagement")
        .order_by("starts_at")[:limit]
    )


# -- records within an engagement (roles from permissions.roles_in) ------------


def objectives_for(engagement, roles):
    """The objectives, each with the scores the roles may see (``permissions.visible_scores``)."""
    if not permissions.can_view_objectives(roles):
        return Objective.objects.none()
    return objectives_with_scores(engagement, permissions.visible_scores(roles))


def objectives_with_scores(engagement, scores):
    """The objectives in order, each with its scores matching the Q ``scores``."""
    return engagement.objectives.prefetch_related(
        Prefetch(
            "scores",
            queryset=ObjectiveScore.objects.filter(scores).order_by("scored_at", "pk"),
        )
    ).order_by("position")


def sessions_for(engagement, roles):
    """The schedule, to the level of detail the roles allow (none for HR)."""
    view = permissions.session_view(roles)
    sessions = engagement.sessions.order_by("starts_at")
    if view == SessionView.FULL:
        related = ["shared_summary"] if permissions.can_view_shared_summaries(roles) else []
        if permissions.can_view_private_notes(roles):
            related.append("private_note")
        return sessions.select_related(*related)
    if view == SessionView.DATES:
        return sessions.filter(permissions.sessions_seen_by_sponsor()).only(
            "id", "engagement_id", "kind", "starts_at", "duration_minutes", "status"
        )
    return CoachingSession.objects.none()


SCHEDULE_FIELDS = (
    "id",
    "engagement_id",
    "kind",
    "starts_at",
    "duration_minutes",
    "status",
    "cancelled_late",
)


def schedule_for(engagement, roles):
    """
    The schedule page's list: ``sessions_for``, without the notes the list
    does not show (the full view loads only what it lists and counts).
    """
    sessions = sessions_for(engagement, roles)
    if permissions.session_view(roles) == SessionView.FULL:
        sessions = sessions.select_related(None).only(*SCHEDULE_FIELDS)
    return sessions


def reports_for(engagement, roles):
    """The reports the roles may read, latest first (the sponsor: released ones only)."""
    statuses = permissions.report_statuses_visible(roles)
    if not statuses:
        return SponsorReport.objects.none()
    return engagement.reports.filter(status__in=statuses).order_by("-period_end", "-pk")


def report_for(engagement, roles, pk):
    """
    One report the roles may read, with its progress per objective and the
    scores they may see; ``SponsorReport.DoesNotExist`` otherwise.
    """
    scores = ObjectiveScore.objects.filter(permissions.visible_scores(roles))
    return (
        reports_for(engagement, roles)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "objective_progress",
                queryset=ReportProgress.objects.select_related("objective").order_by(
                    "objective__position"
                ),
            ),
            Prefetch("scores", queryset=scores),
        )
        .get(pk=pk)
    )


def report_page_for(engagement, roles, pk):
    """
    ``report_for`` with what the report's page shows besides: the reports the
    roles may read (for the charts) and the objectives with the scores they
    may see, in four queries. The report is one of those reports, and its
    scores are those of the objectives' scores given with it: the same
    ``visible_scores``. ``SponsorReport.DoesNotExist`` if the roles may not read it.
    """
    reports = list(reports_for(engagement, roles).select_related("author"))
    report = next((r for r in reports if r.pk == pk), None)
    if report is None:
        raise SponsorReport.DoesNotExist
    objectives = list(objectives_for(engagement, roles))
    # Each entry's objective is one of those (the report's engagement's).
    by_pk = {objective.pk: objective for objective in objectives}
    prefetch_related_objects(
        [report],
        Prefetch(
            "objective_progress",
            queryset=ReportProgress.objects.order_by("objective__position"),
        ),
    )
    for entry in report.objective_progress.all():
        if entry.objective_id in by_pk:
            entry.objective = by_pk[entry.objective_id]
    scores = [
        score
        for objective in objectives
        for score in objective.scores.all()
        if score.report_id == report.pk
    ]
    return ReportPage(report=report, reports=reports, objectives=objectives, scores=scores)


@dataclass(frozen=True)
class ReportPage:
    report: SponsorReport
    reports: list
    objectives: list
    scores: list


def conventions_for(engagement, roles):
    if not permissions.can_view_convention(roles):
        return Convention.objects.none()
    # Signatures in the order they were given (their Meta ordering, which
    # would also sort by convention and engagement, the same for them all).
    return engagement.conventions.prefetch_related(
        Prefetch(
            "signatures", queryset=Signature.objects.select_related("signer").order_by("signed_at")
        )
    ).order_by("-version")


def closing_review_for(engagement, roles):
    """
    The closing review if the roles may see it: the coach always, the coachee
    once submitted to her, the sponsor once the final synthesis is issued
    (and then only its shared parts, which the templates show). None otherwise.
    """
    statuses = permissions.synthesis_statuses_visible(roles)
    if Engagement.closing_review.is_cached(engagement):
        # Loaded with the engagement (``engagement_for(with_closing_review=True)``):
        # left on it only if the roles may see it, so that nothing later in the
        # request (a template's ``engagement.closing_review``) reaches it.
        review = getattr(engagement, "closing_review", None)
        visible = review if review is not None and review.status in statuses else None
        Engagement.closing_review.related.set_cached_value(engagement, visible)
        return visible
    if not statuses:
        return None
    return ClosingReview.objects.filter(engagement=engagement, status__in=statuses).first()


def status_history(engagement):
    """The recorded transitions of an engagement already fetched through a selector."""
    return StatusChange.objects.filter(engagement=engagement).select_related("actor")


def session_counts(engagement, roles=(), sessions=None):
    """
    Counts every role may see (HR sees only these): development sessions used
    and planned, minutes used, contracted; and whether a development session
    has taken place (``workflow.development_started``). One narrow query of
    the development sessions; none when ``sessions`` is the schedule
    ``sessions_for`` gave ``roles`` that see every session (coach, coachee).
    """
    if sessions is None or permissions.session_view(roles) != SessionView.FULL:
        # Only what the counts need, never shown: a handful of rows per
        # engagement, cheaper to count here than an aggregate is to compile.
        sessions = (
            CoachingSession.objects.filter(engagement=engagement)
            .development()
            .only(
                "engagement_id", "kind", "status", "cancelled_late", "duration_minutes", "starts_at"
            )
            .order_by()
        )
    now = clock.now()
    development = [s for s in sessions if s.kind == CoachingSession.Kind.DEVELOPMENT]
    used = [s for s in development if s.counts_as_used]
    return {
        "used": len(used),
        "planned": sum(s.status == CoachingSession.Status.PLANNED for s in development),
        "minutes_used": sum(s.duration_minutes for s in used),
        "contracted": engagement.sessions_contracted,
        "development_started": any(
            workflow.development_session_started(s, now) for s in development
        ),
    }


def calendar_sessions_for(user, window=None):
    """
    A person's calendar: every session of the engagements they coach or are
    coached in, and only the tripartite meetings of those they sponsor,
    within the feed's window (``calendar.feed_window()``).
    """
    from .calendar import feed_window

    start, end = window or feed_window()
    recent = CoachingSession.objects.filter(starts_at__gte=start, starts_at__lt=end).select_related(
        "engagement__coach__user", "engagement__coachee", "engagement__sponsor"
    )
    return {
        Role.COACH: recent.filter(engagement__coach__user=user),
        Role.COACHEE: recent.filter(engagement__coachee=user),
        Role.SPONSOR: recent.filter(permissions.sponsor_meetings(), engagement__sponsor=user),
    }


def calendar_version(user, window):
    """
    What a person's feed depends on: how many meetings it holds and when the
    last of them or of their engagements (a withdrawal, new parties) changed.
    A change to any of them changes the answer. Two small queries: the
    person's engagements first, so that the sessions are read by index.
    """
    start, end = window
    theirs = Engagement.objects.filter(Q(coach__user=user) | Q(coachee=user))
    sponsored = Engagement.objects.filter(sponsor=user)
    sessions = CoachingSession.objects.filter(
        Q(engagement__in=theirs.values("pk"))
        | (permissions.sponsor_meetings() & Q(engagement__in=sponsored.values("pk"))),
        starts_at__gte=start,
        starts_at__lt=end,
    ).aggregate(count=Count("pk"), sessions_changed=Max("updated_at"))
    engagements = (theirs | sponsored).aggregate(engagements_changed=Max("updated_at"))
    return {**sessions, **engagements}


def engagement_filters(filters, prefix=""):
    """
    The HR page's filters (``HRFilterForm.filters()``) as a condition on
    engagements, or on a relation to them (``prefix``, e.g. ``"engagement__"``).
    """
    condition = Q()
    if query := (filters.get("q") or "").strip():
        condition &= Q(
            *[
                Q(**{f"{prefix}{field}__icontains": query})
                for field in (
                    "coachee__last_name",
                    "coachee__first_name",
                    "sponsor__last_name",
                    "sponsor__first_name",
                    "coach__user__last_name",
                    "title",
                )
            ],
            _connector=Q.OR,
        )
    if status := filters.get("status"):
        condition &= Q(**{f"{prefix}status": status})
    # The period: engagements that overlap it.
    if period_from := filters.get("period_from"):
        condition &= Q(**{f"{prefix}end_date__gte": period_from})
    if period_to := filters.get("period_to"):
        condition &= Q(**{f"{prefix}start_date__lte": period_to})
    if organizations := filters.get("organizations"):
        condition &= Q(**{f"{prefix}organization__in": organizations})
    return condition


def signed_conventions(*, user, filters=None, all_organizations=False):
    """
    The signed and sealed conventions ``user`` may export, filtered: those of
    the organizations where they are HR, or every organization's for the
    practice owner (``all_organizations``, from the admin).
    """
    conventions = Convention.objects.filter(status=Convention.Status.SIGNED).exclude(
        signed_document=""
    )
    if not (all_organizations and permissions.can_export_all_organizations(user)):
        organizations = HRMembership.objects.filter(user=user).values("organization")
        conventions = conventions.filter(engagement__organization__in=organizations)
    return (
        conventions.filter(engagement_filters(filters or {}, prefix="engagement__"))
        .select_related(
            "engagement__organization",
            "engagement__coachee",
            "engagement__sponsor",
            "engagement__coach__user",
        )
        .order_by("engagement__organization__name", "engagement__pk", "version")
    )


def convention_export_for(user, pk):
    """An export of signed conventions, to the person who asked for it only."""
    return ConventionExport.objects.filter(requested_by=user, pk=pk).first()


# -- HR access ----------------------------------------------------------------


def organizations_hr_grantable(user):
    """The organizations where ``user`` may give HR access (permissions.py)."""
    return Organization.objects.filter(
        pk__in=Organization.objects.filter(permissions.hr_grantable_organizations(user)).values(
            "pk"
        )
    ).order_by("name")


def organizations_hr_proposable(user):
    """The organizations where ``user`` may propose an HR contact (permissions.py)."""
    return Organization.objects.filter(
        pk__in=Organization.objects.filter(permissions.hr_proposable_organizations(user)).values(
            "pk"
        )
    ).order_by("name")


def coach_organizations(coach):
    """The organizations in which ``coach`` holds an engagement (the new-engagement form)."""
    return Organization.objects.filter(
        pk__in=Engagement.objects.filter(coach=coach).values("organization")
    ).order_by("name")


def hr_proposals_to_decide(user):
    """The pending HR proposals ``user`` may confirm or decline."""
    return (
        HRProposal.objects.filter(
            status=HRProposal.Status.PENDING,
            organization__in=organizations_hr_grantable(user).values("pk"),
        )
        .select_related("organization", "proposed_by")
        .order_by("created_at", "pk")
    )


def coach_clashes(engagement, starts, duration_minutes):
    """
    For each of ``starts`` (a meeting of ``duration_minutes``), the coach's
    meetings in any engagement that it would overlap: what booking refuses,
    shown before booking. One query whatever the number of dates.
    """
    if not starts:
        return []
    length = timedelta(minutes=duration_minutes)
    busy = list(
        CoachingSession.objects.filter(
            coach_id=engagement.coach_id,
            status__in=[CoachingSession.Status.PLANNED, CoachingSession.Status.HELD],
            starts_at__lt=max(starts) + length,
            # No meeting lasts more than 8 hours (CoachingSession's constraint).
            starts_at__gte=min(starts) - timedelta(hours=8),
        ).select_related("engagement__coachee")
    )
    return [
        [other for other in busy if other.starts_at < start + length and start < other.ends_at]
        for start in starts
    ]


# -- invitations -------------------------------------------------------------


def invitation_statuses(engagement, roles):
    """
    For the coach: whether the coachee and the sponsor accepted their
    invitation (chose a password), when it last went out, and when it may be
    sent again (one resend per person and hour). Nobody else sees it. One
    query, whatever the number of invitations sent, and none once both
    accepted (then only that is shown).
    """
    if not permissions.can_manage_engagement(roles):
        return []
    from .services.accounts import INVITATION_RESEND_INTERVAL

    people = {role: engagement.party_for(role) for role in (Role.COACHEE, Role.SPONSOR)}
    # Django asks the database nothing for an empty ``__in``.
    waiting = [person.pk for person in people.values() if not person.has_usable_password()]
    sent = {
        row["recipient_id"]: row
        for row in Notification.objects.filter(recipient__in=waiting, key__startswith="invitation:")
        .values("recipient_id")
        .annotate(
            last_sent_at=Max("sent_at"),
            last_resend_at=Max("created_at", filter=Q(key__contains=":resend-")),
        )
    }
    now = timezone.now()
    statuses = []
    for role, person in people.items():
        row = sent.get(person.pk, {})
        resend_at = row.get("last_resend_at")
        next_resend_at = resend_at + INVITATION_RESEND_INTERVAL if resend_at else None
        statuses.append(
            {
                "role": role,
                "person": person,
                "accepted": person.has_usable_password(),
                "last_sent_at": row.get("last_sent_at"),
                "next_resend_at": next_resend_at
                if next_resend_at and next_resend_at > now
                else None,
            }
        )
    return statuses
