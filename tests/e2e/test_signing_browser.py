"""
The three demo personas each sign the demo convention from their portal, with
the one-time code e-mailed to them; the third signature seals the document
and starts the engagement.
"""

import re

import pytest
from django.core import mail

from engagements.models import Convention, Engagement

from .conftest import BrowserProblems, assert_accessible, login, open_convention_pdf

pytestmark = pytest.mark.e2e


def sign_through_the_browser(page, live_server, email, engagement):
    login(page, live_server, email)
    page.goto(f"{live_server.url}{engagement.get_absolute_url()}")
    with page.expect_navigation():
        page.get_by_role("link", name="Signer la convention").first.click()
    assert_accessible(page)
    open_convention_pdf(page, live_server)
    mail.outbox.clear()
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Recevoir un code")).click()
    [message] = [m for m in mail.outbox if m.to == [email]]
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    page.get_by_label("Code reçu par e-mail").fill(code)
    page.locator("input[name=consent]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Signer la convention").click()
    assert "Votre signature est enregistrée" in page.content()
    page.problems.assert_none()


def test_the_three_personas_sign_and_the_engagement_starts(demo, live_server, browser):
    engagement = Engagement.objects.get(
        status=Engagement.Status.CONTRACTING, coachee__email="coachee@demo.example"
    )
    for email in ("coachee@demo.example", "sponsor@demo.example", "coach@demo.example"):
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        page.problems = BrowserProblems(page)
        sign_through_the_browser(page, live_server, email, engagement)
        context.close()

    convention = engagement.conventions.get(status=Convention.Status.SIGNED)
    assert convention.signatures.count() == 3
    assert convention.signed_document
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE
