"""
The tripartite convention: frozen versions, electronic signatures with their
evidence, and the sealed final document.
"""

import hashlib
import hmac
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, clock, emails, permissions, tasks, workflow
from ..errors import ApplicationError, NotAllowed
from ..models import (
    AuditEvent,
    Convention,
    Engagement,
    Role,
    Signature,
    SignatureChallenge,
    User,
)
from ..pdf import convention_html, convention_pdf, html_to_pdf
from ..signing import seal_pdf

SIGNING_ROLES = (Role.COACH, Role.COACHEE, Role.SPONSOR)
MAX_CODES_PER_HOUR = 5

CONSENT_TEXT = {
    "fr": "J'ai lu la convention tripartite (version {version}) et je la signe "
    "électroniquement ; je reconnais que cette signature m'engage.",
    "en": "I have read the tripartite agreement (version {version}) and sign it "
    "electronically; I acknowledge that this signature binds me.",
}


def consent_text(convention):
    language = convention.terms.get("language", "fr")
    return CONSENT_TEXT.get(language, CONSENT_TEXT["fr"]).format(version=convention.version)


def convention_terms(engagement: Engagement, version: int, issued_on=None) -> dict:
    """Everything the convention states, as a snapshot that will not change."""
    kickoff = getattr(engagement, "kickoff", None)
    coach_user = engagement.coach.user
    return {
        "version": version,
        "language": engagement.language,
        "issued_on": (issued_on or clock.today()).isoformat(),
        "title": engagement.title,
        "organization": {
            "name": engagement.organization.name,
            "address": engagement.organization.address,
            "registration_number": engagement.organization.registration_number,
        },
        "coach": {
            "name": coach_user.get_full_name() or coach_user.email,
            "email": coach_user.email,
            "credentials": engagement.coach.credentials,
        },
        "coachee": {
            "name": engagement.coachee.get_full_name() or engagement.coachee.email,
            "email": engagement.coachee.email,
            "job_title": engagement.coachee_job_title,
        },
        "sponsor": {
            "name": engagement.sponsor.get_full_name() or engagement.sponsor.email,
            "email": engagement.sponsor.email,
            "job_title": engagement.sponsor_job_title,
        },
        "start_date": engagement.start_date.isoformat(),
        "end_date": engagement.end_date.isoformat(),
        "sessions_contracted": engagement.sessions_contracted,
        "session_minutes": engagement.session_minutes,
        "format": engagement.format,
        "fee_amount": str(engagement.fee_amount),
        "cancellation_notice_hours": engagement.cancellation_notice_hours,
        "objectives": [
            {"title": o.title, "success_indicators": o.success_indicators}
            for o in engagement.objectives.order_by("position")
        ],
        "expectations": {
            "coachee": kickoff.coachee_expectations if kickoff else "",
            "sponsor": kickoff.sponsor_expectations if kickoff else "",
            "coach": kickoff.coach_expectations if kickoff else "",
        },
        "reporting_scope": kickoff.reporting_scope if kickoff else "",
        "retention": {
            "notes_days": settings.SESSION_NOTES_RETENTION_DAYS,
            "convention_years": settings.CONVENTION_RETENTION_DAYS // 365,
            "personal_data_years": settings.PERSONAL_DATA_RETENTION_DAYS // 365,
        },
    }


def terms_for_display(terms):
    """Dates in the snapshot are ISO strings; the templates want dates."""
    from datetime import date
    from decimal import Decimal

    return {
        **terms,
        "issued_on": date.fromisoformat(terms["issued_on"]),
        "start_date": date.fromisoformat(terms["start_date"]),
        "end_date": date.fromisoformat(terms["end_date"]),
        "fee_amount": Decimal(terms["fee_amount"]),
    }


def convention_document(terms) -> bytes:
    return convention_pdf(terms_for_display(terms))


def readiness_problems(engagement: Engagement) -> list[str]:
    """What still stands in the way of sending the convention, in words."""
    problems = []
    if not hasattr(engagement, "kickoff"):
        problems.append(_("Record the outcome of the kickoff meeting."))
    objectives = list(engagement.objectives.all())
    if not objectives:
        problems.append(_("Agree on at least one objective."))
    if any(o.approved_by_coachee_at is None for o in objectives):
        problems.append(_("The coachee has not yet approved the wording of every objective."))
    return problems


def convention_send(*, engagement: Engagement, coach: User) -> Convention:
    """
    Freeze the terms as a new convention version, render its PDF, record its
    SHA-256 and send it to the three parties for signature. A version still
    out for signature is voided with its signatures: a changed convention is
    signed again. The engagement moves from kickoff to contracting.
    """
    with transaction.atomic():
        engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
        if Role.COACH not in engagement.roles_of(coach):
            raise NotAllowed(_("Only the coach of the engagement sends the convention."))
        workflow.require(engagement, "send_convention")
        if problems := readiness_problems(engagement):
            raise ApplicationError(problems)
        convention_void(engagement=engagement)
        now = clock.now()
        last = engagement.conventions.order_by("-version").first()
        version = (last.version + 1) if last else 1
        terms = convention_terms(engagement, version, issued_on=timezone.localdate(now))
        document = convention_document(terms)
        convention = Convention(
            engagement=engagement,
            version=version,
            status=Convention.Status.SENT,
            terms=terms,
            document_sha256=hashlib.sha256(document).hexdigest(),
            sent_at=now,
        )
        convention.document.save(_document_name(convention), ContentFile(document), save=False)
        convention.save()
        if workflow.allows_transition(engagement, "send_convention", actor=coach):
            workflow.transition(engagement, "send_convention", actor=coach)
        tasks.send_convention_to_sign.delay_on_commit(convention.pk)
    return convention


def convention_is_binding(engagement) -> bool:
    """
    A version signed by the three parties is binding, even while its sealed
    PDF is being made: it can no longer be replaced nor voided.
    """
    signed = engagement.conventions.filter(status=Convention.Status.SENT).annotate(
        signed_by=Count("signatures")
    )
    return any(c.signed_by >= len(SIGNING_ROLES) for c in signed)


def convention_void(*, engagement: Engagement) -> int:
    """
    Void the version out for signature, if there is one, with its signatures:
    it no longer says what was agreed (the terms or objectives changed), or
    the engagement ended before the third signature. Call inside the caller's
    transaction, the engagement locked. Returns how many versions were voided.
    """
    pending = engagement.conventions.filter(status=Convention.Status.SENT)
    if not pending.exists():
        return 0
    workflow.require(engagement, "void_convention")
    if convention_is_binding(engagement):
        raise ApplicationError(_("The three parties have signed: the convention is binding."))
    return pending.update(status=Convention.Status.VOIDED, voided_at=clock.now())


def _document_name(convention, suffix=""):
    engagement = convention.engagement
    return f"convention-{engagement.pk}-v{convention.version}{suffix}.pdf"


def _code_hash(challenge_id, code):
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _signing_role(convention, user):
    roles = permissions.roles_in(convention.engagement, user) & set(SIGNING_ROLES)
    if not roles:
        raise NotAllowed(_("Only the three parties sign the convention."))
    return sorted(roles)[0]


def _check_signable(convention, user):
    if convention.status != Convention.Status.SENT:
        raise ApplicationError(_("This version of the convention can no longer be signed."))
    workflow.require(convention.engagement, "sign_convention")
    role = _signing_role(convention, user)
    if convention.signatures.filter(signer=user).exists():
        raise ApplicationError(_("You have already signed this version."))
    return role


def _locked(convention_id):
    """
    The convention, locked, inside the caller's transaction. Its engagement is
    locked first: every service takes the engagement before its convention
    (objective edits and term changes void a version under the engagement's
    lock), so signing, sealing and those edits never wait on each other in
    opposite orders (a deadlock, hence a 500).
    """
    engagement_id = Convention.objects.values_list("engagement_id", flat=True).get(pk=convention_id)
    Engagement.objects.select_for_update().filter(pk=engagement_id).first()
    return (
        Convention.objects.select_for_update(of=("self",))
        .select_related("engagement__coach__user", "engagement__organization")
        .get(pk=convention_id)
    )


def document_opened_at(convention: Convention, user: User):
    """
    When ``user`` first opened the document of this exact version (its
    downloads are logged by ``document_access_log``), or None.
    """
    return (
        AuditEvent.objects.filter(
            actor=user,
            action=AuditEvent.Action.DOWNLOAD,
            record_type="convention",
            record_id=convention.pk,
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def _comparable_name(name):
    """A name as a person may type it: no case, no accents, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def typed_name_matches(typed_name: str, signer: User) -> bool:
    """The typed name is the signer's, ignoring case, accents and extra spaces."""
    typed = _comparable_name(typed_name)
    return bool(typed) and typed == _comparable_name(signer.get_full_name())


def signature_code_send(*, convention: Convention, user: User) -> SignatureChallenge:
    """
    E-mail a one-time code that confirms the signer's identity. Only its keyed
    hash is kept; a new code replaces the previous one. The count of the
    last hour's codes is taken under the convention's lock, so parallel
    requests cannot pass the limit together.
    """
    now = clock.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        convention = _locked(convention.pk)
        _check_signable(convention, user)
        if document_opened_at(convention, user) is None:
            raise ApplicationError(
                _("Open the document of this version first: you sign what you have read.")
            )
        recent = SignatureChallenge.objects.filter(
            convention=convention, user=user, created_at__gte=now - timedelta(hours=1)
        ).count()
        if recent >= MAX_CODES_PER_HOUR:
            raise ApplicationError(_("Too many codes asked for. Try again in an hour."))
        challenge = SignatureChallenge.objects.create(
            convention=convention,
            user=user,
            code_hash="",
            sent_to=user.email,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.SIGNATURE_CODE_MINUTES),
        )
        challenge.code_hash = _code_hash(challenge.pk, code)
        challenge.save(update_fields=["code_hash"])
        # Sent at once, not through the queue: the signer is waiting for it,
        # and the code must not sit in the broker.
        emails.send_once(
            key=f"signature-code:{challenge.pk}",
            recipient=user,
            engagement=convention.engagement,
            name="signature_code",
            context={
                "code": code,
                "minutes": settings.SIGNATURE_CODE_MINUTES,
                "convention": convention,
            },
        )
    return challenge


class _WrongCode(Exception):
    def __init__(self, challenge_id):
        super().__init__(challenge_id)
        self.challenge_id = challenge_id


def convention_sign(
    *,
    convention: Convention,
    signer: User,
    code: str,
    typed_name: str,
    consent: bool,
    ip_address: str,
    user_agent: str,
) -> Signature:
    """
    Record a party's simple electronic signature with its evidence. The
    convention row is locked, so parties signing at the same moment are
    recorded one after the other; the one who completes the three signatures
    queues the sealing of the final document. A wrong code records nothing
    but the failed attempt.
    """
    if not consent:
        raise ApplicationError(_("Tick the box to give your consent."))
    if not typed_name.strip():
        raise ApplicationError({"typed_name": _("Type your name to sign.")})
    if not typed_name_matches(typed_name, signer):
        raise ApplicationError(
            {
                "typed_name": _("Type your name as the convention gives it: %(name)s.")
                % {"name": signer.get_full_name()}
            }
        )
    try:
        return _sign(
            convention=convention,
            signer=signer,
            code=code,
            typed_name=typed_name,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    except _WrongCode as wrong:
        SignatureChallenge.objects.filter(pk=wrong.challenge_id).update(attempts=F("attempts") + 1)
        left = SignatureChallenge.MAX_ATTEMPTS - (
            SignatureChallenge.objects.get(pk=wrong.challenge_id).attempts
        )
        raise ApplicationError(
            _("This code is not right. Attempts left: %(left)s.") % {"left": max(left, 0)}
        ) from None


def _sign(*, convention, signer, code, typed_name, ip_address, user_agent):
    with transaction.atomic():
        convention = _locked(convention.pk)
        role = _check_signable(convention, signer)
        challenge = (
            SignatureChallenge.objects.select_for_update()
            .filter(convention=convention, user=signer, verified_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        now = clock.now()
        if challenge is None or challenge.expires_at < now:
            raise ApplicationError(_("The code has expired. Ask for a new one."))
        if challenge.attempts >= SignatureChallenge.MAX_ATTEMPTS:
            raise ApplicationError(_("Too many wrong codes. Ask for a new one."))
        if not hmac.compare_digest(challenge.code_hash, _code_hash(challenge.pk, code.strip())):
            raise _WrongCode(challenge.pk)
        challenge.verified_at = now
        challenge.save(update_fields=["verified_at"])
        signature = Signature.objects.create(
            convention=convention,
            signer=signer,
            role=role,
            signed_at=now,
            typed_name=typed_name.strip(),
            ip_address=ip_address or None,
            user_agent=user_agent[:1000],
            auth_method=auth_method_text(
                language=convention.terms.get("language", "fr"),
                email=challenge.sent_to,
                sent_at=challenge.created_at,
                verified_at=now,
            ),
            authenticated_at=now,
            document_opened_at=document_opened_at(convention, signer),
            consent_text=consent_text(convention),
            document_sha256=convention.document_sha256,
        )
        audit.log(
            actor=signer,
            engagement=convention.engagement,
            action=AuditEvent.Action.SIGN,
            record_type="convention",
            record_id=convention.pk,
            ip_address=ip_address,
            detail={"version": convention.version, "role": role, "signature": signature.pk},
            at=now,
        )
        if convention.signatures.count() == len(SIGNING_ROLES):
            tasks.seal_convention.delay_on_commit(convention.pk)
    return signature


AUTH_METHOD_TEXT = {
    "fr": "Session authentifiée par mot de passe ; code à usage unique envoyé par e-mail à "
    "{email} le {sent} UTC et saisi le {verified} UTC",
    "en": "Session authenticated by password; one-time code e-mailed to {email} at {sent} UTC "
    "and entered at {verified} UTC",
}


def auth_method_text(*, language, email, sent_at, verified_at):
    """How the signer was authenticated, in the convention's language, for the evidence."""
    return AUTH_METHOD_TEXT.get(language, AUTH_METHOD_TEXT["fr"]).format(
        email=email,
        sent=sent_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        verified=verified_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    )


EVIDENCE_ROLE_LABELS = {
    "fr": {"coach": "coach", "coachee": "coachée / coaché", "sponsor": "commanditaire"},
    "en": {"coach": "coach", "coachee": "coachee", "sponsor": "sponsor"},
}


EVIDENCE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def signatures_evidence(convention) -> list[dict]:
    """
    Each signature's evidence as the sealed document's appendices print it.
    Kept as data on the convention when it is sealed (``Convention.evidence``),
    so that HR's export gives the very values of the evidence pages.
    """
    if convention.evidence:
        return convention.evidence
    language = convention.terms.get("language", "fr")
    return [
        signature_evidence(signature, language)
        for signature in convention.signatures.select_related("signer").order_by("signed_at", "pk")
    ]


def signature_evidence(s: Signature, language: str) -> dict:
    """One signature's evidence, as its appendix prints it (times in UTC)."""
    utc = EVIDENCE_TIME_FORMAT
    return {
        "role": s.role,
        "name": s.signer.get_full_name() or s.signer.email,
        "email": s.signer.email,
        "role_label": EVIDENCE_ROLE_LABELS.get(language, {}).get(s.role, s.role),
        "typed_name": s.typed_name,
        "signed_at": s.signed_at.astimezone(UTC).strftime(utc),
        "authenticated_at": s.authenticated_at.astimezone(UTC).strftime(utc),
        "auth_method": s.auth_method,
        "ip_address": s.ip_address,
        "user_agent": s.user_agent,
        "consent_text": s.consent_text,
        "document_sha256": s.document_sha256,
        "document_opened_at": s.document_opened_at.astimezone(UTC).strftime(utc)
        if s.document_opened_at
        else None,
    }


def final_document(convention: Convention, evidence: list[dict]) -> bytes:
    """
    The final document, before its seal: the convention with each party's
    signature block filled in (name, role, when they signed, which annex
    holds their evidence), then one evidence annex per signer, numbered
    « page x / N » continuously across the whole.

    Why the convention is rendered again rather than the signed file joined
    to the annexes: the parties signed the exact bytes of
    ``convention.document``, whose blocks are empty, and a PDF's pages cannot
    be numbered across two documents without rewriting them. So the final
    document is rendered in one WeasyPrint pass from the version's frozen
    ``terms`` (the very data that produced the signed file, through the same
    template) with the blocks filled and the evidence appended. It does not
    claim to be the signed bytes: each annex states the SHA-256 of the
    version signed (``Convention.document_sha256``, checked against the
    stored original before sealing), and the original stays on file as
    ``convention.document``, so anyone can match the two. One pass is also
    cheaper than rendering the annexes apart and joining two PDFs. The
    convention templates therefore belong to the versions sent with them:
    their wording changes only for versions sent afterwards.

    ``evidence`` is ``signatures_evidence(convention)``, kept on the
    convention as ``Convention.evidence``: the annexes print those values.
    """
    return html_to_pdf(final_document_html(convention, evidence))


def final_document_html(convention: Convention, evidence: list[dict]) -> str:
    """The HTML of ``final_document`` (the benchmark renders it alone)."""
    blocks = {}
    for annex, item in enumerate(evidence, start=1):
        signed_at = datetime.strptime(item["signed_at"], EVIDENCE_TIME_FORMAT)
        blocks[item["role"]] = {
            "name": item["name"],
            "role_label": item["role_label"],
            "signed_at": signed_at.replace(tzinfo=UTC),
            "annex": annex,
        }
    return convention_html(
        terms_for_display(convention.terms),
        final={
            "blocks": blocks,
            "evidence": evidence,
            "document_sha256": convention.document_sha256,
        },
    )


def convention_seal(*, convention_id: int) -> bool:
    """
    Build the final document (``final_document``: the convention with its
    signature blocks filled, then one evidence annex per signer, numbered
    continuously), seal it with the platform's PAdES signature, and start
    the engagement. Idempotent: a convention already sealed is left alone.
    Returns True when this call sealed it.
    """
    with transaction.atomic():
        convention = _locked(convention_id)
        if convention.status != Convention.Status.SENT or convention.signed_document:
            return False
        if convention.signatures.count() < len(SIGNING_ROLES):
            return False
        convention.document.open("rb")
        try:
            original = convention.document.read()
        finally:
            convention.document.close()
        if hashlib.sha256(original).hexdigest() != convention.document_sha256:
            raise ValidationError("The stored convention does not match its recorded SHA-256.")
        evidence = signatures_evidence(convention)
        final = seal_pdf(
            final_document(convention, evidence),
            reason=f"Convention v{convention.version} signed by the three parties",
        )
        convention.evidence = evidence
        _mark_signed(convention, final)
    return True


def _mark_signed(convention, sealed: bytes):
    """
    The signed transition of a version: its sealed document is kept, and the
    engagement starts (unless the coachee withdrew while it was being sealed:
    the signed convention then stays on file).
    """
    convention.signed_document.save(
        _document_name(convention, "-signed"), ContentFile(sealed), save=False
    )
    convention.status = Convention.Status.SIGNED
    convention.signed_at = clock.now()
    convention.save(update_fields=["signed_document", "status", "signed_at", "evidence"])
    engagement = convention.engagement
    if workflow.allows_transition(engagement, "activate", actor=None):
        workflow.transition(engagement, "activate", actor=None)


def document_access_log(*, user: User, convention: Convention, signed: bool, ip_address: str):
    """Every download of a convention is logged: who, which, when."""
    audit.log(
        actor=user,
        engagement=convention.engagement,
        action=AuditEvent.Action.DOWNLOAD,
        record_type="convention_signed" if signed else "convention",
        record_id=convention.pk,
        ip_address=ip_address,
        detail={"version": convention.version},
        at=clock.now(),
    )
