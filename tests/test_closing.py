"""
The closing review (DOMAIN.md step 5): entering it, the synthesis the coach
writes and the coachee co-validates, the final scores, the final synthesis PDF
in its two sealed versions, who sees what of it, and the closing session after
a withdrawal.
"""

import hashlib
import io
import shutil
from datetime import timedelta

import icalendar
import pytest
from asn1crypto import pem, x509
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from engagements import permissions, selectors, signing, workflow
from engagements.models import (
    AuditEvent,
    ClosingReview,
    CoachingSession,
    Engagement,
    ObjectiveScore,
    Role,
    StatusChange,
)
from engagements.services import closing
from engagements.services import sessions as session_service
from engagements.services.engagements import engagement_withdraw

from . import factories
from .conftest import pdfsig_report, race

pytestmark = pytest.mark.django_db

Status = ClosingReview.Status
S = Engagement.Status

# One word per part, easy to find in a page or in the text of a PDF.
TEXTS = {
    "learnings": "APPRISQX",
    "metacognitive_skills": "RECULQX",
    "objectives_assessment": "ATTEINTEQX",
    "recommendations": "SUITESQX",
}
# What the coachee shares in the usual path; the two other parts stay private.
SHARED = ["learnings", "recommendations"]
UNSHARED = ["metacognitive_skills", "objectives_assessment"]
COMMENT = "COMMENTAIREQX"
PRIVATE_NOTE = "NOTEPRIVEEQX"
SHARED_SUMMARY = "RESUMESEANCEQX"
ACTION_PLAN = "PLANACTIONQX"


# -- fixtures and helpers ------------------------------------------------------------


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what services queue after commit (tasks run in-process in tests)."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def soon(days, hour=10):
    """A moment ``days`` from now at ``hour`` (local), clear of other bookings."""
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def add_objectives(engagement, count):
    now = timezone.now()
    start = engagement.objectives.count()
    return [
        factories.ObjectiveFactory(
            engagement=engagement,
            position=start + index + 1,
            title=f"Objectif {start + index + 1}",
            approved_by_coachee_at=now,
        )
        for index in range(count)
    ]


@pytest.fixture
def active(engagement_in):
    """An active engagement with two agreed objectives and a held session with its notes."""
    engagement = engagement_in(S.ACTIVE)
    add_objectives(engagement, 2)
    held = factories.CoachingSessionFactory(
        engagement=engagement, status="held", starts_at=timezone.now() - timedelta(days=10)
    )
    factories.PrivateNoteFactory(session=held, body=PRIVATE_NOTE)
    factories.SharedSummaryFactory(session=held, summary=SHARED_SUMMARY, action_plan=ACTION_PLAN)
    return engagement


@pytest.fixture
def in_closing(active, coach):
    closing.closing_start(engagement=active, coach=coach, cancel_planned=True)
    active.refresh_from_db()
    return active


def review_of(engagement):
    return ClosingReview.objects.get(engagement=engagement)


def write(engagement, coach, **overrides):
    return closing.synthesis_save(engagement=engagement, coach=coach, **{**TEXTS, **overrides})


def final_scores(engagement, score=1):
    return {objective.pk: score for objective in engagement.objectives.all()}


def give_final_scores(engagement, user, score=1):
    closing.closing_scores_give(
        engagement=engagement, user=user, scores=final_scores(engagement, score)
    )


@pytest.fixture
def submitted(in_closing, coach, on_commit):
    write(in_closing, coach)
    on_commit(closing.synthesis_submit, engagement=in_closing, coach=coach)
    return in_closing


def validate(engagement, coachee, shared=SHARED):
    return closing.synthesis_validate(
        engagement=engagement, coachee=coachee, shared_parts=list(shared)
    )


@pytest.fixture
def validated(submitted, coachee, sponsor, on_commit):
    give_final_scores(submitted, coachee, score=2)
    give_final_scores(submitted, sponsor, score=-1)
    on_commit(validate, submitted, coachee)
    return submitted


def issue(engagement, coach, on_commit):
    """The coach issues the final synthesis; the task makes the two PDFs (in-process)."""
    on_commit(closing.synthesis_issue, engagement=engagement, coach=coach)
    engagement.refresh_from_db()
    return review_of(engagement)


@pytest.fixture
def completed(in_closing, coach, coachee, sponsor, on_commit):
    """The whole path: drafted, returned with a comment, resubmitted, validated, issued."""
    write(in_closing, coach, learnings="Premier jet")
    closing.synthesis_submit(engagement=in_closing, coach=coach)
    closing.synthesis_return(engagement=in_closing, coachee=coachee, comment=COMMENT)
    write(in_closing, coach)
    closing.synthesis_submit(engagement=in_closing, coach=coach)
    give_final_scores(in_closing, coachee, score=2)
    give_final_scores(in_closing, sponsor, score=-1)
    validate(in_closing, coachee)
    issue(in_closing, coach, on_commit)
    return in_closing


def read(field):
    field.open("rb")
    try:
        return field.read()
    finally:
        field.close()


def pdf_text(content):
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def download(client, engagement, version):
    response = client.get(reverse("synthesis_pdf", args=[engagement.pk, version]))
    if response.status_code != 200:
        return response, None
    return response, b"".join(response.streaming_content)


def html(response):
    return response.content.decode()


def trust_root():
    data = settings.SIGNING_CHAIN_PATH.read_bytes()
    return x509.Certificate.load(pem.unarmor(data)[2])


def closing_scores_of(objectives, rater):
    return [
        score
        for objective in objectives
        for score in objective.scores.all()
        if score.milestone == ObjectiveScore.Milestone.CLOSING and score.rater == rater
    ]


# -- 1. entering the closing review --------------------------------------------------


@pytest.fixture
def planned(active):
    """Three development sessions still to come."""
    return [
        factories.CoachingSessionFactory(engagement=active, starts_at=soon(7 + 7 * index))
        for index in range(3)
    ]


def test_starting_the_closing_review_cancels_the_planned_sessions_with_calendar_notices(
    active, planned, coach, on_commit
):
    review = on_commit(closing.closing_start, engagement=active, coach=coach, cancel_planned=True)
    active.refresh_from_db()
    assert active.status == S.CLOSING
    assert review.status == Status.DRAFT and review_of(active) == review
    for session in planned:
        session.refresh_from_db()
        assert session.status == CoachingSession.Status.CANCELLED
        assert session.sequence == 1
        assert session.cancelled_by == coach and not session.cancelled_late
    # The sessions leave the calendars of the coach and the coachee: one
    # notice each, with one file cancelling them all.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([coach.email, active.coachee.email])
    for message in mail.outbox:
        [(_name, content, _mime)] = message.attachments
        parsed = icalendar.Calendar.from_ical(content)
        assert parsed["method"] == "CANCEL"
        assert len(parsed.walk("VEVENT")) == len(planned)
    # The held session is history: it stays as it was.
    assert active.sessions.filter(status="held").count() == 1


def test_starting_the_closing_review_can_keep_the_planned_sessions(
    active, planned, coach, on_commit
):
    on_commit(closing.closing_start, engagement=active, coach=coach, cancel_planned=False)
    active.refresh_from_db()
    assert active.status == S.CLOSING
    assert review_of(active).status == Status.DRAFT
    for session in planned:
        session.refresh_from_db()
        assert (session.status, session.sequence) == (CoachingSession.Status.PLANNED, 0)
    assert mail.outbox == []


@pytest.mark.parametrize(("choice", "status"), [("cancel", "cancelled"), ("keep", "planned")])
def test_the_coach_starts_the_closing_review_from_its_page(
    client, active, planned, coach, django_capture_on_commit_callbacks, choice, status
):
    client.force_login(coach)
    url = reverse("closing_start", args=[active.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["planned"] == planned
    for session in planned:
        assert timezone.localtime(session.starts_at).isoformat() in html(page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"planned_sessions": choice})
    assert response.status_code == 302
    assert response.url == reverse("sessions", args=[active.pk])
    active.refresh_from_db()
    assert active.status == S.CLOSING
    assert {s.status for s in active.sessions.development().exclude(status="held")} == {status}
    assert review_of(active).status == Status.DRAFT


def test_the_closing_start_page_does_not_list_past_or_tripartite_meetings(
    active, planned, coach, client
):
    factories.CoachingSessionFactory(
        engagement=active, starts_at=timezone.now() - timedelta(hours=1)
    )
    factories.CoachingSessionFactory(engagement=active, kind="midpoint", starts_at=soon(4))
    client.force_login(coach)
    page = client.get(reverse("closing_start", args=[active.pk]))
    assert page.context["planned"] == planned


@pytest.mark.parametrize(
    "persona", ["coachee", "sponsor", "hr", "other_coach", "other_hr", "outsider"], indirect=True
)
def test_only_the_coach_can_open_or_post_the_closing_start_page(client, active, persona):
    client.force_login(persona)
    url = reverse("closing_start", args=[active.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"planned_sessions": "keep"}).status_code == 404
    active.refresh_from_db()
    assert active.status == S.ACTIVE
    assert not ClosingReview.objects.exists()


@pytest.mark.parametrize("persona", ["coachee", "sponsor", "hr", "other_coach"], indirect=True)
def test_nobody_but_the_coach_can_start_the_closing_review(active, persona):
    with pytest.raises(ValidationError):
        closing.closing_start(engagement=active, coach=persona, cancel_planned=True)
    active.refresh_from_db()
    assert active.status == S.ACTIVE
    assert not ClosingReview.objects.exists()


@pytest.mark.parametrize(
    "status", [S.DRAFT, S.KICKOFF, S.CONTRACTING, S.CLOSING, S.WITHDRAWN, S.CANCELLED]
)
def test_the_closing_review_starts_only_from_an_active_engagement(
    client, engagement_in, coach, status
):
    engagement = engagement_in(status)
    changes = StatusChange.objects.count()
    with pytest.raises(workflow.TransitionError):
        closing.closing_start(engagement=engagement, coach=coach, cancel_planned=True)
    client.force_login(coach)
    response = client.post(
        reverse("closing_start", args=[engagement.pk]), {"planned_sessions": "cancel"}
    )
    assert response.status_code == 302  # back to the engagement: nothing to start
    engagement.refresh_from_db()
    assert engagement.status == status
    assert StatusChange.objects.count() == changes
    assert not ClosingReview.objects.exists()


def test_the_coachee_asks_for_the_closing_review_and_her_coach_is_told_once(
    client, active, coachee, coach, django_capture_on_commit_callbacks
):
    client.force_login(coachee)
    page = client.get(active.get_absolute_url())
    assert page.context["can_request_closing"]
    url = reverse("closing_request", args=[active.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    active.refresh_from_db()
    asked_at = active.closing_requested_at
    assert asked_at is not None
    assert [m.to for m in mail.outbox] == [[coach.email]]
    assert reverse("closing_start", args=[active.pk]) in mail.outbox[0].body
    assert not client.get(active.get_absolute_url()).context["can_request_closing"]

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, follow=True)
    assert again.status_code == 200
    assert [m.level_tag for m in again.context["messages"]] == ["error"]
    active.refresh_from_db()
    assert active.closing_requested_at == asked_at
    assert len(mail.outbox) == 1


def test_a_second_request_for_the_closing_review_is_refused(active, coachee, on_commit):
    on_commit(closing.closing_request, engagement=active, coachee=coachee)
    with pytest.raises(ValidationError):
        on_commit(closing.closing_request, engagement=active, coachee=coachee)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("persona", ["coach", "sponsor", "hr", "outsider"], indirect=True)
def test_only_the_coachee_asks_for_the_closing_review(client, active, persona):
    client.force_login(persona)
    assert client.post(reverse("closing_request", args=[active.pk])).status_code == 404
    with pytest.raises(ValidationError):
        closing.closing_request(engagement=active, coachee=persona)
    active.refresh_from_db()
    assert active.closing_requested_at is None
    assert mail.outbox == []


@pytest.mark.parametrize("status", [S.KICKOFF, S.CONTRACTING, S.CLOSING])
def test_the_closing_review_is_asked_for_only_while_active(engagement_in, coachee, status):
    engagement = engagement_in(status)
    with pytest.raises(ValidationError):
        closing.closing_request(engagement=engagement, coachee=coachee)
    engagement.refresh_from_db()
    assert engagement.closing_requested_at is None


def test_the_coach_portal_points_to_the_closing_review_the_coachee_asked_for(
    client, active, coachee, coach
):
    closing.closing_request(engagement=active, coachee=coachee)
    client.force_login(coach)
    portal = client.get(reverse("coach_portal"))
    [item] = [e for e in portal.context["to_do"] if e.pk == active.pk]
    assert item.next.subject == "closing_start" and item.next.urgent
    assert item.next_url == reverse("closing_start", args=[active.pk])
    with translation.override(coach.language):  # the portal speaks the coach's language
        assert item.next.text == gettext("The coachee asks for the closing review")
    assert f'href="{item.next_url}"' in html(portal)


def test_the_coachee_portal_asks_her_to_read_and_validate_the_synthesis(client, submitted, coachee):
    client.force_login(coachee)
    portal = client.get(reverse("coachee_portal"))
    [item] = [e for e in portal.context["open_engagements"] if e.pk == submitted.pk]
    assert item.next.subject == "synthesis" and item.next.urgent
    assert item.next_url == reverse("synthesis", args=[submitted.pk])


def test_the_sponsor_portal_points_to_the_final_synthesis_once_issued(client, completed, sponsor):
    client.force_login(sponsor)
    portal = client.get(reverse("sponsor_portal"))
    [item] = [e for e in portal.context["ended_engagements"] if e.pk == completed.pk]
    assert item.next_url == reverse("synthesis", args=[completed.pk])
    assert client.get(item.next_url).status_code == 200


# -- 2. the closing tripartite meeting ---------------------------------------------------


def book(engagement, coach, kind, days, **overrides):
    values = {
        "engagement": engagement,
        "coach": coach,
        "kind": kind,
        "starts_at": soon(days),
        "duration_minutes": 120,
        "format": "video",
        "video_url": "https://visio.example.com/cloture",
    }
    return session_service.session_schedule(**{**values, **overrides})


def test_the_closing_meeting_is_booked_like_any_meeting_and_invites_the_sponsor(
    in_closing, coach, on_commit
):
    session = on_commit(book, in_closing, coach, "closing", 10)
    assert session.kind == CoachingSession.Kind.CLOSING
    in_closing.refresh_from_db()
    assert in_closing.status == S.CLOSING
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [coach.email, in_closing.coachee.email, in_closing.sponsor.email]
    )
    attendees = icalendar.Calendar.from_ical(mail.outbox[0].attachments[0][1]).walk("VEVENT")[0][
        "attendee"
    ]
    assert f"mailto:{in_closing.sponsor.email}" in [str(a) for a in attendees]


def test_no_development_session_is_booked_during_the_closing_review(in_closing, coach):
    with pytest.raises(ValidationError):
        book(in_closing, coach, "development", 10)
    with pytest.raises(ValidationError):
        session_service.series_create(
            engagement=in_closing,
            coach=coach,
            starts=[soon(10), soon(17)],
            duration_minutes=120,
            format="video",
        )
    assert not in_closing.sessions.filter(status="planned").exists()


def test_the_closing_meeting_cannot_be_booked_while_the_engagement_is_active(active, coach):
    with pytest.raises(ValidationError):
        book(active, coach, "closing", 10)
    active.refresh_from_db()
    assert active.status == S.ACTIVE
    assert not active.sessions.filter(kind="closing").exists()


# -- 3. the synthesis --------------------------------------------------------------------


def test_the_coach_saves_drafts_of_the_synthesis(in_closing, coach):
    write(in_closing, coach, learnings="  Premier jet  ", recommendations="")
    review = review_of(in_closing)
    assert (review.status, review.learnings, review.recommendations) == (
        Status.DRAFT,
        "Premier jet",
        "",
    )
    write(in_closing, coach)
    review.refresh_from_db()
    assert [getattr(review, part) for part in ClosingReview.PARTS] == list(TEXTS.values())
    assert review.status == Status.DRAFT and review.submitted_at is None


@pytest.mark.parametrize("part", ClosingReview.PARTS)
def test_the_synthesis_is_submitted_only_with_its_four_parts(in_closing, coach, on_commit, part):
    write(in_closing, coach, **{part: "   "})
    with pytest.raises(ValidationError):
        on_commit(closing.synthesis_submit, engagement=in_closing, coach=coach)
    review = review_of(in_closing)
    assert (review.status, review.submitted_at) == (Status.DRAFT, None)
    assert mail.outbox == []


def test_submitting_the_synthesis_tells_the_coachee_only(submitted, coachee):
    review = review_of(submitted)
    assert review.status == Status.AWAITING_COACHEE and review.submitted_at
    assert [m.to for m in mail.outbox] == [[coachee.email]]
    assert reverse("synthesis", args=[submitted.pk]) in mail.outbox[0].body


def test_the_coach_writes_and_submits_the_synthesis_from_its_page(
    client, in_closing, coach, coachee, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    url = reverse("synthesis", args=[in_closing.pk])
    assert client.get(url).context["form"] is not None
    assert client.post(url, {**TEXTS, "action": "save"}).status_code == 302
    assert review_of(in_closing).status == Status.DRAFT
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**TEXTS, "action": "submit"})
    assert response.status_code == 302
    review = review_of(in_closing)
    assert review.status == Status.AWAITING_COACHEE
    assert review.learnings == TEXTS["learnings"]
    assert [m.to for m in mail.outbox] == [[coachee.email]]


def test_submitting_from_the_page_with_a_part_missing_is_refused_on_the_form(
    client, in_closing, coach
):
    client.force_login(coach)
    response = client.post(
        reverse("synthesis", args=[in_closing.pk]),
        {**TEXTS, "recommendations": "", "action": "submit"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    review = review_of(in_closing)
    assert (review.status, review.submitted_at) == (Status.DRAFT, None)
    assert mail.outbox == []


def test_a_refused_submission_writes_nothing(client, in_closing, coach):
    """
    CONVENTIONS.md: bad input gives a form error and writes nothing. Giving
    the synthesis to the coachee with a part missing is refused, and the
    parts sent with it are not stored either.
    """
    write(in_closing, coach, learnings="Ancien texte")
    client.force_login(coach)
    client.post(
        reverse("synthesis", args=[in_closing.pk]),
        {**TEXTS, "recommendations": "", "action": "submit"},
    )
    assert review_of(in_closing).learnings == "Ancien texte"


def test_the_coachee_returns_the_synthesis_with_a_comment_to_her_coach_only(
    submitted, coachee, coach, on_commit
):
    mail.outbox.clear()
    on_commit(closing.synthesis_return, engagement=submitted, coachee=coachee, comment=COMMENT)
    review = review_of(submitted)
    assert review.status == Status.CHANGES_REQUESTED
    assert review.coachee_comment == COMMENT and review.returned_at
    assert [m.to for m in mail.outbox] == [[coach.email]]
    assert all(submitted.sponsor.email not in m.to for m in mail.outbox)
    assert all(COMMENT not in m.body for m in mail.outbox)


def test_a_return_without_a_comment_is_refused(submitted, coachee):
    mail.outbox.clear()
    with pytest.raises(ValidationError):
        closing.synthesis_return(engagement=submitted, coachee=coachee, comment="   ")
    review = review_of(submitted)
    assert (review.status, review.coachee_comment) == (Status.AWAITING_COACHEE, "")
    assert mail.outbox == []


def test_the_coach_edits_and_resubmits_a_returned_synthesis(
    submitted, coach, coachee, client, on_commit
):
    closing.synthesis_return(engagement=submitted, coachee=coachee, comment=COMMENT)
    client.force_login(coach)
    page = client.get(reverse("synthesis", args=[submitted.pk]))
    assert page.context["form"] is not None
    assert COMMENT in html(page)
    mail.outbox.clear()
    write(submitted, coach, learnings="Version revue")
    on_commit(closing.synthesis_submit, engagement=submitted, coach=coach)
    review = review_of(submitted)
    assert (review.status, review.learnings) == (Status.AWAITING_COACHEE, "Version revue")
    assert [m.to for m in mail.outbox] == [[coachee.email]]


def test_the_coachee_gives_her_final_scores_before_validating(submitted, coachee):
    with pytest.raises(ValidationError):
        validate(submitted, coachee)
    assert review_of(submitted).status == Status.AWAITING_COACHEE
    give_final_scores(submitted, coachee)
    review = validate(submitted, coachee)
    assert review.status == Status.VALIDATED


def test_the_coachee_validates_and_chooses_what_the_sponsor_receives(
    client, submitted, coachee, coach, django_capture_on_commit_callbacks
):
    give_final_scores(submitted, coachee)
    client.force_login(coachee)
    page = client.get(reverse("synthesis", args=[submitted.pk]))
    assert page.context["can_validate"] and page.context["form"] is None
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("synthesis_validate", args=[submitted.pk]), {"shared_parts": SHARED}
        )
    assert response.status_code == 302
    review = review_of(submitted)
    assert review.status == Status.VALIDATED and review.coachee_validated_at
    assert [name for name, *_rest in review.shared_parts()] == SHARED
    assert [m.to for m in mail.outbox] == [[coach.email]]


def test_the_coachee_may_share_nothing(submitted, coachee):
    give_final_scores(submitted, coachee)
    review = validate(submitted, coachee, shared=[])
    assert review.status == Status.VALIDATED and review.shared_parts() == []


@pytest.mark.parametrize("persona", ["coach", "sponsor", "hr", "other_coach"], indirect=True)
def test_only_the_coachee_validates_or_returns_the_synthesis(client, submitted, coachee, persona):
    give_final_scores(submitted, coachee)
    client.force_login(persona)
    validate_url = reverse("synthesis_validate", args=[submitted.pk])
    return_url = reverse("synthesis_return", args=[submitted.pk])
    assert client.post(validate_url, {"shared_parts": SHARED}).status_code == 404
    assert client.post(return_url, {"comment": COMMENT}).status_code == 404
    with pytest.raises(ValidationError):
        closing.synthesis_validate(engagement=submitted, coachee=persona, shared_parts=SHARED)
    with pytest.raises(ValidationError):
        closing.synthesis_return(engagement=submitted, coachee=persona, comment=COMMENT)
    review = review_of(submitted)
    assert (review.status, review.coachee_comment) == (Status.AWAITING_COACHEE, "")


def test_a_second_validation_is_refused(validated, coachee):
    first = review_of(validated).coachee_validated_at
    with pytest.raises(ValidationError):
        validate(validated, coachee, shared=ClosingReview.PARTS)
    with pytest.raises(ValidationError):
        closing.synthesis_return(engagement=validated, coachee=coachee, comment=COMMENT)
    review = review_of(validated)
    assert review.coachee_validated_at == first
    assert [name for name, *_rest in review.shared_parts()] == SHARED


@pytest.mark.parametrize("fixture", ["submitted", "validated"])
def test_the_coach_cannot_edit_the_synthesis_once_given_to_the_coachee(
    request, client, coach, fixture
):
    engagement = request.getfixturevalue(fixture)
    before = review_of(engagement)
    with pytest.raises(ValidationError):
        write(engagement, coach, learnings="Réécrit")
    with pytest.raises(ValidationError):
        closing.synthesis_submit(engagement=engagement, coach=coach)
    client.force_login(coach)
    page = client.get(reverse("synthesis", args=[engagement.pk]))
    assert page.status_code == 200 and page.context["form"] is None
    response = client.post(
        reverse("synthesis", args=[engagement.pk]),
        {**TEXTS, "learnings": "Réécrit", "action": "submit"},
    )
    # Told so, back on the synthesis; nothing written.
    assert (response.status_code, response.url) == (302, reverse("synthesis", args=[engagement.pk]))
    after = review_of(engagement)
    assert (after.status, after.learnings, after.submitted_at) == (
        before.status,
        before.learnings,
        before.submitted_at,
    )


@pytest.mark.parametrize("persona", ["coachee", "sponsor", "hr", "other_coach"], indirect=True)
def test_nobody_but_the_coach_writes_the_synthesis(client, in_closing, persona):
    with pytest.raises(ValidationError):
        write(in_closing, persona)
    with pytest.raises(ValidationError):
        closing.synthesis_submit(engagement=in_closing, coach=persona)
    client.force_login(persona)
    response = client.post(reverse("synthesis", args=[in_closing.pk]), TEXTS)
    assert response.status_code == 404
    assert review_of(in_closing).learnings == ""


def test_the_synthesis_is_not_written_outside_the_closing_review(engagement_in, coach):
    engagement = engagement_in(S.ACTIVE)
    factories.ClosingReviewFactory(engagement=engagement, learnings="")
    with pytest.raises(workflow.TransitionError):
        write(engagement, coach)
    assert review_of(engagement).learnings == ""


# -- 4. final scores -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "rater"),
    [("coachee", ObjectiveScore.Rater.COACHEE), ("sponsor", ObjectiveScore.Rater.SPONSOR)],
    indirect=["persona"],
)
def test_coachee_and_sponsor_each_give_their_final_scores_once(in_closing, persona, rater):
    before = timezone.now()
    give_final_scores(in_closing, persona, score=1)
    scores = ObjectiveScore.objects.filter(
        objective__engagement=in_closing, milestone=ObjectiveScore.Milestone.CLOSING
    )
    assert scores.count() == in_closing.objectives.count()
    for score in scores:
        assert (score.rater, score.scored_by, score.score) == (rater, persona, 1)
        assert score.scored_at >= before
    with pytest.raises(ValidationError):
        give_final_scores(in_closing, persona, score=-2)
    assert list(scores.values_list("score", flat=True)) == [1] * scores.count()


def test_the_coach_never_gives_final_scores(client, in_closing, coach):
    with pytest.raises(ValidationError):
        give_final_scores(in_closing, coach)
    client.force_login(coach)
    response = client.post(
        reverse("closing_scores", args=[in_closing.pk]),
        {f"score_{pk}": "1" for pk in final_scores(in_closing)},
    )
    assert response.status_code == 404
    assert not ObjectiveScore.objects.filter(milestone="closing").exists()


@pytest.mark.parametrize("persona", ["hr", "other_coach", "outsider"], indirect=True)
def test_strangers_to_the_scores_get_a_404_on_the_final_scores_page(client, in_closing, persona):
    client.force_login(persona)
    assert client.get(reverse("closing_scores", args=[in_closing.pk])).status_code == 404


@pytest.mark.parametrize("status", [S.KICKOFF, S.ACTIVE, S.COMPLETED, S.WITHDRAWN])
def test_final_scores_are_given_only_during_the_closing_review(
    engagement_in, coachee, sponsor, status
):
    engagement = engagement_in(status)
    add_objectives(engagement, 2)
    for person in (coachee, sponsor):
        with pytest.raises(ValidationError):
            give_final_scores(engagement, person)
    assert not ObjectiveScore.objects.filter(milestone="closing").exists()


def test_the_coachee_gives_her_final_scores_from_their_page(client, in_closing, coachee):
    client.force_login(coachee)
    url = reverse("closing_scores", args=[in_closing.pk])
    assert client.get(url).context["open"]
    bad = client.post(url, {})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert not ObjectiveScore.objects.exists()
    response = client.post(url, {f"score_{pk}": "2" for pk in final_scores(in_closing)})
    assert response.status_code == 302
    # The synthesis is still the coach's draft: she goes back to her engagement.
    assert response.url == in_closing.get_absolute_url()
    assert client.get(response.url).status_code == 200
    assert ObjectiveScore.objects.filter(milestone="closing", rater="coachee").count() == 2
    page = client.get(url)
    assert not page.context["open"] and len(page.context["given"]) == 2


# -- 5. issuing the final synthesis --------------------------------------------------


class Recorder:
    """Stands for a task: counts what is queued."""

    def __init__(self):
        self.calls = []

    def delay_on_commit(self, *args):
        self.calls.append(args)

    delay = delay_on_commit


def test_the_final_synthesis_is_issued_only_once_validated(submitted, coach):
    with pytest.raises(ValidationError):
        closing.synthesis_issue(engagement=submitted, coach=coach)
    review = review_of(submitted)
    assert review.generation_requested_at is None
    assert closing.synthesis_generate(review_id=review.pk) is False
    submitted.refresh_from_db()
    assert submitted.status == S.CLOSING


@pytest.mark.parametrize("persona", ["coachee", "sponsor", "hr"], indirect=True)
def test_only_the_coach_issues_the_final_synthesis(client, validated, persona):
    with pytest.raises(ValidationError):
        closing.synthesis_issue(engagement=validated, coach=persona)
    client.force_login(persona)
    assert client.post(reverse("synthesis_issue", args=[validated.pk])).status_code == 404
    assert review_of(validated).generation_requested_at is None


def test_a_second_click_on_issue_queues_nothing_more(
    client, validated, coach, monkeypatch, django_capture_on_commit_callbacks
):
    task = Recorder()
    monkeypatch.setattr("engagements.tasks.generate_synthesis", task)
    client.force_login(coach)
    url = reverse("synthesis_issue", args=[validated.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    review = review_of(validated)
    asked_at = review.generation_requested_at
    assert asked_at is not None
    assert task.calls == [(review.pk,)]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
        closing.synthesis_issue(engagement=validated, coach=coach)
    assert task.calls == [(review.pk,)]
    assert review_of(validated).generation_requested_at == asked_at


def test_issuing_makes_both_sealed_pdfs_and_completes_the_engagement(validated, coach, on_commit):
    mail.outbox.clear()
    review = issue(validated, coach, on_commit)
    assert review.status == Status.COMPLETED and review.completed_at
    coachee_pdf, sponsor_pdf = read(review.synthesis_pdf), read(review.sponsor_pdf)
    assert coachee_pdf.startswith(b"%PDF") and sponsor_pdf.startswith(b"%PDF")
    assert review.synthesis_sha256 == hashlib.sha256(coachee_pdf).hexdigest()
    assert review.sponsor_sha256 == hashlib.sha256(sponsor_pdf).hexdigest()
    assert review.synthesis_sha256 != review.sponsor_sha256
    assert validated.status == S.COMPLETED and validated.ended_at
    change = validated.status_changes.latest("id")
    assert (change.from_status, change.to_status, change.actor) == (S.CLOSING, S.COMPLETED, None)
    assert change.actor_role == workflow.PLATFORM
    # Each party is told once, with a link and no word of the synthesis.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [coach.email, validated.coachee.email, validated.sponsor.email]
    )
    for message in mail.outbox:
        assert reverse("synthesis", args=[validated.pk]) in message.body
        assert not any(marker in message.body for marker in TEXTS.values())


def test_generating_again_makes_no_second_document(validated, coach, on_commit, settings):
    from engagements import tasks

    review = issue(validated, coach, on_commit)
    files = sorted(p.name for p in (settings.MEDIA_ROOT / "syntheses").iterdir())
    assert len(files) == 2
    mail.outbox.clear()
    assert on_commit(closing.synthesis_generate, review_id=review.pk) is False
    assert on_commit(tasks.generate_synthesis, review.pk) is False
    assert tasks.send_synthesis_issued(validated.pk) == 0
    again = review_of(validated)
    assert (again.synthesis_pdf.name, again.sponsor_pdf.name) == (
        review.synthesis_pdf.name,
        review.sponsor_pdf.name,
    )
    assert (again.synthesis_sha256, again.sponsor_sha256) == (
        review.synthesis_sha256,
        review.sponsor_sha256,
    )
    assert sorted(p.name for p in (settings.MEDIA_ROOT / "syntheses").iterdir()) == files
    assert validated.status_changes.filter(to_status=S.COMPLETED).count() == 1
    assert mail.outbox == []


def test_a_lost_generation_is_picked_up_by_the_periodic_task(
    validated, coach, monkeypatch, django_capture_on_commit_callbacks
):
    from engagements import tasks

    task = Recorder()
    monkeypatch.setattr("engagements.tasks.generate_synthesis", task)
    with django_capture_on_commit_callbacks(execute=True):
        closing.synthesis_issue(engagement=validated, coach=coach)
    review = review_of(validated)
    assert tasks.generate_pending_syntheses() == 0  # just asked: its task may still run
    ClosingReview.objects.filter(pk=review.pk).update(
        generation_requested_at=timezone.now() - timedelta(minutes=30)
    )
    assert tasks.generate_pending_syntheses() == 1
    assert task.calls == [(review.pk,), (review.pk,)]


@pytest.fixture
def withdrawn_while_issuing(
    validated, coach, coachee, monkeypatch, django_capture_on_commit_callbacks
):
    """
    The coach issued the validated synthesis, but its task has not run yet
    (or failed) when the coachee withdraws, as she may at any time.
    """
    task = Recorder()
    monkeypatch.setattr("engagements.tasks.generate_synthesis", task)
    with django_capture_on_commit_callbacks(execute=True):
        closing.synthesis_issue(engagement=validated, coach=coach)
    assert task.calls
    engagement_withdraw(engagement=validated, coachee=coachee)
    validated.refresh_from_db()
    assert validated.status == S.WITHDRAWN
    ClosingReview.objects.filter(engagement=validated).update(
        generation_requested_at=timezone.now() - timedelta(minutes=30)
    )
    task.calls.clear()
    return validated, task


def test_no_final_synthesis_is_generated_for_a_withdrawn_engagement(
    withdrawn_while_issuing, settings
):
    """The task runs after the withdrawal: it leaves no document behind and does not fail."""
    engagement, _task = withdrawn_while_issuing
    review = review_of(engagement)
    try:
        made = closing.synthesis_generate(review_id=review.pk)
    except ValidationError:
        made = "refused after rendering"
    folder = settings.MEDIA_ROOT / "syntheses"
    left_behind = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert (made, left_behind) == (False, [])
    engagement.refresh_from_db()
    assert engagement.status == S.WITHDRAWN
    assert not review_of(engagement).synthesis_sha256


def test_the_periodic_sweep_does_not_retry_the_synthesis_of_a_withdrawn_engagement(
    withdrawn_while_issuing,
):
    from engagements import tasks

    _engagement, task = withdrawn_while_issuing
    assert tasks.generate_pending_syntheses() == 0
    assert task.calls == []


# -- 6. the two PDFs ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["synthesis_pdf", "sponsor_pdf"])
def test_each_version_is_sealed_over_the_whole_document(completed, field):
    content = read(getattr(review_of(completed), field))
    status = signing.validate_seal(content, [trust_root()])
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"


@pytest.mark.skipif(not shutil.which("pdfsig"), reason="poppler-utils missing")
def test_pdfsig_reports_both_versions_sealed_over_the_whole_document(completed, tmp_path):
    review = review_of(completed)
    for field in ("synthesis_pdf", "sponsor_pdf"):
        path = tmp_path / f"{field}.pdf"
        path.write_bytes(read(getattr(review, field)))
        report = pdfsig_report(path, tmp_path)
        assert "Signature is Valid" in report
        assert "Total document signed" in report
        if shutil.which("certutil"):
            assert "Certificate is Trusted" in report
        tampered = bytearray(path.read_bytes())
        tampered[len(tampered) // 2] ^= 0x01
        path.write_bytes(bytes(tampered))
        assert "Signature is Valid" not in pdfsig_report(path, tmp_path)


def test_the_coachees_version_holds_the_whole_synthesis_and_no_session_content(completed):
    text = pdf_text(read(review_of(completed).synthesis_pdf))
    for marker in TEXTS.values():
        assert marker in text
    for secret in (PRIVATE_NOTE, SHARED_SUMMARY, ACTION_PLAN, COMMENT):
        assert secret not in text
    assert "Objectif 1" in text and "Objectif 2" in text


def test_the_sponsors_version_holds_only_the_shared_parts(completed):
    text = pdf_text(read(review_of(completed).sponsor_pdf))
    for part in SHARED:
        assert TEXTS[part] in text
    for part in UNSHARED:
        assert TEXTS[part] not in text
    for secret in (PRIVATE_NOTE, SHARED_SUMMARY, ACTION_PLAN, COMMENT):
        assert secret not in text


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("coach", {"coachee", "sponsor"}),
        ("coachee", {"coachee"}),
        ("sponsor", {"sponsor"}),
        ("hr", set()),
        ("other_coach", set()),
        ("other_hr", set()),
        ("outsider", set()),
    ],
    indirect=["persona"],
)
def test_each_party_downloads_only_their_version_and_each_download_is_logged(
    client, completed, persona, allowed
):
    review = review_of(completed)
    client.force_login(persona)
    for version, stored in (("coachee", review.synthesis_pdf), ("sponsor", review.sponsor_pdf)):
        response, content = download(client, completed, version)
        if version in allowed:
            assert response.status_code == 200
            assert response["Content-Type"] == "application/pdf"
            assert content == read(stored)
        else:
            assert response.status_code == 404
    downloads = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    assert sorted(e.detail["version"] for e in downloads) == sorted(allowed)
    for event in downloads:
        assert (event.actor, event.engagement, event.record_type, event.record_id) == (
            persona,
            completed,
            "closingreview",
            review.pk,
        )


def test_an_unknown_version_is_a_404(client, completed, coach):
    client.force_login(coach)
    assert download(client, completed, "hr")[0].status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_no_pdf_is_downloaded_before_the_synthesis_is_issued(client, validated, coach, coachee):
    for person in (coach, coachee):
        client.force_login(person)
        assert download(client, validated, "coachee")[0].status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


# -- 7. who sees what of the synthesis ---------------------------------------------------


@pytest.mark.parametrize("fixture", ["in_closing", "submitted", "validated"])
def test_the_sponsor_sees_nothing_of_the_synthesis_before_it_is_issued(
    request, client, sponsor, coach, fixture
):
    engagement = request.getfixturevalue(fixture)
    if review_of(engagement).status == Status.DRAFT:
        write(engagement, coach)  # a draft with every part written
    client.force_login(sponsor)
    assert client.get(reverse("synthesis", args=[engagement.pk])).status_code == 404
    page = client.get(engagement.get_absolute_url())
    assert page.status_code == 200 and page.context["closing_review"] is None
    for marker in TEXTS.values():
        assert marker not in html(page)
    assert reverse("synthesis", args=[engagement.pk]) not in html(page)


@pytest.mark.parametrize("persona", ["hr", "other_coach", "other_hr", "outsider"], indirect=True)
def test_strangers_never_see_the_synthesis(client, completed, persona):
    client.force_login(persona)
    assert client.get(reverse("synthesis", args=[completed.pk])).status_code == 404
    page = client.get(completed.get_absolute_url())
    if page.status_code == 200:
        assert page.context["closing_review"] is None
        for marker in TEXTS.values():
            assert marker not in html(page)


def test_the_coachee_never_sees_the_coachs_draft(client, in_closing, coach, coachee):
    write(in_closing, coach)
    client.force_login(coachee)
    assert client.get(reverse("synthesis", args=[in_closing.pk])).status_code == 404
    page = client.get(in_closing.get_absolute_url())
    assert page.context["closing_review"] is None
    for marker in TEXTS.values():
        assert marker not in html(page)


def test_after_completion_the_sponsor_reads_only_the_shared_parts(client, completed, sponsor):
    client.force_login(sponsor)
    page = client.get(reverse("synthesis", args=[completed.pk]))
    assert page.status_code == 200
    assert [name for name, *_rest in page.context["parts"]] == SHARED
    engagement_page = client.get(completed.get_absolute_url())
    for response in (page, engagement_page):
        text = html(response)
        for part in SHARED:
            assert TEXTS[part] in text
        for part in UNSHARED:
            assert TEXTS[part] not in text
        assert COMMENT not in text
    assert list(page.context["versions"]) == ["sponsor"]


def test_after_completion_coach_and_coachee_read_the_whole_synthesis(
    client, completed, coach, coachee
):
    for person in (coach, coachee):
        client.force_login(person)
        page = client.get(reverse("synthesis", args=[completed.pk]))
        assert [name for name, *_rest in page.context["parts"]] == list(ClosingReview.PARTS)
        for marker in TEXTS.values():
            assert marker in html(page)


def test_reading_the_synthesis_is_logged(client, completed, sponsor):
    client.force_login(sponsor)
    client.get(reverse("synthesis", args=[completed.pk]))
    event = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).latest("id")
    assert (event.actor, event.record_type, event.record_id) == (
        sponsor,
        "closingreview",
        review_of(completed).pk,
    )


def sponsor_sees_final_self_scores(client, engagement, sponsor):
    """
    Whether the coachee's final scores reach the sponsor: on the engagement
    page, in the synthesis page's charts (once issued) and through the selector.
    """
    client.force_login(sponsor)
    sources = [client.get(engagement.get_absolute_url()).context["objectives"]]
    if engagement.status == S.COMPLETED:
        charts = client.get(reverse("synthesis", args=[engagement.pk])).context["charts"]
        sources.append([chart.objective for chart in charts])
    sources.append(list(selectors.objectives_for(engagement, {Role.SPONSOR})))
    return [bool(closing_scores_of(objectives, "coachee")) for objectives in sources]


def test_the_sponsor_sees_the_coachees_final_scores_only_if_she_shared_the_assessment(
    client, completed, sponsor
):
    assert sponsor_sees_final_self_scores(client, completed, sponsor) == [False, False, False]
    # His own final scores he always sees.
    objectives = list(selectors.objectives_for(completed, {Role.SPONSOR}))
    assert len(closing_scores_of(objectives, "sponsor")) == 2


def test_the_coachees_shared_assessment_brings_her_final_scores_to_the_sponsor(
    client, validated, coach, sponsor, on_commit
):
    ClosingReview.objects.filter(engagement=validated).update(share_objectives_assessment=True)
    # Validated but not issued: still nothing.
    assert sponsor_sees_final_self_scores(client, validated, sponsor) == [False, False]
    issue(validated, coach, on_commit)
    assert sponsor_sees_final_self_scores(client, validated, sponsor) == [True, True, True]
    assert TEXTS["objectives_assessment"] in pdf_text(read(review_of(validated).sponsor_pdf))


@pytest.mark.parametrize("shared", [False, True])
def test_the_sponsors_version_prints_her_final_scores_only_with_the_shared_assessment(
    validated, shared
):
    ClosingReview.objects.filter(engagement=validated).update(share_objectives_assessment=shared)
    review = review_of(validated)
    printed = ObjectiveScore.objects.filter(
        permissions.synthesis_scores(review, version="sponsor"), objective__engagement=validated
    )
    final_self = printed.filter(milestone="closing", rater="coachee")
    assert final_self.exists() == shared
    assert printed.filter(milestone="closing", rater="sponsor").count() == 2
    whole = ObjectiveScore.objects.filter(
        permissions.synthesis_scores(review, version="coachee"), objective__engagement=validated
    )
    assert whole.filter(milestone="closing").count() == 4


@pytest.mark.parametrize(
    ("persona", "readable"), [("sponsor", SHARED), ("hr", [])], indirect=["persona"]
)
def test_nothing_unshared_is_reachable_by_the_sponsor_or_hr_after_completion(
    client, completed, persona, readable
):
    from .test_leaks import crawl

    client.force_login(persona)
    pages = crawl(client)
    assert completed.get_absolute_url() in pages
    sponsor_pdf = reverse("synthesis_pdf", args=[completed.pk, "sponsor"])
    if readable:  # the crawl reached his PDF and read it
        assert all(TEXTS[part] in pages[sponsor_pdf] for part in readable)
    else:
        assert sponsor_pdf not in pages
    secrets = [text for part, text in TEXTS.items() if part not in readable]
    secrets += [COMMENT, PRIVATE_NOTE, SHARED_SUMMARY, ACTION_PLAN]
    leaks = [(url, secret) for url, text in pages.items() for secret in secrets if secret in text]
    assert leaks == []


def test_hr_never_sees_any_score(completed, hr):
    roles = permissions.roles_in(completed, hr)
    assert not ObjectiveScore.objects.filter(permissions.visible_scores(roles)).exists()


# -- 8. completion only through the synthesis ----------------------------------------


def test_the_coach_cannot_complete_the_engagement(validated, coach):
    with pytest.raises(workflow.TransitionError):
        workflow.transition(validated, "complete", actor=coach)
    validated.refresh_from_db()
    assert validated.status == S.CLOSING


@pytest.mark.parametrize("fixture", ["in_closing", "submitted"])
def test_the_platform_cannot_complete_without_a_validated_synthesis(request, fixture):
    engagement = request.getfixturevalue(fixture)
    with pytest.raises(workflow.TransitionError):
        workflow.transition(engagement, "complete", actor=None)
    engagement.refresh_from_db()
    assert engagement.status == S.CLOSING
    assert not engagement.status_changes.filter(to_status=S.COMPLETED).exists()


def test_the_platform_cannot_complete_after_a_returned_synthesis(submitted, coachee):
    closing.synthesis_return(engagement=submitted, coachee=coachee, comment=COMMENT)
    with pytest.raises(workflow.TransitionError):
        workflow.transition(submitted, "complete", actor=None)


# -- 9. the closing session after a withdrawal -----------------------------------------


@pytest.fixture
def withdrawn(active, coachee, on_commit):
    """Withdrawn from active; the coachee said she would welcome a closing session."""
    on_commit(engagement_withdraw, engagement=active, coachee=coachee, closing_session_wanted=True)
    active.refresh_from_db()
    mail.outbox.clear()
    return active


def test_after_a_withdrawal_the_coach_books_one_farewell_session_without_the_sponsor(
    withdrawn, coach, coachee, sponsor, on_commit
):
    session = on_commit(book, withdrawn, coach, "farewell", 5)
    assert session.kind == CoachingSession.Kind.FAREWELL
    withdrawn.refresh_from_db()
    assert withdrawn.status == S.WITHDRAWN
    assert sorted(m.to[0] for m in mail.outbox) == sorted([coach.email, coachee.email])
    for message in mail.outbox:
        [(_name, content, _mime)] = message.attachments
        event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
        attendees = event["attendee"]
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert sorted(str(a) for a in attendees) == sorted(
            [f"mailto:{coach.email}", f"mailto:{coachee.email}"]
        )
        text = content if isinstance(content, str) else content.decode()
        assert sponsor.email not in text
    with pytest.raises(ValidationError):
        book(withdrawn, coach, "farewell", 9)
    assert withdrawn.sessions.filter(kind="farewell").count() == 1


def test_after_a_withdrawal_no_other_meeting_is_booked(withdrawn, coach):
    for kind in ("development", "closing", "midpoint"):
        with pytest.raises(ValidationError):
            book(withdrawn, coach, kind, 5)
    assert not withdrawn.sessions.filter(status="planned").exists()


@pytest.mark.parametrize("persona", ["coachee", "sponsor", "hr"], indirect=True)
def test_only_the_coach_books_the_farewell_session(withdrawn, persona):
    with pytest.raises(ValidationError):
        book(withdrawn, persona, "farewell", 5)
    assert not withdrawn.sessions.filter(kind="farewell").exists()


def test_no_farewell_session_unless_the_coachee_wished_it(active, coachee, coach):
    engagement_withdraw(engagement=active, coachee=coachee)
    active.refresh_from_db()
    assert not active.closing_session_wanted
    with pytest.raises(ValidationError):
        book(active, coach, "farewell", 5)
    assert not active.sessions.filter(kind="farewell").exists()


def test_no_farewell_session_while_the_engagement_runs(active, coach):
    with pytest.raises(ValidationError):
        book(active, coach, "farewell", 5)
    closing.closing_start(engagement=active, coach=coach, cancel_planned=True)
    active.refresh_from_db()
    with pytest.raises(ValidationError):
        book(active, coach, "farewell", 5)
    assert not active.sessions.filter(kind="farewell").exists()


def test_the_sponsors_withdrawal_notice_never_says_a_closing_session_was_wished(
    active, coachee, coach, sponsor, on_commit
):
    on_commit(engagement_withdraw, engagement=active, coachee=coachee, closing_session_wanted=True)
    notices = {m.to[0]: m for m in mail.outbox}
    assert set(notices) == {coach.email, coachee.email, sponsor.email}

    def sentence(person):
        with translation.override(person.language):
            return gettext(
                "The coachee would welcome a closing session with you: please propose a date."
            )

    assert sentence(coach) in notices[coach.email].body
    sponsor_notice = notices[sponsor.email]
    assert sentence(sponsor) not in sponsor_notice.body
    assert sentence(sponsor) not in sponsor_notice.subject


def test_the_sponsor_does_not_learn_of_the_farewell_session_from_the_engagement_page(
    client, withdrawn, coach, sponsor
):
    """Only the coach learns the coachee wished a closing session (services/engagements.py)."""
    session = book(withdrawn, coach, "farewell", 5)
    client.force_login(sponsor)
    page = client.get(withdrawn.get_absolute_url())
    assert session not in page.context["sessions"]


# -- 10. methods and bad input -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "persona"),
    [
        ("closing_request", "coachee"),
        ("synthesis_validate", "coachee"),
        ("synthesis_return", "coachee"),
        ("synthesis_issue", "coach"),
    ],
    indirect=["persona"],
)
def test_post_only_views_refuse_other_methods(client, submitted, name, persona):
    client.force_login(persona)
    url = reverse(name, args=[submitted.pk])
    assert client.get(url).status_code == 405
    assert client.put(url).status_code == 405
    assert review_of(submitted).status == Status.AWAITING_COACHEE


@pytest.mark.parametrize(
    ("name", "persona", "extra"),
    [
        ("closing_start", "coach", ()),
        ("synthesis", "coach", ()),
        ("closing_scores", "coachee", ()),
        ("synthesis_pdf", "coach", ("coachee",)),
    ],
    indirect=["persona"],
)
def test_pages_refuse_put_and_delete(client, submitted, name, persona, extra):
    client.force_login(persona)
    url = reverse(name, args=[submitted.pk, *extra])
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405


def test_validating_with_an_unknown_part_shows_an_error_and_writes_nothing(
    client, submitted, coachee
):
    give_final_scores(submitted, coachee)
    client.force_login(coachee)
    response = client.post(
        reverse("synthesis_validate", args=[submitted.pk]),
        {"shared_parts": ["learnings", "private_notes"]},
    )
    assert response.status_code == 200
    assert response.context["validate_form"].errors["shared_parts"]
    review = review_of(submitted)
    assert (review.status, review.coachee_validated_at) == (Status.AWAITING_COACHEE, None)
    assert not review.share_learnings
    with pytest.raises(ValidationError):
        validate(submitted, coachee, shared=["private_notes"])


def test_validating_from_the_page_without_final_scores_shows_the_refusal(
    client, submitted, coachee
):
    client.force_login(coachee)
    response = client.post(
        reverse("synthesis_validate", args=[submitted.pk]), {"shared_parts": SHARED}
    )
    assert response.status_code == 200
    assert response.context["validate_form"].non_field_errors()
    assert response.context["my_final_missing"]
    assert review_of(submitted).status == Status.AWAITING_COACHEE


def test_returning_without_a_comment_shows_an_error_and_writes_nothing(client, submitted, coachee):
    mail.outbox.clear()
    client.force_login(coachee)
    response = client.post(reverse("synthesis_return", args=[submitted.pk]), {"comment": " "})
    assert response.status_code == 200
    assert response.context["return_form"].errors["comment"]
    review = review_of(submitted)
    assert (review.status, review.coachee_comment, review.returned_at) == (
        Status.AWAITING_COACHEE,
        "",
        None,
    )
    assert mail.outbox == []


def test_the_coachee_returns_the_synthesis_from_its_page(
    client, submitted, coachee, coach, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    client.force_login(coachee)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("synthesis_return", args=[submitted.pk]), {"comment": COMMENT}
        )
    assert response.status_code == 302
    assert review_of(submitted).status == Status.CHANGES_REQUESTED
    assert [m.to for m in mail.outbox] == [[coach.email]]


def test_starting_the_closing_review_without_a_choice_shows_an_error_and_writes_nothing(
    client, active, planned, coach
):
    client.force_login(coach)
    response = client.post(reverse("closing_start", args=[active.pk]), {})
    assert response.status_code == 200
    assert response.context["form"].errors["planned_sessions"]
    response = client.post(reverse("closing_start", args=[active.pk]), {"planned_sessions": "x"})
    assert response.status_code == 200 and response.context["form"].errors
    active.refresh_from_db()
    assert active.status == S.ACTIVE
    assert not ClosingReview.objects.exists()
    assert set(active.sessions.development().values_list("status", flat=True)) == {
        "held",
        "planned",
    }
    assert mail.outbox == []


def test_issuing_before_validation_from_the_page_shows_a_message(client, submitted, coach):
    client.force_login(coach)
    response = client.post(reverse("synthesis_issue", args=[submitted.pk]), follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert review_of(submitted).generation_requested_at is None


# -- 11. query counts ----------------------------------------------------------------


def _query_count(client, url):
    client.get(url)  # a first visit keeps the person's roles in the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _add_reports(engagement, objectives, count):
    now = timezone.now()
    for index in range(count):
        report = factories.SponsorReportFactory(
            engagement=engagement,
            status="released",
            approved_at=now,
            released_at=now,
            period_start=timezone.localdate() - timedelta(days=200 - 30 * index),
            period_end=timezone.localdate() - timedelta(days=180 - 30 * index),
        )
        for objective in objectives:
            factories.ReportProgressFactory(report=report, objective=objective)
            for rater in ("coachee", "sponsor"):
                factories.ObjectiveScoreFactory(
                    objective=objective, milestone="report", report=report, rater=rater, score=1
                )


@pytest.mark.parametrize("persona", ["coach", "coachee"], indirect=True)
def test_synthesis_page_query_count_does_not_grow_with_objectives_and_reports(
    client, engagement_in, coach, coachee, persona
):
    engagement = engagement_in(S.ACTIVE)
    first = add_objectives(engagement, 1)
    for objective in first:
        factories.ObjectiveScoreFactory(objective=objective, rater="coachee")
    _add_reports(engagement, first, 1)
    closing.closing_start(engagement=engagement, coach=coach, cancel_planned=True)
    write(engagement, coach)
    closing.synthesis_submit(engagement=engagement, coach=coach)
    client.force_login(persona)
    url = reverse("synthesis", args=[engagement.pk])
    few = _query_count(client, url)

    more = add_objectives(engagement, 5)
    for objective in more:
        factories.ObjectiveScoreFactory(objective=objective, rater="coachee")
        factories.ObjectiveScoreFactory(objective=objective, rater="sponsor")
    _add_reports(engagement, first + more, 3)
    assert engagement.objectives.count() == 6
    assert _query_count(client, url) == few


def test_completed_synthesis_page_query_count_does_not_grow_for_the_sponsor(
    client, completed, sponsor
):
    client.force_login(sponsor)
    url = reverse("synthesis", args=[completed.pk])
    few = _query_count(client, url)
    objectives = list(completed.objectives.all())
    more = add_objectives(completed, 4)
    _add_reports(completed, objectives + more, 3)
    assert _query_count(client, url) == few


# -- 12. concurrency (PostgreSQL) ----------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_validations_only_one_succeeds(postgres, submitted, coachee):
    give_final_scores(submitted, coachee)
    outcomes = race(
        lambda: validate(submitted, coachee, shared=["learnings"]),
        lambda: validate(submitted, coachee, shared=["recommendations"]),
    )
    assert outcomes.count("refused") == 1
    [winner] = [o for o in outcomes if o != "refused"]
    assert isinstance(winner, ClosingReview)
    review = review_of(submitted)
    assert review.status == Status.VALIDATED
    assert [name for name, *_rest in review.shared_parts()] == [
        name for name, *_rest in winner.shared_parts()
    ]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_generations_make_one_set_of_documents(postgres, validated, coach, settings):
    review = review_of(validated)
    outcomes = race(
        lambda: closing.synthesis_generate(review_id=review.pk),
        lambda: closing.synthesis_generate(review_id=review.pk),
    )
    assert sorted(outcomes, key=str) == [False, True]
    review.refresh_from_db()
    assert review.status == Status.COMPLETED
    assert len(list((settings.MEDIA_ROOT / "syntheses").iterdir())) == 2
    assert review.synthesis_sha256 == hashlib.sha256(read(review.synthesis_pdf)).hexdigest()
    assert validated.status_changes.filter(to_status=S.COMPLETED).count() == 1
    validated.refresh_from_db()
    assert validated.status == S.COMPLETED


# -- found in review -----------------------------------------------------------------


def test_a_failed_generation_leaves_no_confidential_file_behind(validated, monkeypatch, settings):
    from pathlib import Path

    from engagements import workflow

    review = review_of(validated)

    def broken(*args, **kwargs):
        raise RuntimeError("storage or workflow failure")

    monkeypatch.setattr(workflow, "transition", broken)
    with pytest.raises(RuntimeError):
        closing.synthesis_generate(review_id=review.pk)
    folder = Path(settings.MEDIA_ROOT) / "syntheses"
    assert not folder.exists() or not any(folder.iterdir())
    assert review_of(validated).status == ClosingReview.Status.VALIDATED


def test_the_beat_sweep_does_not_send_the_same_synthesis_each_run(validated, monkeypatch):
    from engagements import tasks

    ClosingReview.objects.filter(engagement=validated).update(
        generation_requested_at=timezone.now() - timedelta(minutes=10)
    )
    queued = []
    monkeypatch.setattr(tasks.generate_synthesis, "delay", lambda *args: queued.append(args))
    assert tasks.generate_pending_syntheses() == 1
    assert tasks.generate_pending_syntheses() == 0  # stamped: not again before 5 minutes
    assert len(queued) == 1
