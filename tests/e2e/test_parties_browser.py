"""
The parties on the engagement page, in the browser (issue 14): the coach sees
that the coachee has not accepted her invitation and sends it again (one
e-mail; a second click within the hour is refused with a clear message), then
completes the organization's details for the convention, a bad address first.
axe checks every page visited; screenshots are kept as artifacts.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from engagements.models import Engagement, Organization

from .. import factories
from ..conftest import move_to
from .conftest import BrowserProblems, assert_accessible, login

pytestmark = pytest.mark.e2e

COACH = "claire.roche@cabinet.example"
COACHEE = "nadia.benali@helix.example"


@pytest.fixture
def engagement(transactional_db):
    today = timezone.localdate()
    coachee = factories.UserFactory(email=COACHEE, first_name="Nadia", last_name="Benali")
    coachee.set_unusable_password()
    coachee.save()
    return move_to(
        factories.EngagementFactory(
            coach=factories.CoachFactory(user__email=COACH, user__first_name="Claire"),
            coachee=coachee,
            organization=factories.OrganizationFactory(
                name="Helix Énergies", address="", registration_number=""
            ),
            start_date=today + timedelta(days=10),
            end_date=today + timedelta(days=375),
            title="Passer du faire au faire-faire",
        ),
        Engagement.Status.KICKOFF,
    )


@pytest.fixture
def coach_page(browser, live_server):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = BrowserProblems(page)
    login(page, live_server, COACH, factories.PASSWORD)
    yield page
    context.close()


@pytest.fixture
def shoot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screenshots-parties")
    print(f"\nscreenshots: {folder}")
    count = iter(range(1, 100))

    def take(page, name):
        page.screenshot(path=folder / f"{next(count):02d}-{name}.png", full_page=True)

    return take


def go(page, action):
    with page.expect_navigation():
        action()
    page.wait_for_load_state("load")
    assert_accessible(page)


def test_the_coach_resends_an_invitation_and_completes_the_organization(
    engagement, live_server, coach_page, shoot
):
    page = coach_page
    go(page, lambda: page.goto(f"{live_server.url}{engagement.get_absolute_url()}"))
    shoot(page, "parties")
    parties = page.locator("section[aria-labelledby=parties-title]")
    resend = parties.locator("form[action$='/invitations/coachee/renvoi/'] button")
    assert resend.count() == 1
    assert parties.locator("form[action$='/invitations/sponsor/renvoi/']").count() == 0
    since = len(mail.outbox)
    go(page, lambda: resend.click())
    shoot(page, "resent")
    assert [m.to for m in mail.outbox[since:]] == [[COACHEE]]
    # Within the hour the button gives way to when it may be sent again.
    assert parties.locator("form[action$='/invitations/coachee/renvoi/']").count() == 0

    go(page, lambda: parties.locator("a[href$='/organisation/']").click())
    page.fill("input[name=registration_number]", "552 100 554 00019")
    page.fill("textarea[name=address]", "\n".join(f"Ligne {n}" for n in range(8)))
    go(page, lambda: page.click("main form button[type=submit]"))
    shoot(page, "organization-refused")
    assert page.locator(".invalid-feedback, .alert-danger").count() >= 1
    assert Organization.objects.get(pk=engagement.organization_id).registration_number == ""
    page.fill("textarea[name=address]", "12 rue des Forges\n69002 Lyon")
    go(page, lambda: page.click("main form button[type=submit]"))
    shoot(page, "organization-saved")
    organization = Organization.objects.get(pk=engagement.organization_id)
    assert organization.address == "12 rue des Forges\n69002 Lyon"
    assert "69002 Lyon" in parties.inner_text()
    page.problems.assert_none()
