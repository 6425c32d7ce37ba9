"""
Sponsor reports (DOMAIN.md step 4): the coach writes, the coachee approves or
returns, the sponsor reads once released; goal-attainment scores; who sees
what; the portals' prompts; the reminder; query counts; races.
"""

import io
import threading
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from engagements import clock, permissions, selectors, workflow
from engagements.errors import ApplicationError, NotAllowed
from engagements.models import (
    AuditEvent,
    ClosingReview,
    Engagement,
    ObjectiveScore,
    ReportProgress,
    Role,
    SponsorReport,
    User,
)
from engagements.services import reporting as service
from engagements.services.engagements import engagement_withdraw
from engagements.tasks import remind_reports_due

from . import factories
from .conftest import move_to

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
S = SponsorReport.Status
E = Engagement.Status
COACHEE, SPONSOR = ObjectiveScore.Rater.COACHEE, ObjectiveScore.Rater.SPONSOR
BASELINE, REPORT = ObjectiveScore.Milestone.BASELINE, ObjectiveScore.Milestone.REPORT
SECRET = "RENVOI-CONFIDENTIEL-7Q"


# -- fixtures and helpers -------------------------------------------------------------


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what services queue after commit (tasks run in-process in tests)."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def today():
    return timezone.localdate()


def days_ago(days, hour=10):
    return datetime.combine(today() - timedelta(days=days), time(hour), tzinfo=PARIS)


def make_active(engagement):
    """``engagement`` (in draft) made active since 120 days, with two approved objectives."""
    engagement = move_to(engagement, E.ACTIVE)
    Engagement.objects.filter(pk=engagement.pk).update(
        start_date=today() - timedelta(days=120), end_date=today() + timedelta(days=245)
    )
    engagement.refresh_from_db()
    for title in ("Déléguer davantage", "Tenir le cap en comité de direction"):
        factories.ObjectiveFactory(
            engagement=engagement, title=title, approved_by_coachee_at=timezone.now()
        )
    return engagement


def to_closing(engagement, coach):
    """The coach starts the closing review through the workflow."""
    [name] = [n for n, t in workflow.TRANSITIONS.items() if t.target == E.CLOSING]
    return workflow.transition(engagement, name, actor=coach)


def reach(engagement, status):
    """``engagement`` (in draft) moved to ``status`` through the workflow."""
    if status not in (E.CLOSING, E.COMPLETED):
        return move_to(engagement, status)
    engagement = to_closing(move_to(engagement, E.ACTIVE), engagement.coach.user)
    if status == E.COMPLETED:
        factories.ClosingReviewFactory(
            engagement=engagement,
            status=ClosingReview.Status.VALIDATED,
            coachee_validated_at=timezone.now(),
        )
        engagement = workflow.transition(engagement, "complete", actor=None)
    return engagement


@pytest.fixture
def active(engagement):
    return make_active(engagement)


def session(engagement, days, status="held", minutes=120, kind="development", late=False, hour=10):
    return factories.CoachingSessionFactory(
        engagement=engagement,
        kind=kind,
        starts_at=days_ago(days, hour),
        duration_minutes=minutes,
        status=status,
        cancelled_late=late,
        cancelled_at=timezone.now() if status == "cancelled" else None,
    )


def start(engagement, coach, **period):
    values = {"period_start": engagement.start_date, "period_end": today()}
    values.update(period)
    return service.report_start(engagement=engagement, coach=coach, **values)


def progress(engagement, text="Délègue désormais le suivi budgétaire"):
    return {o.pk: f"{text} ({o.title})" for o in engagement.objectives.all()}


def write(report, coach, text="Délègue désormais le suivi budgétaire", comment="Bonne dynamique"):
    return service.report_save(
        report=report,
        coach=coach,
        progress=progress(report.engagement, text),
        general_comment=comment,
    )


def every(engagement, value=1):
    """A score for every objective."""
    return {o.pk: value for o in engagement.objectives.all()}


def texts(report):
    return sorted(ReportProgress.objects.filter(report=report).values_list("text", flat=True))


@pytest.fixture
def draft(active, coach):
    return write(start(active, coach), coach)


@pytest.fixture
def awaiting(draft, coach):
    return service.report_submit(report=draft, coach=coach)


@pytest.fixture
def released(awaiting, coachee):
    return service.report_approve(
        report=awaiting, coachee=coachee, scores=every(awaiting.engagement)
    )


def report_in(engagement, status, **values):
    """A report in ``status`` made with the factories (one open per engagement)."""
    now = timezone.now()
    if status == S.RELEASED:
        values.setdefault("approved_at", now)
        values.setdefault("released_at", now)
    if status == S.CLOSED:
        values.setdefault("closed_at", now)
    values.setdefault("period_start", engagement.start_date)
    values.setdefault("period_end", today())
    report = factories.SponsorReportFactory(engagement=engagement, status=status, **values)
    for objective in engagement.objectives.all():
        factories.ReportProgressFactory(report=report, objective=objective)
    return report


def url(name, report):
    return reverse(name, args=[report.engagement_id, report.pk])


def score_data(engagement, value="1"):
    return {f"score_{o.pk}": value for o in engagement.objectives.all()}


def pdf_text(content):
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


# -- 1. starting, saving, submitting (the coach) -------------------------------------


def test_starting_a_report_counts_only_the_development_sessions_of_its_period(active, coach):
    # Days are Paris days: 00:00 on the first day is still the previous day in UTC.
    session(active, 60, hour=0)  # held, at the very start of the period
    session(active, 30, minutes=90)  # held
    session(active, 10, hour=23)  # held, late on the last day of the period
    session(active, 40, status="missed")
    session(active, 20, status="cancelled", late=True, minutes=60)
    session(active, 25, status="cancelled")  # cancelled in time: not used
    session(active, 15, status="planned")  # never recorded: not used
    session(active, 35, kind="midpoint")  # a tripartite meeting, not a development session
    session(active, 61, hour=23)  # late on the day before the period
    session(active, 9, hour=0)  # at midnight after the period (still its last day in UTC)

    report = start(
        active,
        coach,
        period_start=today() - timedelta(days=60),
        period_end=today() - timedelta(days=10),
    )

    report.refresh_from_db()
    assert report.status == S.DRAFT
    assert report.author == coach
    assert (report.sessions_held, report.sessions_missed, report.late_cancellations) == (3, 1, 1)
    assert report.hours_used == Decimal("8.50")  # (120 + 90 + 120 + 120 + 60) minutes
    # An empty paragraph waits for each objective.
    assert sorted(report.objective_progress.values_list("objective_id", "text")) == sorted(
        (o.pk, "") for o in active.objectives.all()
    )


def test_saving_the_draft_refreshes_attendance_from_the_sessions(active, coach):
    report = start(active, coach)
    assert report.sessions_held == 0
    session(active, 5)  # recorded after the report was started
    write(report, coach)
    report.refresh_from_db()
    assert (report.sessions_held, report.hours_used) == (1, Decimal("2.00"))
    assert report.general_comment == "Bonne dynamique"
    assert all(text.startswith("Délègue désormais") for text in texts(report))


def test_the_suggested_period_runs_from_the_start_then_from_the_day_after_the_last_report(
    active, coach
):
    assert service.report_suggested_period(active) == (active.start_date, today())
    report_in(
        active,
        S.RELEASED,
        period_start=active.start_date,
        period_end=today() - timedelta(days=30),
    )
    assert service.report_suggested_period(active) == (today() - timedelta(days=29), today())


def test_one_report_is_written_at_a_time(active, coach, coachee):
    report = write(start(active, coach), coach)
    with pytest.raises(ApplicationError):
        start(active, coach)
    # Returned to the coach, it is still open.
    service.report_submit(report=report, coach=coach)
    service.report_return(report=report, coachee=coachee, comment="Trop vague")
    with pytest.raises(ApplicationError):
        start(active, coach)
    assert active.reports.count() == 1
    # Once released, the next one may start.
    write(report, coach)
    service.report_submit(report=report, coach=coach)
    service.report_approve(report=report, coachee=coachee, scores=every(active))
    start(active, coach)
    assert active.reports.count() == 2


@pytest.mark.parametrize(
    "period",
    [
        pytest.param(lambda e: (e.start_date + timedelta(days=10), e.start_date), id="end-first"),
        pytest.param(lambda e: (e.start_date, today() + timedelta(days=1)), id="future"),
        pytest.param(lambda e: (e.start_date - timedelta(days=1), today()), id="too-early"),
    ],
)
def test_a_bad_period_is_refused_and_nothing_is_written(active, coach, period):
    period_start, period_end = period(active)
    with pytest.raises(ApplicationError):
        start(active, coach, period_start=period_start, period_end=period_end)
    assert not SponsorReport.objects.exists()
    assert not ReportProgress.objects.exists()


@pytest.mark.parametrize(
    "status", [E.DRAFT, E.KICKOFF, E.CONTRACTING, E.CLOSING, E.COMPLETED, E.WITHDRAWN, E.CANCELLED]
)
def test_a_report_is_started_only_while_the_engagement_is_active(engagement, coach, status):
    engagement = reach(engagement, status)
    factories.ObjectiveFactory(engagement=engagement)
    with pytest.raises(ApplicationError):
        service.report_start(
            engagement=engagement, coach=coach, period_start=today(), period_end=today()
        )
    assert not SponsorReport.objects.exists()


@pytest.mark.parametrize(
    "persona", ["coachee", "sponsor", "hr", "other_coach", "outsider"], indirect=True
)
def test_only_the_coach_starts_a_report(active, persona):
    with pytest.raises(NotAllowed):
        start(active, persona)
    assert not SponsorReport.objects.exists()


@pytest.mark.parametrize("persona", ["coachee", "sponsor", "hr", "other_coach"], indirect=True)
def test_only_the_coach_saves_or_submits_a_report(draft, persona):
    before = texts(draft)
    with pytest.raises(NotAllowed):
        write(draft, persona, text="Réécrit par un autre", comment="Autre")
    with pytest.raises(NotAllowed):
        service.report_submit(report=draft, coach=persona)
    draft.refresh_from_db()
    assert (draft.status, draft.general_comment, texts(draft)) == (
        S.DRAFT,
        "Bonne dynamique",
        before,
    )
    assert draft.submitted_at is None


def test_a_report_open_when_the_closing_review_starts_can_still_be_finished(
    active, coach, coachee, sponsor
):
    report = write(start(active, coach), coach)
    to_closing(active, coach)
    service.report_submit(report=report, coach=coach)
    service.report_approve(report=report, coachee=coachee, scores=every(active))
    service.report_scores_give(report=report, sponsor=sponsor, scores=every(active, -1))
    report.refresh_from_db()
    assert report.status == S.RELEASED
    assert report.scores.filter(rater=SPONSOR).count() == 2
    with pytest.raises(ApplicationError):
        start(active, coach)  # but no new one starts during the closing review


# -- 2. submitting ---------------------------------------------------------------------


def test_submitting_needs_progress_on_every_objective(active, coach, on_commit):
    report = start(active, coach)
    first = active.objectives.order_by("position").first()
    service.report_save(
        report=report, coach=coach, progress={first.pk: "Avance"}, general_comment="Bien"
    )
    with pytest.raises(ApplicationError):
        on_commit(service.report_submit, report=report, coach=coach)
    report.refresh_from_db()
    assert (report.status, report.submitted_at) == (S.DRAFT, None)
    assert mail.outbox == []


def test_submitting_needs_a_general_comment(active, coach, on_commit):
    report = write(start(active, coach), coach, comment="   ")
    with pytest.raises(ApplicationError):
        on_commit(service.report_submit, report=report, coach=coach)
    report.refresh_from_db()
    assert report.status == S.DRAFT
    assert mail.outbox == []


def test_submitting_asks_the_coachee_and_only_her_to_approve(draft, coach, coachee, on_commit):
    report = on_commit(service.report_submit, report=draft, coach=coach)
    report.refresh_from_db()
    assert report.status == S.AWAITING_APPROVAL
    assert report.submitted_at is not None
    [message] = mail.outbox
    assert message.to == [coachee.email]
    assert url("report_detail", report) in message.body


# -- 3. return, correction, approval ---------------------------------------------------


def test_the_coachee_returns_the_report_the_coach_corrects_it_and_she_approves_it(
    awaiting, coach, coachee, sponsor, on_commit
):
    engagement = awaiting.engagement
    with pytest.raises(ApplicationError):
        on_commit(service.report_return, report=awaiting, coachee=coachee, comment="  ")
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_APPROVAL
    assert mail.outbox == []

    on_commit(service.report_return, report=awaiting, coachee=coachee, comment=SECRET)
    awaiting.refresh_from_db()
    assert awaiting.status == S.CHANGES_REQUESTED
    assert awaiting.coachee_comment == SECRET
    assert awaiting.returned_at is not None
    assert recipients() == [coach.email]  # the sponsor learns nothing
    assert SECRET not in mail.outbox[0].body

    mail.outbox.clear()
    write(awaiting, coach, text="Version corrigée")
    on_commit(service.report_submit, report=awaiting, coach=coach)
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_APPROVAL
    assert all(text.startswith("Version corrigée") for text in texts(awaiting))
    assert recipients() == [coachee.email]

    mail.outbox.clear()
    first, second = engagement.objectives.order_by("position")
    scores = {first.pk: 2, second.pk: -1}
    on_commit(service.report_approve, report=awaiting, coachee=coachee, scores=scores)
    awaiting.refresh_from_db()
    assert awaiting.status == S.RELEASED
    assert awaiting.approved_at is not None
    assert awaiting.released_at == awaiting.approved_at
    given = ObjectiveScore.objects.filter(report=awaiting)
    assert sorted((s.objective_id, s.score) for s in given) == sorted(scores.items())
    assert {(s.rater, s.milestone, s.scored_by_id) for s in given} == {
        (COACHEE, REPORT, coachee.pk)
    }
    assert {s.scored_at for s in given} == {awaiting.approved_at}
    assert recipients() == sorted([sponsor.email, coach.email])
    for message in mail.outbox:
        assert SECRET not in message.body


# -- 4. only the coachee approves; approval is whole and once; released is frozen -----


@pytest.mark.parametrize("persona", ["coach", "sponsor", "hr", "other_coach"], indirect=True)
def test_only_the_coachee_approves_or_returns_a_report(awaiting, persona):
    with pytest.raises(NotAllowed):
        service.report_approve(report=awaiting, coachee=persona, scores=every(awaiting.engagement))
    with pytest.raises(NotAllowed):
        service.report_return(report=awaiting, coachee=persona, comment="Non")
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_APPROVAL
    assert awaiting.coachee_comment == ""
    assert not ObjectiveScore.objects.exists()


@pytest.mark.parametrize(
    "persona", ["coach", "sponsor", "hr", "other_coach", "other_hr", "outsider"], indirect=True
)
@pytest.mark.parametrize("name", ["report_approve", "report_return"])
def test_the_approval_pages_are_not_found_for_anyone_but_the_coachee(
    client, awaiting, persona, name
):
    client.force_login(persona)
    data = {**score_data(awaiting.engagement), "comment": "Non"}
    assert client.post(url(name, awaiting), data).status_code == 404
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_APPROVAL
    assert not ObjectiveScore.objects.exists()


def test_a_second_approval_is_refused_and_adds_no_score(released, coachee):
    engagement = released.engagement
    with pytest.raises(ApplicationError):
        service.report_approve(report=released, coachee=coachee, scores=every(engagement, -2))
    assert list(ObjectiveScore.objects.values_list("score", flat=True)) == [1, 1]


@pytest.mark.parametrize(
    "scores",
    [
        pytest.param(lambda objectives: {objectives[0].pk: 1}, id="one-missing"),
        pytest.param(lambda objectives: {objectives[0].pk: 1, objectives[1].pk: None}, id="none"),
        pytest.param(lambda objectives: {objectives[0].pk: 1, objectives[1].pk: 3}, id="above"),
        pytest.param(lambda objectives: {objectives[0].pk: -3, objectives[1].pk: 0}, id="below"),
    ],
)
def test_an_approval_without_a_valid_score_on_every_objective_writes_nothing(
    awaiting, coachee, scores, on_commit
):
    objectives = list(awaiting.engagement.objectives.order_by("position"))
    with pytest.raises(ApplicationError):
        on_commit(
            service.report_approve, report=awaiting, coachee=coachee, scores=scores(objectives)
        )
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.approved_at, awaiting.released_at) == (
        S.AWAITING_APPROVAL,
        None,
        None,
    )
    assert not ObjectiveScore.objects.exists()
    assert mail.outbox == []


def test_a_released_report_is_never_edited(released, coach, coachee):
    before = texts(released)
    with pytest.raises(ApplicationError):
        write(released, coach, text="Correction", comment="Correction")
    with pytest.raises(ApplicationError):
        service.report_submit(report=released, coach=coach)
    with pytest.raises(ApplicationError):
        service.report_return(report=released, coachee=coachee, comment="Trop tard")
    released.refresh_from_db()
    assert released.status == S.RELEASED
    assert (released.general_comment, released.coachee_comment) == ("Bonne dynamique", "")
    assert texts(released) == before


def test_the_edit_page_of_a_released_report_leads_to_the_report_and_changes_nothing(
    client, released, coach
):
    client.force_login(coach)
    data = {f"progress_{pk}": "Correction" for pk in progress(released.engagement)}
    response = client.post(
        url("report_edit", released), {**data, "general_comment": "X", "action": "save"}
    )
    assert response.status_code == 302
    assert response.url == url("report_detail", released)
    released.refresh_from_db()
    assert released.general_comment == "Bonne dynamique"
    assert "Correction" not in texts(released)


# -- 5. the sponsor's observed scores --------------------------------------------------


def test_the_sponsor_scores_a_released_report_once(released, sponsor):
    engagement = released.engagement
    moment = timezone.now().replace(microsecond=0) + timedelta(minutes=1)
    with clock.at(moment):
        service.report_scores_give(report=released, sponsor=sponsor, scores=every(engagement, -1))
    mine = ObjectiveScore.objects.filter(report=released, rater=SPONSOR)
    assert (
        sorted(mine.values_list("score", "scored_by", "milestone", "scored_at"))
        == [(-1, sponsor.pk, REPORT, moment)] * 2
    )
    with pytest.raises(ApplicationError):
        service.report_scores_give(report=released, sponsor=sponsor, scores=every(engagement, 2))
    assert sorted(mine.values_list("score", flat=True)) == [-1, -1]


@pytest.mark.parametrize("stage", ["draft", "awaiting"])
def test_the_sponsor_does_not_score_a_report_before_it_is_released(request, sponsor, stage):
    report = request.getfixturevalue(stage)
    with pytest.raises(ApplicationError):
        service.report_scores_give(report=report, sponsor=sponsor, scores=every(report.engagement))
    assert not ObjectiveScore.objects.exists()


@pytest.mark.parametrize("persona", ["coachee", "coach", "hr"], indirect=True)
def test_nobody_but_the_sponsor_gives_observed_scores_on_a_report(released, persona):
    with pytest.raises(NotAllowed):
        service.report_scores_give(
            report=released, sponsor=persona, scores=every(released.engagement)
        )
    assert not ObjectiveScore.objects.filter(rater=SPONSOR).exists()
    assert ObjectiveScore.objects.count() == 2  # the coachee's, from her approval


@pytest.mark.parametrize("persona", ["coach", "hr", "other_coach"], indirect=True)
def test_the_coach_never_scores_even_the_baseline(active, persona):
    with pytest.raises(NotAllowed):
        service.baseline_scores_give(engagement=active, user=persona, scores=every(active))
    assert not ObjectiveScore.objects.exists()


# -- 6. baseline -----------------------------------------------------------------------


def test_baseline_scores_wait_for_the_agreed_objectives(engagement_in, coachee):
    engagement = engagement_in(E.KICKOFF)
    objective = factories.ObjectiveFactory(engagement=engagement)  # not approved yet
    with pytest.raises(ApplicationError):
        service.baseline_scores_give(engagement=engagement, user=coachee, scores={objective.pk: 0})
    assert not ObjectiveScore.objects.exists()


def test_an_objective_added_later_gets_its_own_baseline(engagement_in, coachee):
    engagement = engagement_in(E.KICKOFF)
    now = timezone.now()
    first = factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=now)
    service.baseline_scores_give(engagement=engagement, user=coachee, scores={first.pk: -1})
    later = factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=now)
    service.baseline_scores_give(engagement=engagement, user=coachee, scores={later.pk: 1})
    assert sorted(ObjectiveScore.objects.values_list("objective", "score")) == [
        (first.pk, -1),
        (later.pk, 1),
    ]


@pytest.mark.parametrize("status", [E.KICKOFF, E.CONTRACTING, E.ACTIVE])
def test_the_coachee_and_the_sponsor_each_give_their_baseline_once(
    engagement_in, coachee, sponsor, status
):
    engagement = engagement_in(status)
    first, second = (
        factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
        for _ in range(2)
    )
    moment = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    with clock.at(moment):
        service.baseline_scores_give(
            engagement=engagement, user=coachee, scores={first.pk: -1, second.pk: 0}
        )
    service.baseline_scores_give(
        engagement=engagement, user=sponsor, scores={first.pk: -2, second.pk: 1}
    )
    scores = ObjectiveScore.objects.filter(objective__engagement=engagement)
    assert sorted(scores.values_list("objective", "rater", "scored_by", "score")) == sorted(
        [
            (first.pk, COACHEE, coachee.pk, -1),
            (second.pk, COACHEE, coachee.pk, 0),
            (first.pk, SPONSOR, sponsor.pk, -2),
            (second.pk, SPONSOR, sponsor.pk, 1),
        ]
    )
    assert {(s.milestone, s.report_id) for s in scores} == {(BASELINE, None)}
    assert {s.scored_at for s in scores.filter(rater=COACHEE)} == {moment}
    assert all(s.scored_at > moment for s in scores.filter(rater=SPONSOR))

    for person in (coachee, sponsor):
        with pytest.raises(ApplicationError):
            service.baseline_scores_give(
                engagement=engagement, user=person, scores={first.pk: 2, second.pk: 2}
            )
    assert scores.count() == 4
    assert not scores.filter(score=2).exists()


def test_an_objective_added_after_the_baseline_can_still_get_its_baseline_score(
    client, engagement_in, coachee
):
    from engagements.services.kickoff import objective_save

    engagement = engagement_in(E.KICKOFF)
    first, second = (
        factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
        for _ in range(2)
    )
    service.baseline_scores_give(
        engagement=engagement, user=coachee, scores={first.pk: -1, second.pk: 0}
    )
    # Still at the kickoff, the coachee adds a third objective (approved at once: hers).
    third = objective_save(
        engagement=engagement,
        author=coachee,
        title="Préparer sa succession",
        success_indicators="Un successeur identifié",
    )
    client.force_login(coachee)
    item = _item(client.get(reverse("coachee_portal")), engagement)
    assert item.next.subject == "baseline"  # the portal asks her for it...
    page = client.get(item.next_url)
    assert page.context["open"], "...but the baseline page offers her no form"
    client.post(item.next_url, {f"score_{o.pk}": "1" for o in (first, second, third)})
    mine = ObjectiveScore.objects.filter(rater=COACHEE, milestone=BASELINE)
    assert sorted(mine.values_list("objective", "score")) == [
        (first.pk, -1),
        (second.pk, 0),
        (third.pk, 1),
    ]


@pytest.mark.parametrize("status", [E.DRAFT, E.CLOSING, E.COMPLETED, E.WITHDRAWN, E.CANCELLED])
def test_no_baseline_is_given_outside_the_start_of_the_engagement(
    engagement, coachee, sponsor, status
):
    engagement = reach(engagement, status)
    objective = factories.ObjectiveFactory(engagement=engagement)
    for person in (coachee, sponsor):
        with pytest.raises(ApplicationError):
            service.baseline_scores_give(
                engagement=engagement, user=person, scores={objective.pk: 0}
            )
    assert not ObjectiveScore.objects.exists()


# -- 7. withdrawal ---------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["draft", "awaiting", "returned"])
def test_a_withdrawal_closes_the_open_report_and_the_sponsor_never_sees_it(
    request, client, active, coach, coachee, sponsor, stage
):
    report = write(start(active, coach), coach)
    if stage != "draft":
        service.report_submit(report=report, coach=coach)
    if stage == "returned":
        service.report_return(report=report, coachee=coachee, comment=SECRET)

    engagement_withdraw(engagement=active, coachee=coachee)

    report.refresh_from_db()
    assert report.status == S.CLOSED
    assert report.closed_at is not None
    assert report.released_at is None
    with pytest.raises(ApplicationError):
        service.report_approve(report=report, coachee=coachee, scores=every(active))
    with pytest.raises(ApplicationError):
        write(report, coach)
    client.force_login(sponsor)
    for name in ("report_detail", "report_pdf"):
        assert client.get(url(name, report)).status_code == 404
    page = client.get(reverse("engagement_detail", args=[active.pk]))
    assert list(page.context["reports"]) == []
    assert SECRET not in page.content.decode()


def test_a_withdrawal_leaves_a_released_report_to_the_sponsor(client, released, coachee, sponsor):
    engagement_withdraw(engagement=released.engagement, coachee=coachee)
    released.refresh_from_db()
    assert (released.status, released.closed_at) == (S.RELEASED, None)
    client.force_login(sponsor)
    assert client.get(url("report_detail", released)).status_code == 200
    # The engagement has ended: no more scores.
    with pytest.raises(ApplicationError):
        service.report_scores_give(
            report=released, sponsor=sponsor, scores=every(released.engagement)
        )


# -- 8. who sees what -------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, visible",
    [
        (S.DRAFT, False),
        (S.AWAITING_APPROVAL, False),
        (S.CHANGES_REQUESTED, False),
        (S.CLOSED, False),
        (S.RELEASED, True),
    ],
)
def test_the_sponsor_reads_a_report_only_once_released(client, active, sponsor, status, visible):
    report = report_in(active, status)
    client.force_login(sponsor)
    assert client.get(url("report_detail", report)).status_code == (200 if visible else 404)
    assert client.get(url("report_pdf", report)).status_code == (200 if visible else 404)
    page = client.get(reverse("engagement_detail", args=[active.pk]))
    assert [r.pk for r in page.context["reports"]] == ([report.pk] if visible else [])
    assert [r.pk for r in selectors.reports_for(active, {Role.SPONSOR})] == (
        [report.pk] if visible else []
    )


def test_the_sponsors_list_holds_the_released_reports_only(client, active, sponsor):
    released = report_in(active, S.RELEASED, period_end=today() - timedelta(days=40))
    report_in(active, S.CLOSED, period_end=today() - timedelta(days=20))
    report_in(active, S.AWAITING_APPROVAL)
    client.force_login(sponsor)
    page = client.get(reverse("engagement_detail", args=[active.pk]))
    assert [r.pk for r in page.context["reports"]] == [released.pk]


@pytest.mark.parametrize(
    "status, visible",
    [
        (S.DRAFT, False),
        (S.AWAITING_APPROVAL, True),
        (S.CHANGES_REQUESTED, True),
        (S.RELEASED, True),
    ],
)
def test_the_coachee_reads_the_report_once_submitted_to_her(
    client, active, coachee, status, visible
):
    report = report_in(active, status)
    client.force_login(coachee)
    assert client.get(url("report_detail", report)).status_code == (200 if visible else 404)
    page = client.get(reverse("engagement_detail", args=[active.pk]))
    assert [r.pk for r in page.context["reports"]] == ([report.pk] if visible else [])


REPORT_URLS = [
    ("get", "report_detail"),
    ("get", "report_pdf"),
    ("get", "report_edit"),
    ("post", "report_edit"),
    ("post", "report_approve"),
    ("post", "report_return"),
    ("post", "report_scores"),
]
ENGAGEMENT_URLS = [
    ("get", "report_new"),
    ("post", "report_new"),
    ("get", "baseline_scores"),
    ("post", "baseline_scores"),
]


def _hit(client, method, name, report, data):
    if name in ("report_new", "baseline_scores"):
        address = reverse(name, args=[report.engagement_id])
    else:
        address = url(name, report)
    return getattr(client, method)(address, data if method == "post" else None)


def test_a_report_is_found_only_under_its_own_engagement(client, released, coach, sponsor):
    other = factories.EngagementFactory(
        coach=released.engagement.coach,
        sponsor=sponsor,
        organization=released.engagement.organization,
    )
    for person in (coach, sponsor):
        client.force_login(person)
        for name in ("report_detail", "report_pdf"):
            address = reverse(name, args=[other.pk, released.pk])
            assert client.get(address).status_code == 404, (person, name)


def test_hr_sees_no_report_on_the_engagement_page(client, released, hr):
    client.force_login(hr)
    page = client.get(reverse("engagement_detail", args=[released.engagement_id]))
    assert page.status_code == 200
    assert not page.context["can_view_reports"]
    assert list(page.context["reports"]) == []
    assert url("report_detail", released) not in page.content.decode()


@pytest.mark.parametrize("persona", ["hr", "other_coach", "other_hr", "outsider"], indirect=True)
@pytest.mark.parametrize("stage", ["awaiting", "released"])
def test_hr_and_strangers_get_404_on_every_report_url(request, client, persona, stage):
    report = request.getfixturevalue(stage)
    engagement = report.engagement
    before = (SponsorReport.objects.count(), ObjectiveScore.objects.count())
    client.force_login(persona)
    data = {
        **score_data(engagement),
        "comment": "Non",
        "general_comment": "Réécrit",
        "action": "submit",
        "period_start": engagement.start_date.isoformat(),
        "period_end": today().isoformat(),
    }
    for method, name in REPORT_URLS + ENGAGEMENT_URLS:
        assert _hit(client, method, name, report, data).status_code == 404, (method, name)
    report.refresh_from_db()
    assert report.status == (S.AWAITING_APPROVAL if stage == "awaiting" else S.RELEASED)
    assert report.general_comment == "Bonne dynamique"
    assert (SponsorReport.objects.count(), ObjectiveScore.objects.count()) == before


@pytest.mark.parametrize(
    "persona, refused",
    [
        (
            "coach",
            [
                ("post", "report_approve"),
                ("post", "report_return"),
                ("post", "report_scores"),
                ("get", "baseline_scores"),
            ],
        ),
        ("coachee", [("get", "report_edit"), ("get", "report_new"), ("post", "report_scores")]),
        (
            "sponsor",
            [
                ("get", "report_edit"),
                ("get", "report_new"),
                ("post", "report_approve"),
                ("post", "report_return"),
            ],
        ),
    ],
    indirect=["persona"],
)
def test_each_party_gets_404_on_what_is_not_theirs(client, awaiting, persona, refused):
    client.force_login(persona)
    data = {**score_data(awaiting.engagement), "comment": "Non"}
    for method, name in refused:
        assert _hit(client, method, name, awaiting, data).status_code == 404, (method, name)
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_APPROVAL
    assert not ObjectiveScore.objects.exists()


def test_the_coachees_comment_never_reaches_the_sponsor(
    client, awaiting, coach, coachee, sponsor, on_commit
):
    engagement = awaiting.engagement
    service.report_return(report=awaiting, coachee=coachee, comment=SECRET)
    client.force_login(sponsor)
    for address in (reverse("engagement_detail", args=[engagement.pk]), reverse("sponsor_portal")):
        assert SECRET not in client.get(address).content.decode()

    write(awaiting, coach, text="Version corrigée")
    service.report_submit(report=awaiting, coach=coach)
    on_commit(service.report_approve, report=awaiting, coachee=coachee, scores=every(engagement))
    for address in (
        url("report_detail", awaiting),
        reverse("engagement_detail", args=[engagement.pk]),
        reverse("sponsor_portal"),
    ):
        response = client.get(address)
        assert response.status_code == 200
        assert SECRET not in response.content.decode()
    pdf = client.get(url("report_pdf", awaiting))
    text = pdf_text(pdf.content)
    assert "Version corrigée" in text
    assert SECRET not in text
    [to_sponsor] = [m for m in mail.outbox if m.to == [sponsor.email]]
    assert SECRET not in to_sponsor.body


def test_the_sponsor_sees_his_own_scores_and_the_coachees_only_with_a_released_report(
    client, active, coachee, sponsor
):
    objective = active.objectives.order_by("position").first()
    released = report_in(active, S.RELEASED, period_end=today() - timedelta(days=30))
    closed = report_in(active, S.CLOSED, period_end=today() - timedelta(days=20))
    awaiting = report_in(active, S.AWAITING_APPROVAL)

    def score(rater, report=None, value=0):
        return factories.ObjectiveScoreFactory(
            objective=objective,
            milestone=REPORT if report else BASELINE,
            report=report,
            rater=rater,
            scored_by=coachee if rater == COACHEE else sponsor,
            score=value,
        )

    sponsor_baseline = score(SPONSOR, value=-2)
    score(COACHEE, value=-1)  # the coachee's baseline
    on_released = score(COACHEE, released, value=1)
    score(COACHEE, closed, value=2)
    score(COACHEE, awaiting, value=2)
    sponsor_on_released = score(SPONSOR, released, value=0)

    expected = {sponsor_baseline.pk, on_released.pk, sponsor_on_released.pk}
    visible = ObjectiveScore.objects.filter(permissions.visible_scores({Role.SPONSOR}))
    assert set(visible.values_list("pk", flat=True)) == expected
    assert not ObjectiveScore.objects.filter(permissions.visible_scores({Role.HR})).exists()
    assert ObjectiveScore.objects.filter(permissions.visible_scores({Role.COACHEE})).count() == 6

    client.force_login(sponsor)
    page = client.get(reverse("engagement_detail", args=[active.pk]))
    assert {s.pk for o in page.context["objectives"] for s in o.scores.all()} == expected
    detail = client.get(url("report_detail", released))
    shown = {s.pk for _entry, scores in detail.context["rows"] for s in scores.values()}
    assert shown == {on_released.pk, sponsor_on_released.pk}


def test_the_report_pdf_is_served_for_a_released_report_and_each_download_is_logged(
    client, released, coach, sponsor
):
    client.force_login(sponsor)
    for _ in range(2):
        response = client.get(url("report_pdf", released))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    downloads = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    assert (
        list(downloads.values_list("actor", "record_type", "record_id", "engagement"))
        == [(sponsor.pk, "sponsorreport", released.pk, released.engagement_id)] * 2
    )


@pytest.mark.parametrize("stage", ["draft", "awaiting"])
def test_no_pdf_before_release_even_for_the_coach(request, client, coach, stage):
    report = request.getfixturevalue(stage)
    client.force_login(coach)
    assert client.get(url("report_pdf", report)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


@pytest.mark.parametrize("persona", ["coach", "coachee", "sponsor"], indirect=True)
def test_reading_the_report_page_is_logged(client, released, persona):
    client.force_login(persona)
    assert client.get(url("report_detail", released)).status_code == 200
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW)
    assert (event.actor, event.record_type, event.record_id, event.engagement_id) == (
        persona,
        "sponsorreport",
        released.pk,
        released.engagement_id,
    )


# -- 9. views: methods, bad input, the coach's page ------------------------------------


@pytest.mark.parametrize(
    "method, name",
    [
        ("get", "report_approve"),
        ("get", "report_return"),
        ("get", "report_scores"),
        ("put", "report_new"),
        ("delete", "report_new"),
        ("put", "report_edit"),
        ("delete", "report_edit"),
        ("post", "report_detail"),
        ("delete", "report_detail"),
        ("post", "report_pdf"),
        ("put", "baseline_scores"),
        ("delete", "baseline_scores"),
    ],
)
@pytest.mark.parametrize("persona", ["coach", "coachee", "sponsor"], indirect=True)
def test_report_views_answer_405_to_the_wrong_method(client, awaiting, persona, method, name):
    client.force_login(persona)
    assert _hit(client, method, name, awaiting, {}).status_code == 405
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_APPROVAL


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="no-score"),
        pytest.param({"first": "1"}, id="one-missing"),
        pytest.param({"first": "1", "second": "3"}, id="out-of-range"),
    ],
)
def test_approving_without_a_score_per_objective_shows_the_form_again(
    client, awaiting, coachee, data, on_commit
):
    first, second = awaiting.engagement.objectives.order_by("position")
    fields = {"first": f"score_{first.pk}", "second": f"score_{second.pk}"}
    client.force_login(coachee)
    response = on_commit(
        client.post,
        url("report_approve", awaiting),
        {fields[key]: value for key, value in data.items()},
    )
    assert response.status_code == 200
    assert response.context["scores_form"].errors
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_APPROVAL
    assert not ObjectiveScore.objects.exists()
    assert mail.outbox == []


def test_returning_without_a_comment_shows_the_form_again(client, awaiting, coachee, on_commit):
    client.force_login(coachee)
    response = on_commit(client.post, url("report_return", awaiting), {"comment": ""})
    assert response.status_code == 200
    assert "comment" in response.context["return_form"].errors
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.coachee_comment) == (S.AWAITING_APPROVAL, "")
    assert mail.outbox == []


def test_the_coachee_approves_and_returns_from_the_report_page(
    client, awaiting, coachee, on_commit
):
    client.force_login(coachee)
    page = client.get(url("report_detail", awaiting))
    assert page.context["can_approve"]
    assert page.context["scores_form"] is not None
    assert page.context["return_form"] is not None

    response = client.post(url("report_return", awaiting), {"comment": SECRET})
    assert (response.status_code, response.url) == (302, url("report_detail", awaiting))
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.coachee_comment) == (S.CHANGES_REQUESTED, SECRET)


def test_the_coachee_approves_from_the_report_page(client, awaiting, coachee, sponsor, on_commit):
    client.force_login(coachee)
    response = on_commit(
        client.post, url("report_approve", awaiting), score_data(awaiting.engagement, "-1")
    )
    assert (response.status_code, response.url) == (302, url("report_detail", awaiting))
    awaiting.refresh_from_db()
    assert awaiting.status == S.RELEASED
    assert (
        list(awaiting.scores.values_list("rater", "score", "scored_by"))
        == [(COACHEE, -1, coachee.pk)] * 2
    )
    assert sponsor.email in recipients()


@pytest.mark.parametrize(
    "period",
    [
        pytest.param(lambda e: (e.start_date + timedelta(days=5), e.start_date), id="end-first"),
        pytest.param(lambda e: (e.start_date, today() + timedelta(days=3)), id="future"),
        pytest.param(lambda e: (e.start_date - timedelta(days=3), today()), id="too-early"),
        pytest.param(lambda e: ("", "pas une date"), id="garbage"),
    ],
)
def test_a_bad_period_on_the_new_report_page_shows_the_form_again(client, active, coach, period):
    period_start, period_end = period(active)
    client.force_login(coach)
    response = client.post(
        reverse("report_new", args=[active.pk]),
        {"period_start": str(period_start), "period_end": str(period_end)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not SponsorReport.objects.exists()


def test_the_new_report_page_suggests_the_period_and_starts_the_report(client, active, coach):
    session(active, 5)
    client.force_login(coach)
    page = client.get(reverse("report_new", args=[active.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert (form.initial["period_start"], form.initial["period_end"]) == (
        active.start_date,
        today(),
    )
    response = client.post(
        reverse("report_new", args=[active.pk]),
        {"period_start": active.start_date.isoformat(), "period_end": today().isoformat()},
    )
    report = SponsorReport.objects.get()
    assert (response.status_code, response.url) == (302, url("report_edit", report))
    assert (report.status, report.sessions_held) == (S.DRAFT, 1)


def test_the_coach_saves_the_draft_then_submits_it_from_the_edit_page(
    client, active, coach, coachee, on_commit
):
    report = start(active, coach)
    client.force_login(coach)
    page = client.get(url("report_edit", report))
    assert page.status_code == 200
    fields = {f"progress_{pk}": f"Progrès {pk}" for pk in progress(active)}

    response = client.post(
        url("report_edit", report), {**fields, "general_comment": "Commentaire", "action": "save"}
    )
    assert (response.status_code, response.url) == (302, url("report_edit", report))
    report.refresh_from_db()
    assert (report.status, report.general_comment) == (S.DRAFT, "Commentaire")
    assert texts(report) == sorted(fields.values())

    response = on_commit(
        client.post,
        url("report_edit", report),
        {**fields, "general_comment": "Commentaire final", "action": "submit"},
    )
    report.refresh_from_db()
    assert (report.status, report.general_comment) == (S.AWAITING_APPROVAL, "Commentaire final")
    assert recipients() == [coachee.email]
    # Submitted: the coach lands on the report, told it was submitted (not "draft saved").
    assert (response.status_code, response.url) == (302, url("report_detail", report))
    # The last message (the first request's "Draft saved." was never displayed),
    # in the coach's language (French).
    with translation.override("fr"):
        assert [str(m) for m in get_messages(response.wsgi_request)][-1] == translation.gettext(
            "Report submitted: the coachee reads it and approves it, or returns it."
        )


def test_submitting_an_incomplete_report_from_the_edit_page_shows_what_is_missing(
    client, active, coach, on_commit
):
    report = start(active, coach)
    client.force_login(coach)
    first = active.objectives.order_by("position").first()
    response = on_commit(
        client.post,
        url("report_edit", report),
        {f"progress_{first.pk}": "Seul", "general_comment": "", "action": "submit"},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    report.refresh_from_db()
    assert (report.status, report.submitted_at) == (S.DRAFT, None)
    assert mail.outbox == []


def test_a_too_long_text_on_the_edit_page_is_a_form_error_and_writes_nothing(client, draft, coach):
    before = texts(draft)
    client.force_login(coach)
    fields = {f"progress_{pk}": "x" * 10001 for pk in progress(draft.engagement)}
    response = client.post(
        url("report_edit", draft), {**fields, "general_comment": "Autre", "action": "save"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    draft.refresh_from_db()
    assert (draft.general_comment, texts(draft)) == ("Bonne dynamique", before)


def test_the_sponsor_scores_from_the_report_page(client, released, sponsor):
    client.force_login(sponsor)
    page = client.get(url("report_detail", released))
    assert page.context["can_score"]
    bad = client.post(url("report_scores", released), {})
    assert bad.status_code == 200
    assert bad.context["scores_form"].errors
    assert not ObjectiveScore.objects.filter(rater=SPONSOR).exists()

    response = client.post(url("report_scores", released), score_data(released.engagement, "2"))
    assert (response.status_code, response.url) == (302, url("report_detail", released))
    assert sorted(ObjectiveScore.objects.filter(rater=SPONSOR).values_list("score", flat=True)) == [
        2,
        2,
    ]
    assert not client.get(url("report_detail", released)).context["can_score"]


@pytest.mark.parametrize("persona", ["coachee", "sponsor"], indirect=True)
def test_each_party_gives_the_baseline_from_the_baseline_page(client, active, persona):
    client.force_login(persona)
    assert client.get(reverse("baseline_scores", args=[active.pk])).context["open"]
    bad = client.post(reverse("baseline_scores", args=[active.pk]), {})
    assert bad.status_code == 200
    assert bad.context["form"].errors
    assert not ObjectiveScore.objects.exists()

    response = client.post(reverse("baseline_scores", args=[active.pk]), score_data(active, "0"))
    assert (response.status_code, response.url) == (302, active.get_absolute_url())
    assert set(ObjectiveScore.objects.values_list("scored_by", "milestone")) == {
        (persona.pk, BASELINE)
    }
    page = client.get(reverse("baseline_scores", args=[active.pk]))
    assert not page.context["open"]
    assert len(page.context["given"]) == 2


# -- 10. the portals -------------------------------------------------------------------


def _item(response, engagement, key="open_engagements"):
    [item] = [e for e in response.context[key] if e.pk == engagement.pk]
    return item


def test_the_coachs_to_do_says_the_mid_point_report_is_due_and_links_to_it(client, active, coach):
    Engagement.objects.filter(pk=active.pk).update(sessions_contracted=10)
    for days in (50, 40, 30, 20):
        session(active, days)
    client.force_login(coach)
    response = client.get(reverse("coach_portal"))
    assert active.pk not in [e.pk for e in response.context["to_do"]]

    session(active, 10, status="missed")  # five of ten used
    response = client.get(reverse("coach_portal"))
    item = _item(response, active, "to_do")
    assert item.next.subject == "report_due"
    assert item.next_url == reverse("report_new", args=[active.pk])
    assert f'href="{item.next_url}"' in response.content.decode()
    assert client.get(reverse("engagement_detail", args=[active.pk])).context["report_due"]

    start(active, coach)
    response = client.get(reverse("coach_portal"))
    assert active.pk not in [e.pk for e in response.context["to_do"]]
    assert not client.get(reverse("engagement_detail", args=[active.pk])).context["report_due"]


def test_the_coachs_to_do_shows_a_returned_report(client, awaiting, coach, coachee):
    service.report_return(report=awaiting, coachee=coachee, comment="Trop vague")
    client.force_login(coach)
    response = client.get(reverse("coach_portal"))
    item = _item(response, awaiting.engagement, "to_do")
    assert item.next.subject == "report_edit"
    assert item.next_url == url("report_edit", awaiting)  # straight back to writing
    assert f'href="{item.next_url}"' in response.content.decode()


def test_the_coachees_portal_links_to_the_report_awaiting_her(client, draft, coach, coachee):
    engagement = draft.engagement
    service.baseline_scores_give(engagement=engagement, user=coachee, scores=every(engagement))
    client.force_login(coachee)
    item = _item(client.get(reverse("coachee_portal")), engagement)
    assert item.next.subject != "report"  # a draft is the coach's business

    service.report_submit(report=draft, coach=coach)
    response = client.get(reverse("coachee_portal"))
    item = _item(response, engagement)
    assert item.next.subject == "report"
    assert item.next_url == url("report_detail", draft)
    assert f'href="{item.next_url}"' in response.content.decode()


def test_the_sponsors_portal_prompts_to_score_a_released_report_until_he_does(
    client, awaiting, coachee, sponsor
):
    engagement = awaiting.engagement
    service.baseline_scores_give(engagement=engagement, user=sponsor, scores=every(engagement))
    client.force_login(sponsor)
    assert _item(client.get(reverse("sponsor_portal")), engagement).next.subject != "report"

    service.report_approve(report=awaiting, coachee=coachee, scores=every(engagement))
    response = client.get(reverse("sponsor_portal"))
    item = _item(response, engagement)
    assert item.next.subject == "report"
    assert item.next_url == url("report_detail", awaiting)
    assert f'href="{item.next_url}"' in response.content.decode()

    service.report_scores_give(report=awaiting, sponsor=sponsor, scores=every(engagement))
    response = client.get(reverse("sponsor_portal"))
    item = _item(response, engagement)
    assert item.next.subject != "report"
    assert url("report_detail", awaiting) not in response.content.decode()


# -- 11. the reminder ------------------------------------------------------------------


def test_the_reminder_tells_each_coach_once_when_the_mid_point_report_is_due(
    active, coach, coachee
):
    def engagement_with(used, status=E.ACTIVE, contracted=10):
        engagement = reach(factories.EngagementFactory(sessions_contracted=contracted), status)
        for days in range(used):
            session(engagement, 10 + days)
        return engagement

    Engagement.objects.filter(pk=active.pk).update(sessions_contracted=10)
    session(active, 50)
    session(active, 40, status="missed")
    session(active, 30, status="cancelled", late=True)
    session(active, 20)
    session(active, 10)  # five of ten used
    session(active, 5, status="cancelled")  # cancelled in time: not used
    below = engagement_with(4)  # four of ten
    odd = engagement_with(4, contracted=7)  # four of seven: past the mid-point
    started = engagement_with(6)
    factories.SponsorReportFactory(engagement=started, status=S.DRAFT)
    done = engagement_with(6)
    report_in(done, S.RELEASED)
    closing = engagement_with(6, status=E.CLOSING)

    remind_reports_due()
    remind_reports_due()

    assert sorted(recipients()) == sorted([coach.email, odd.coach.user.email])
    for engagement in (below, started, done, closing):
        assert engagement.coach.user.email not in recipients()
    [to_coach] = [m for m in mail.outbox if m.to == [coach.email]]
    assert reverse("report_new", args=[active.pk]) in to_coach.body
    assert coachee.email not in recipients()


# -- 12. query counts ------------------------------------------------------------------


def populate(engagement, size):
    """``size`` objectives and ``size`` released reports, each fully written and scored."""
    now = timezone.now()
    while engagement.objectives.count() < size:
        objective = factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=now)
        for rater, person in ((COACHEE, engagement.coachee), (SPONSOR, engagement.sponsor)):
            factories.ObjectiveScoreFactory(
                objective=objective, rater=rater, scored_by=person, score=-1
            )
    while engagement.reports.count() < size:
        n = engagement.reports.count()
        day = engagement.start_date + timedelta(days=10 * n)
        report_in(engagement, S.RELEASED, period_start=day, period_end=day + timedelta(days=5))
    for report in engagement.reports.all():
        for objective in engagement.objectives.all():
            ReportProgress.objects.get_or_create(
                report=report, objective=objective, defaults={"text": "Progrès"}
            )
            for rater, person in ((COACHEE, engagement.coachee), (SPONSOR, engagement.sponsor)):
                ObjectiveScore.objects.get_or_create(
                    objective=objective,
                    report=report,
                    rater=rater,
                    defaults={"milestone": REPORT, "scored_by": person, "score": 1},
                )
    return engagement.reports.order_by("pk").first()


def _query_count(client, address):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["coach", "coachee", "sponsor"], indirect=True)
def test_the_report_page_query_count_does_not_grow_with_objectives_and_reports(
    client, engagement, persona
):
    engagement = move_to(engagement, E.ACTIVE)
    Engagement.objects.filter(pk=engagement.pk).update(start_date=today() - timedelta(days=120))
    engagement.refresh_from_db()
    report = populate(engagement, 1)
    client.force_login(persona)
    _query_count(client, url("report_detail", report))  # warm up
    one = _query_count(client, url("report_detail", report))
    populate(engagement, 6)
    assert ReportProgress.objects.filter(report=report).count() == 6
    assert _query_count(client, url("report_detail", report)) == one


@pytest.mark.parametrize("persona", ["coach", "coachee", "sponsor"], indirect=True)
def test_the_engagement_page_query_count_does_not_grow_with_objectives_and_reports(
    client, engagement, persona
):
    engagement = move_to(engagement, E.ACTIVE)
    Engagement.objects.filter(pk=engagement.pk).update(start_date=today() - timedelta(days=120))
    engagement.refresh_from_db()
    populate(engagement, 1)
    client.force_login(persona)
    address = reverse("engagement_detail", args=[engagement.pk])
    _query_count(client, address)  # warm up
    one = _query_count(client, address)
    populate(engagement, 6)
    assert engagement.reports.count() == 6
    assert _query_count(client, address) == one


# -- 13. races, on PostgreSQL ------------------------------------------------------------


def race(*actions):
    """Run ``actions`` at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            action()
            outcomes[index] = "done"
        except ApplicationError:
            outcomes[index] = "refused"
        except Exception as error:
            outcomes[index] = repr(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _approve(report_pk, user_pk, value):
    def action():
        report = SponsorReport.objects.select_related("engagement").get(pk=report_pk)
        service.report_approve(
            report=report,
            coachee=User.objects.get(pk=user_pk),
            scores=every(report.engagement, value),
        )

    return action


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_release_the_report_once(postgres, engagement):
    active = make_active(engagement)
    coach, coachee = active.coach.user, active.coachee
    report = write(start(active, coach), coach)
    service.report_submit(report=report, coach=coach)

    outcomes = race(_approve(report.pk, coachee.pk, 1), _approve(report.pk, coachee.pk, -1))

    assert sorted(outcomes) == ["done", "refused"]
    report.refresh_from_db()
    assert report.status == S.RELEASED
    scores = ObjectiveScore.objects.filter(report=report)
    assert scores.count() == 2
    assert len(set(scores.values_list("score", flat=True))) == 1  # one approval's, whole
    assert [m.to for m in mail.outbox].count([active.sponsor.email]) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_coach_save_racing_the_approval_leaves_one_consistent_report(postgres, engagement):
    active = make_active(engagement)
    coach, coachee = active.coach.user, active.coachee
    report = write(start(active, coach), coach, text="Texte lu par la coachée")
    service.report_submit(report=report, coach=coach)
    approved_text = texts(report)

    def save():
        fresh = SponsorReport.objects.select_related("engagement").get(pk=report.pk)
        write(fresh, User.objects.get(pk=coach.pk), text="Réécrit en douce", comment="Autre")

    outcomes = race(save, _approve(report.pk, coachee.pk, 0))

    # Awaiting approval, the report is no longer the coach's to edit: whatever
    # the order, the save is refused and the coachee's approval releases the
    # very text she read.
    assert outcomes == ["refused", "done"]
    report.refresh_from_db()
    assert report.status == S.RELEASED
    assert texts(report) == approved_text
    assert report.general_comment == "Bonne dynamique"
    assert ObjectiveScore.objects.filter(report=report).count() == 2


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_return_racing_an_approval_leaves_one_outcome(postgres, engagement):
    active = make_active(engagement)
    coach, coachee = active.coach.user, active.coachee
    report = write(start(active, coach), coach)
    service.report_submit(report=report, coach=coach)

    def give_back():
        fresh = SponsorReport.objects.select_related("engagement").get(pk=report.pk)
        service.report_return(report=fresh, coachee=User.objects.get(pk=coachee.pk), comment="Non")

    outcomes = race(give_back, _approve(report.pk, coachee.pk, 2))

    assert sorted(outcomes) == ["done", "refused"]
    report.refresh_from_db()
    scores = ObjectiveScore.objects.filter(report=report)
    if outcomes[1] == "done":
        assert (report.status, report.coachee_comment, scores.count()) == (S.RELEASED, "", 2)
    else:
        assert (report.status, report.coachee_comment, scores.count()) == (
            S.CHANGES_REQUESTED,
            "Non",
            0,
        )


# -- found in review -----------------------------------------------------------------


def test_a_reports_pdf_shows_what_the_sponsor_may_see_as_of_that_report(released, coachee):
    """Whoever downloads it (the coach may forward it): no coachee baseline, no later report."""
    from engagements import permissions

    engagement = released.engagement
    service.baseline_scores_give(engagement=engagement, user=coachee, scores=every(engagement))
    shown = ObjectiveScore.objects.filter(permissions.report_document_scores(released))
    assert shown.exists()
    assert not shown.filter(milestone=BASELINE, rater=COACHEE).exists()
    later = report_in(
        engagement,
        S.RELEASED,
        period_start=released.period_end + timedelta(days=1),
        period_end=released.period_end + timedelta(days=30),
    )
    factories.ObjectiveScoreFactory(
        objective=engagement.objectives.first(), milestone="report", report=later, rater=COACHEE
    )
    assert not ObjectiveScore.objects.filter(
        permissions.report_document_scores(released), report=later
    ).exists()


def test_a_reports_pdf_is_rendered_once_while_what_it_shows_stays_the_same(
    client, released, sponsor, monkeypatch
):
    """Downloaded again, the same document from the cache; a score given since, a new one."""
    from engagements import pdf

    rendered = []
    render = pdf.html_to_pdf
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html: rendered.append(html) or render(html))
    client.force_login(sponsor)
    first = client.get(url("report_pdf", released)).content
    assert client.get(url("report_pdf", released)).content == first
    assert len(rendered) == 1
    service.report_scores_give(
        report=released, sponsor=sponsor, scores=every(released.engagement, -1)
    )
    changed = client.get(url("report_pdf", released)).content
    assert len(rendered) == 2
    assert changed != first and rendered[0] != rendered[1]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).count() == 3
