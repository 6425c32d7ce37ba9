"""
HR's export of signed conventions (DOMAIN.md, "Records, retention and
privacy"): a ZIP with each sealed PDF, ``manifest.csv`` and each signature's
evidence; streamed when small, built in the background when large; with the
HR page's filters, never another organization's, each export logged.
"""

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import tracemalloc
import zipfile
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from engagements import audit, tasks
from engagements.models import AuditEvent, Convention, ConventionExport, Engagement
from engagements.services import convention as convention_service
from engagements.services import exports

from . import factories
from .conftest import move_to
from .test_convention import sign_all

pytestmark = pytest.mark.django_db

SIGNED = Convention.Status.SIGNED
EXPORT_EVENT = AuditEvent.Action.EXPORT


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what services and views queue after commit (tasks run in-process in tests)."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


def fake_evidence(engagement):
    return [
        {
            "role": role,
            "name": f"{role} name",
            "email": f"{role}-{engagement.pk}@example.com",
            "role_label": role,
            "typed_name": f"{role} typed",
            "signed_at": f"2025-03-0{day} 10:00:00",
            "authenticated_at": f"2025-03-0{day} 09:59:00",
            "auth_method": "code",
            "ip_address": "203.0.113.9",
            "user_agent": "test",
            "consent_text": "J'accepte",
            "document_sha256": "d" * 64,
        }
        for day, role in enumerate(("coach", "coachee", "sponsor"), start=1)
    ]


def signed_convention(engagement, *, signed_document=None, **kwargs):
    """A signed convention made directly (a real sealed one where PDF content matters)."""
    now = timezone.now()
    if signed_document is None:
        signed_document = ContentFile(
            f"%PDF-1.7 signed convention {engagement.pk}".encode(), name="s.pdf"
        )
    return factories.ConventionFactory(
        engagement=engagement,
        status=SIGNED,
        sent_at=now,
        signed_at=now,
        document_sha256="a" * 64,
        document=ContentFile(b"%PDF-1.7 convention", name="c.pdf"),
        signed_document=signed_document,
        evidence=fake_evidence(engagement),
        **kwargs,
    )


def dated(status, start, end):
    return {"status": status, "start_date": date(*start), "end_date": date(*end)}


@pytest.fixture
def world(engagement, hr, other_hr):
    """
    Helix Énergies (HR ``hr``): Durand (active, 2025), Martin (completed,
    2023), Petit (active, 2024-25), Roux (out for signature only). The other
    organization (HR ``other_hr``): another Durand. A third organization
    without HR: Blanc.
    """
    helix = engagement.organization
    Engagement.objects.filter(pk=engagement.pk).update(
        **dated(Engagement.Status.ACTIVE, (2025, 1, 1), (2025, 12, 31))
    )
    engagement.refresh_from_db()
    engagement.coachee.last_name = "Durandal"
    engagement.coachee.save()
    durand = signed_convention(engagement)
    martin = signed_convention(
        factories.EngagementFactory(
            organization=helix,
            coachee__last_name="Martinvast",
            **dated(Engagement.Status.COMPLETED, (2023, 1, 1), (2023, 12, 31)),
        )
    )
    petit = signed_convention(
        factories.EngagementFactory(
            organization=helix,
            coachee__last_name="Petitcollin",
            **dated(Engagement.Status.ACTIVE, (2024, 3, 1), (2025, 2, 28)),
        )
    )
    factories.ConventionFactory(
        engagement=factories.EngagementFactory(
            organization=helix,
            coachee__last_name="Roux",
            **dated(Engagement.Status.CONTRACTING, (2025, 1, 1), (2025, 12, 31)),
        ),
        status=Convention.Status.SENT,
        sent_at=timezone.now(),
        document_sha256="b" * 64,
    )
    other_organization = other_hr.hr_memberships.get().organization
    other = signed_convention(
        factories.EngagementFactory(
            organization=other_organization,
            coachee__last_name="Durandal",
            **dated(Engagement.Status.ACTIVE, (2025, 1, 1), (2025, 12, 31)),
        )
    )
    third = signed_convention(
        factories.EngagementFactory(
            coachee__last_name="Blanc",
            **dated(Engagement.Status.ACTIVE, (2025, 1, 1), (2025, 12, 31)),
        )
    )
    return SimpleNamespace(
        helix=helix,
        other_organization=other_organization,
        durand=durand,
        martin=martin,
        petit=petit,
        other=other,
        third=third,
        helix_conventions=[durand, martin, petit],
    )


# -- reading a ZIP ---------------------------------------------------------------------


def open_zip(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive


def streamed(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"].startswith("attachment;")
    return open_zip(b"".join(response.streaming_content))


def manifest(archive, language="fr"):
    """The manifest's rows as dicts keyed by its (translated) header."""
    data = archive.read("manifest.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    with translation.override(language):
        header = exports._manifest_header()
    assert rows[0] == header
    return header, rows[1:]


def column(header, english, language="fr"):
    with translation.override(language):
        return header.index(translation.gettext(english))


def exported_engagements(archive, language="fr"):
    header, rows = manifest(archive, language)
    index = column(header, "Engagement", language)
    return sorted(int(row[index]) for row in rows)


def ids(*conventions):
    return sorted(convention.engagement_id for convention in conventions)


def export_events():
    return list(AuditEvent.objects.filter(action=EXPORT_EVENT).order_by("pk"))


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# -- the streamed export, with a real sealed convention -----------------------------------


@pytest.fixture
def sealed(engagement, run_on_commit):
    """The persona engagement's convention, signed by the three parties and sealed."""
    engagement = move_to(engagement, Engagement.Status.KICKOFF)
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
    convention = run_on_commit(
        convention_service.convention_send, engagement=engagement, coach=engagement.coach.user
    )
    convention = sign_all(convention, run_on_commit)
    assert convention.status == SIGNED and convention.evidence
    return convention


def read(field):
    with field.open("rb") as handle:
        return handle.read()


def test_the_streamed_export_holds_the_sealed_pdf_its_manifest_and_evidence(
    client, sealed, hr, tmp_path
):
    client.force_login(hr)
    archive = streamed(client.get(reverse("hr_export")))
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    [pdf] = pdfs
    base = pdf.removesuffix(".pdf")
    assert base.startswith("helix-energies/")
    assert sorted(archive.namelist()) == sorted([pdf, f"{base}.evidence.json", "manifest.csv"])

    pdf_bytes = archive.read(pdf)
    assert pdf_bytes.startswith(b"%PDF")
    assert pdf_bytes == read(sealed.signed_document)

    header, rows = manifest(archive, hr.language)
    [row] = rows
    sha = row[column(header, "SHA-256 of the PDF", hr.language)]
    assert sha == hashlib.sha256(pdf_bytes).hexdigest()
    assert sha == hashlib.sha256(read(sealed.signed_document)).hexdigest()
    assert row[column(header, "File", hr.language)] == pdf
    assert row[column(header, "Evidence", hr.language)] == f"{base}.evidence.json"
    assert int(row[column(header, "Engagement", hr.language)]) == sealed.engagement_id
    assert row[column(header, "Convention version", hr.language)] == "1"
    signed_at = {item["role"]: item["signed_at"] for item in sealed.evidence}
    assert len(signed_at) == 3
    # One column per role, in signing order, just before the evidence's.
    roles = len(exports.SIGNING_ORDER)
    times = row[-1 - roles : -1]
    assert times == [signed_at[role] for role in exports.SIGNING_ORDER]

    evidence = json.loads(archive.read(f"{base}.evidence.json"))
    assert evidence["signatures"] == sealed.evidence
    assert evidence["engagement"] == sealed.engagement_id
    assert evidence["convention_version"] == sealed.version
    assert evidence["document_sha256"] == sealed.document_sha256

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils missing: the evidence pages' text is not compared")
    path = tmp_path / "sealed.pdf"
    path.write_bytes(pdf_bytes)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())
    for item in sealed.evidence:
        for key, value in item.items():
            if key == "role":  # printed as its label
                continue
            assert "".join(str(value).split()) in flat, (key, value)


def test_each_streamed_export_is_logged_with_its_conventions(client, world, hr):
    client.force_login(hr)
    before = AuditEvent.objects.count()
    archive = streamed(client.get(reverse("hr_export")))
    assert exported_engagements(archive, hr.language) == ids(*world.helix_conventions)
    [event] = export_events()
    assert AuditEvent.objects.count() == before + 1
    assert event.actor == hr
    assert event.record_type == "conventions_signed"
    assert sorted(event.detail["conventions"]) == sorted(c.pk for c in world.helix_conventions)
    assert event.detail["export"] is False
    assert audit.verify().ok


def test_each_pdf_of_the_zip_matches_its_manifest_line(client, world, hr):
    client.force_login(hr)
    archive = streamed(client.get(reverse("hr_export")))
    header, rows = manifest(archive, hr.language)
    file_column = column(header, "File", hr.language)
    sha_column = column(header, "SHA-256 of the PDF", hr.language)
    by_engagement = {c.engagement_id: c for c in world.helix_conventions}
    assert len(rows) == 3
    for row in rows:
        convention = by_engagement[int(row[column(header, "Engagement", hr.language)])]
        data = archive.read(row[file_column])
        assert data == read(convention.signed_document)
        assert row[sha_column] == hashlib.sha256(data).hexdigest()
        evidence = json.loads(archive.read(row[column(header, "Evidence", hr.language)]))
        assert evidence["signatures"] == convention.evidence
    assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 3


# -- filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["durand", "martin", "petit"]),
        ({"q": "durandal"}, ["durand"]),
        ({"q": "MARTINVAST"}, ["martin"]),
        ({"status": "active"}, ["durand", "petit"]),
        ({"status": "completed"}, ["martin"]),
        ({"period_from": "2025-03-01"}, ["durand"]),
        ({"period_to": "2023-06-30"}, ["martin"]),
        ({"period_from": "2024-06-01", "period_to": "2024-12-31"}, ["petit"]),
        ({"period_from": "2025-01-01", "status": "active"}, ["durand", "petit"]),
        ({"q": "Petitcollin", "status": "completed"}, []),
    ],
)
def test_the_page_filters_narrow_the_export(client, world, hr, query, expected):
    client.force_login(hr)
    response = client.get(reverse("hr_export"), query)
    if not expected:
        assert response.status_code == 302
        assert not export_events()
        return
    archive = streamed(response)
    wanted = [getattr(world, name) for name in expected]
    assert exported_engagements(archive, hr.language) == ids(*wanted)
    [event] = export_events()
    assert sorted(event.detail["conventions"]) == sorted(c.pk for c in wanted)
    assert event.detail["filters"] == {k: v for k, v in query.items() if v}


def test_another_organizations_hr_gets_only_their_own(client, world, hr, other_hr):
    client.force_login(other_hr)
    archive = streamed(client.get(reverse("hr_export"), {"q": "Durand"}))
    assert exported_engagements(archive, other_hr.language) == ids(world.other)
    client.force_login(hr)
    archive = streamed(client.get(reverse("hr_export"), {"q": "Durand"}))
    assert exported_engagements(archive, hr.language) == ids(world.durand)
    for event in export_events():
        assert world.third.pk not in event.detail["conventions"]


def test_an_hr_without_signed_conventions_is_told_so(client, world, hr):
    client.force_login(hr)
    response = client.get(reverse("hr_export"), {"q": "Personne"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("hr_portal"))
    assert "q=Personne" in response.url
    assert messages_of(response)
    assert not export_events()
    assert not ConventionExport.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {"period_from": "2025-06-01", "period_to": "2025-01-01"},
        {"period_from": "9999-01-01"},
        {"period_to": "9999-12-31"},
        {"period_from": "not a date"},
        {"status": "nonsense"},
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_invalid_filters_export_nothing(client, world, hr, settings, query, method):
    settings.EXPORT_STREAM_LIMIT = 1
    client.force_login(hr)
    before = AuditEvent.objects.count()
    url = reverse("hr_export") + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("hr_portal"))
    assert messages_of(response)
    assert AuditEvent.objects.count() == before
    assert not ConventionExport.objects.exists()


def test_only_hr_may_export(client, world, coach, coachee, sponsor, outsider):
    for person in (coach, coachee, sponsor, outsider):
        client.force_login(person)
        assert client.get(reverse("hr_export")).status_code == 404
        assert client.post(reverse("hr_export")).status_code == 404
    assert not export_events()
    assert not ConventionExport.objects.exists()


# -- the background export ---------------------------------------------------------------


def export_files(settings):
    folder = settings.MEDIA_ROOT / "exports"
    return sorted(folder.iterdir()) if folder.exists() else []


def export_mails():
    return [message for message in mail.outbox if "/espace/rh/exports/" in message.body]


def test_above_the_limit_hr_confirms_and_the_export_is_built_in_the_background(
    client, world, hr, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_STREAM_LIMIT = 2
    client.force_login(hr)
    confirm = client.get(reverse("hr_export"))
    assert confirm.status_code == 200
    assert "engagements/export_confirm.html" in [t.name for t in confirm.templates]
    assert confirm.context["count"] == 3
    assert not export_events() and not ConventionExport.objects.exists()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("hr_export"))
    [export] = ConventionExport.objects.all()
    assert response.status_code == 302
    assert response.url == reverse("convention_export", args=[export.pk])
    assert (export.requested_by, export.all_organizations, export.total) == (hr, False, 3)
    assert export.status == ConventionExport.Status.READY
    assert export.done == export.total == 3
    assert export.attempt == 1
    assert export.expires_at > timezone.now()

    [stored] = export_files(settings)
    data = stored.read_bytes()
    assert default_storage.exists(export.file.name)
    assert export.size == len(data)
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    archive = open_zip(data)
    assert exported_engagements(archive, hr.language) == ids(*world.helix_conventions)

    [event] = export_events()
    assert (event.actor, event.record_id, event.detail["export"]) == (hr, export.pk, True)
    assert sorted(event.detail["conventions"]) == sorted(c.pk for c in world.helix_conventions)

    [message] = export_mails()
    assert message.to == [hr.email]
    assert reverse("convention_export", args=[export.pk]) in message.body

    # A second delivery of the task and of the e-mail: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.build_convention_export.delay(export.pk).get() == "nothing to do"
        tasks.send_export_ready.delay(export.pk)
    assert len(export_mails()) == 1
    assert export_files(settings) == [stored]
    assert stored.read_bytes() == data
    assert audit.verify().ok


def test_the_background_export_keeps_the_filters(client, world, hr, settings, run_on_commit):
    settings.EXPORT_STREAM_LIMIT = 1
    client.force_login(hr)
    run_on_commit(client.post, reverse("hr_export") + "?status=active")
    export = ConventionExport.objects.get()
    assert export.filters == {"status": "active"}
    assert export.total == 2
    archive = open_zip(read(export.file))
    assert exported_engagements(archive, hr.language) == ids(world.durand, world.petit)


@pytest.fixture
def ready_export(world, hr, run_on_commit):
    mail.outbox.clear()
    export = run_on_commit(exports.export_start, user=hr, filters={})
    export.refresh_from_db()
    assert export.status == ConventionExport.Status.READY
    return export


def test_the_status_page_and_its_fragment(client, hr, ready_export):
    client.force_login(hr)
    url = reverse("convention_export", args=[ready_export.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    assert "<html" in page.text
    download = reverse("convention_export_download", args=[ready_export.pk])
    assert download in page.text
    assert ready_export.sha256 in page.text

    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<body" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="export-progress"')
    assert download in fragment.text
    assert "hx-trigger" not in fragment.text  # finished: polling stops


def test_a_pending_export_polls_its_progress(client, hr, world):
    export = factories.ConventionExportFactory(requested_by=hr, total=3)
    client.force_login(hr)
    fragment = client.get(
        reverse("convention_export", args=[export.pk]), headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "hx-trigger" in fragment.text and "<progress" in fragment.text
    assert reverse("convention_export_download", args=[export.pk]) not in fragment.text
    download = client.get(reverse("convention_export_download", args=[export.pk]))
    assert download.status_code == 302
    assert download.url == reverse("convention_export", args=[export.pk])


def test_the_download_gives_the_stored_zip_and_is_logged(client, hr, ready_export):
    client.force_login(hr)
    response = client.get(reverse("convention_export_download", args=[ready_export.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)  # read to the end: the test client closes it
    assert hashlib.sha256(data).hexdigest() == ready_export.sha256
    open_zip(data)
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD)
    assert (event.actor, event.record_id) == (hr, ready_export.pk)
    assert event.detail["sha256"] == ready_export.sha256


def test_an_expired_export_loses_its_file_and_its_link(client, hr, ready_export, settings):
    assert exports.exports_expire() == 0
    [stored] = export_files(settings)
    ConventionExport.objects.filter(pk=ready_export.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert exports.exports_expire() == 1
    assert exports.exports_expire() == 0
    ready_export.refresh_from_db()
    assert ready_export.status == ConventionExport.Status.EXPIRED
    assert not ready_export.file
    assert not stored.exists()
    assert export_files(settings) == []

    client.force_login(hr)
    response = client.get(reverse("convention_export_download", args=[ready_export.pk]))
    assert response.status_code == 302
    assert response.url == reverse("convention_export", args=[ready_export.pk])
    page = client.get(response.url)
    assert page.status_code == 200
    assert reverse("convention_export_download", args=[ready_export.pk]) not in page.text
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_a_link_past_its_expiry_no_longer_downloads_before_the_cleanup(client, hr, ready_export):
    ConventionExport.objects.filter(pk=ready_export.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    client.force_login(hr)
    response = client.get(reverse("convention_export_download", args=[ready_export.pk]))
    assert response.status_code == 302


# -- runs that are repeated, die or are overtaken ----------------------------------------


@pytest.fixture
def queued(world, hr):
    """An export asked for, whose task has not run (its on_commit is not executed)."""
    export = exports.export_start(user=hr, filters={})
    assert export.status == ConventionExport.Status.PENDING
    return export


def test_building_twice_stores_one_zip(queued, settings):
    assert exports.export_build(export_id=queued.pk) == "ready"
    queued.refresh_from_db()
    first = (queued.file.name, queued.sha256, queued.attempt)
    assert exports.export_build(export_id=queued.pk) == "nothing to do"
    queued.refresh_from_db()
    assert (queued.file.name, queued.sha256, queued.attempt) == first
    assert len(export_files(settings)) == 1


def test_a_run_that_gave_no_sign_of_life_is_taken_over(queued, settings):
    stale = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 5)
    ConventionExport.objects.filter(pk=queued.pk).update(
        status=ConventionExport.Status.RUNNING, attempt=1, heartbeat_at=stale, done=1
    )
    assert exports.exports_stale() == [queued.pk]
    assert exports.export_build(export_id=queued.pk) == "ready"
    queued.refresh_from_db()
    assert queued.status == ConventionExport.Status.READY
    assert queued.attempt == 2
    assert queued.done == queued.total == 3
    assert hashlib.sha256(read(queued.file)).hexdigest() == queued.sha256
    assert len(export_files(settings)) == 1
    assert exports.exports_stale() == []


def test_a_run_still_alive_is_left_alone(queued, settings):
    ConventionExport.objects.filter(pk=queued.pk).update(
        status=ConventionExport.Status.RUNNING, attempt=1, heartbeat_at=timezone.now()
    )
    assert exports.exports_stale() == []
    assert exports.export_build(export_id=queued.pk) == "nothing to do"
    queued.refresh_from_db()
    assert (queued.status, queued.attempt) == (ConventionExport.Status.RUNNING, 1)
    assert export_files(settings) == []


def test_a_pending_export_never_started_is_queued_again(queued, settings):
    assert exports.exports_stale() == []
    ConventionExport.objects.filter(pk=queued.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 5)
    )
    assert exports.exports_stale() == [queued.pk]


def bump_attempt(export_id):
    ConventionExport.objects.filter(pk=export_id).update(attempt=F("attempt") + 1)


def test_a_superseded_run_does_not_store(queued, settings, monkeypatch, run_on_commit):
    store = exports._store

    def overtaken(export, scratch):
        bump_attempt(export.pk)  # another run claimed the export meanwhile
        return store(export, scratch)

    monkeypatch.setattr(exports, "_store", overtaken)
    mail.outbox.clear()
    assert run_on_commit(exports.export_build, export_id=queued.pk) == "superseded"
    queued.refresh_from_db()
    assert queued.status == ConventionExport.Status.RUNNING
    assert queued.attempt == 2
    assert not queued.file and not queued.sha256
    assert export_files(settings) == []
    assert export_mails() == []


def test_a_run_overtaken_midway_stops_at_its_next_sign_of_life(queued, settings, monkeypatch):
    monkeypatch.setattr(exports, "HEARTBEAT_EVERY", 1)
    evidence = exports.signatures_evidence
    calls = []

    def overtaken(convention):
        calls.append(convention.pk)
        if len(calls) == 1:
            bump_attempt(queued.pk)
        return evidence(convention)

    monkeypatch.setattr(exports, "signatures_evidence", overtaken)
    assert exports.export_build(export_id=queued.pk) == "superseded"
    assert len(calls) == 1
    assert export_files(settings) == []


def test_a_build_that_fails_is_retried_then_given_up(queued, world, client, hr, settings):
    world.petit.signed_document.storage.delete(world.petit.signed_document.name)
    for attempt in range(1, exports.MAX_ATTEMPTS + 1):
        with pytest.raises(OSError):
            exports.export_build(export_id=queued.pk)
        queued.refresh_from_db()
        assert (queued.status, queued.attempt) == (ConventionExport.Status.PENDING, attempt)
    assert exports.export_build(export_id=queued.pk) == "nothing to do"
    queued.refresh_from_db()
    assert queued.status == ConventionExport.Status.FAILED
    assert export_files(settings) == []
    assert export_mails() == []
    client.force_login(hr)
    fragment = client.get(
        reverse("convention_export", args=[queued.pk]), headers={"HX-Request": "true"}
    )
    assert "hx-trigger" not in fragment.text
    assert "text-danger" in fragment.text


# -- who may see an export ----------------------------------------------------------------


@pytest.mark.parametrize(
    "persona",
    ["coach", "coachee", "sponsor", "other_hr", "other_coach", "outsider", "anonymous"],
)
@pytest.mark.parametrize("name", ["convention_export", "convention_export_download"])
def test_nobody_but_the_requester_reaches_an_export(request, client, ready_export, persona, name):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse(name, args=[ready_export.pk]))
    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.DOWNLOAD).exists()


def test_the_requester_reaches_it_only_while_hr(client, hr, ready_export):
    client.force_login(hr)
    url = reverse("convention_export", args=[ready_export.pk])
    assert client.get(url).status_code == 200
    hr.hr_memberships.all().delete()
    assert client.get(url).status_code == 404
    download = reverse("convention_export_download", args=[ready_export.pk])
    assert client.get(download).status_code == 404


def test_an_unknown_export_is_not_found(client, hr, world):
    client.force_login(hr)
    assert client.get(reverse("convention_export", args=[999999])).status_code == 404


# -- the practice owner's export, across organizations ----------------------------------


@pytest.fixture
def owner(db):
    return factories.UserFactory(email="owner@example.com", is_staff=True, is_superuser=True)


def admin_export(client, organizations):
    return client.post(
        reverse("admin:engagements_organization_changelist"),
        {
            "action": "export_signed_conventions",
            "_selected_action": [organization.pk for organization in organizations],
        },
    )


def test_the_owner_exports_across_organizations_from_the_admin(
    client, world, owner, hr, run_on_commit
):
    client.force_login(owner)
    mail.outbox.clear()
    response = run_on_commit(admin_export, client, [world.helix, world.other_organization])
    export = ConventionExport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("convention_export", args=[export.pk])
    assert export.all_organizations and export.requested_by == owner
    assert export.status == ConventionExport.Status.READY
    archive = open_zip(read(export.file))
    assert exported_engagements(archive, owner.language) == ids(
        *world.helix_conventions, world.other
    )
    folders = {name.split("/")[0] for name in archive.namelist() if "/" in name}
    assert "helix-energies" in folders and len(folders) == 2
    assert [m.to for m in export_mails()] == [[owner.email]]

    assert client.get(response.url).status_code == 200
    download = client.get(reverse("convention_export_download", args=[export.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == read(export.file)

    client.force_login(hr)
    assert client.get(response.url).status_code == 404
    assert client.get(reverse("convention_export_download", args=[export.pk])).status_code == 404


def test_the_owner_action_without_signed_conventions_exports_nothing(client, world, owner):
    client.force_login(owner)
    empty = factories.OrganizationFactory()
    response = admin_export(client, [empty])
    assert response.status_code == 302
    assert not ConventionExport.objects.exists()
    assert not export_events()


def test_a_staff_member_who_is_not_the_owner_cannot_export_all(client, world):
    staff = factories.UserFactory(is_staff=True)
    client.force_login(staff)
    response = admin_export(client, [world.helix])
    assert response.status_code in (302, 403)
    assert not ConventionExport.objects.exists()
    with pytest.raises(exports.NotAllowed):
        exports.export_start(user=staff, filters={}, all_organizations=True)


def test_hr_cannot_ask_for_every_organization(world, hr):
    with pytest.raises(exports.NotAllowed):
        exports.export_start(user=hr, filters={}, all_organizations=True)
    assert not ConventionExport.objects.exists()


# -- memory ---------------------------------------------------------------------------


def test_building_an_export_does_not_take_memory_with_the_count(settings):
    """
    Files are copied into the ZIP in chunks: a build never holds even one PDF
    in memory, and its peak does not follow the count. (Some growth is
    expected: rows are fetched 100 at a time and the ZIP's central directory
    is kept until the end; the original in-memory build took +4.7 MiB at 50.)
    """
    hr = factories.HRMembershipFactory().user
    organization = hr.hr_memberships.get().organization
    pdf_size = 2 * 2**20
    shared = default_storage.save(
        "conventions/signed/shared.pdf", ContentFile(os.urandom(pdf_size))
    )

    def add(count):
        for _ in range(count):
            signed_convention(
                factories.EngagementFactory(organization=organization), signed_document=shared
            )

    def peak_of_a_build():
        export = exports.export_start(user=hr, filters={})
        tracemalloc.start()
        try:
            assert exports.export_build(export_id=export.pk) == "ready"
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        export.refresh_from_db()
        assert export.total == export.done
        export.file.delete(save=False)  # keep the disk small
        return export, peak

    add(20)
    peak_of_a_build()  # warm-up: imports, translations, first queries
    small, peak_20 = peak_of_a_build()
    add(40)
    large, peak_60 = peak_of_a_build()

    mib = 2**20
    assert (small.total, large.total) == (20, 60)
    assert large.size > 60 * pdf_size
    assert peak_60 < pdf_size, f"peak {peak_60 / mib:.2f} MiB"
    assert peak_60 - peak_20 < 0.75 * mib, f"{peak_20 / mib:.2f} → {peak_60 / mib:.2f} MiB"
