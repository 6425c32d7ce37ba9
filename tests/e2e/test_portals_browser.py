"""
Each demo persona signs in through the real form and lands on their portal:
the page loads its CSS and JavaScript, logs no error, and axe-core finds no
WCAG 2.1 A/AA violation.
"""

import re

import pytest

from .conftest import assert_accessible, login

pytestmark = pytest.mark.e2e

PORTALS = {
    "coach": ("coach@demo.example", "/espace/coach/"),
    "coachee": ("coachee@demo.example", "/espace/coache/"),
    # Sophie sponsors one engagement and is coached in another: her first
    # portal is her own coaching; the nav offers the sponsor's one (below).
    "sponsor": ("sponsor@demo.example", "/espace/coache/"),
    "hr": ("hr@demo.example", "/espace/rh/"),
}
ENGAGEMENT_LINK = "main a[href^='/accompagnements/']:not([href$='/nouveau/'])"


def path_of(page, live_server):
    assert page.url.startswith(live_server.url), page.url
    return page.url.removeprefix(live_server.url)


def test_sign_in_page_loads_its_assets_and_is_accessible(live_server, page):
    static = []
    page.on("response", lambda r: "/static/" in r.url and static.append((r.url, r.status)))

    page.goto(f"{live_server.url}/connexion/")

    assert page.locator("h1").first.is_visible()
    loaded = {url.rsplit("/", 1)[-1]: status for url, status in static}
    for asset in ("bootstrap.min.css", "app.css", "bootstrap.bundle.min.js"):
        assert loaded.get(asset) == 200, f"{asset}: {loaded}"
    # The stylesheets and scripts are applied, not only fetched.
    rules = page.evaluate(
        "() => Object.fromEntries([...document.styleSheets].map("
        "s => [s.href.split('/').pop(), s.cssRules.length]))"
    )
    assert rules.get("bootstrap.min.css", 0) > 0 and rules.get("app.css", 0) > 0, rules
    assert page.evaluate("() => typeof window.bootstrap === 'object'")
    page.problems.assert_none()
    assert_accessible(page)


@pytest.mark.parametrize("persona", list(PORTALS))
def test_persona_lands_on_an_accessible_portal(demo, live_server, page, persona, tmp_path):
    email, portal = PORTALS[persona]

    login(page, live_server, email)

    assert path_of(page, live_server) == portal
    heading = page.locator("main h1")
    assert heading.count() == 1
    assert heading.is_visible()
    assert heading.inner_text().strip()
    page.screenshot(path=tmp_path / f"{persona}.png", full_page=True)
    page.problems.assert_none()
    assert_accessible(page)


def test_coach_opens_an_accessible_engagement_page(demo, live_server, page, tmp_path):
    login(page, live_server, "coach@demo.example")
    link = page.locator(ENGAGEMENT_LINK).first

    with page.expect_navigation():
        link.click()

    assert re.fullmatch(r"/accompagnements/\d+/", path_of(page, live_server)), page.url
    assert page.locator("main h1").is_visible()
    page.screenshot(path=tmp_path / "engagement.png", full_page=True)
    page.problems.assert_none()
    assert_accessible(page)


def test_sponsor_switches_portal_through_the_nav_tabs(demo, live_server, page, tmp_path):
    login(page, live_server, "sponsor@demo.example")
    tabs = page.locator("nav .portal-tabs a")
    assert [tabs.nth(i).get_attribute("href") for i in range(tabs.count())] == [
        "/espace/coache/",
        "/espace/commanditaire/",
    ]
    assert tabs.nth(0).get_attribute("aria-current") == "page"

    with page.expect_navigation():
        tabs.nth(1).click()

    assert path_of(page, live_server) == "/espace/commanditaire/"
    assert page.locator("nav .portal-tabs a[aria-current=page]").get_attribute("href") == (
        "/espace/commanditaire/"
    )
    assert page.locator("main h1").is_visible()
    page.screenshot(path=tmp_path / "sponsor-portal.png", full_page=True)
    page.problems.assert_none()
    assert_accessible(page)


def test_english_switch_changes_the_page_language(demo, live_server, page):
    login(page, live_server, "coachee@demo.example")
    assert page.locator("html").get_attribute("lang") == "fr"

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()

    assert page.locator("html").get_attribute("lang") == "en"
    assert path_of(page, live_server) == "/espace/coache/"
    page.problems.assert_none()
    assert_accessible(page)
