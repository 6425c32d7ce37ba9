"""
Confirmations and corrections in the browser (issue 14): the coachee cancels
a session with a message (one e-mail to each person invited, none to the
sponsor); the coach records an attendance on its confirmation page, then
corrects it (logged, no e-mail); the series preview marks a clash before
booking. axe checks every page visited; screenshots are kept as artifacts.
"""

from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from engagements.calendar import PARIS
from engagements.models import AuditEvent, CoachingSession, Engagement

from .. import factories
from ..conftest import move_to
from .conftest import BrowserProblems, assert_accessible, login

pytestmark = pytest.mark.e2e

COACH = "claire.roche@cabinet.example"
COACHEE = "nadia.benali@helix.example"
SPONSOR = "marc.lefort@helix.example"


@pytest.fixture
def people(transactional_db):
    today = timezone.localdate()
    engagement = move_to(
        factories.EngagementFactory(
            coach=factories.CoachFactory(user__email=COACH, user__first_name="Claire"),
            coachee=factories.UserFactory(email=COACHEE, first_name="Nadia", last_name="Benali"),
            sponsor=factories.UserFactory(email=SPONSOR, first_name="Marc", last_name="Lefort"),
            start_date=today - timedelta(days=30),
            end_date=today + timedelta(days=335),
            title="Passer du faire au faire-faire",
        ),
        Engagement.Status.ACTIVE,
    )
    return engagement


@pytest.fixture
def open_as(browser, live_server):
    contexts = []

    def open_(email):
        context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = BrowserProblems(page)
        login(page, live_server, email, factories.PASSWORD)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def shoot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots-confirmations")
    print(f"\nscreenshots: {folder}")
    count = iter(range(1, 100))

    def take(page, name):
        page.screenshot(path=folder / f"{next(count):02d}-{name}.png", full_page=True)

    return take


def go(page, action):
    """Follow a link or submit a form, wait for the next page, check it with axe."""
    with page.expect_navigation():
        action()
    page.wait_for_load_state("load")
    assert_accessible(page)


def test_the_coachee_cancels_with_a_message_and_only_the_coach_hears_of_it(
    people, live_server, open_as, shoot
):
    session = factories.CoachingSessionFactory(
        engagement=people, starts_at=timezone.now() + timedelta(days=10)
    )
    coachee = open_as(COACHEE)
    go(coachee, lambda: coachee.goto(f"{live_server.url}{people.get_absolute_url()}"))
    detail = f"/accompagnements/{people.pk}/seances/{session.pk}/"
    go(coachee, lambda: coachee.goto(live_server.url + detail))
    go(coachee, lambda: coachee.click(f"a[href='{detail}annuler/']"))
    shoot(coachee, "cancel-confirmation")
    assert "Claire" in coachee.locator("main").inner_text()  # who is told
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"
    coachee.fill("textarea[name=message]", "Un imprévu : je vous propose le jeudi suivant.")
    since = len(mail.outbox)
    go(coachee, lambda: coachee.click("main form button[type=submit].btn-danger"))
    shoot(coachee, "cancelled")
    assert coachee.url.endswith(f"/accompagnements/{people.pk}/seances/")
    session.refresh_from_db()
    assert session.status == "cancelled" and not session.cancelled_late
    # One e-mail per person invited, none to the sponsor; the message reaches the coach.
    sent = mail.outbox[since:]
    assert sorted(address for message in sent for address in message.to) == sorted([COACH, COACHEE])
    [to_coach] = [message for message in sent if message.to == [COACH]]
    assert "je vous propose le jeudi suivant" in to_coach.body
    coachee.problems.assert_none()


def test_the_coach_records_then_corrects_an_attendance(people, live_server, open_as, shoot):
    session = factories.CoachingSessionFactory(
        engagement=people, starts_at=timezone.now() - timedelta(days=2)
    )
    coach = open_as(COACH)
    detail = f"/accompagnements/{people.pk}/seances/{session.pk}/"
    go(coach, lambda: coach.goto(live_server.url + detail))
    since = len(mail.outbox)
    go(coach, lambda: coach.click(f"a[href='{detail}presence/?status=held']"))
    shoot(coach, "attendance-confirmation")
    assert coach.locator("input[name=status][value=held]").is_checked()
    assert CoachingSession.objects.get(pk=session.pk).status == "planned"
    go(coach, lambda: coach.click("main form button[type=submit]"))
    assert CoachingSession.objects.get(pk=session.pk).status == "held"

    # The session page offers the correction; the other choice is preselected.
    go(coach, lambda: coach.click(f"a[href='{detail}presence/']"))
    shoot(coach, "attendance-correction")
    assert coach.locator("input[name=status][value=missed]").is_checked()
    go(coach, lambda: coach.click("main form button[type=submit]"))
    shoot(coach, "attendance-corrected")
    assert CoachingSession.objects.get(pk=session.pk).status == "missed"
    logged = AuditEvent.objects.filter(record_type="session_attendance", record_id=session.pk)
    assert [event.detail["to"] for event in logged.order_by("pk")] == ["held", "missed"]
    assert len(mail.outbox) == since  # attendance is told to nobody by e-mail
    coach.problems.assert_none()


def test_the_series_preview_marks_a_clash_before_booking(people, live_server, open_as, shoot):
    first = timezone.localdate() + timedelta(days=7)
    other = factories.EngagementFactory(coach=people.coach)
    factories.CoachingSessionFactory(
        engagement=other, starts_at=datetime.combine(first + timedelta(days=7), time(10), PARIS)
    )
    coach = open_as(COACH)
    go(coach, lambda: coach.goto(f"{live_server.url}/accompagnements/{people.pk}/seances/"))
    coach.fill("input[name=first_day]", first.isoformat())
    coach.select_option("select[name=weekday]", str(first.weekday()))
    coach.fill("input[name=at]", "09:30")
    coach.fill("input[name=count]", "3")
    coach.fill("input[name=every_weeks]", "1")
    coach.fill("input[name=video_url]", "https://visio.example.com/serie")
    go(coach, lambda: coach.click("button[name=action][value=preview]"))
    shoot(coach, "series-clash")
    assert coach.locator("#clash-2 .badge").count() == 1
    assert coach.locator(".badge.text-bg-warning").count() == 1
    coach.fill("#start-2", coach.input_value("#start-2").replace("09:30", "14:00"))
    go(coach, lambda: coach.click("button[name=action][value=check]"))
    assert coach.locator(".badge.text-bg-warning").count() == 0
    since = len(mail.outbox)
    go(coach, lambda: coach.click("button[name=action][value=create]"))
    assert people.sessions.count() == 3
    # One message per person for the whole series.
    assert sorted(address for m in mail.outbox[since:] for address in m.to) == sorted(
        [COACH, COACHEE]
    )
    coach.problems.assert_none()
