"""
Reads scoped to a user: the only way views fetch records.

Each selector applies ``permissions`` and returns a queryset already carrying
what its page displays (joins, prefetches, counts as subqueries), so that the
number of queries of a page does not grow with the data.
"""

from datetime import timedelta

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
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


def _base(queryset):
    return queryset.select_related(
        "organization", "coach__user", "coachee", "sponsor"
    ).prefetch_related(
        Prefetch(
            "organization__hr_memberships",
            queryset=HRMembership.objects.only("id", "user_id", "organization_id"),
        )
    )


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


def with_next_session(queryset, *, sponsor=False):
    """The next planned meeting's start (for a sponsor, the next one he attends)."""
    upcoming = _sessions_of_outer().upcoming()
    if sponsor:
        upcoming = upcoming.filter(permissions.sponsor_meetings())
    return queryset.annotate(
        next_session_at=Subquery(upcoming.order_by("starts_at").values("starts_at")[:1])
    )


def _reports_of_outer(**filters):
    return SponsorReport.objects.filter(engagement=OuterRef("pk"), **filters)


def with_report_counts(queryset, *, statuses):
    return queryset.annotate(
        reports_started=_count(
            _reports_of_outer(status__in=statuses).exclude(status=SponsorReport.Status.CLOSED)
        ),
        reports_returned=_count(
            _reports_of_outer(status=SponsorReport.Status.CHANGES_REQUESTED, status__in=statuses)
        ),
        # The report a person is waiting on, if any (for the portal's links).
        open_report_id=Subquery(
            _reports_of_outer(status__in=SponsorReport.Status.open())
            .filter(status__in=statuses)
            .values("pk")[:1]
        ),
        reports_awaiting=_count(
            SponsorReport.objects.filter(
                engagement=OuterRef("pk"),
                status=SponsorReport.Status.AWAITING_APPROVAL,
                status__in=statuses,
            )
        ),
        reports_released=_count(
            SponsorReport.objects.filter(
                engagement=OuterRef("pk"),
                status=SponsorReport.Status.RELEASED,
                status__in=statuses,
            )
        ),
    )


def with_my_scores(queryset, rater):
    """
    What the coachee or the sponsor still has to score: the baseline (once
    every objective is approved) and, for the sponsor, released reports.
    """
    objectives = Objective.objects.filter(engagement=OuterRef("pk"))

    def mine(milestone):
        return ObjectiveScore.objects.filter(
            objective=OuterRef("pk"), milestone=milestone, rater=rater
        )

    queryset = queryset.annotate(
        my_baseline_missing=ExpressionWrapper(
            Exists(objectives)
            & ~Exists(objectives.filter(approved_by_coachee_at__isnull=True))
            & Exists(objectives.exclude(Exists(mine(ObjectiveScore.Milestone.BASELINE)))),
            output_field=BooleanField(),
        ),
        my_closing_missing=Exists(
            objectives.exclude(Exists(mine(ObjectiveScore.Milestone.CLOSING)))
        ),
    )
    if rater == ObjectiveScore.Rater.SPONSOR:
        scored = ObjectiveScore.objects.filter(report=OuterRef("pk"), rater=rater)
        to_score = _reports_of_outer(status=SponsorReport.Status.RELEASED).exclude(Exists(scored))
        queryset = queryset.annotate(
            reports_to_score=_count(to_score),
            report_to_score_id=Subquery(to_score.order_by("period_end").values("pk")[:1]),
        )
    return queryset


def with_my_signature(queryset, user):
    """Whether ``user`` has signed the convention currently out for signature."""
    return queryset.annotate(
        my_signature_count=_count(
            Signature.objects.filter(
                convention__engagement=OuterRef("pk"),
                convention__status=Convention.Status.SENT,
                signer=user,
            ).annotate(engagement=F("convention__engagement"))
        ),
        convention_out=_count(
            Convention.objects.filter(engagement=OuterRef("pk"), status=Convention.Status.SENT)
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


def portal_engagements(user, role):
    """
    The engagements of one portal, annotated with what that portal shows and
    nothing more (HR gets counts, never dates of sessions or report figures).
    """
    queryset = _base(Engagement.objects.filter(_ROLE_FILTERS[role](user)))
    queryset = with_session_counts(queryset)
    if role in (Role.COACH, Role.COACHEE):
        queryset = with_next_session(queryset)
        queryset = with_report_counts(
            queryset, statuses=permissions.report_statuses_visible({role})
        )
        queryset = queryset.annotate(
            synthesis_status=Subquery(
                ClosingReview.objects.filter(engagement=OuterRef("pk")).values("status")[:1]
            )
        )
    if role == Role.COACH:
        queryset = queryset.annotate(
            closing_meeting_planned=Exists(
                _sessions_of_outer().filter(
                    kind=CoachingSession.Kind.CLOSING,
                    status__in=[CoachingSession.Status.PLANNED, CoachingSession.Status.HELD],
                )
            )
        )
    if role == Role.COACHEE:
        queryset = with_my_scores(queryset, ObjectiveScore.Rater.COACHEE).annotate(
            objectives_to_approve=_count(
                Objective.objects.filter(
                    engagement=OuterRef("pk"), approved_by_coachee_at__isnull=True
                )
            )
        )
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
    elif role == Role.SPONSOR:
        queryset = with_next_session(queryset, sponsor=True)
        queryset = with_report_counts(
            queryset, statuses=permissions.report_statuses_visible({role})
        )
        queryset = with_my_scores(queryset, ObjectiveScore.Rater.SPONSOR)
        queryset = queryset.annotate(
            synthesis_released=Exists(
                ClosingReview.objects.filter(
                    engagement=OuterRef("pk"), status=ClosingReview.Status.COMPLETED
                )
            )
        )
    if role in (Role.COACH, Role.COACHEE, Role.SPONSOR):
        queryset = with_my_signature(queryset, user)
    return queryset


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
    now = timezone.now()
    return (
        CoachingSession.objects.filter(engagement__coach__user=user)
        .upcoming(now)
        .filter(starts_at__lt=now + timedelta(days=days))
        .select_related("engagement__coachee", "engagement__organization")
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
    if not statuses:
        return None
    if Engagement.closing_review.is_cached(engagement):
        # Loaded with the engagement (``engagement_for(with_closing_review=True)``).
        review = getattr(engagement, "closing_review", None)
        return review if review is not None and review.status in statuses else None
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
    query, whatever the number of invitations sent.
    """
    if not permissions.can_manage_engagement(roles):
        return []
    from .services.accounts import INVITATION_RESEND_INTERVAL

    people = {role: engagement.party_for(role) for role in (Role.COACHEE, Role.SPONSOR)}
    sent = {
        row["recipient_id"]: row
        for row in Notification.objects.filter(
            recipient__in=[p.pk for p in people.values()], key__startswith="invitation:"
        )
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
