"""The engagement page shows each role exactly its sections."""

from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from engagements import clock, permissions, selectors, workflow
from engagements.models import ClosingReview, CoachingSession, Engagement

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(engagement_in):
    engagement = engagement_in(Engagement.Status.CLOSING)
    objective = factories.ObjectiveFactory(engagement=engagement, title="OBJECTIVE-TITLE")
    session = factories.CoachingSessionFactory(engagement=engagement, status="held")
    factories.SharedSummaryFactory(session=session, summary="SHARED-SUMMARY")
    factories.PrivateNoteFactory(session=session, body="PRIVATE-NOTE")
    now = timezone.now()
    report = factories.SponsorReportFactory(
        engagement=engagement,
        status="released",
        approved_at=now,
        released_at=now,
        period_start=date(2026, 1, 5),
        period_end=date(2026, 3, 5),
    )
    factories.ReportProgressFactory(report=report, objective=objective, text="RELEASED-REPORT")
    factories.ClosingReviewFactory(
        engagement=engagement,
        status=ClosingReview.Status.COMPLETED,
        coachee_validated_at=now,
        completed_at=now,
        learnings="FULL-REVIEW",  # kept between the coachee and the coach
        recommendations="SPONSOR-PART",
        share_recommendations=True,
        synthesis_pdf=ContentFile(b"%PDF-1.7 whole", name="whole.pdf"),
        synthesis_sha256="a" * 64,
        sponsor_pdf=ContentFile(b"%PDF-1.7 shared", name="shared.pdf"),
        sponsor_sha256="b" * 64,
    )
    return engagement


# The engagement page shows the sponsor the parts of the synthesis shared with
# him; coach and coachee read the whole synthesis on its own page.
EXPECTED = {
    #          objectives summary private report full-review sponsor-part
    "coach": (True, True, True, True, False, False),
    "coachee": (True, True, False, True, False, False),
    "sponsor": (True, False, False, True, False, True),
    "hr": (False, False, False, False, False, False),
}
MARKERS = [
    "OBJECTIVE-TITLE",
    "SHARED-SUMMARY",
    "PRIVATE-NOTE",
    "RELEASED-REPORT",
    "FULL-REVIEW",
    "SPONSOR-PART",
]


@pytest.mark.parametrize("persona", list(EXPECTED), indirect=True)
def test_each_role_sees_exactly_its_sections(request, client, full, persona):
    client.force_login(persona)
    page = client.get(full.get_absolute_url()).content.decode()
    role = request.node.callspec.params["persona"]
    # The page lists the released report and links to it; its text is on the report's page.
    report_link = full.reports.get().get_absolute_url()
    seen = tuple((report_link if m == "RELEASED-REPORT" else m) in page for m in MARKERS)
    assert seen == EXPECTED[role]


def test_hr_sees_counts_but_no_session_dates(client, full, hr):
    session = full.sessions.get()
    client.force_login(hr)
    page = client.get(full.get_absolute_url()).content.decode()
    assert session.starts_at.strftime("%Y-%m-%d") not in page
    assert "1 sur 12" in page or "1 of 12" in page


def test_sponsor_sees_planned_session_dates_but_no_attendance_nor_content(client, full, sponsor):
    held = full.sessions.get()
    planned = factories.CoachingSessionFactory(
        engagement=full, starts_at=held.starts_at + timedelta(days=40)
    )
    client.force_login(sponsor)
    response = client.get(full.get_absolute_url())
    page = response.content.decode()
    assert timezone.localtime(planned.starts_at).isoformat()[:10] in page
    # Attendance reaches the sponsor only through an approved report.
    assert list(response.context["sessions"]) == [planned]
    assert "SHARED-SUMMARY" not in page


def test_sponsor_does_not_see_an_unreleased_closing_review(client, full, sponsor):
    ClosingReview.objects.filter(engagement=full).update(status=ClosingReview.Status.VALIDATED)
    client.force_login(sponsor)
    page = client.get(full.get_absolute_url()).content.decode()
    assert "SPONSOR-PART" not in page


def test_one_engagement_is_found_for_exactly_whom_the_visibility_rule_lets_in(world, other_hr):
    # A second HR member of the organization: the engagement is still found once.
    factories.HRMembershipFactory(organization=world.organization)
    elsewhere = factories.EngagementFactory(organization=other_hr.hr_memberships.get().organization)
    people = [
        world.coach.user,
        world.coachee,
        world.sponsor,
        *[m.user for m in world.organization.hr_memberships.all()],
        elsewhere.coach.user,
        elsewhere.coachee,
        other_hr,
        factories.UserFactory(),
    ]
    for engagement in (world, elsewhere):
        for person in people:
            visible = Engagement.objects.filter(
                permissions.engagement_visibility(person), pk=engagement.pk
            ).exists()
            try:
                found = selectors.engagement_for(person, engagement.pk)
            except Engagement.DoesNotExist:
                found = None
            assert (found is not None) == visible, (engagement, person)
            if found:
                assert permissions.roles_in(found, person) == permissions.roles_in(
                    Engagement.objects.get(pk=engagement.pk), person
                )
            listed = list(selectors.engagements_for(person).filter(pk=engagement.pk))
            assert len(listed) == int(visible)


def test_session_counts_from_the_schedule_match_the_database(engagement_in):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    Kind, Status = CoachingSession.Kind, CoachingSession.Status
    now = timezone.now()
    for n, (kind, status, late, days) in enumerate(
        [
            (Kind.KICKOFF, Status.HELD, False, -60),
            (Kind.DEVELOPMENT, Status.HELD, False, -30),
            (Kind.DEVELOPMENT, Status.MISSED, False, -20),
            (Kind.DEVELOPMENT, Status.CANCELLED, True, -10),
            (Kind.DEVELOPMENT, Status.CANCELLED, False, -5),
            (Kind.MIDPOINT, Status.HELD, False, -3),
            (Kind.DEVELOPMENT, Status.PLANNED, False, 5),
            (Kind.DEVELOPMENT, Status.PLANNED, False, 12),
        ]
    ):
        factories.CoachingSessionFactory(
            engagement=engagement,
            kind=kind,
            status=status,
            cancelled_late=late,
            cancelled_at=now if status == Status.CANCELLED else None,
            starts_at=now + timedelta(days=days, hours=n),
            duration_minutes=60 + 15 * n,
        )
    for roles in ({"coach"}, {"coachee"}, {"sponsor"}, {"hr"}):
        sessions = list(selectors.sessions_for(engagement, roles))
        counts = selectors.session_counts(engagement, roles, sessions)
        assert counts == selectors.session_counts(engagement), roles
    assert counts == {
        "used": 3,
        "planned": 2,
        "minutes_used": 75 + 90 + 105,
        "contracted": engagement.sessions_contracted,
        "development_started": True,
    }


def test_a_planned_development_session_under_way_counts_as_started(engagement_in):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    session = factories.CoachingSessionFactory(
        engagement=engagement, starts_at=timezone.now() + timedelta(hours=1)
    )
    schedule = list(selectors.sessions_for(engagement, {"coach"}))
    for started, at in (
        (False, session.starts_at - timedelta(minutes=1)),
        (True, session.starts_at),
    ):
        with clock.at(at):
            assert selectors.session_counts(engagement)["development_started"] is started
            assert (
                selectors.session_counts(engagement, {"coach"}, schedule)["development_started"]
                is started
            )
            assert workflow.development_started(engagement) is started


@pytest.mark.parametrize("status", ClosingReview.Status.values)
def test_the_closing_review_loaded_with_the_engagement_is_filtered_as_when_asked_alone(
    engagement_in, coach, status
):
    engagement = engagement_in(Engagement.Status.CLOSING)
    now = timezone.now()
    factories.ClosingReviewFactory(
        engagement=engagement,
        status=status,
        coachee_validated_at=now,
        completed_at=now,
        synthesis_pdf="synthesis.pdf",
        sponsor_pdf="sponsor.pdf",
        synthesis_sha256="a" * 64,
        sponsor_sha256="b" * 64,
    )
    loaded = selectors.engagement_for(coach, engagement.pk, with_closing_review=True)
    for roles in ({"coach"}, {"coachee"}, {"sponsor"}, {"hr"}):
        alone = selectors.closing_review_for(Engagement.objects.get(pk=engagement.pk), roles)
        assert selectors.closing_review_for(loaded, roles) == alone, roles
    without = factories.EngagementFactory(coach=engagement.coach)
    loaded = selectors.engagement_for(coach, without.pk, with_closing_review=True)
    assert selectors.closing_review_for(loaded, {"coach"}) is None


@pytest.mark.parametrize(
    ("persona", "status", "kept"),
    [
        ("coach", ClosingReview.Status.DRAFT, True),
        ("coachee", ClosingReview.Status.DRAFT, False),
        ("sponsor", ClosingReview.Status.VALIDATED, False),
        ("sponsor", ClosingReview.Status.COMPLETED, True),
        ("hr", ClosingReview.Status.COMPLETED, False),
    ],
    indirect=["persona"],
)
def test_the_page_leaves_no_closing_review_on_the_engagement_for_whom_may_not_see_it(
    client, full, persona, status, kept
):
    """Loaded with the engagement, it is not reachable through it by a template either."""
    ClosingReview.objects.filter(engagement=full).update(status=status)
    client.force_login(persona)
    response = client.get(full.get_absolute_url())
    left = getattr(response.context["engagement"], "closing_review", None)
    assert (left is not None) == kept
    assert (response.context["closing_review"] is not None) == kept
