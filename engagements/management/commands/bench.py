"""
Benchmarks (``make bench``): medians of several runs, printed as a Markdown
table for the README. Speed is measured here, never by timers in tests.
"""

import statistics
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import timezone, translation

from engagements import signing
from engagements.models import (
    Coach,
    Convention,
    ConventionExport,
    Engagement,
    HRMembership,
    Organization,
    User,
)
from engagements.pdf import concatenate, render_pdf
from engagements.services import exports
from engagements.services.convention import terms_for_display

SAMPLE_TERMS = {
    "version": 1,
    "language": "fr",
    "issued_on": "2026-11-02",
    "title": "Premier poste de directrice des opérations",
    "organization": {
        "name": "Helix Énergies",
        "address": "12 quai de la Loire, 69002 Lyon",
        "registration_number": "812 345 678 00021",
    },
    "coach": {"name": "Claire Martin", "email": "coach@demo.example", "credentials": "ICF PCC"},
    "coachee": {
        "name": "Camille Durand",
        "email": "coachee@demo.example",
        "job_title": "Directrice des opérations",
    },
    "sponsor": {
        "name": "Sophie Bernard",
        "email": "sponsor@demo.example",
        "job_title": "Directrice générale adjointe",
    },
    "start_date": "2026-11-16",
    "end_date": "2027-11-16",
    "sessions_contracted": 12,
    "session_minutes": 120,
    "format": "video",
    "fee_amount": "14400.00",
    "cancellation_notice_hours": 48,
    "objectives": [
        {"title": f"Objectif {n}", "success_indicators": "Indicateurs observables " * 6}
        for n in range(1, 4)
    ],
    "expectations": {"coachee": "Prendre ma place.", "sponsor": "Déléguer.", "coach": ""},
    "reporting_scope": "l'assiduité, les heures et la progression sur chaque objectif.",
    "retention": {"notes_days": 183, "convention_years": 5, "personal_data_years": 3},
}


def _median_ms(action, runs):
    action()  # warm-up: fonts, templates, imports
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), min(timings), max(timings)


class Command(BaseCommand):
    help = "Measure document generation: convention render + seal against WeasyPrint alone."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=7)

    def handle(self, *args, runs=7, **options):
        call_command("create_signing_certificate", stdout=self.stdout)
        terms = terms_for_display(SAMPLE_TERMS)
        with translation.override("fr"):
            html = render_to_string("pdf/convention_fr.html", {"t": terms})

        def weasyprint_alone():
            from weasyprint import HTML

            HTML(string=html).write_pdf()

        def render_and_seal():
            document = render_pdf("pdf/convention_fr.html", {"t": terms})
            evidence = render_pdf(
                "pdf/evidence.html",
                {"signatures": [], "version": 1, "language": "fr", "convention_title": "x"},
            )
            signing.seal_pdf(concatenate(document, evidence), reason="benchmark")

        document = render_pdf("pdf/convention_fr.html", {"t": terms})
        rows = [
            ("WeasyPrint alone, same convention HTML", _median_ms(weasyprint_alone, runs)),
            ("Convention render + evidence + join + PAdES seal", _median_ms(render_and_seal, runs)),
            (
                "PAdES seal alone (pyHanko)",
                _median_ms(lambda: signing.seal_pdf(document, reason="benchmark"), runs),
            ),
        ]
        self.stdout.write(f"\n| measure ({runs} runs) | median | min | max |")
        self.stdout.write("|---|---:|---:|---:|")
        for label, (median, low, high) in rows:
            self.stdout.write(f"| {label} | {median:.0f} ms | {low:.0f} ms | {high:.0f} ms |")

        sealed = signing.seal_pdf(
            concatenate(document, render_pdf("pdf/evidence.html", {"signatures": []})),
            reason="benchmark",
        )
        self.stdout.write("\n| HR export, built by the worker | time | peak memory (Python) |")
        self.stdout.write("|---|---:|---:|")
        for count in (100, 1000):
            seconds, peak = _export_measure(count, sealed)
            self.stdout.write(
                f"| {count} signed conventions | {seconds:.1f} s | {peak / 1024 / 1024:.1f} MiB |"
            )


def _export_measure(count, sealed_pdf):
    """
    Build an export of ``count`` signed conventions (sharing one sealed PDF)
    as the worker does, in a transaction rolled back afterwards, with files
    in a scratch folder. Returns (seconds, peak bytes traced).
    """
    with (
        tempfile.TemporaryDirectory() as media,
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        export = _export_data_set(count, sealed_pdf)
        tracemalloc.start()
        start = time.perf_counter()
        exports.export_build(export_id=export.pk)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        transaction.set_rollback(True)
    return seconds, peak


def _export_data_set(count, sealed_pdf):
    organization = Organization.objects.create(name=f"Bench {count} {time.time_ns()}")
    people = User.objects.bulk_create(
        [User(email=f"bench-{count}-{n}-{time.time_ns()}@example.org") for n in range(4)]
    )
    coach_user, coachee, sponsor, hr = people
    coach = Coach.objects.create(user=coach_user)
    HRMembership.objects.create(user=hr, organization=organization)
    start = date(2025, 1, 6)
    engagements = Engagement.objects.bulk_create(
        [
            Engagement(
                organization=organization,
                coach=coach,
                coachee=coachee,
                sponsor=sponsor,
                title=f"Engagement {n}",
                coachee_job_title="Directrice",
                sponsor_job_title="Directeur",
                start_date=start,
                end_date=start + timedelta(days=365),
                fee_amount=Decimal("14400.00"),
            )
            for n in range(count)
        ]
    )
    first = Convention(engagement=engagements[0])
    first.signed_document.save("bench.pdf", ContentFile(sealed_pdf), save=False)
    now = timezone.now()
    evidence = [
        {"role": role, "name": role, "signed_at": "2025-01-06 10:00:00"}
        for role in ("coach", "coachee", "sponsor")
    ]
    Convention.objects.bulk_create(
        [
            Convention(
                engagement=engagement,
                status=Convention.Status.SIGNED,
                terms={**SAMPLE_TERMS, "title": engagement.title},
                document_sha256="0" * 64,
                signed_document=first.signed_document.name,
                sent_at=now,
                signed_at=now,
                evidence=evidence,
            )
            for engagement in engagements
        ]
    )
    return ConventionExport.objects.create(requested_by=hr, total=count)
