"""
Session content and unreleased reports never reach the sponsor or HR: put a
marker in every confidential record, crawl every page they can reach, and
look for it.
"""

import re
from collections import deque
from urllib.parse import urljoin, urlparse

import pytest
from django.core import mail
from django.urls import reverse

from engagements.models import ClosingReview, Engagement, SponsorReport
from engagements.services.engagements import engagement_withdraw

from . import factories

MARKER = "ZZ-CONFIDENTIAL-7f3a"
LINK = re.compile(r'href="([^"#]+)"')


@pytest.fixture
def confidential(engagement_in):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    held = factories.CoachingSessionFactory(engagement=engagement, status="held")
    factories.PrivateNoteFactory(session=held, body=f"private {MARKER}")
    factories.SharedSummaryFactory(
        session=held, summary=f"summary {MARKER}", action_plan=f"plan {MARKER}"
    )
    objective = factories.ObjectiveFactory(engagement=engagement)
    # Reports the sponsor must never read: one awaiting the coachee's approval
    # (one report is open at a time) and one closed by a withdrawal.
    for status in (SponsorReport.Status.AWAITING_APPROVAL, SponsorReport.Status.CLOSED):
        unreleased = factories.SponsorReportFactory(
            engagement=engagement,
            status=status,
            general_comment=f"comment {MARKER}",
            coachee_comment=f"coachee {MARKER}",
        )
        factories.ReportProgressFactory(
            report=unreleased, objective=objective, text=f"progress {MARKER}"
        )
    released = factories.SponsorReportFactory(
        engagement=engagement,
        status=SponsorReport.Status.RELEASED,
        approved_at=held.starts_at,
        released_at=held.starts_at,
        general_comment="Released comment the sponsor may read",
        # Returned once before it was approved: the sponsor never learns it.
        coachee_comment=f"coachee {MARKER}",
    )
    factories.ReportProgressFactory(
        report=released, objective=objective, text="Released progress the sponsor may read"
    )
    factories.ClosingReviewFactory(
        engagement=engagement,
        status=ClosingReview.Status.AWAITING_COACHEE,
        learnings=f"learnings {MARKER}",
        recommendations=f"reco {MARKER}",
    )
    return engagement


def body(response):
    """The text of a page, or of a PDF (its extracted text: what a reader sees)."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content.startswith(b"%PDF"):
        import io

        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return content.decode(errors="ignore")


def crawl(client, start="/", limit=200):
    """GET every internal page reachable from ``start`` by following links: {url: body}."""
    seen, queue, pages = set(), deque([start]), {}
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        final = response.redirect_chain[-1][0] if response.redirect_chain else url
        pages[final] = text = body(response)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for href in LINK.findall(text):
            target = urljoin(final, href)
            parsed = urlparse(target)
            if parsed.netloc not in ("", "testserver") or parsed.path.startswith(
                ("/static/", "/admin/")
            ):
                continue
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if path not in seen:
                queue.append(path)
    return pages


@pytest.mark.parametrize("persona", ["sponsor", "hr"])
def test_confidential_content_never_appears_on_any_page(request, client, confidential, persona):
    client.force_login(request.getfixturevalue(persona))
    pages = crawl(client)
    assert confidential.get_absolute_url() in pages  # the crawl did reach the engagement
    for url, text in pages.items():
        assert MARKER not in text, url


def test_the_sponsor_reads_the_released_report_only(client, confidential, sponsor):
    client.force_login(sponsor)
    pages = crawl(client)
    report = confidential.reports.get(status=SponsorReport.Status.RELEASED)
    assert "Released progress the sponsor may read" in pages[report.get_absolute_url()]
    pdf = reverse("report_pdf", args=[confidential.pk, report.pk])
    assert "Released progress the sponsor may read" in pages[pdf]  # the crawl read the PDF


def test_the_coach_and_the_coachee_do_see_their_shared_content(
    client, confidential, coach, coachee
):
    client.force_login(coach)
    assert f"private {MARKER}" in client.get(confidential.get_absolute_url()).content.decode()
    client.force_login(coachee)
    page = client.get(confidential.get_absolute_url()).content.decode()
    assert f"summary {MARKER}" in page
    assert f"private {MARKER}" not in page  # the coach's notes are the coach's alone


def test_withdrawal_notices_carry_no_session_content(
    confidential, coachee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        engagement_withdraw(engagement=confidential, coachee=coachee)
    assert mail.outbox
    for message in mail.outbox:
        assert MARKER not in message.subject + message.body
