"""
The coachee's own data (a ZIP of a JSON and her PDFs) and retention: personal
data anonymized after the end, signed conventions and their evidence deleted
later, each run logged (DOMAIN.md, "Records, retention and privacy").
"""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from engagements import audit
from engagements.models import (
    AuditEvent,
    CalendarFeed,
    ClosingReview,
    CoachingSession,
    Convention,
    Engagement,
    Kickoff,
    ObjectiveScore,
    PrivateNote,
    SharedSummary,
    Signature,
    SignatureChallenge,
    SponsorReport,
    User,
)
from engagements.services import privacy
from engagements.services.convention import signatures_evidence
from engagements.tasks import apply_retention

from . import factories
from .conftest import move_to

pytestmark = pytest.mark.django_db

PRIVATE_NOTE = "NOTE-PRIVEE-DU-COACH-7731"
UNRELEASED = "RAPPORT-EN-ATTENTE-4410"
SPONSOR_VERSION = "VERSION-DU-COMMANDITAIRE-2290"
COACH_AGENT = "NavigateurDuCoach/9.9"
FEED_TOKEN = "jeton-secret-du-flux-0000000000000000000001"


def fake_pdf(text):
    return ContentFile(f"%PDF-1.7\n% {text}\n%%EOF\n".encode(), name="document.pdf")


def signed_convention(engagement, *, text="convention scellee"):
    """A signed convention with its sealed file and the three signatures (evidence not kept yet)."""
    now = timezone.now()
    convention = factories.ConventionFactory(
        engagement=engagement,
        status=Convention.Status.SIGNED,
        sent_at=now,
        signed_at=now,
        document_sha256="a" * 64,
        document=fake_pdf("a signer"),
        signed_document=fake_pdf(text),
    )
    for role in ("coach", "coachee", "sponsor"):
        factories.SignatureFactory(
            convention=convention,
            role=role,
            user_agent=COACH_AGENT if role == "coach" else "NavigateurDeLaCoachee/1.0",
        )
    return convention


def completed_review(engagement):
    now = timezone.now()
    return factories.ClosingReviewFactory(
        engagement=engagement,
        status=ClosingReview.Status.COMPLETED,
        learnings="Apprentissages de la coachée",
        metacognitive_skills="Prendre du recul",
        objectives_assessment="Atteints",
        recommendations="Continuer",
        coachee_validated_at=now,
        completed_at=now,
        synthesis_pdf=fake_pdf("synthese de la coachee"),
        sponsor_pdf=fake_pdf(SPONSOR_VERSION),
        synthesis_sha256="b" * 64,
        sponsor_sha256="c" * 64,
    )


@pytest.fixture
def her_engagement(engagement_in, coachee):
    """The persona engagement, active, with something of every kind."""
    engagement = engagement_in(Engagement.Status.ACTIVE)
    factories.KickoffFactory(engagement=engagement, coachee_expectations="Trouver ma place")
    now = timezone.now()
    objective = factories.ObjectiveFactory(
        engagement=engagement, title="Déléguer davantage", approved_by_coachee_at=now
    )
    for rater in (ObjectiveScore.Rater.COACHEE, ObjectiveScore.Rater.SPONSOR):
        factories.ObjectiveScoreFactory(objective=objective, rater=rater, score=-1)
    held = factories.CoachingSessionFactory(
        engagement=engagement,
        starts_at=now - timedelta(days=30),
        status=CoachingSession.Status.HELD,
        format="in_person",
        location="Salle Bleue",
    )
    factories.PrivateNoteFactory(session=held, body=PRIVATE_NOTE)
    factories.SharedSummaryFactory(session=held, action_plan="Plan : déléguer le budget")
    today = timezone.localdate()
    released = factories.SponsorReportFactory(
        engagement=engagement,
        status=SponsorReport.Status.RELEASED,
        period_start=today - timedelta(days=120),
        period_end=today - timedelta(days=60),
        general_comment="Commentaire publié au commanditaire",
        approved_at=now,
        released_at=now,
    )
    factories.ReportProgressFactory(report=released, objective=objective, text="Délègue mieux")
    awaiting = factories.SponsorReportFactory(
        engagement=engagement,
        status=SponsorReport.Status.AWAITING_APPROVAL,
        period_start=today - timedelta(days=59),
        period_end=today,
        general_comment=UNRELEASED,
    )
    factories.ReportProgressFactory(report=awaiting, objective=objective, text=UNRELEASED)
    signed_convention(engagement)
    completed_review(engagement)
    CalendarFeed.objects.create(user=coachee, token=FEED_TOKEN)
    return engagement


def download(client, user):
    client.force_login(user)
    response = client.get(reverse("privacy_archive"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def everything_in(archive):
    """The text of every entry: the JSON as written, each PDF's bytes, the reports' text."""
    from pypdf import PdfReader

    parts = []
    for name in archive.namelist():
        content = archive.read(name)
        parts.append(content.decode("utf-8" if name.endswith(".json") else "latin-1"))
        # The reports are rendered for real (the other PDFs are the tests' stand-ins).
        if name.startswith("rapports/"):
            parts.extend(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "\n".join(parts)


# -- the coachee's own data ------------------------------------------------------------


def test_the_coachee_downloads_her_data_and_her_pdfs(client, her_engagement, coachee):
    archive = download(client, coachee)
    names = archive.namelist()
    assert "data.json" in names
    pdfs = sorted(name for name in names if name.endswith(".pdf"))
    assert [name.split("/")[0] for name in pdfs] == ["conventions", "rapports", "syntheses"]
    for name in pdfs:
        assert archive.read(name).startswith(b"%PDF"), name
    convention = her_engagement.conventions.get()
    [convention_pdf] = [n for n in pdfs if n.startswith("conventions/")]
    convention.signed_document.open("rb")
    with convention.signed_document:
        assert archive.read(convention_pdf) == convention.signed_document.read()
    [synthesis_pdf] = [n for n in pdfs if n.startswith("syntheses/")]
    assert b"synthese de la coachee" in archive.read(synthesis_pdf)

    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == "coachee@example.com"
    assert data["account"]["language"] == coachee.language
    assert data["calendar_feed"]["exists"] is True
    [item] = data["engagements"]
    assert item["title"] == her_engagement.title
    assert item["organization"] == "Helix Énergies"
    assert item["coach"]["email"] == "coach@example.com"
    assert item["sponsor"]["email"] == "sponsor@example.com"
    assert item["status"] == "active"
    assert item["kickoff"]["coachee_expectations"] == "Trouver ma place"
    [objective] = item["objectives"]
    assert objective["title"] == "Déléguer davantage"
    assert sorted(s["rater"] for s in objective["scores"]) == ["coachee", "sponsor"]
    [session] = item["sessions"]
    assert (session["status"], session["format"], session["place"]) == (
        "held",
        "in_person",
        "Salle Bleue",
    )
    assert session["shared_summary"]["action_plan"] == "Plan : déléguer le budget"
    [report] = item["reports"]
    assert report["general_comment"] == "Commentaire publié au commanditaire"
    assert report["progress"] == [{"objective": "Déléguer davantage", "text": "Délègue mieux"}]
    assert report["document"] in pdfs
    assert item["closing_review"]["parts"][0]["text"] == "Apprentissages de la coachée"
    assert item["closing_review"]["document"] == synthesis_pdf
    [signed] = item["conventions"]
    assert signed["document"] == convention_pdf
    assert signed["my_signature"]["email"] == "coachee@example.com"
    assert signed["my_signature"]["role"] == "coachee"


def test_the_report_pdf_is_the_one_the_sponsor_reads(client, her_engagement, coachee):
    from pypdf import PdfReader

    archive = download(client, coachee)
    [name] = [n for n in archive.namelist() if n.startswith("rapports/")]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read(name))).pages)
    assert "Commentaire publié au commanditaire" in text
    assert "Délègue mieux" in text


def test_the_archive_holds_no_private_note_nor_anything_unreleased(client, her_engagement, coachee):
    content = everything_in(download(client, coachee))
    assert "Plan : déléguer le budget" in content  # what she may have is there
    for secret in (PRIVATE_NOTE, UNRELEASED, SPONSOR_VERSION, COACH_AGENT, FEED_TOKEN):
        assert secret not in content, secret


def test_only_her_engagements_as_coachee_are_in_her_data(client, her_engagement, coachee):
    other = factories.EngagementFactory(sponsor=coachee, title="Accompagnement qu'elle finance")
    factories.PrivateNoteFactory(session__engagement=other, body="Note sur un autre coaché")
    data = json.loads(download(client, coachee).read("data.json"))
    assert [e["id"] for e in data["engagements"]] == [her_engagement.pk]
    assert "Accompagnement qu'elle finance" not in json.dumps(data, ensure_ascii=False)


def test_each_download_is_logged(client, her_engagement, coachee):
    download(client, coachee)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.record_type, event.record_id) == (
        coachee,
        "personal_data",
        coachee.pk,
    )
    assert event.detail == {"engagements": [her_engagement.pk]}
    assert audit.verify().ok


@pytest.mark.parametrize(
    "persona", ["coach", "sponsor", "hr", "other_coach", "other_hr", "outsider"], indirect=True
)
def test_whoever_is_not_a_coachee_gets_a_404(client, her_engagement, persona):
    client.force_login(persona)
    assert client.get(reverse("privacy_archive")).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, her_engagement):
    for name in ("privacy", "privacy_archive"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_archive_is_read_only(client, her_engagement, coachee):
    client.force_login(coachee)
    assert client.post(reverse("privacy_archive")).status_code == 405
    assert client.post(reverse("privacy")).status_code == 405


def test_the_privacy_page_shows_the_configured_periods(client, her_engagement, coachee, settings):
    settings.SESSION_NOTES_RETENTION_DAYS = 200
    settings.PERSONAL_DATA_RETENTION_DAYS = 1111
    settings.CONVENTION_RETENTION_DAYS = 2222
    client.force_login(coachee)
    page = client.get(reverse("privacy")).content.decode()
    for days in ("200", "1111", "2222"):
        assert days in page
    assert reverse("privacy_archive") in page
    portal = client.get(reverse("coachee_portal")).content.decode()
    assert reverse("privacy") in portal


@pytest.mark.parametrize("persona", ["sponsor", "hr", "outsider"], indirect=True)
def test_others_read_the_periods_without_a_download(client, her_engagement, persona):
    client.force_login(persona)
    page = client.get(reverse("privacy")).content.decode()
    assert "1095" in page and "1825" in page
    assert reverse("privacy_archive") not in page


# -- retention -------------------------------------------------------------------------


def ended(days_ago, *, coachee=None, sponsor=None, status=Engagement.Status.WITHDRAWN):
    """An engagement ended ``days_ago`` with personal data of every kind."""
    values = {}
    if coachee:
        values["coachee"] = coachee
    if sponsor:
        values["sponsor"] = sponsor
    engagement = move_to(factories.EngagementFactory(**values), status)
    Engagement.objects.filter(pk=engagement.pk).update(
        ended_at=timezone.now() - timedelta(days=days_ago),
        coachee_availability="Le mardi matin",
    )
    engagement.refresh_from_db()
    factories.KickoffFactory(engagement=engagement)
    objective = factories.ObjectiveFactory(engagement=engagement, title="Tenir le comité")
    session = factories.CoachingSessionFactory(
        engagement=engagement, format="in_person", location="12 rue Secrète"
    )
    factories.CoachingSessionFactory(engagement=engagement, video_url="https://visio/secrete")
    factories.PrivateNoteFactory(session=session)
    factories.SharedSummaryFactory(session=session)
    report = factories.SponsorReportFactory(
        engagement=engagement,
        status=SponsorReport.Status.RELEASED,
        general_comment="Commentaire nominatif",
        coachee_comment="Mon avis",
        approved_at=timezone.now(),
        released_at=timezone.now(),
    )
    factories.ReportProgressFactory(report=report, objective=objective, text="Progrès nominatif")
    convention = signed_convention(engagement)
    factories.SignatureChallengeFactory(convention=convention, user=engagement.coachee)
    completed_review(engagement)
    return engagement


def years(n):
    return 365 * n


def test_personal_data_is_anonymized_after_three_years_and_not_before(settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = years(3)
    old = ended(years(3) + 1)
    recent = ended(years(3) - 1)

    assert privacy.personal_data_anonymize()["engagements"] == 1

    old.refresh_from_db()
    assert old.anonymized_at is not None
    assert old.title == "Accompagnement anonymisé" or old.title == "Anonymized engagement"
    assert (old.coachee_job_title, old.sponsor_job_title, old.coachee_availability) == ("", "", "")
    kickoff = Kickoff.objects.get(engagement=old)
    assert (kickoff.coachee_expectations, kickoff.reporting_scope) == ("", "")
    objective = old.objectives.get()
    assert "Tenir le comité" not in objective.title and objective.success_indicators == ""
    assert set(old.sessions.values_list("location", "video_url")) <= {("—", ""), ("", "")}
    report = old.reports.get()
    assert (report.general_comment, report.coachee_comment) == ("", "")
    assert list(report.objective_progress.values_list("text", flat=True)) == [""]
    review = ClosingReview.objects.get(engagement=old)
    assert (review.learnings, review.recommendations) == ("", "")
    assert not review.synthesis_pdf.storage.exists(review.synthesis_pdf.name)
    assert not review.sponsor_pdf.storage.exists(review.sponsor_pdf.name)
    assert not PrivateNote.objects.filter(session__engagement=old).exists()
    assert not SharedSummary.objects.filter(session__engagement=old).exists()
    assert not SignatureChallenge.objects.filter(convention__engagement=old).exists()
    assert not old.status_changes.exclude(reason="").exists()

    recent.refresh_from_db()
    assert recent.anonymized_at is None
    assert recent.title == "Prise de poste de direction"
    assert recent.objectives.get().title == "Tenir le comité"
    assert SignatureChallenge.objects.filter(convention__engagement=recent).exists()
    assert PrivateNote.objects.filter(session__engagement=recent).exists()


def test_the_signed_convention_and_its_evidence_survive_anonymization():
    engagement = ended(years(3) + 10)
    convention = engagement.conventions.get()
    before = signatures_evidence(convention)
    with convention.signed_document.open("rb") as document:
        sealed = document.read()
    coachee_email = engagement.coachee.email

    privacy.personal_data_anonymize()

    convention.refresh_from_db()
    assert convention.evidence == before
    assert [e["email"] for e in convention.evidence if e["role"] == "coachee"] == [coachee_email]
    assert signatures_evidence(convention) == before
    assert Signature.objects.filter(convention=convention).count() == 3
    with convention.signed_document.open("rb") as document:
        assert document.read() == sealed
    # The people have nothing else here: they are anonymized, their evidence is not.
    coachee = User.objects.get(pk=engagement.coachee_id)
    assert coachee.email == f"anonyme-{coachee.pk}@anonyme.invalid"
    assert (coachee.first_name, coachee.last_name, coachee.is_active) == ("", "", False)
    assert not coachee.has_usable_password()
    assert str(coachee) == coachee.email


def test_a_person_with_a_current_engagement_or_a_job_here_is_not_anonymized():
    still_coached = factories.UserFactory(email="encore@example.com")
    factories.EngagementFactory(sponsor=still_coached)  # open, as sponsor
    engagement = ended(years(4), coachee=still_coached)
    hr = factories.HRMembershipFactory(organization=engagement.organization).user
    ended(years(4), sponsor=hr)
    CalendarFeed.objects.create(user=still_coached, token="jeton-1")

    result = privacy.personal_data_anonymize()

    assert result["engagements"] == 2
    still_coached.refresh_from_db()
    hr.refresh_from_db()
    assert still_coached.email == "encore@example.com" and still_coached.is_active
    assert CalendarFeed.objects.filter(user=still_coached).exists()
    assert hr.is_active and not hr.email.endswith("anonyme.invalid")
    coach = User.objects.get(pk=engagement.coach.user_id)
    assert coach.is_active and not coach.email.endswith("anonyme.invalid")
    # The sponsor of the first one had nothing else: anonymized, feed deleted.
    sponsor = User.objects.get(pk=engagement.sponsor_id)
    assert sponsor.email.endswith("@anonyme.invalid") and not sponsor.is_active


def test_the_calendar_feed_of_an_anonymized_person_is_deleted():
    engagement = ended(years(4))
    CalendarFeed.objects.create(user=engagement.coachee, token="jeton-2")
    privacy.personal_data_anonymize()
    assert not CalendarFeed.objects.filter(user_id=engagement.coachee_id).exists()


def test_anonymizing_twice_anonymizes_and_logs_once():
    engagement = ended(years(4))
    assert privacy.retention_apply() == {"engagements": 1, "people": 2, "conventions": 0}
    count = AuditEvent.objects.count()
    assert privacy.retention_apply() == {"engagements": 0, "people": 0, "conventions": 0}
    assert AuditEvent.objects.count() == count
    event = AuditEvent.objects.get(record_type="personal_data")
    assert (event.engagement_id, event.action) == (engagement.pk, AuditEvent.Action.PURGE)
    assert event.detail["retention_days"] == years(3)
    assert event.detail["private_notes"] == 1 and event.detail["synthesis_files"] == 2
    assert AuditEvent.objects.filter(record_type="person").count() == 2
    assert audit.verify().ok


def test_an_open_engagement_is_never_anonymized():
    engagement = move_to(factories.EngagementFactory(), Engagement.Status.ACTIVE)
    privacy.retention_apply(now=timezone.now() + timedelta(days=years(10)))
    engagement.refresh_from_db()
    assert engagement.anonymized_at is None
    assert engagement.coachee.is_active


def test_conventions_are_deleted_with_their_files_after_five_years(settings):
    settings.CONVENTION_RETENTION_DAYS = years(5)
    old = ended(years(5) + 1)
    kept = ended(years(5) - 1)
    old_convention = old.conventions.get()
    files = [old_convention.document, old_convention.signed_document]
    storage = old_convention.signed_document.storage

    result = privacy.retention_apply()

    assert result["conventions"] == 1
    assert not Convention.objects.filter(engagement=old).exists()
    assert not Signature.objects.filter(convention__engagement=old).exists()
    assert not any(storage.exists(field.name) for field in files)
    convention = kept.conventions.get()
    assert convention.signatures.count() == 3
    assert storage.exists(convention.signed_document.name)
    event = AuditEvent.objects.get(record_type="convention")
    assert (event.engagement_id, event.action) == (old.pk, AuditEvent.Action.PURGE)
    assert event.detail == {
        "conventions": 1,
        "signatures": 3,
        "signature_codes": 0,
        "files": 2,
        "retention_days": years(5),
    }
    assert privacy.conventions_purge() == 0
    assert audit.verify().ok


def test_the_retention_run_is_a_daily_task(settings):
    ended(years(6))
    assert apply_retention.delay().get() == {"engagements": 1, "people": 2, "conventions": 1}
    schedule = settings.CELERY_BEAT_SCHEDULE["apply-retention"]
    assert schedule["task"] == "engagements.tasks.apply_retention"
    assert schedule["schedule"] == 24 * 60 * 60


def test_anonymized_records_still_show_in_the_admin(admin_client):
    engagement = ended(years(4))
    privacy.personal_data_anonymize()
    for url in (
        reverse("admin:engagements_engagement_changelist"),
        reverse("admin:engagements_engagement_change", args=[engagement.pk]),
        reverse("admin:engagements_user_changelist"),
        reverse("admin:engagements_user_change", args=[engagement.coachee_id]),
        reverse("admin:engagements_convention_change", args=[engagement.conventions.get().pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_a_coachee_with_an_anonymized_engagement_still_downloads_her_data(client, coachee):
    factories.EngagementFactory(coachee=coachee)
    old = ended(years(4), coachee=coachee)
    privacy.personal_data_anonymize()
    data = json.loads(download(client, coachee).read("data.json"))
    [item] = [e for e in data["engagements"] if e["id"] == old.pk]
    assert item["anonymized_at"] and item["closing_review"]["document"] is None
    assert item["conventions"][0]["my_signature"]["role"] == "coachee"
