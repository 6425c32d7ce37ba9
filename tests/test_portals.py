"""The four portals and the landing page that picks one."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.models import CoachingSession, Convention, Engagement, SponsorReport

from . import factories
from .conftest import move_to

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "persona, portal",
    [
        ("coach", "coach_portal"),
        ("coachee", "coachee_portal"),
        ("sponsor", "sponsor_portal"),
        ("hr", "hr_portal"),
    ],
    indirect=["persona"],
)
def test_each_person_lands_on_the_portal_of_their_role(client, engagement, persona, portal):
    client.force_login(persona)
    response = client.get(reverse("home"))
    assert response.url == reverse(portal)
    page = client.get(response.url)
    assert page.status_code == 200
    assert engagement.get_absolute_url() in page.text


def test_a_person_with_two_roles_can_switch_and_lands_where_they_left(client, engagement, sponsor):
    factories.EngagementFactory(coachee=sponsor)  # she is coached elsewhere
    client.force_login(sponsor)
    page = client.get(reverse("coachee_portal"))
    assert reverse("sponsor_portal") in page.text  # the switch
    client.get(reverse("sponsor_portal"))
    assert client.get(reverse("home")).url == reverse("sponsor_portal")


def test_someone_with_no_engagement_gets_a_friendly_page(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "aucun accompagnement" in response.text.replace("&#x27;", "'")


@pytest.mark.parametrize("name", ["coach_portal", "coachee_portal", "sponsor_portal", "hr_portal"])
def test_portals_refuse_post(client, coach, name):
    client.force_login(coach)
    assert client.post(reverse(name)).status_code in (404, 405)


def test_other_coach_sees_none_of_my_engagements(client, engagement, other_coach):
    client.force_login(other_coach)
    page = client.get(reverse("coach_portal"))
    assert engagement.get_absolute_url() not in page.text
    assert str(engagement.coachee) not in page.text


def test_other_hr_sees_none_of_another_organization(client, engagement, other_hr):
    client.force_login(other_hr)
    page = client.get(reverse("hr_portal"))
    assert engagement.get_absolute_url() not in page.text


def test_coach_portal_shows_next_steps_and_this_weeks_sessions(client, engagement_in, coach):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    factories.CoachingSessionFactory(
        engagement=engagement,
        kind=CoachingSession.Kind.KICKOFF,
        starts_at=timezone.now() + timedelta(days=2),
    )
    client.force_login(coach)
    page = client.get(reverse("coach_portal"))
    assert page.context["to_do"] == [engagement]
    assert [s.engagement for s in page.context["upcoming_sessions"]] == [engagement]


def test_coach_portal_counts_sessions_used(client, engagement_in, coach):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    for status in ("held", "held", "missed", "planned"):
        factories.CoachingSessionFactory(engagement=engagement, status=status)
    factories.CoachingSessionFactory(
        engagement=engagement, status="cancelled", cancelled_at=timezone.now(), cancelled_late=True
    )
    factories.CoachingSessionFactory(
        engagement=engagement, status="cancelled", cancelled_at=timezone.now()
    )
    client.force_login(coach)
    [shown] = client.get(reverse("coach_portal")).context["open_engagements"]
    assert (shown.sessions_used, shown.sessions_planned, shown.minutes_used) == (4, 1, 480)


def test_coachee_portal_asks_to_sign_and_to_approve(client, engagement_in, coachee):
    engagement = engagement_in(Engagement.Status.CONTRACTING)
    factories.ConventionFactory(
        engagement=engagement,
        status=Convention.Status.SENT,
        sent_at=timezone.now(),
        document_sha256="d" * 64,
    )
    factories.SponsorReportFactory(
        engagement=engagement, status=SponsorReport.Status.AWAITING_APPROVAL
    )
    client.force_login(coachee)
    [shown] = client.get(reverse("coachee_portal")).context["open_engagements"]
    assert shown.next.urgent
    assert shown.reports_awaiting == 1
    assert shown.convention_out and not shown.my_signature_count


def test_coachee_portal_offers_a_calm_way_out(client, engagement_in, coachee):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    client.force_login(coachee)
    page = client.get(reverse("coachee_portal"))
    assert reverse("engagement_withdraw", args=[engagement.pk]) in page.text


def test_sponsor_portal_counts_only_released_reports(client, engagement_in, sponsor):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    factories.SponsorReportFactory(engagement=engagement, status=SponsorReport.Status.DRAFT)
    now = timezone.now()
    factories.SponsorReportFactory(
        engagement=engagement,
        status=SponsorReport.Status.RELEASED,
        approved_at=now,
        released_at=now,
    )
    client.force_login(sponsor)
    [shown] = client.get(reverse("sponsor_portal")).context["open_engagements"]
    assert shown.reports_released == 1
    assert not hasattr(shown, "reports_awaiting") or shown.reports_awaiting == 0


def test_sponsor_sees_the_next_tripartite_meeting_only(client, engagement_in, sponsor):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    soon = timezone.now() + timedelta(days=3)
    factories.CoachingSessionFactory(engagement=engagement, starts_at=soon)
    midpoint = factories.CoachingSessionFactory(
        engagement=engagement,
        kind=CoachingSession.Kind.MIDPOINT,
        starts_at=soon + timedelta(days=9),
    )
    client.force_login(sponsor)
    [shown] = client.get(reverse("sponsor_portal")).context["open_engagements"]
    assert shown.next_session_at == midpoint.starts_at


def test_hr_portal_filters_and_paginates(client, engagement, hr):
    for index in range(30):
        factories.EngagementFactory(
            organization=engagement.organization, title=f"Dossier {index:02d}"
        )
    move_to(engagement, Engagement.Status.ACTIVE)
    client.force_login(hr)
    first = client.get(reverse("hr_portal"))
    assert first.context["page"].paginator.count == 31
    assert len(first.context["page"].object_list) == 25
    second = client.get(reverse("hr_portal"), {"page": 2})
    assert len(second.context["page"].object_list) == 6
    active = client.get(reverse("hr_portal"), {"status": "active"})
    assert list(active.context["page"].object_list) == [engagement]
    search = client.get(reverse("hr_portal"), {"q": "Dossier 07"})
    assert [e.title for e in search.context["page"].object_list] == ["Dossier 07"]


def test_hr_portal_ignores_a_bad_filter(client, engagement, hr):
    client.force_login(hr)
    response = client.get(reverse("hr_portal"), {"status": "nonsense", "page": "abc"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1


def _populate(engagement, count):
    """``count`` more engagements around the personas, with sessions, reports, signatures."""
    now = timezone.now()
    slots = engagement.coach.sessions.count()  # a slot of its own for each new meeting
    for index in range(count):
        other = factories.EngagementFactory(
            coach=engagement.coach,
            coachee=engagement.coachee,
            sponsor=engagement.sponsor,
            organization=engagement.organization,
        )
        if index % 2:
            other = move_to(other, Engagement.Status.ACTIVE)
        session = factories.CoachingSessionFactory(engagement=other, status="held")
        factories.SharedSummaryFactory(session=session)
        factories.CoachingSessionFactory(
            engagement=other, starts_at=now + timedelta(days=2, hours=3 * (slots + index))
        )
        factories.ObjectiveFactory(engagement=other)
        factories.SponsorReportFactory(
            engagement=other, status="released", approved_at=now, released_at=now
        )
        factories.SignatureFactory(convention__engagement=other)


def _query_count(client, url):
    client.get(url)  # a first visit keeps the person's roles in the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "persona, portal",
    [
        ("coach", "coach_portal"),
        ("coachee", "coachee_portal"),
        ("sponsor", "sponsor_portal"),
        ("hr", "hr_portal"),
    ],
    indirect=["persona"],
)
def test_portal_query_count_is_the_same_at_10_and_200_engagements(
    client, engagement, persona, portal
):
    client.force_login(persona)
    _populate(engagement, 9)
    ten = _query_count(client, reverse(portal))
    _populate(engagement, 190)
    assert _query_count(client, reverse(portal)) == ten


def test_engagement_page_query_count_does_not_grow_with_its_records(client, engagement, coach):
    client.force_login(coach)
    engagement = move_to(engagement, Engagement.Status.ACTIVE)
    now = timezone.now()

    def add(count):
        for _ in range(count):
            session = factories.CoachingSessionFactory(engagement=engagement, status="held")
            factories.PrivateNoteFactory(session=session)
            factories.SharedSummaryFactory(session=session)
            objective = factories.ObjectiveFactory(engagement=engagement)
            factories.ObjectiveScoreFactory(objective=objective)
            factories.SponsorReportFactory(
                engagement=engagement, status="released", approved_at=now, released_at=now
            )

    add(2)
    few = _query_count(client, engagement.get_absolute_url())
    add(20)
    factories.StatusChangeFactory.create_batch(5, engagement=engagement)
    assert _query_count(client, engagement.get_absolute_url()) == few


def test_the_coach_portal_pages_his_engagements_those_waiting_for_him_first(
    client, coach, monkeypatch
):
    from engagements.views import portal

    monkeypatch.setattr(portal, "OPEN_PAGE_SIZE", 2)
    monkeypatch.setattr(portal, "TO_DO_SHOWN", 2)
    profile = coach.coach_profile
    for _ in range(2):
        factories.EngagementFactory(coach=profile)  # drafts: the coach schedules the kickoff
    calm = [factories.EngagementFactory(coach=profile, status="active") for _ in range(2)]
    client.force_login(coach)
    first = client.get(reverse("coach_portal"))
    # The persona engagement (a draft) waits too: three wait, two shown, the rest said.
    assert first.context["to_do_count"] == 3 and len(first.context["to_do"]) == 2
    assert "Les 3 accompagnements qui vous attendent" in first.text
    assert [e.next.urgent for e in first.context["open_page"]] == [True, True]
    assert "?open=2#open-title" in first.text and "Page 1 sur 3" in first.text
    last = client.get(reverse("coach_portal"), {"open": 3})
    [shown] = last.context["open_page"]
    assert shown in calm and not shown.next.urgent
    assert shown.get_absolute_url() in last.text
    # The to-do card stays on every page.
    assert len(last.context["to_do"]) == 2 and all(e.next.urgent for e in last.context["to_do"])
