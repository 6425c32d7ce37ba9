"""
The final convention document: the convention with its signature blocks
filled, the evidence annexes, one page numbering across the whole, sealed.
"""

import hashlib
import re
import shutil
import subprocess

import pytest
from django.utils import timezone

from engagements.models import Engagement
from engagements.services import convention as service

from . import factories
from .conftest import pdfsig_report
from .test_convention import read, sign_all

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (shutil.which("pdftotext") and shutil.which("pdfinfo")),
        reason="poppler-utils missing",
    ),
]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def signed_convention(engagement_in, on_commit, *, language="fr"):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    Engagement.objects.filter(pk=engagement.pk).update(language=language)
    engagement.refresh_from_db()
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(
        engagement=engagement, title="Déléguer davantage", approved_by_coachee_at=timezone.now()
    )
    sent = on_commit(service.convention_send, engagement=engagement, coach=engagement.coach.user)
    return sign_all(sent, on_commit)


@pytest.fixture
def signed(engagement_in, on_commit):
    return signed_convention(engagement_in, on_commit)


@pytest.fixture
def signed_en(engagement_in, on_commit):
    return signed_convention(engagement_in, on_commit, language="en")


def pages_of(document: bytes, tmp_path) -> list[str]:
    """The text of each page, its line breaks and hyphenation undone."""
    path = tmp_path / "document.pdf"
    path.write_bytes(document)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    pages = []
    for number in range(1, count + 1):
        raw = subprocess.run(
            ["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
            capture_output=True,
            text=True,
        ).stdout
        pages.append(" ".join(raw.replace("-\n", "").split()))
    return pages


def signature_page(pages, heading):
    [page] = [p for p in pages if heading in p]
    return page


def test_the_document_sent_for_signature_has_empty_blocks(signed, tmp_path):
    text = " ".join(pages_of(read(signed.document), tmp_path))
    assert "Article 9 — Signature" in text
    assert "Signé électroniquement" not in text
    assert "Annexe" not in text


def signature_blocks(document: bytes, page_number: int, tmp_path) -> list[str]:
    """
    The text of the three signature blocks of that page, read column by column
    (A4 at 72 dpi, 20 mm margins: three columns of a third of 170 mm each).
    """
    path = tmp_path / "blocks.pdf"
    path.write_bytes(document)
    millimetre = 72 / 25.4
    left, width = 20 * millimetre, 170 * millimetre / 3
    columns = []
    for column in range(3):
        x = left + column * width
        crop = ["-x", str(int(x)), "-y", "0", "-W", str(int(width)), "-H", "842"]
        raw = subprocess.run(
            ["pdftotext", "-f", str(page_number), "-l", str(page_number), *crop, str(path), "-"],
            capture_output=True,
            text=True,
        ).stdout
        columns.append(" ".join(raw.split()))
    return columns


def test_each_signature_block_names_the_signer_when_and_their_annex(signed, tmp_path):
    document = read(signed.signed_document)
    pages = pages_of(document, tmp_path)
    [page_number] = [n for n, p in enumerate(pages, start=1) if "Signé électroniquement" in p]
    blocks = signature_blocks(document, page_number, tmp_path)
    annexes = {item["role"]: number for number, item in enumerate(signed.evidence, start=1)}
    assert sorted(annexes.values()) == [1, 2, 3]
    engagement = signed.engagement
    columns = [
        ("LAOULECOMMANDITAIRE", engagement.sponsor, engagement.sponsor_job_title),
        ("LACOACHÉEOULECOACHÉ", engagement.coachee, engagement.coachee_job_title),
        ("LECOACH", engagement.coach.user, engagement.coach.credentials),
    ]
    for block, (label, person, detail) in zip(blocks, columns, strict=True):
        signature = signed.signatures.get(signer=person)
        signed_at = signature.signed_at.astimezone(timezone.UTC)
        # The column also holds the text above the table: read from the label on.
        assert label in "".join(block.split())
        block = block[block.index(person.get_full_name()) :]
        assert detail in block
        day = f"{signed_at.day}{'er' if signed_at.day == 1 else ''}"
        assert re.search(
            rf"Signé électroniquement le {day} \w+ {signed_at.year} "
            rf"à {signed_at:%H:%M} UTC voir annexe {annexes[signature.role]}\b",
            block,
        ), block
        # The annex the block points to is this signer's evidence.
        [annex_page] = [
            p for p in pages if f"Annexe {annexes[signature.role]} — Preuve de signature" in p
        ]
        assert person.email in annex_page


def test_pages_are_numbered_across_the_convention_and_its_annexes(signed, tmp_path):
    pages = pages_of(read(signed.signed_document), tmp_path)
    original = pages_of(read(signed.document), tmp_path)
    assert len(pages) == len(original) + 3
    for number, text in enumerate(pages, start=1):
        assert f"page {number} / {len(pages)}" in text


def test_the_final_document_is_sealed_and_its_evidence_matches_the_version_signed(signed, tmp_path):
    path = tmp_path / "final.pdf"
    path.write_bytes(read(signed.signed_document))
    report = pdfsig_report(path, tmp_path)
    assert "Signature is Valid" in report
    assert "Total document signed" in report

    original = read(signed.document)
    assert hashlib.sha256(original).hexdigest() == signed.document_sha256
    pages = pages_of(read(signed.signed_document), tmp_path)
    squeezed = ["".join(page.split()) for page in pages]
    for number, item in enumerate(signed.evidence, start=1):
        [page] = [s for s, p in zip(squeezed, pages, strict=True) if f"Annexe {number} —" in p]
        assert item["document_sha256"] == signed.document_sha256
        assert signed.document_sha256 in page
        for key in ("typed_name", "signed_at", "ip_address", "document_opened_at"):
            assert item[key] and "".join(item[key].split()) in page, key
    # The closing note names the version signed and where its original is.
    assert signed.document_sha256 in squeezed[-1]
    assert "est conservé tel quel" in pages[-1]


def test_an_english_convention_has_english_blocks_and_annexes(signed_en, tmp_path):
    pages = pages_of(read(signed_en.signed_document), tmp_path)
    text = " ".join(pages)
    block_page = signature_page(pages, "Signed electronically")
    assert (
        len(
            re.findall(
                r"Signed electronically on \d{1,2} [A-Z]\w+ \d{4} at \d\d:\d\d UTC", block_page
            )
        )
        == 3
    )
    assert {f"see appendix {n}" in block_page for n in (1, 2, 3)} == {True}
    assert "Appendix 1 — Signature evidence" in text
    assert f"page 1 / {len(pages)}" in pages[0]
    assert "is kept as it is" in pages[-1]
    for french in ("Signé électroniquement", "voir annexe", "Annexe 1", "Preuve de signature"):
        assert french not in text
