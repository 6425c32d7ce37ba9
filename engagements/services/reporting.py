"""
Follow-up (DOMAIN.md step 4): sponsor reports the coachee approves before the
sponsor reads them, and the goal-attainment scores each party gives.

    draft (coach) -> awaiting approval (coachee) -> released (sponsor reads it)
                          `-> returned (coachee's comment to the coach) -> draft again

The coach writes; only the coachee approves or returns; approval releases the
report to the sponsor, who then adds his observed scores. A released report
is never edited. Scores are given by the coachee (self) and the sponsor
(observed) themselves, never by the coach, and never edited: a later
milestone adds a new one.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import charts, clock, permissions, selectors, tasks, workflow
from ..errors import ApplicationError, NotAllowed
from ..models import (
    SCORE_MAX,
    SCORE_MIN,
    CoachingSession,
    Engagement,
    ObjectiveScore,
    ReportProgress,
    Role,
    SponsorReport,
    User,
)
from ..pdf import render_html, reused_pdf

Status = SponsorReport.Status
Milestone = ObjectiveScore.Milestone


# -- the period and its figures ------------------------------------------------------


def report_suggested_period(engagement: Engagement) -> tuple[date, date]:
    """
    The period a new report covers by default: from the day after the last
    report (or the start of the engagement) to today.
    """
    today = clock.today()
    last = engagement.reports.exclude(status=Status.CLOSED).order_by("-period_end").first()
    start = last.period_end + timedelta(days=1) if last else engagement.start_date
    start = min(start, today)
    return start, today


def _attendance(engagement, period_start, period_end):
    """Held, missed, late cancellations and hours used by the development sessions of a period."""
    sessions = CoachingSession.objects.development().filter(
        engagement=engagement,
        starts_at__date__gte=period_start,
        starts_at__date__lte=period_end,
    )
    figures = {"sessions_held": 0, "sessions_missed": 0, "late_cancellations": 0}
    minutes = 0
    for session in sessions.filter(CoachingSession.USED):
        if session.status == CoachingSession.Status.HELD:
            figures["sessions_held"] += 1
        elif session.status == CoachingSession.Status.MISSED:
            figures["sessions_missed"] += 1
        else:
            figures["late_cancellations"] += 1
        minutes += session.duration_minutes
    figures["hours_used"] = (Decimal(minutes) / 60).quantize(Decimal("0.01"))
    return figures


def _refresh_attendance(report):
    for field, value in _attendance(
        report.engagement, report.period_start, report.period_end
    ).items():
        setattr(report, field, value)


def reports_attendance_refresh(*, engagement: Engagement, day: date) -> int:
    """
    After an attendance is recorded or corrected (the caller holds the
    engagement's lock): the open report whose period covers ``day`` shows
    the new figures, even while it awaits the coachee's approval, so that she
    approves what is true. A released report is never changed.
    """
    refreshed = 0
    for report in engagement.reports.filter(
        status__in=Status.open(), period_start__lte=day, period_end__gte=day
    ):
        _refresh_attendance(report)
        report.save(
            update_fields=[
                "sessions_held",
                "sessions_missed",
                "late_cancellations",
                "hours_used",
                "updated_at",
            ]
        )
        refreshed += 1
    return refreshed


# -- writing (the coach) -------------------------------------------------------------


def _locked(report):
    """The report and its engagement, locked in that order (engagement first)."""
    engagement = Engagement.objects.select_for_update().get(pk=report.engagement_id)
    report = SponsorReport.objects.select_for_update().get(pk=report.pk)
    report.engagement = engagement
    return report


def report_start(
    *, engagement: Engagement, coach: User, period_start: date, period_end: date
) -> SponsorReport:
    """
    The coach starts a report for a period: attendance and hours come from
    the sessions of the period, an empty paragraph waits for each objective.
    One report is written at a time.
    """
    permissions.require(engagement, coach, permissions.can_write_reports)
    if period_end < period_start:
        raise ApplicationError(_("The period must end after it starts."))
    if period_end > clock.today():
        raise ApplicationError(
            _("A report covers a period that has passed: end it today at the latest.")
        )
    if period_start < engagement.start_date:
        raise ApplicationError(_("The period starts before the engagement."))
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require(engagement, "start_report")
        if engagement.reports.filter(status__in=Status.open()).exists():
            raise ApplicationError(
                _("A report is already being written: finish it before starting another.")
            )
        report = SponsorReport(
            engagement=engagement,
            author=coach,
            period_start=period_start,
            period_end=period_end,
        )
        _refresh_attendance(report)
        report.save()
        ReportProgress.objects.bulk_create(
            ReportProgress(report=report, objective=objective)
            for objective in engagement.objectives.order_by("position")
        )
    return report


def report_save(
    *, report: SponsorReport, coach: User, progress: dict[int, str], general_comment: str
) -> SponsorReport:
    """
    Save the coach's draft: progress per objective (``progress`` maps an
    objective id to its text) and the general comment. Attendance is
    refreshed from the sessions each time.
    """
    permissions.require(report.engagement, coach, permissions.can_write_reports)
    with transaction.atomic():
        report = _locked(report)
        workflow.require(report.engagement, "handle_report")
        if not report.is_editable:
            raise ApplicationError(
                _("This report is no longer a draft: a correction is a new report.")
            )
        for entry in report.objective_progress.all():
            if entry.objective_id in progress:
                entry.text = progress[entry.objective_id].strip()
                entry.save(update_fields=["text"])
        report.general_comment = general_comment.strip()
        _refresh_attendance(report)
        report.save()
    return report


def report_submit(*, report: SponsorReport, coach: User) -> SponsorReport:
    """The coach submits the report to the coachee, who reads and approves it (or not)."""
    permissions.require(report.engagement, coach, permissions.can_write_reports)
    with transaction.atomic():
        report = _locked(report)
        workflow.require(report.engagement, "handle_report")
        if not report.is_editable:
            raise ApplicationError(_("This report has already been submitted."))
        missing = [
            e.objective.title
            for e in report.objective_progress.select_related("objective")
            if not e.text
        ]
        problems = [
            _("Write the progress on “%(objective)s”.") % {"objective": title} for title in missing
        ]
        if not report.general_comment:
            problems.append(_("Write a general comment."))
        if problems:
            raise ApplicationError(problems)
        _refresh_attendance(report)
        report.status = Status.AWAITING_APPROVAL
        report.submitted_at = clock.now()
        report.save()
        tasks.send_report_submitted.delay_on_commit(report.pk, report.submitted_at.isoformat())
    return report


# -- approving (the coachee) ---------------------------------------------------------


def _awaiting_coachee(report, coachee):
    permissions.require(report.engagement, coachee, permissions.can_approve_reports)
    report = _locked(report)
    workflow.require(report.engagement, "handle_report")
    if report.status != Status.AWAITING_APPROVAL:
        raise ApplicationError(_("This report is not awaiting your approval."))
    return report


def report_return(*, report: SponsorReport, coachee: User, comment: str) -> SponsorReport:
    """The coachee returns the report to the coach with a comment; the sponsor sees nothing."""
    comment = comment.strip()
    if not comment:
        raise ApplicationError(_("Tell your coach what to change."))
    with transaction.atomic():
        report = _awaiting_coachee(report, coachee)
        report.status = Status.CHANGES_REQUESTED
        report.coachee_comment = comment
        report.returned_at = clock.now()
        report.save()
        tasks.send_report_returned.delay_on_commit(report.pk, report.returned_at.isoformat())
    return report


def report_approve(
    *, report: SponsorReport, coachee: User, scores: dict[int, int]
) -> SponsorReport:
    """
    The coachee approves the report with her self-score on each objective;
    approval releases it to the sponsor, who is notified. Only once: a second
    approval, or one racing an edit, is refused and changes nothing.
    """
    with transaction.atomic():
        report = _awaiting_coachee(report, coachee)
        objectives = list(report.engagement.objectives.order_by("position"))
        now = clock.now()
        scores_create(
            objectives=objectives,
            scores=scores,
            rater=ObjectiveScore.Rater.COACHEE,
            by=coachee,
            milestone=Milestone.REPORT,
            report=report,
            now=now,
        )
        report.status = Status.RELEASED
        report.approved_at = report.released_at = now
        report.save()
        tasks.send_report_released.delay_on_commit(report.pk)
    return report


# -- scores (the coachee and the sponsor, each their own) ---------------------------


def scores_create(*, objectives, scores, rater, by, milestone, report=None, now):
    """
    One score per objective, all of them, by ``rater`` at ``milestone``; a
    score already given is never replaced (a later milestone adds one).
    """
    missing = [o.title for o in objectives if scores.get(o.pk) is None]
    if missing:
        raise ApplicationError(
            [_("Give a score to “%(objective)s”.") % {"objective": title} for title in missing]
        )
    already = ObjectiveScore.objects.filter(
        objective__in=objectives, milestone=milestone, rater=rater, report=report
    )
    if already.exists():
        raise ApplicationError(_("These scores have already been given; they are not changed."))
    for objective in objectives:
        score = scores[objective.pk]
        if not SCORE_MIN <= score <= SCORE_MAX:
            raise ApplicationError(_("A score goes from −2 to +2."))
        ObjectiveScore.objects.create(
            objective=objective,
            milestone=milestone,
            report=report,
            rater=rater,
            scored_by=by,
            score=score,
            scored_at=now,
        )


def baseline_scores_give(*, engagement: Engagement, user: User, scores: dict[int, int]) -> None:
    """
    The coachee (self) or the sponsor (observed) gives the baseline score of
    each agreed objective, from their own page. A score once given stays; an
    objective added later gets its own baseline then.
    """
    roles = permissions.roles_in(engagement, user)
    rater = permissions.score_rater(roles)
    if rater is None:
        raise NotAllowed(_("The coachee and the sponsor give the scores, each their own."))
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require(engagement, "score_baseline")
        objectives = list(engagement.objectives.order_by("position"))
        if not objectives or any(o.approved_by_coachee_at is None for o in objectives):
            raise ApplicationError(_("Baseline scores are given once the objectives are agreed."))
        to_score = objectives_unscored(objectives, milestone=Milestone.BASELINE, rater=rater)
        if not to_score:
            raise ApplicationError(_("These scores have already been given; they are not changed."))
        scores_create(
            objectives=to_score,
            scores=scores,
            rater=rater,
            by=user,
            milestone=Milestone.BASELINE,
            now=clock.now(),
        )


def objectives_unscored(objectives, *, milestone, rater):
    """The objectives of ``objectives`` without a score from ``rater`` at ``milestone``."""
    scored = set(
        ObjectiveScore.objects.filter(
            objective__in=objectives, milestone=milestone, rater=rater
        ).values_list("objective_id", flat=True)
    )
    return [o for o in objectives if o.pk not in scored]


def report_scores_give(*, report: SponsorReport, sponsor: User, scores: dict[int, int]) -> None:
    """The sponsor, having read a released report, adds his observed score on each objective."""
    permissions.require(report.engagement, sponsor, permissions.can_give_observed_scores)
    with transaction.atomic():
        report = _locked(report)
        workflow.require(report.engagement, "score_report")
        if report.status != Status.RELEASED:
            raise ApplicationError(_("The sponsor scores a report once it is released."))
        scores_create(
            objectives=list(report.engagement.objectives.order_by("position")),
            scores=scores,
            rater=ObjectiveScore.Rater.SPONSOR,
            by=sponsor,
            milestone=Milestone.REPORT,
            report=report,
            now=clock.now(),
        )


# -- the end of the engagement -------------------------------------------------------


def reports_close_open(*, engagement: Engagement) -> int:
    """
    A withdrawal closes the report being written or approved; it is never
    released. Call inside the caller's transaction. Returns how many closed.
    """
    return engagement.reports.filter(status__in=Status.open()).update(
        status=Status.CLOSED, closed_at=clock.now(), updated_at=timezone.now()
    )


# -- reminders -----------------------------------------------------------------------


def reports_due():
    """
    Engagements whose mid-point report is due and not started
    (``workflow.report_due``: about half the contracted sessions used, no report yet).
    """
    candidates = (
        selectors.with_session_counts(
            Engagement.objects.filter(status__in=workflow.states_allowing("start_report"))
        )
        .annotate(
            reports_started=Count(
                "reports", filter=~Q(reports__status=Status.CLOSED), distinct=True
            )
        )
        .select_related("coach__user", "coachee", "sponsor")
    )
    return [engagement for engagement in candidates if workflow.report_due(engagement)]


def report_document(*, engagement, report, language) -> bytes:
    """
    A released report's PDF, as the report PDF view renders it: the sponsor's
    view as of that report, whoever downloads it.
    """
    report = (
        SponsorReport.objects.filter(pk=report.pk)
        .prefetch_related(
            Prefetch(
                "objective_progress",
                queryset=ReportProgress.objects.select_related("objective").order_by(
                    "objective__position"
                ),
            )
        )
        .get()
    )
    objectives = list(
        selectors.objectives_with_scores(engagement, permissions.report_document_scores(report))
    )
    reports_so_far = [
        r
        for r in selectors.reports_for(engagement, {Role.SPONSOR})
        if r.period_end < report.period_end or r.pk == report.pk
    ]
    # Rendered once per content (a score given since makes another document).
    return reused_pdf(
        render_html(
            "pdf/report.html",
            {
                "engagement": engagement,
                "report": report,
                "entries": report.objective_progress.all(),
                "charts": charts.objective_charts(objectives, reports_so_far),
            },
            language=language,
        )
    )
