"""
The closing review (DOMAIN.md step 5): entering it, the synthesis the coach
writes and the coachee co-validates, the final scores, and the final
synthesis PDF in its two sealed versions, whose generation completes the
engagement.

    draft (coach) -> awaiting the coachee -> validated -> completed (the PDFs)
                          `-> returned with her comment -> draft again
"""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from .. import charts, clock, permissions, selectors, tasks, workflow
from ..errors import ApplicationError, NotAllowed
from ..models import ClosingReview, CoachingSession, Engagement, ObjectiveScore, Role, User
from ..pdf import render_pdf
from ..signing import seal_pdf
from .reporting import objectives_unscored, reports_close_open, scores_create
from .sessions import sessions_cancel_together

Status = ClosingReview.Status


# -- entering the closing review -------------------------------------------------


def planned_development_sessions(engagement: Engagement):
    """The development sessions still to come, which entering the closing review concerns."""
    return (
        engagement.sessions.development()
        .filter(status=CoachingSession.Status.PLANNED, starts_at__gt=clock.now())
        .order_by("starts_at")
    )


def closing_request(*, engagement: Engagement, coachee: User) -> None:
    """The coachee asks her coach to start the closing review; the coach is told."""
    permissions.require(engagement, coachee, permissions.can_request_closing)
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require(engagement, "request_closing")
        if engagement.closing_requested_at:
            raise ApplicationError(_("You have already asked for the closing review."))
        engagement.closing_requested_at = clock.now()
        engagement.save(update_fields=["closing_requested_at", "updated_at"])
        tasks.send_closing_requested.delay_on_commit(engagement.pk)


def closing_start(*, engagement: Engagement, coach: User, cancel_planned: bool) -> ClosingReview:
    """
    The coach starts the closing review, when the development sessions are
    done or earlier at his or the coachee's request. The development sessions
    still planned are cancelled (everyone invited is told) or kept, as the
    coach confirmed. The synthesis opens as a draft; the closing tripartite
    meeting is then booked like any meeting.
    """
    permissions.require(engagement, coach, permissions.can_start_closing)
    with transaction.atomic():
        engagement = workflow.transition(engagement, "start_closing", actor=coach)
        if cancel_planned:
            # One notice per person, with one calendar file, for them all.
            cancelled = sessions_cancel_together(
                planned_development_sessions(engagement).select_for_update(of=("self",)),
                by=coach,
                now=clock.now(),
            )
            if cancelled:
                tasks.send_closing_cancellations.delay_on_commit(engagement.pk, cancelled)
        review, _created = ClosingReview.objects.get_or_create(engagement=engagement)
    return review


# -- the synthesis ------------------------------------------------------------------


def _locked_review(engagement):
    """The engagement and its review, locked in that order (as every writer does)."""
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    review = ClosingReview.objects.select_for_update().get(engagement=engagement)
    review.engagement = engagement
    return review


def synthesis_save(
    *,
    engagement: Engagement,
    coach: User,
    learnings: str,
    metacognitive_skills: str,
    objectives_assessment: str,
    recommendations: str,
) -> ClosingReview:
    """The coach's draft of the synthesis."""
    permissions.require(engagement, coach, permissions.can_write_synthesis)
    with transaction.atomic():
        review = _locked_review(engagement)
        workflow.require(review.engagement, "write_synthesis")
        if not review.is_editable:
            raise ApplicationError(_("The synthesis is with the coachee: it cannot change now."))
        review.learnings = learnings.strip()
        review.metacognitive_skills = metacognitive_skills.strip()
        review.objectives_assessment = objectives_assessment.strip()
        review.recommendations = recommendations.strip()
        review.save()
    return review


def synthesis_submit(*, engagement: Engagement, coach: User) -> ClosingReview:
    """The coach gives the synthesis to the coachee, who validates it or returns it."""
    permissions.require(engagement, coach, permissions.can_write_synthesis)
    with transaction.atomic():
        review = _locked_review(engagement)
        workflow.require(review.engagement, "write_synthesis")
        if not review.is_editable:
            raise ApplicationError(_("The synthesis has already been given to the coachee."))
        missing = [str(label) for _name, label, text, _shared in review.parts() if not text]
        if missing:
            raise ApplicationError(
                [_("Write this part: %(part)s.") % {"part": label} for label in missing]
            )
        review.status = Status.AWAITING_COACHEE
        review.submitted_at = clock.now()
        review.save()
        tasks.send_synthesis_submitted.delay_on_commit(
            review.engagement_id, review.submitted_at.isoformat()
        )
    return review


def _awaiting_coachee(engagement, coachee):
    permissions.require(engagement, coachee, permissions.can_validate_synthesis)
    review = _locked_review(engagement)
    workflow.require(review.engagement, "write_synthesis")
    if review.status != Status.AWAITING_COACHEE:
        raise ApplicationError(_("The synthesis is not awaiting your validation."))
    return review


def synthesis_return(*, engagement: Engagement, coachee: User, comment: str) -> ClosingReview:
    """The coachee returns the synthesis to her coach with a comment; the sponsor sees nothing."""
    comment = comment.strip()
    if not comment:
        raise ApplicationError(_("Tell your coach what to change."))
    with transaction.atomic():
        review = _awaiting_coachee(engagement, coachee)
        review.status = Status.CHANGES_REQUESTED
        review.coachee_comment = comment
        review.returned_at = clock.now()
        review.save()
        tasks.send_synthesis_returned.delay_on_commit(
            review.engagement_id, review.returned_at.isoformat()
        )
    return review


def synthesis_validate(
    *, engagement: Engagement, coachee: User, shared_parts: list[str]
) -> ClosingReview:
    """
    The coachee validates the synthesis and chooses, part by part, what the
    sponsor receives (``shared_parts``: names from ``ClosingReview.PARTS``).
    Her final scores come first; the coach then issues the final synthesis.
    """
    unknown = set(shared_parts) - set(ClosingReview.PARTS)
    if unknown:
        raise ApplicationError(_("Unknown part of the synthesis."))
    with transaction.atomic():
        review = _awaiting_coachee(engagement, coachee)
        if closing_scores_missing(review.engagement, ObjectiveScore.Rater.COACHEE):
            raise ApplicationError(_("Give your final scores before validating the synthesis."))
        for part in ClosingReview.PARTS:
            setattr(review, f"share_{part}", part in shared_parts)
        review.status = Status.VALIDATED
        review.coachee_validated_at = clock.now()
        review.save()
        tasks.send_synthesis_validated.delay_on_commit(review.engagement_id)
    return review


# -- final scores -------------------------------------------------------------------


def closing_scores_missing(engagement, rater) -> bool:
    """Whether ``rater`` has an objective left to give a final score to."""
    return bool(
        objectives_unscored(
            list(engagement.objectives.all()),
            milestone=ObjectiveScore.Milestone.CLOSING,
            rater=rater,
        )
    )


def closing_scores_give(*, engagement: Engagement, user: User, scores: dict[int, int]) -> None:
    """The coachee (self) or the sponsor (observed) gives each objective's final score, once."""
    rater = permissions.score_rater(permissions.roles_in(engagement, user))
    if rater is None:
        raise NotAllowed(_("The coachee and the sponsor give the scores, each their own."))
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        workflow.require(engagement, "score_closing")
        if not engagement.objectives.exists():
            raise ApplicationError(_("There is no objective to score."))
        scores_create(
            objectives=list(engagement.objectives.order_by("position")),
            scores=scores,
            rater=rater,
            by=user,
            milestone=ObjectiveScore.Milestone.CLOSING,
            now=clock.now(),
        )


# -- the final synthesis PDF ---------------------------------------------------------


def synthesis_issue(*, engagement: Engagement, coach: User) -> ClosingReview:
    """
    The coach issues the final synthesis the coachee validated: a task renders
    and seals its two versions, then completes the engagement. A second click
    queues nothing more, and the task makes the documents once.
    """
    permissions.require(engagement, coach, permissions.can_write_synthesis)
    with transaction.atomic():
        review = _locked_review(engagement)
        workflow.require(review.engagement, "write_synthesis")
        if review.status != Status.VALIDATED:
            raise ApplicationError(_("The coachee has not validated the synthesis yet."))
        if review.generation_requested_at is None:
            review.generation_requested_at = clock.now()
            review.save(update_fields=["generation_requested_at", "updated_at"])
            tasks.generate_synthesis.delay_on_commit(review.pk)
    return review


def _document(review, version):
    """One version of the final synthesis: the coachee's whole, or the sponsor's shared parts."""
    engagement = review.engagement
    role = {"coachee": Role.COACHEE, "sponsor": Role.SPONSOR}[version]
    objectives = list(
        selectors.objectives_with_scores(
            engagement, permissions.synthesis_scores(review, version=version)
        )
    )
    reports = list(selectors.reports_for(engagement, {role}))
    counts = selectors.session_counts(engagement)
    parts = review.parts() if version == "coachee" else review.shared_parts()
    return render_pdf(
        "pdf/synthesis.html",
        {
            "engagement": engagement,
            "review": review,
            "version": version,
            "parts": parts,
            "objectives": objectives,
            "charts": charts.objective_charts(objectives, reports, closing=True),
            "counts": counts,
            "sessions_held": engagement.sessions.development()
            .filter(status=CoachingSession.Status.HELD)
            .count(),
            "issued_on": clock.today(),
        },
        language=engagement.language,
    )


def synthesis_generate(*, review_id: int) -> bool:
    """
    Render and seal both versions of the final synthesis, keep their SHA-256,
    and complete the engagement (the platform's transition). Idempotent: a
    review already completed is left alone. Returns True when this call made them.
    """
    with transaction.atomic():
        engagement_id = ClosingReview.objects.values_list("engagement_id", flat=True).get(
            pk=review_id
        )
        review = _locked_review(Engagement(pk=engagement_id))
        if review.status != Status.VALIDATED:
            return False
        # The coachee may have withdrawn since it was asked for: nothing is made.
        if not workflow.allows_transition(review.engagement, "complete", actor=None):
            return False
        review.engagement = Engagement.objects.select_related(
            "coach__user", "coachee", "sponsor", "organization"
        ).get(pk=engagement_id)
        # Both versions are made in memory first: a failure stores nothing.
        sealed = {
            version: seal_pdf(
                _document(review, version),
                reason=f"Final synthesis ({version}'s version) of engagement {engagement_id}",
            )
            for version in ("coachee", "sponsor")
        }
        saved = []
        try:
            for version, field, hash_field in (
                ("coachee", "synthesis_pdf", "synthesis_sha256"),
                ("sponsor", "sponsor_pdf", "sponsor_sha256"),
            ):
                document = getattr(review, field)
                document.save(
                    f"synthese-{engagement_id}-{version}.pdf",
                    ContentFile(sealed[version]),
                    save=False,
                )
                saved.append(document.name)
                setattr(review, hash_field, hashlib.sha256(sealed[version]).hexdigest())
            review.status = Status.COMPLETED
            review.completed_at = clock.now()
            review.save()
            workflow.transition(review.engagement, "complete", actor=None)
            # A report still waiting at the end is never released.
            reports_close_open(engagement=review.engagement)
        except Exception:
            # The transaction rolls back: no confidential file is left behind.
            for name in saved:
                review.synthesis_pdf.storage.delete(name)
            raise
        tasks.send_synthesis_issued.delay_on_commit(review.engagement_id)
    return True
