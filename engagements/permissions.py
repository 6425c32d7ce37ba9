"""
The confidentiality table of DOMAIN.md ("who sees what"), as code.

    record                                  coach  coachee        sponsor            HR
    engagement status, dates, parties       W      Y              Y                  Y
    objectives and success indicators       W      W              Y                  -
    convention and its signatures           W      Y, signs       Y, signs           Y, exports
    session schedule and attendance         W      Y (cancel)     Y (dates, counts)  Y (counts)
    coach's private session notes           W      -              -                  -
    shared session summary and action plan  W      W              -                  -
    goal-attainment scores and charts       Y      W (self)       W (observed),      -
                                                                  Y (released)
    sponsor report, draft/awaiting          W      Y, approves    -                  -
    sponsor report, released                Y      Y              Y                  -
    closing review and synthesis PDF        W      Y, validates   Y (shared parts)   -

Selectors build their querysets from these rules and views ask these
functions before showing or changing anything; no rule lives anywhere else.
A person with no role in an engagement gets a 404 for everything in it.
"""

from enum import StrEnum

from django.db.models import Exists, OuterRef, Q

from .errors import NotAllowed
from .models import (
    ClosingReview,
    Coach,
    CoachingSession,
    Engagement,
    HRMembership,
    ObjectiveScore,
    Role,
    SponsorReport,
    User,
)

COACH, COACHEE, SPONSOR, HR = Role.COACH, Role.COACHEE, Role.SPONSOR, Role.HR


class SessionView(StrEnum):
    """How much of the session schedule a role sees."""

    FULL = "full"  # dates, places, links, attendance, cancellation details
    DATES = "dates"  # dates of planned sessions and counts, tripartite meetings in detail
    COUNTS = "counts"  # numbers only
    NONE = "none"


# -- which engagements ------------------------------------------------------


def engagement_visibility(user):
    """
    Q filter on Engagement: the engagements ``user`` has a part in, as coach,
    coachee, sponsor or HR of the organization.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(coach__user=user) | Q(coachee=user) | Q(sponsor=user) | Q(hr_of_organization(user))


def hr_of_organization(user):
    """
    Exists, on Engagement: ``user`` is HR of the engagement's organization. A
    condition rather than a join, so that an organization with several HR
    members still gives each engagement once.
    """
    return Exists(
        HRMembership.objects.filter(organization_id=OuterRef("organization_id"), user_id=user.pk)
    )


def roles_in(engagement, user):
    """
    Every role ``user`` holds for ``engagement``, HR included. Whether they are
    HR comes from what the selectors loaded: ``viewer_is_hr``, when fetched for
    this very user (``selectors.engagement_for``), else the organization's HR
    memberships (prefetched by the portal selectors).
    """
    roles = engagement.roles_of(user)
    if not user.is_authenticated:
        return roles
    if getattr(engagement, "viewer_id", None) == user.pk:
        is_hr = engagement.viewer_is_hr
    else:
        is_hr = any(
            membership.user_id == user.pk
            for membership in engagement.organization.hr_memberships.all()
        )
    if is_hr:
        roles.add(HR)
    return roles


def _any(roles, allowed):
    return bool(set(roles) & allowed)


def require(engagement, user, rule):
    """
    For services: the roles ``user`` holds in ``engagement`` if ``rule`` (a
    function of this module) lets them act; ``NotAllowed`` otherwise.
    """
    roles = roles_in(engagement, user)
    if not rule(roles):
        raise NotAllowed
    return roles


def can_export_all_organizations(user):
    """Only the practice owner exports signed conventions across organizations (from the admin)."""
    return user.is_active and user.is_superuser


# -- what within an engagement ---------------------------------------------


def can_view_engagement(roles):
    return _any(roles, {COACH, COACHEE, SPONSOR, HR})


def can_manage_engagement(roles):
    """Scheduling, recording the kickoff, sending the convention: the coach."""
    return COACH in roles


def can_view_objectives(roles):
    return _any(roles, {COACH, COACHEE, SPONSOR})


def can_edit_objectives(roles):
    return _any(roles, {COACH, COACHEE})


def can_approve_objectives(roles):
    """The coachee owns the wording of the objectives."""
    return COACHEE in roles


def can_view_convention(roles):
    return _any(roles, {COACH, COACHEE, SPONSOR, HR})


def can_sign_convention(roles):
    return _any(roles, {COACH, COACHEE, SPONSOR})


def session_view(roles):
    if _any(roles, {COACH, COACHEE}):
        return SessionView.FULL
    if SPONSOR in roles:
        return SessionView.DATES
    if HR in roles:
        return SessionView.COUNTS
    return SessionView.NONE


def meeting_parties(session):
    """
    The roles invited to ``session`` (e-mails, calendar files, feeds): the
    sponsor takes part in the tripartite meetings only, never in a session
    between the coach and the coachee.
    """
    if session.is_tripartite:
        return (COACH, COACHEE, SPONSOR)
    return (COACH, COACHEE)


def sessions_seen_by_sponsor():
    """
    Q on CoachingSession: the sessions whose dates the sponsor sees — the
    planned ones (attendance reaches him only through an approved report),
    never the closing session a coachee who withdrew wished for (only her
    coach learns of that wish).
    """
    return Q(status=CoachingSession.Status.PLANNED) & ~Q(kind=CoachingSession.Kind.FAREWELL)


def sponsor_meetings():
    """Q on CoachingSession: the meetings a sponsor attends, hence sees in his calendar."""
    return Q(kind__in=CoachingSession.Kind.tripartite())


def can_manage_sessions(roles):
    return COACH in roles


def can_change_own_sessions(roles):
    """The coachee may cancel or reschedule their sessions."""
    return _any(roles, {COACH, COACHEE})


def can_give_availability(roles):
    """The coachee tells which days and times suit them."""
    return COACHEE in roles


def can_view_private_notes(roles):
    return COACH in roles


def can_view_shared_summaries(roles):
    return _any(roles, {COACH, COACHEE})


def report_statuses_visible(roles):
    """
    The sponsor-report statuses a person may read: the coach all of them, the
    coachee once submitted to her, the sponsor only once she has approved it.
    """
    if COACH in roles:
        return list(SponsorReport.Status.values)
    if COACHEE in roles:
        return [s for s in SponsorReport.Status.values if s != SponsorReport.Status.DRAFT]
    if SPONSOR in roles:
        return [SponsorReport.Status.RELEASED]
    return []


def can_write_reports(roles):
    return COACH in roles


def can_approve_reports(roles):
    """Only the coachee approves (or returns) a report before the sponsor reads it."""
    return COACHEE in roles


def score_rater(roles):
    """
    Whose goal-attainment scores a person gives: the coachee her own
    (self-assessment), the sponsor his (observed). The coach never scores.
    """
    if COACHEE in roles:
        return ObjectiveScore.Rater.COACHEE
    if SPONSOR in roles:
        return ObjectiveScore.Rater.SPONSOR
    return None


def can_give_scores(roles):
    return score_rater(roles) is not None


def can_give_observed_scores(roles):
    return score_rater(roles) == ObjectiveScore.Rater.SPONSOR


def can_view_scores(roles):
    return _any(roles, {COACH, COACHEE, SPONSOR})


def visible_scores(roles):
    """
    Q on ObjectiveScore: the scores a person may see. Coach and coachee see
    every score; the sponsor his own, and the coachee's only as released
    with an approved report or with the shared part of the final synthesis;
    HR none.
    """
    if _any(roles, {COACH, COACHEE}):
        return Q()
    if SPONSOR in roles:
        return _sponsor_scores(
            Q(
                objective__engagement__closing_review__status=ClosingReview.Status.COMPLETED,
                objective__engagement__closing_review__share_objectives_assessment=True,
            )
        )
    return Q(pk__in=[])


def _sponsor_scores(final_shared):
    """
    The sponsor's own scores, the coachee's released with an approved report,
    and her final scores where ``final_shared`` holds: they go with "how far
    each objective was reached", if she shares that part of the synthesis.
    """
    return (
        Q(rater=ObjectiveScore.Rater.SPONSOR)
        | Q(milestone=ObjectiveScore.Milestone.REPORT, report__status=SponsorReport.Status.RELEASED)
        | (Q(milestone=ObjectiveScore.Milestone.CLOSING) & final_shared)
    )


def report_document_scores(report):
    """
    Q on ObjectiveScore: the scores a report's PDF shows, whoever downloads
    it — the document is the sponsor's: his own baseline, and both parties'
    scores on the reports released up to this one. Never the coachee's
    baseline, never a later report's scores.
    """
    earlier_or_this = Q(report__period_end__lt=report.period_end) | Q(report=report)
    return Q(milestone=ObjectiveScore.Milestone.BASELINE, rater=ObjectiveScore.Rater.SPONSOR) | (
        Q(milestone=ObjectiveScore.Milestone.REPORT, report__status=SponsorReport.Status.RELEASED)
        & earlier_or_this
    )


def synthesis_scores(review, *, version):
    """Q on ObjectiveScore: the scores printed in one version of the final synthesis."""
    if version == "coachee":
        return Q()
    return _sponsor_scores(Q() if review.share_objectives_assessment else Q(pk__in=[]))


def can_view_closing_review(roles):
    """The whole closing review: coach and coachee (the sponsor: the shared parts only)."""
    return _any(roles, {COACH, COACHEE})


def synthesis_statuses_visible(roles):
    """
    The closing-review statuses a person may read: the coach all of them, the
    coachee once submitted to her, the sponsor only the issued synthesis.
    """
    Status = ClosingReview.Status
    if COACH in roles:
        return list(Status.values)
    if COACHEE in roles:
        return [s for s in Status.values if s != Status.DRAFT]
    if SPONSOR in roles:
        return [Status.COMPLETED]
    return []


def can_view_synthesis(roles):
    """Some state of the synthesis is for them (the sponsor: once issued, shared parts only)."""
    return bool(synthesis_statuses_visible(roles))


def can_write_synthesis(roles):
    return COACH in roles


def can_validate_synthesis(roles):
    """Only the coachee co-validates the synthesis and chooses what the sponsor receives."""
    return COACHEE in roles


def can_request_closing(roles):
    return COACHEE in roles


def can_start_closing(roles):
    return COACH in roles


def synthesis_versions(roles):
    """
    The versions of the final synthesis PDF a person may download: the coach
    both, the coachee hers (whole), the sponsor his (the shared parts).
    """
    if COACH in roles:
        return ("coachee", "sponsor")
    if COACHEE in roles:
        return ("coachee",)
    if SPONSOR in roles:
        return ("sponsor",)
    return ()


def can_cancel(roles):
    """The coach or the sponsor, with a reason (the workflow checks when)."""
    return _any(roles, {COACH, SPONSOR})


def can_withdraw(roles):
    return COACHEE in roles


def portals_of(user):
    """
    The portals a person may open, in the order they are offered: one per
    role they hold somewhere (a director may sponsor one engagement and be
    coached in another).
    """
    if not user.is_authenticated:
        return []
    # One query for the four questions: this runs on every page (the nav).
    held = (
        User.objects.filter(pk=user.pk)
        .annotate(
            coach=Exists(Coach.objects.filter(user=OuterRef("pk"))),
            coachee=Exists(Engagement.objects.filter(coachee=OuterRef("pk"))),
            sponsor=Exists(Engagement.objects.filter(sponsor=OuterRef("pk"))),
            hr=Exists(HRMembership.objects.filter(user=OuterRef("pk"))),
        )
        .values("coach", "coachee", "sponsor", "hr")
        .get()
    )
    return [role for role in (COACH, COACHEE, SPONSOR, HR) if held[role]]


# -- HR access (DOMAIN.md, "Who uses it") ------------------------------------


def hr_grantable_organizations(user):
    """
    Q on Organization: where ``user`` may give HR access — every organization
    for the practice owner, their own organizations for an existing HR.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    return Q(hr_memberships__user=user)


def hr_proposable_organizations(user):
    """
    Q on Organization: where ``user`` may propose an HR contact — the
    organizations in which they hold an engagement as an active coach.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(engagements__coach__user=user, engagements__coach__is_active=True)
