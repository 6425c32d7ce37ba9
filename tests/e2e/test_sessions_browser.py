"""The coach plans a twelve-session series in the browser; it lands in the coachee's calendar."""

from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from engagements.models import Coach, Engagement, User

from .. import factories
from ..conftest import move_to
from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e


def test_the_coach_plans_a_series_and_the_coachee_sees_it(demo, live_server, page, client):
    today = timezone.localdate()
    engagement = move_to(
        factories.EngagementFactory(
            coach=Coach.objects.get(user__email="coach@demo.example"),
            coachee=User.objects.get(email="coachee@demo.example"),
            sponsor=User.objects.get(email="sponsor@demo.example"),
            start_date=today,
            end_date=today + timedelta(days=365),
            title="Série planifiée dans le navigateur",
        ),
        Engagement.Status.ACTIVE,
    )
    login(page, live_server, "coach@demo.example")
    page.goto(f"{live_server.url}/accompagnements/{engagement.pk}/seances/")
    assert_accessible(page)

    page.fill("input[name=first_day]", (today + timedelta(days=1)).isoformat())
    page.select_option("select[name=weekday]", "2")
    page.fill("input[name=at]", "09:30")
    page.fill("input[name=count]", "12")
    page.fill("input[name=every_weeks]", "4")
    page.fill("input[name=video_url]", "https://visio.example.com/serie")
    with page.expect_navigation():
        page.click("button[name=action][value=preview]")
    assert page.locator("input[name=start]").count() == 12
    assert_accessible(page)
    since = len(mail.outbox)
    with page.expect_navigation():
        page.click("button[name=action][value=create]")

    sessions = list(engagement.sessions.order_by("starts_at"))
    # One e-mail per person for the whole series, with one calendar file of twelve events;
    # the sponsor attends none of these sessions.
    sent = mail.outbox[since:]
    assert sorted(address for message in sent for address in message.to) == [
        "coach@demo.example",
        "coachee@demo.example",
    ]
    for message in sent:
        [(_name, content, _type)] = message.attachments
        assert len(icalendar.Calendar.from_ical(content).walk("VEVENT")) == 12
    assert len(sessions) == 12
    assert all(timezone.localtime(s.starts_at).weekday() == 2 for s in sessions)
    page.problems.assert_none()

    coachee = User.objects.get(email="coachee@demo.example")
    client.force_login(coachee)
    client.post("/calendrier/", {"action": "renew"})
    coachee.refresh_from_db()
    client.logout()
    feed = client.get(f"/calendrier/{coachee.calendar_feed.token}.ics")
    uids = {str(e["uid"]) for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")}
    assert all(any(str(s.uid) in uid for uid in uids) for s in sessions)


def test_objectives_worded_by_the_coach_are_a_to_do_for_the_coachee(demo, live_server, page):
    from engagements.services import kickoff as kickoff_service

    coach = User.objects.get(email="coach@demo.example")
    engagement = move_to(
        factories.EngagementFactory(
            coach=Coach.objects.get(user=coach),
            coachee=User.objects.get(email="coachee@demo.example"),
            sponsor=User.objects.get(email="sponsor@demo.example"),
            title="Objectifs à approuver",
        ),
        Engagement.Status.KICKOFF,
    )
    since = len(mail.outbox)
    for title in ("Déléguer davantage", "Tenir le cap"):
        kickoff_service.objective_save(
            engagement=engagement, author=coach, title=title, success_indicators="Observable"
        )
    login(page, live_server, "coachee@demo.example")
    todo = page.locator(f"a[href='/accompagnements/{engagement.pk}/#objectives-title']")
    assert todo.count() >= 1
    assert_accessible(page)
    with page.expect_navigation():
        todo.first.click()
    assert "Déléguer davantage" in page.content()
    assert_accessible(page)
    page.problems.assert_none()
    # One e-mail for both objectives (tasks run when their transaction commits).
    assert [m.to for m in mail.outbox[since:]] == [["coachee@demo.example"]]
