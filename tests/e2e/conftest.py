"""
Browser end-to-end tests: the real app behind ``live_server``, driven by
Debian's Chromium through Playwright, checked by axe-core.

Nothing is downloaded at test time: Chromium comes from Debian
(``apt-get install chromium``), axe-core from npm (``npm ci``, pinned in
package-lock.json). Without them the tests are skipped on a laptop and fail
in CI.
"""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

DEMO_PASSWORD = "demo12345"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test of this folder is an e2e test (``-m "not e2e"`` leaves them out)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def require(what, available, how):
    """Skip when a browser-test tool is missing on a laptop; fail in CI."""
    if available:
        return
    message = f"{what} is missing: {how}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the e2e tests must run)")
    pytest.skip(message)


@pytest.fixture(scope="package")
def playwright():
    """
    Playwright, for the tests of this folder only (they run one after the
    other: pytest-django orders the ``live_server`` tests together).

    Playwright's sync API keeps its asyncio loop marked as running in the
    main thread between calls, for as long as it runs. Django then refuses
    ORM calls there (SynchronousOnlyOperation), including the database setup
    and the flush after each test. These calls are synchronous and
    sequential, so they are allowed while Playwright runs; stopping
    Playwright at the end of the package clears the loop for the other tests.
    """
    require("Chromium", CHROMIUM.exists(), f"{CHROMIUM} not found (apt-get install chromium)")
    require("axe-core", AXE_JS.exists(), f"{AXE_JS} not found: run npm ci")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            yield p


@pytest.fixture(scope="package")
def browser(playwright):
    """Debian's Chromium (never a downloaded browser build)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def demo(transactional_db, settings):
    """The demo practice (``seed_demo``) in the test database, seen by ``live_server``."""
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    try:
        call_command("seed_demo", stdout=StringIO())
    finally:
        settings.DEBUG = False


class BrowserProblems:
    """
    What went wrong in the page that a person would not see in the DOM: the
    app's 4xx/5xx answers, console errors, and requests that could not reach
    the app. A request the browser aborted itself (``net::ERR_ABORTED``: the
    page moved on while, say, the favicon was loading) is not a problem of
    the app and is not counted.
    """

    def __init__(self, page):
        self.console_errors = []
        self.failed_responses = []
        page.on(
            "console",
            lambda msg: msg.type == "error" and self.console_errors.append(msg.text),
        )
        page.on("pageerror", lambda error: self.console_errors.append(f"pageerror: {error}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.failed_responses.append(f"{r.status} {r.url}"),
        )
        page.on("requestfailed", self._request_failed)

    def _request_failed(self, request):
        if "net::ERR_ABORTED" not in (request.failure or ""):
            self.failed_responses.append(f"failed {request.url}: {request.failure}")

    def assert_none(self):
        assert not self.console_errors, "console errors:\n" + "\n".join(self.console_errors)
        assert not self.failed_responses, "failed requests:\n" + "\n".join(self.failed_responses)


@pytest.fixture
def context(browser):
    """
    A fresh browser context (cookies, cache) per test. The app's
    Content-Security-Policy is enforced, so a CSP violation shows up as a
    console error; axe-core is injected through DevTools (see ``run_axe``).
    """
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.problems = BrowserProblems(page)
    return page


def login(page, live_server, email, password=DEMO_PASSWORD):
    """Sign in through the real sign-in form; returns the response of the landing page."""
    page.goto(f"{live_server.url}/connexion/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button[type=submit].w-100")
    page.wait_for_load_state("load")
    return page


def open_convention_pdf(page, live_server):
    """
    Open the PDF linked from the sign page (in the page's session, as its new
    tab would): a signer asks for the code only after reading this version.
    """
    pdf = page.locator("a[href$='document.pdf']").first.get_attribute("href")
    assert page.request.get(f"{live_server.url}{pdf}").ok


def run_axe(page, tags=("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")):
    """
    axe-core's violations on the current page, for the WCAG 2.1 A and AA rules.

    axe.min.js is evaluated through DevTools (``page.evaluate``), which the
    page's CSP does not apply to, so the CSP stays enforced for the app's own
    scripts and styles (a ``<script>`` tag added by ``add_script_tag`` would
    be refused by ``script-src 'self' 'nonce-…'``).
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(results => results.violations)",
        list(tags),
    )


def format_violations(violations):
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:200]}")
            if node.get("failureSummary"):
                summary = node["failureSummary"].replace("\n", "\n         ")
                lines.append(f"         {summary}")
    return "\n".join(lines)


def assert_accessible(page):
    violations = run_axe(page)
    assert not violations, (
        f"axe-core: {len(violations)} WCAG 2.1 A/AA violation(s) on {page.url}:\n"
        + format_violations(violations)
    )
