"""Kickoff, the tripartite convention, its electronic signatures and the sealed PDF."""

import hashlib
import re
import shutil
import subprocess
import threading
from datetime import timedelta

import pytest
from asn1crypto import pem, x509
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from engagements import signing
from engagements.models import (
    AuditEvent,
    CoachingSession,
    Convention,
    Engagement,
    Signature,
    SignatureChallenge,
    User,
)
from engagements.services import convention as service
from engagements.services import kickoff as kickoff_service
from engagements.tasks import seal_convention

from . import factories
from .conftest import move_to, pdfsig_report, require_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what services queue after commit (tasks run in-process in tests)."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def ready(engagement_in):
    """An engagement at kickoff with its outcome and two approved objectives."""
    engagement = engagement_in(Engagement.Status.KICKOFF)
    factories.KickoffFactory(engagement=engagement)
    now = timezone.now()
    factories.ObjectiveFactory(
        engagement=engagement, title="Déléguer davantage", approved_by_coachee_at=now
    )
    factories.ObjectiveFactory(
        engagement=engagement, title="Prendre sa place au comité", approved_by_coachee_at=now
    )
    return engagement


@pytest.fixture
def sent(ready, coach, on_commit):
    return on_commit(service.convention_send, engagement=ready, coach=coach)


def open_document(convention, user):
    """What the sign page's link to the PDF records: this signer opened this version."""
    service.document_access_log(
        user=user, convention=convention, signed=False, ip_address="203.0.113.9"
    )


def code_for(convention, user):
    """Open the version, ask for a signature code the real way and read it in the e-mail."""
    open_document(convention, user)
    mail.outbox.clear()
    service.signature_code_send(convention=convention, user=user)
    [message] = mail.outbox
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def sign(convention, user, **overrides):
    values = {
        "convention": convention,
        "signer": user,
        "code": code_for(convention, user),
        "typed_name": user.get_full_name(),
        "consent": True,
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (test)",
    }
    values.update(overrides)
    return service.convention_sign(**values)


def sign_all(convention, on_commit):
    engagement = convention.engagement
    for person in (engagement.coach.user, engagement.coachee, engagement.sponsor):
        on_commit(sign, convention, person)
    convention.refresh_from_db()
    return convention


def read(field):
    field.open("rb")
    try:
        return field.read()
    finally:
        field.close()


# -- kickoff -------------------------------------------------------------------------


def test_the_coach_schedules_the_kickoff_and_the_three_parties_are_invited(
    engagement, coach, on_commit
):
    starts_at = timezone.now() + timedelta(days=5)
    session = on_commit(
        kickoff_service.kickoff_schedule,
        engagement=engagement,
        coach=coach,
        starts_at=starts_at,
        duration_minutes=120,
        format="video",
        video_url="https://visio.example.com/k",
    )
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.KICKOFF
    assert session.kind == CoachingSession.Kind.KICKOFF
    assert len(mail.outbox) == 3


def test_a_kickoff_in_the_past_is_refused_and_nothing_changes(engagement, coach):
    with pytest.raises(ValidationError):
        kickoff_service.kickoff_schedule(
            engagement=engagement,
            coach=coach,
            starts_at=timezone.now() - timedelta(hours=1),
            duration_minutes=120,
            format="video",
        )
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.DRAFT
    assert not engagement.sessions.exists()


def test_the_kickoff_cannot_double_book_the_coach(engagement, coach):
    busy = move_to(factories.EngagementFactory(coach=engagement.coach), Engagement.Status.ACTIVE)
    starts_at = timezone.now() + timedelta(days=5)
    factories.CoachingSessionFactory(engagement=busy, starts_at=starts_at)
    with pytest.raises(ValidationError):
        kickoff_service.kickoff_schedule(
            engagement=engagement,
            coach=coach,
            starts_at=starts_at + timedelta(minutes=30),
            duration_minutes=120,
            format="video",
        )
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.DRAFT


def test_kickoff_page_refuses_bad_input(client, engagement, coach):
    client.force_login(coach)
    response = client.post(
        reverse("kickoff_schedule", args=[engagement.pk]),
        {"starts_at": "not a date", "duration_minutes": 120, "format": "in_person"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not engagement.sessions.exists()


def test_the_coachees_own_wording_is_approved_and_the_coachs_waits(engagement_in, coach, coachee):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    mine = kickoff_service.objective_save(
        engagement=engagement, author=coachee, title="Déléguer", success_indicators="3 par mois"
    )
    assert mine.approved_by_coachee_at is not None
    reworded = kickoff_service.objective_save(
        engagement=engagement,
        author=coach,
        objective=mine,
        title="Déléguer les arbitrages",
        success_indicators="3 par mois",
    )
    assert reworded.approved_by_coachee_at is None
    kickoff_service.objective_approve(objective=reworded, coachee=coachee)
    reworded.refresh_from_db()
    assert reworded.approved_by_coachee_at is not None


def test_the_sponsor_cannot_write_objectives(engagement_in, sponsor):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        kickoff_service.objective_save(
            engagement=engagement, author=sponsor, title="X", success_indicators="Y"
        )
    assert not engagement.objectives.exists()


def test_the_coachee_and_the_sponsor_each_give_their_own_baseline(client, ready, coachee, sponsor):
    objectives = list(ready.objectives.order_by("position"))
    for person, value in ((coachee, "-1"), (sponsor, "-2")):
        client.force_login(person)
        response = client.post(
            reverse("baseline_scores", args=[ready.pk]),
            {f"score_{objective.pk}": value for objective in objectives},
        )
        assert response.status_code == 302
    scores = sorted(objectives[0].scores.values_list("rater", "score", "scored_by"))
    assert scores == [("coachee", -1, coachee.pk), ("sponsor", -2, sponsor.pk)]


def test_the_coach_never_scores(client, ready, coach):
    client.force_login(coach)
    objective = ready.objectives.first()
    response = client.post(
        reverse("baseline_scores", args=[ready.pk]), {f"score_{objective.pk}": "1"}
    )
    assert response.status_code == 404
    assert not objective.scores.exists()


def test_a_score_outside_the_scale_is_refused(client, ready, coachee):
    client.force_login(coachee)
    objectives = list(ready.objectives.all())
    response = client.post(
        reverse("baseline_scores", args=[ready.pk]),
        {f"score_{objective.pk}": "5" for objective in objectives},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not objectives[0].scores.exists()


def test_a_baseline_score_once_given_is_not_changed(client, ready, coachee):
    client.force_login(coachee)
    objectives = list(ready.objectives.all())
    url = reverse("baseline_scores", args=[ready.pk])
    client.post(url, {f"score_{objective.pk}": "0" for objective in objectives})
    response = client.post(url, {f"score_{objective.pk}": "2" for objective in objectives})
    assert response.status_code == 200
    assert list(objectives[0].scores.values_list("score", flat=True)) == [0]


# -- sending ------------------------------------------------------------------------------


def test_the_convention_cannot_be_sent_before_the_objectives_are_approved(ready, coach):
    ready.objectives.update(approved_by_coachee_at=None)
    with pytest.raises(ValidationError):
        service.convention_send(engagement=ready, coach=coach)
    assert not Convention.objects.exists()
    ready.refresh_from_db()
    assert ready.status == Engagement.Status.KICKOFF


def test_sending_freezes_a_version_with_the_hash_of_its_pdf(sent, ready):
    ready.refresh_from_db()
    assert ready.status == Engagement.Status.CONTRACTING
    assert sent.version == 1 and sent.status == Convention.Status.SENT
    document = read(sent.document)
    assert document.startswith(b"%PDF")
    assert hashlib.sha256(document).hexdigest() == sent.document_sha256
    assert sent.terms["objectives"][0]["title"] == "Déléguer davantage"
    assert len(mail.outbox) == 3


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
def test_the_convention_reads_like_a_contract(sent, tmp_path):
    path = tmp_path / "c.pdf"
    path.write_bytes(read(sent.document))
    raw = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    text = " ".join(raw.replace("-\n", "").split())  # undo line breaks and hyphenation
    for expected in [
        "Convention tripartite de coaching",
        "Déléguer davantage",
        "Droit de retrait",
        "sans avoir à en donner la raison",
        "Protection des données",
        "12 000,00 € HT",
        "Convention tripartite de coaching — v1",
        "page 3 / 3",  # page numbers
    ]:
        assert expected in text, expected


def test_an_english_engagement_gets_an_english_convention(ready, coach, tmp_path):
    Engagement.objects.filter(pk=ready.pk).update(language="en")
    ready.refresh_from_db()
    convention = service.convention_send(engagement=ready, coach=coach)
    assert convention.terms["language"] == "en"
    if shutil.which("pdftotext"):
        path = tmp_path / "c.pdf"
        path.write_bytes(read(convention.document))
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
        assert "Tripartite coaching agreement" in text.stdout


# -- signing ------------------------------------------------------------------------------


def test_a_signature_keeps_its_evidence(sent, coachee):
    signature = sign(sent, coachee)
    assert signature.role == "coachee"
    assert signature.document_sha256 == sent.document_sha256
    assert signature.ip_address == "203.0.113.9"
    assert signature.user_agent == "Mozilla/5.0 (test)"
    assert "code à usage unique" in signature.auth_method
    assert coachee.email in signature.auth_method
    assert "version 1" in signature.consent_text
    assert signature.authenticated_at and signature.signed_at.tzinfo is not None


def test_a_wrong_code_is_refused_counted_and_records_nothing(sent, coachee):
    code_for(sent, coachee)
    with pytest.raises(ValidationError):
        service.convention_sign(
            convention=sent,
            signer=coachee,
            code="000000",
            typed_name=coachee.get_full_name(),
            consent=True,
            ip_address="203.0.113.9",
            user_agent="x",
        )
    assert not Signature.objects.exists()
    assert SignatureChallenge.objects.get().attempts == 1


def test_an_expired_code_is_refused(sent, coachee):
    code = code_for(sent, coachee)
    SignatureChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        sign(sent, coachee, code=code)
    assert not Signature.objects.exists()


def test_too_many_wrong_codes_block_the_code(sent, coachee):
    code = code_for(sent, coachee)
    SignatureChallenge.objects.update(attempts=SignatureChallenge.MAX_ATTEMPTS)
    with pytest.raises(ValidationError):
        service.convention_sign(
            convention=sent,
            signer=coachee,
            code=code,
            typed_name=coachee.get_full_name(),
            consent=True,
            ip_address="203.0.113.9",
            user_agent="x",
        )
    assert not Signature.objects.exists()


def test_consent_is_required(sent, coachee):
    with pytest.raises(ValidationError):
        sign(sent, coachee, consent=False)
    assert not Signature.objects.exists()


@pytest.mark.parametrize("persona", ["hr", "other_coach", "outsider"], indirect=True)
def test_someone_who_is_not_a_party_cannot_sign(sent, persona):
    with pytest.raises(ValidationError):
        service.signature_code_send(convention=sent, user=persona)
    assert not SignatureChallenge.objects.exists()


def test_a_party_signs_once(sent, coachee):
    sign(sent, coachee)
    with pytest.raises(ValidationError):
        sign(sent, coachee)
    assert Signature.objects.count() == 1


def test_changing_the_terms_makes_a_new_version_and_voids_the_old_signatures(
    sent, ready, coach, coachee, on_commit
):
    sign(sent, coachee)
    version2 = on_commit(service.convention_send, engagement=ready, coach=coach)
    sent.refresh_from_db()
    assert sent.status == Convention.Status.VOIDED
    assert version2.version == 2 and version2.signatures.count() == 0
    with pytest.raises(ValidationError):
        sign(sent, ready.sponsor)
    ready.refresh_from_db()
    assert ready.status == Engagement.Status.CONTRACTING


def test_the_sign_page_walks_a_party_through(client, sent, sponsor):
    client.force_login(sponsor)
    url = reverse("convention_sign", args=[sent.engagement_id, 1])
    assert client.get(url).status_code == 200
    assert (
        client.get(reverse("convention_document", args=[sent.engagement_id, 1])).status_code == 200
    )
    client.post(reverse("convention_code", args=[sent.engagement_id, 1]))
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    bad = client.post(
        reverse("convention_sign_submit", args=[sent.engagement_id, 1]),
        {"code": "12345", "typed_name": "", "consent": ""},
    )
    assert bad.status_code == 200 and bad.context["form"].errors
    assert not Signature.objects.exists()
    good = client.post(
        reverse("convention_sign_submit", args=[sent.engagement_id, 1]),
        {"code": code, "typed_name": sponsor.get_full_name(), "consent": "on"},
        headers={"user-agent": "Firefox test", "x-forwarded-for": "198.51.100.77"},
    )
    assert good.status_code == 302
    signature = Signature.objects.get()
    assert signature.user_agent == "Firefox test"


# -- the sealed final document ---------------------------------------------------------


def trust_root():
    data = settings.SIGNING_CHAIN_PATH.read_bytes()
    return x509.Certificate.load(pem.unarmor(data)[2])


def test_the_third_signature_seals_the_final_pdf_and_starts_the_engagement(sent, on_commit):
    convention = sign_all(sent, on_commit)
    assert convention.status == Convention.Status.SIGNED
    final = read(convention.signed_document)
    status = signing.validate_seal(final, [trust_root()])
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    convention.engagement.refresh_from_db()
    assert convention.engagement.status == Engagement.Status.ACTIVE
    change = convention.engagement.status_changes.latest("id")
    assert (change.to_status, change.actor) == (Engagement.Status.ACTIVE, None)


def test_changing_one_byte_breaks_the_seal(sent, on_commit):
    final = bytearray(read(sign_all(sent, on_commit).signed_document))
    index = final.index(b"Convention") if b"Convention" in final else len(final) // 3
    final[index] ^= 0x01
    try:
        status = signing.validate_seal(bytes(final), [trust_root()])
    except Exception:
        return
    assert not (status.intact and status.valid)


@pytest.mark.skipif(not shutil.which("pdfsig"), reason="poppler-utils missing")
def test_pdfsig_reports_a_valid_seal_over_the_whole_document(sent, on_commit, tmp_path):
    path = tmp_path / "final.pdf"
    path.write_bytes(read(sign_all(sent, on_commit).signed_document))
    report = pdfsig_report(path, tmp_path)
    assert "Signature is Valid" in report
    assert "Total document signed" in report
    if shutil.which("certutil"):
        assert "Certificate is Trusted" in report

    tampered = bytearray(path.read_bytes())
    tampered[len(tampered) // 2] ^= 0x01
    path.write_bytes(bytes(tampered))
    assert "Signature is Valid" not in pdfsig_report(path, tmp_path)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
def test_each_evidence_page_shows_only_its_signers_data(sent, on_commit, tmp_path):
    convention = sign_all(sent, on_commit)
    path = tmp_path / "final.pdf"
    path.write_bytes(read(convention.signed_document))
    original_pages = int(
        re.search(
            r"Pages:\s+(\d+)",
            subprocess.run(
                ["pdfinfo", "-"], input=read(convention.document), capture_output=True
            ).stdout.decode(),
        ).group(1)
    )
    parties = [s.signer.email for s in convention.signatures.all()]
    for offset, signature in enumerate(convention.signatures.order_by("signed_at", "pk")):
        page = original_pages + offset + 1
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True,
            text=True,
        ).stdout
        assert signature.signer.email in text
        assert signature.document_sha256 in "".join(text.split())
        assert "203.0.113.9" in text
        for other in parties:
            if other != signature.signer.email:
                assert other not in text


def test_sealing_twice_gives_one_document(sent, on_commit):
    convention = sign_all(sent, on_commit)
    first = read(convention.signed_document)
    assert seal_convention(convention.pk) is False
    convention.refresh_from_db()
    assert read(convention.signed_document) == first
    assert len(list((settings.MEDIA_ROOT / "conventions" / "signed").iterdir())) == 1


def test_each_download_is_logged_and_hr_may_download(client, sent, on_commit, hr, other_hr):
    convention = sign_all(sent, on_commit)
    signed_downloads = AuditEvent.objects.filter(record_type="convention_signed")
    url = reverse("convention_signed_document", args=[convention.engagement_id, 1])
    client.force_login(hr)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    event = signed_downloads.get()
    assert (event.actor, event.action, event.record_id) == (hr, "download", convention.pk)
    client.force_login(other_hr)
    assert client.get(url).status_code == 404
    assert signed_downloads.count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_three_parties_signing_at_once_make_exactly_one_sealed_pdf(settings):
    require_service("PostgreSQL", connection.vendor == "postgresql", "row locks need it")
    engagement = move_to(factories.EngagementFactory(), Engagement.Status.KICKOFF)
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
    convention = service.convention_send(engagement=engagement, coach=engagement.coach.user)
    people = [engagement.coach.user, engagement.coachee, engagement.sponsor]
    codes = {person.pk: code_for(convention, person) for person in people}
    barrier = threading.Barrier(len(people))
    errors = []

    def attempt(person):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            service.convention_sign(
                convention=convention,
                signer=person,
                code=codes[person.pk],
                typed_name=person.get_full_name(),
                consent=True,
                ip_address="203.0.113.9",
                user_agent="thread",
            )
        except Exception as error:
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=attempt, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    convention.refresh_from_db()
    assert convention.signatures.count() == 3
    assert convention.status == Convention.Status.SIGNED
    assert len(list((settings.MEDIA_ROOT / "conventions" / "signed").iterdir())) == 1
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE
    assert engagement.status_changes.filter(to_status=Engagement.Status.ACTIVE).count() == 1


def test_changing_the_terms_while_out_for_signature_sends_a_new_version(
    client, sent, ready, coach, coachee, on_commit, django_capture_on_commit_callbacks
):
    sign(sent, coachee)
    client.force_login(coach)
    data = {
        "title": ready.title,
        "start_date": ready.start_date.isoformat(),
        "end_date": ready.end_date.isoformat(),
        "sessions_contracted": 10,
        "session_minutes": 120,
        "format": "video",
        "fee_amount": "11000.00",
        "cancellation_notice_hours": 48,
        "language": "fr",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("engagement_terms", args=[ready.pk]), data)
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.status == Convention.Status.VOIDED
    latest = ready.conventions.get(status=Convention.Status.SENT)
    assert latest.version == 2 and latest.terms["sessions_contracted"] == 10
    assert latest.signatures.count() == 0


def test_bad_terms_are_refused_and_nothing_changes(client, sent, ready, coach):
    client.force_login(coach)
    response = client.post(
        reverse("engagement_terms", args=[ready.pk]),
        {
            "title": ready.title,
            "start_date": ready.start_date.isoformat(),
            "end_date": "2000-01-01",
            "sessions_contracted": 12,
            "session_minutes": 120,
            "format": "video",
            "fee_amount": "-3",
            "cancellation_notice_hours": 48,
            "language": "fr",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors
    ready.refresh_from_db()
    assert ready.fee_amount > 0
    assert ready.conventions.count() == 1


def test_terms_are_fixed_once_signed(sent, coach, on_commit):
    from engagements.services.engagements import engagement_terms_update

    convention = sign_all(sent, on_commit)
    with pytest.raises(ValidationError):
        engagement_terms_update(
            engagement=convention.engagement, coach=coach, sessions_contracted=3
        )


def test_hr_exports_the_signed_conventions_of_their_organization(
    client, sent, on_commit, hr, other_hr
):
    import io
    import zipfile

    convention = sign_all(sent, on_commit)
    client.force_login(hr)
    response = client.get(reverse("hr_export"))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    [name] = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert name.endswith("-v1.pdf")
    assert archive.read(name) == read(convention.signed_document)
    assert AuditEvent.objects.filter(actor=hr, action="export").count() == 1
    client.force_login(other_hr)
    response = client.get(reverse("hr_export"))
    assert response.status_code == 302  # nothing of theirs to export: told so
    assert AuditEvent.objects.filter(action="export").count() == 1


# -- the evidence: the signer read this version and typed their own name ---------------


def test_no_code_before_the_signer_opened_this_exact_version(sent, coachee):
    with pytest.raises(ValidationError):
        service.signature_code_send(convention=sent, user=coachee)
    # Another person's opening, or another version's, does not count.
    open_document(sent, sent.engagement.sponsor)
    with pytest.raises(ValidationError):
        service.signature_code_send(convention=sent, user=coachee)
    assert not SignatureChallenge.objects.exists()


def test_opening_the_pdf_from_the_sign_page_allows_the_code(client, sent, coachee):
    client.force_login(coachee)
    pdf = client.get(reverse("convention_document", args=[sent.engagement_id, sent.version]))
    assert pdf.status_code == 200
    service.signature_code_send(convention=sent, user=coachee)
    assert SignatureChallenge.objects.filter(user=coachee).count() == 1


def test_the_evidence_records_when_the_signer_opened_the_version(sent, coachee):
    signature = sign(sent, coachee)
    opened = service.document_opened_at(sent, coachee)
    assert opened is not None
    assert signature.document_opened_at == opened <= signature.signed_at


@pytest.mark.parametrize(
    "typed", ["  {first}   {last} ", "{FIRST} {LAST}", "{first_plain} {last_plain}"]
)
def test_the_typed_name_matches_ignoring_case_accents_and_spaces(sent, coachee, typed):
    User.objects.filter(pk=coachee.pk).update(first_name="Camille", last_name="Lefèvre")
    coachee.refresh_from_db()
    name = typed.format(
        first="Camille",
        last="Lefèvre",
        FIRST="CAMILLE",
        LAST="LEFÈVRE",
        first_plain="camille",
        last_plain="lefevre",
    )
    signature = sign(sent, coachee, typed_name=name)
    assert signature.typed_name == name.strip()


def test_another_name_is_a_clear_form_error(client, sent, coachee):
    code = code_for(sent, coachee)
    client.force_login(coachee)
    response = client.post(
        reverse("convention_sign_submit", args=[sent.engagement_id, sent.version]),
        {"code": code, "typed_name": "Quelqu'un d'autre", "consent": "on"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["typed_name"]
    assert not Signature.objects.exists()
