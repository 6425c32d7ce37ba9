"""
Benchmarks (``make bench``, issue 13). Speed is measured here, never by
timers in tests.

``manage.py bench`` prepares two scratch databases (10 and 1,000 engagements
by default, built by ``seed_bench``), then measures in one child process,
with production settings (``DEBUG`` off, collected static files):

- every page of the issue through the whole middleware stack (Django's test
  ``Client``, signed in with ``force_login``), in interleaved rounds: each
  round requests every page once at both sizes, in turn, so that a noisy
  moment of the machine hits every row alike. Median, p95 and query count of
  each, and its ratio to the floor (the cheapest real page a signed-in person
  opens: the calendar settings page) of the same size and run;
- the sealed convention (convention and evidence pages with three real
  signatures, rendered in one pass and sealed, as ``services.convention``
  makes it) next to
  WeasyPrint rendering the same HTML alone;
- HR's export of 100 and 1,000 signed conventions: time and peak memory;
- a bounded load test under gunicorn (2 workers, 10 connections, 20 s each,
  loopback) of the coach portal and of the login page.

It writes ``benchmarks/results.md`` and ``benchmarks/results.json`` and prints
the Markdown. ``--quick`` is a smoke run: few rounds, no load test.

Databases: PostgreSQL when ``BENCH_DATABASE_URL`` names a server (its
database is used to create and drop ``trio_bench_<size>``), else the local
PostgreSQL at 127.0.0.1:5432 if it answers, else SQLite files under ``var/``.
A database seeded by the same ``seed_bench`` and migrations at the same size
is reused (``var/bench-*.json`` records what it holds); ``--reseed`` forces a
fresh one.
"""

import asyncio
import hashlib
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import timezone, translation

from engagements.models import (
    Coach,
    Convention,
    ConventionExport,
    Engagement,
    HRMembership,
    Organization,
    User,
)
from engagements.services import exports

BASE_DIR = Path(settings.BASE_DIR)
VAR = BASE_DIR / "var"
OUTPUT = BASE_DIR / "benchmarks"
SEED_SOURCE = Path(__file__).with_name("seed_bench.py")
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"

PAGE_TARGET = 3.0
PDF_TARGET = 1.2
THROUGHPUT_TARGET = 1 / 8
LOAD_SECONDS = 20
LOAD_CONNECTIONS = 10
LOAD_WORKERS = 2

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


class Command(BaseCommand):
    help = "Measure pages, documents, HR's export and throughput (make bench; issue 13)."

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="Smoke run: few rounds, no load.")
        parser.add_argument("--rounds", type=int, help="Interleaved rounds of the pages.")
        parser.add_argument("--sizes", default="10,1000", help="Engagements of the two data sets.")
        parser.add_argument("--reseed", action="store_true", help="Rebuild the databases.")
        parser.add_argument("--no-load", action="store_true", help="Skip the gunicorn load test.")
        parser.add_argument("--output", default=str(OUTPUT), help="Where results go.")
        parser.add_argument("--workdir", default=str(VAR), help="Scratch files (SQLite, media).")
        # Internal: the measuring child, started by the command itself.
        parser.add_argument("--measure", action="store_true", help="(internal)")
        parser.add_argument("--database-name", action="append", default=[], help="(internal)")

    def handle(self, *args, **options):
        sizes = [int(size) for size in options["sizes"].split(",")]
        if len(sizes) != 2 or sizes[0] >= sizes[1]:
            raise CommandError("--sizes takes two sizes, the smaller first (e.g. 10,1000).")
        if options["measure"]:
            return self.measure(sizes, options)
        return self.orchestrate(sizes, options)

    # -- the scratch databases (the parent process) --------------------------

    def orchestrate(self, sizes, options):
        workdir = Path(options["workdir"]).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        server = _postgres_server()
        env = _bench_environment(workdir)
        names = []
        for size in sizes:
            url = _database_url(server, size, workdir)
            env["DATABASE_URL"] = url
            self._prepare(url, size, server, env, workdir, reseed=options["reseed"])
            names.append(_database_name(url))
        self.stdout.write("Collecting static files (DEBUG is off while measuring)...")
        _run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], env)
        child = [sys.executable, "manage.py", "bench", "--measure", "--sizes", options["sizes"]]
        for name in names:
            child += ["--database-name", name]
        for flag in ("quick", "no_load"):
            if options[flag]:
                child.append("--" + flag.replace("_", "-"))
        if options["rounds"]:
            child += ["--rounds", str(options["rounds"])]
        child += ["--output", str(Path(options["output"]).resolve())]
        # The measuring process opens the larger database as its default.
        env["DATABASE_URL"] = _database_url(server, sizes[1], workdir)
        result = subprocess.run(child, env=env, cwd=BASE_DIR)
        if result.returncode:
            raise CommandError("The measuring process failed (see above).")

    def _prepare(self, url, size, server, env, workdir, *, reseed):
        marker = workdir / f"bench-{hashlib.sha256(url.encode()).hexdigest()[:10]}.json"
        wanted = {"url": _hide_password(url), "engagements": size, "seed": _seed_fingerprint()}
        media_ready = (workdir / "bench-media" / "conventions").is_dir()
        if not reseed and media_ready and marker.exists():
            try:
                if json.loads(marker.read_text()) == wanted and _database_exists(url, server):
                    self.stdout.write(f"Reusing the {size}-engagement database ({wanted['url']}).")
                    return
            except ValueError:
                pass
        self.stdout.write(f"Building the {size}-engagement database ({wanted['url']})...")
        marker.unlink(missing_ok=True)
        _recreate_database(url, server)
        _run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], env)
        _run([sys.executable, "manage.py", "seed_bench", "--engagements", str(size)], env)
        marker.write_text(json.dumps(wanted, indent=2))

    # -- the measures (the child process) ------------------------------------

    def measure(self, sizes, options):
        from engagements import signing

        if settings.DEBUG:
            self.stderr.write("Warning: DEBUG is on; the numbers will not be production's.")
        quick = options["quick"]
        rounds = options["rounds"] or (3 if quick else 30)
        databases = Databases(sizes, options["database_name"])
        signing._signer.cache_clear()
        results = {
            "machine": machine(databases),
            "sizes": sizes,
            "rounds": rounds,
            "targets": {
                "page_vs_floor": PAGE_TARGET,
                "sealed_vs_weasyprint": PDF_TARGET,
                "coach_portal_vs_login_throughput": THROUGHPUT_TARGET,
            },
        }
        self.stdout.write(f"Pages: {rounds} interleaved rounds at {sizes[0]} and {sizes[1]}...")
        results["pages"] = measure_pages(databases, rounds)
        self.stdout.write("Documents...")
        with databases.use(sizes[1]):
            results["pdf"] = measure_documents(runs=2 if quick else 7)
            self.stdout.write("HR export...")
            sealed = _sealed_document()
            results["export"] = [
                {"conventions": count, **dict(zip(("seconds", "peak_bytes"), measure, strict=True))}
                for count in ((100,) if quick else (100, 1000))
                for measure in [_export_measure(count, sealed)]
            ]
            if quick or options["no_load"]:
                results["load"] = None
            else:
                self.stdout.write(f"Load test under gunicorn ({2 * LOAD_SECONDS} s)...")
                results["load"] = measure_load(databases.client(sizes[1], "coach"))
        markdown = render_markdown(results)
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        (output / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
        (output / "results.md").write_text(markdown)
        self.stdout.write("\n" + markdown)
        self.stdout.write(f"Written to {output / 'results.md'} and {output / 'results.json'}.")


# -- scratch databases --------------------------------------------------------


def _postgres_server():
    """The PostgreSQL server to use (a URL to a maintenance database), or None for SQLite."""
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if url:
        if not url.startswith(("postgres://", "postgresql://")):
            raise CommandError("BENCH_DATABASE_URL must name a PostgreSQL server.")
        return url
    try:
        import psycopg

        with psycopg.connect(_libpq(LOCAL_POSTGRES), connect_timeout=2):
            return LOCAL_POSTGRES
    except Exception:
        return None


def _libpq(url):
    return url.replace("postgres://", "postgresql://", 1)


def _database_url(server, size, workdir):
    if server is None:
        return f"sqlite:///{workdir / f'bench-{size}.sqlite3'}"
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/trio_bench_{size}"))


def _database_name(url):
    return (
        urlsplit(url).path.lstrip("/") if url.startswith("postgres") else url[len("sqlite:///") :]
    )


def _hide_password(url):
    parts = urlsplit(url)
    if parts.password:
        return urlunsplit(parts._replace(netloc=parts.netloc.replace(parts.password, "***")))
    return url


def _database_exists(url, server):
    if server is None:
        return Path(_database_name(url)).exists()
    import psycopg

    with psycopg.connect(_libpq(server), autocommit=True) as connection:
        row = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [_database_name(url)]
        ).fetchone()
    return row is not None


def _recreate_database(url, server):
    name = _database_name(url)
    if server is None:
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(_libpq(server), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _seed_fingerprint():
    """What the seeded data depends on: seed_bench itself and the migrations."""
    digest = hashlib.sha256(SEED_SOURCE.read_bytes())
    for path in sorted((BASE_DIR / "engagements" / "migrations").glob("*.py")):
        digest.update(path.name.encode())
    return digest.hexdigest()[:16]


def _bench_environment(workdir):
    """Production settings on loopback: DEBUG off, collected static files, no e-mail out."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": env.get("BENCH_SECRET_KEY", "bench-only-" + "x" * 40),
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "STATIC_ROOT": str(workdir / "bench-static"),
            "MEDIA_ROOT": str(workdir / "bench-media"),
            "EMAIL_URL": "consolemail://",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _run(command, env):
    result = subprocess.run(command, env=env, cwd=BASE_DIR, capture_output=True, text=True)
    if result.returncode:
        raise CommandError(f"{' '.join(command[1:])} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Databases:
    """
    Both data sets open in one process: the default connection (and caches)
    is switched to one size or the other around each request, so that the
    same code, settings and warm caches serve both.
    """

    def __init__(self, sizes, names):
        from django.db import connections

        self.sizes = sizes
        self.wrappers = {sizes[1]: connections["default"]}
        small = dict(connections["default"].settings_dict)
        small["NAME"] = names[0]
        self.wrappers[sizes[0]] = connections["default"].__class__(small, alias="default")
        self.caches = {size: _caches(size) for size in sizes}
        self.clients = {}
        self.found = {}

    def use(self, size):
        from contextlib import contextmanager

        from django.core.cache import caches
        from django.db import connections

        @contextmanager
        def switched():
            connections["default"] = self.wrappers[size]
            for alias, cache in self.caches[size].items():
                caches[alias] = cache
            yield

        return switched()

    def targets(self, size):
        from engagements.management.commands.seed_bench import targets

        if size not in self.found:
            with self.use(size):
                self.found[size] = targets()
        return self.found[size]

    def client(self, size, persona):
        from django.test import Client

        key = (size, persona)
        if key not in self.clients:
            with self.use(size):
                client = Client()
                if persona:  # else anonymous (the calendar feed: its token is in the URL)
                    client.force_login(getattr(self.targets(size), persona))
                self.clients[key] = client
        return self.clients[key]


def _caches(size):
    """A cache of each configured alias for this data set only (keys never mix)."""
    from django.utils.module_loading import import_string

    made = {}
    for alias, params in settings.CACHES.items():
        params = dict(params)
        params["KEY_PREFIX"] = f"{params.get('KEY_PREFIX', '')}bench{size}"
        location = params.pop("LOCATION", "")
        if params["BACKEND"].endswith("LocMemCache"):
            location = f"{location}bench{size}"
        made[alias] = import_string(params.pop("BACKEND"))(location, params)
    return made


# -- pages --------------------------------------------------------------------


# (label, persona, URL name, its arguments from seed_bench's targets, held to the target?)
# The floor first, the admin changelist second (both for reference).
PAGES = [
    ("floor: calendar settings page (coachee)", "coachee", "calendar_settings", None, False),
    (
        "admin changelist of engagements (owner)",
        "owner",
        "admin:engagements_engagement_changelist",
        None,
        False,
    ),
    ("coach portal", "coach", "coach_portal", None, True),
    ("coachee portal", "coachee", "coachee_portal", None, True),
    ("sponsor portal", "sponsor", "sponsor_portal", None, True),
    ("HR portal", "hr", "hr_portal", None, True),
    ("engagement page, as coach", "coach", "engagement_detail", "active", True),
    ("engagement page, as coachee", "coachee", "engagement_detail", "active", True),
    ("engagement page, as sponsor", "sponsor", "engagement_detail", "active", True),
    ("engagement page, as HR", "hr", "engagement_detail", "active", True),
    ("sessions page (coach)", "coach", "sessions", "active", True),
    ("session page (coach)", "coach", "session_detail", "session", True),
    ("report page (sponsor)", "sponsor", "report_detail", "report", True),
    ("report page (coach)", "coach", "report_detail", "report", True),
    ("report page (coachee)", "coachee", "report_detail", "report", True),
    ("new report page (coach)", "coach", "report_new", "active", True),
    ("report draft page (coach)", "coach", "report_edit", "draft_report", True),
    ("closing review start page (coach)", "coach", "closing_start", "active", True),
    # Rendered on the first download, then reused while its content is the same.
    ("report PDF, downloaded again (sponsor)", "sponsor", "report_pdf", "report", True),
    ("baseline scores page (coachee)", "coachee", "baseline_scores", "active", True),
    ("synthesis page, closing (coach)", "coach", "synthesis", "closing", True),
    ("synthesis page, completed (sponsor)", "sponsor", "synthesis", "completed", True),
    ("final synthesis PDF (sponsor)", "sponsor", "synthesis_pdf", "sponsor_synthesis", True),
    ("closing scores page (sponsor)", "sponsor", "closing_scores", "closing", True),
    ("privacy page (coachee)", "coachee", "privacy", None, True),
    ("coach's calendar feed (.ics)", None, "calendar_feed", "feed", True),
]


def _arguments(t, record):
    if record is None:
        return []
    if record == "feed":
        return [t.feeds[t.coach.pk]]
    if record == "sponsor_synthesis":
        return [t.completed.pk, "sponsor"]
    if record in ("session", "report", "draft_report"):
        found = getattr(t, record)
        return [found.engagement_id, found.pk]
    return [getattr(t, record).pk]


def pages(t):
    """(label, persona, path, held to the target?) of every page measured, the floor first."""
    from django.urls import reverse

    return [
        (label, persona, reverse(name, args=_arguments(t, record)), target)
        for label, persona, name, record, target in PAGES
    ]


def _get(databases, size, persona, path):
    # One client per person and size, as one server process serves them all: a
    # new client would load the middleware again (WhiteNoise indexing the static
    # files), which a running server does once.
    client = databases.client(size, persona)
    start = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise CommandError(f"{path} answered {response.status_code} at {size} engagements.")
    if not getattr(response, "streaming", False):
        length = len(response.content)
    else:
        length = sum(len(chunk) for chunk in response.streaming_content)
    return elapsed, length


def measure_pages(databases, rounds):
    """
    Query counts first (one request each, after a warm-up), then ``rounds``
    rounds, each requesting every page once at each size, in an order that
    rotates from round to round.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small, large = databases.sizes
    rows = {}
    order = []
    for size in databases.sizes:
        for label, persona, path, target in pages(databases.targets(size)):
            rows.setdefault(label, {"label": label, "target": target, "sizes": {}})
            rows[label]["sizes"][size] = {"path": path, "persona": persona, "times": []}
            order.append((label, size))
    for label, size in order:
        row = rows[label]["sizes"][size]
        with databases.use(size):
            _get(databases, size, row["persona"], row["path"])  # warm-up
            with CaptureQueriesContext(connection) as queries:
                _, row["bytes"] = _get(databases, size, row["persona"], row["path"])
            row["queries"] = len(queries)
    # Interleave the sizes page by page: both sizes of a page a moment apart.
    order = [(label, size) for label in rows for size in databases.sizes]
    for number in range(rounds):
        shift = number % len(order)
        for label, size in order[shift:] + order[:shift]:
            row = rows[label]["sizes"][size]
            with databases.use(size):
                elapsed, _ = _get(databases, size, row["persona"], row["path"])
            row["times"].append(elapsed * 1000)
    floor_label = next(iter(rows))
    admin_label = list(rows)[1]
    for size in databases.sizes:
        floor = statistics.median(rows[floor_label]["sizes"][size]["times"])
        admin = statistics.median(rows[admin_label]["sizes"][size]["times"])
        for row in rows.values():
            measured = row["sizes"][size]
            times = sorted(measured.pop("times"))
            measured["median_ms"] = statistics.median(times)
            measured["p95_ms"] = times[max(0, math.ceil(0.95 * len(times)) - 1)]
            measured["vs_floor"] = measured["median_ms"] / floor
            measured["vs_admin"] = measured["median_ms"] / admin
    for row in rows.values():
        at = row["sizes"]
        row["queries_equal"] = at[small]["queries"] == at[large]["queries"]
        row["pass"] = (
            at[large]["vs_floor"] <= PAGE_TARGET and row["queries_equal"] if row["target"] else None
        )
    return [
        {**row, "sizes": {str(size): values for size, values in row["sizes"].items()}}
        for row in rows.values()
    ]


# -- documents ----------------------------------------------------------------


def measure_documents(runs):
    """
    The sealed convention as the product makes it (the convention with its
    signature blocks filled and the evidence of its three signatures, in one
    rendering, then sealed) next to WeasyPrint rendering the same HTML alone,
    in interleaved runs.
    """
    from weasyprint import HTML

    from engagements import signing
    from engagements.pdf import convention_pdf
    from engagements.services.convention import (
        final_document,
        final_document_html,
        terms_for_display,
    )

    convention = Convention.objects.filter(status=Convention.Status.SIGNED).order_by("pk").first()
    if convention is None or len(convention.evidence) != 3:
        raise CommandError("The data set has no convention signed by three parties.")
    terms = terms_for_display(convention.terms)
    language = convention.terms.get("language", "fr")
    template = "pdf/convention_en.html" if language == "en" else "pdf/convention_fr.html"
    with translation.override(language):
        convention_html = render_to_string(template, {"t": terms})
    final_html = final_document_html(convention, convention.evidence)
    document = convention_pdf(terms)

    def weasyprint_alone():
        HTML(string=final_html).write_pdf()

    def sealed_convention():
        signing.seal_pdf(
            final_document(convention, convention.evidence), reason="Convention v1 signed"
        )

    def convention_pages_alone():
        HTML(string=convention_html).write_pdf()

    def seal_alone():
        signing.seal_pdf(document, reason="benchmark")

    actions = {
        "weasyprint": ("WeasyPrint alone, the same final document's HTML", weasyprint_alone),
        "sealed": (
            "sealed convention: convention + evidence (3 signatures), one pass + PAdES seal",
            sealed_convention,
        ),
        "convention": ("convention pages alone (WeasyPrint)", convention_pages_alone),
        "seal": ("PAdES seal alone (pyHanko)", seal_alone),
    }
    timings = {key: [] for key in actions}
    for _label, action in actions.values():
        action()  # warm-up: fonts, templates, imports
    for _ in range(runs):
        for key, (_label, action) in actions.items():
            start = time.perf_counter()
            action()
            timings[key].append((time.perf_counter() - start) * 1000)
    medians = {key: statistics.median(values) for key, values in timings.items()}
    ratio = medians["sealed"] / medians["weasyprint"]
    return {
        "runs": runs,
        "rows": [
            {
                "key": key,
                "label": label,
                "median_ms": medians[key],
                "min_ms": min(timings[key]),
                "max_ms": max(timings[key]),
            }
            for key, (label, _action) in actions.items()
        ],
        "sealed_vs_weasyprint": ratio,
        # For reading only: what the evidence pages add to the convention's own.
        "sealed_vs_convention_pages": medians["sealed"] / medians["convention"],
        "pass": ratio <= PDF_TARGET,
    }


def _sealed_document():
    convention = Convention.objects.filter(status=Convention.Status.SIGNED).order_by("pk").first()
    with convention.signed_document.open("rb") as document:
        return document.read()


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


# -- throughput under gunicorn ------------------------------------------------


def measure_load(coach_client):
    """Requests per second of the coach portal (signed in) and of the login page."""
    from django.urls import reverse

    cookie_name = settings.SESSION_COOKIE_NAME
    cookie = f"{cookie_name}={coach_client.cookies[cookie_name].value}"
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "coaching.wsgi:application",
            "--workers",
            str(LOAD_WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=os.environ.copy(),
    )
    try:
        _wait_for(port)
        results = {}
        for key, path, headers in (
            ("coach_portal", reverse("coach_portal"), {"Cookie": cookie}),
            ("login", reverse("login"), {}),
        ):
            asyncio.run(_load(port, path, headers, seconds=2))  # warm-up
            results[key] = asyncio.run(_load(port, path, headers, seconds=LOAD_SECONDS))
    finally:
        server.terminate()
        server.wait(timeout=30)
    ratio = results["coach_portal"]["rps"] / results["login"]["rps"]
    return {
        "workers": LOAD_WORKERS,
        "connections": LOAD_CONNECTIONS,
        "seconds": LOAD_SECONDS,
        "client": "asyncio HTTP/1.1 (keep-alive when the server allows it)",
        **results,
        "ratio": ratio,
        "pass": ratio >= THROUGHPUT_TARGET,
    }


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError("gunicorn did not start.")


async def _load(port, path, headers, *, seconds):
    """
    ``LOAD_CONNECTIONS`` clients requesting ``path`` back to back for
    ``seconds``: requests per second of 200 answers, and latency percentiles.
    """
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: keep-alive\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    ).encode()
    deadline = time.monotonic() + seconds
    latencies, errors = [], []

    async def one_connection():
        reader = writer = None
        while time.monotonic() < deadline:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            start = time.monotonic()
            writer.write(request)
            try:
                status, keep_alive = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                writer = None
                continue
            if status == 200:
                latencies.append(time.monotonic() - start)
            else:
                errors.append(status)
            if not keep_alive:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(LOAD_CONNECTIONS)))
    elapsed = time.monotonic() - started
    if errors:
        raise CommandError(f"{path} answered {sorted(set(errors))} under load.")
    latencies.sort()
    return {
        "path": path,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)] * 1000,
    }


async def _read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip().lower()
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.read()
        return status, False
    return status, fields.get("connection") != "close"


# -- the report ---------------------------------------------------------------


def machine(databases):
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    system = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    with databases.use(databases.sizes[1]):
        if connection.vendor == "postgresql":
            version = connection.cursor().connection.info.server_version
            database = f"PostgreSQL {version // 10000}.{version % 10000}"
        else:
            import sqlite3

            database = f"SQLite {sqlite3.sqlite_version}"
    import django

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": system,
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": database,
        "commit": commit,
        "date": timezone.now().strftime("%Y-%m-%d %H:%M UTC"),
    }


def _verdict(passed):
    return "—" if passed is None else ("PASS" if passed else "**FAIL**")


def render_markdown(results):
    small, large = (str(size) for size in results["sizes"])
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} RAM; {m['os']}; "
        f"Python {m['python']}, Django {m['django']}; {m['database']}. "
        f"Commit {m['commit']}, {m['date']}.",
        "",
        f"## Pages ({results['rounds']} interleaved rounds, through the whole middleware stack)",
        "",
        f"Target: every page within {PAGE_TARGET:g}× the floor at {large} engagements, "
        f"and the same query count at {small} and {large}.",
        "",
        f"| page | median ms ({small}) | median ms ({large}) | p95 ms ({large}) "
        f"| × floor ({small}) | × floor ({large}) | × admin ({large}) "
        f"| queries ({small} / {large}) | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["pages"]:
        a, b = row["sizes"][small], row["sizes"][large]
        queries = f"{a['queries']} / {b['queries']}"
        if not row["queries_equal"]:
            queries = f"**{queries} (grows)**"
        lines.append(
            f"| {row['label']} | {a['median_ms']:.1f} | {b['median_ms']:.1f} | {b['p95_ms']:.1f} "
            f"| {a['vs_floor']:.1f}× | {b['vs_floor']:.1f}× | {b['vs_admin']:.2f}× | {queries} "
            f"| {_verdict(row['pass'])} |"
        )
    pdf = results["pdf"]
    lines += [
        "",
        f"## Documents ({pdf['runs']} interleaved runs)",
        "",
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
    ]
    for row in pdf["rows"]:
        lines.append(
            f"| {row['label']} | {row['median_ms']:.0f} ms | {row['min_ms']:.0f} ms "
            f"| {row['max_ms']:.0f} ms |"
        )
    lines += [
        "",
        f"Sealed convention / WeasyPrint alone: **{pdf['sealed_vs_weasyprint']:.2f}×** "
        f"(target ≤ {PDF_TARGET:g}×): {_verdict(pdf['pass'])}. "
        f"Against the convention pages alone: {pdf['sealed_vs_convention_pages']:.2f}×.",
        "",
        "## HR export, built by the worker",
        "",
        "| signed conventions | time | peak memory (Python) |",
        "|---:|---:|---:|",
    ]
    for row in results["export"]:
        lines.append(
            f"| {row['conventions']} | {row['seconds']:.1f} s "
            f"| {row['peak_bytes'] / 1024 / 1024:.1f} MiB |"
        )
    load = results["load"]
    lines += ["", "## Throughput under gunicorn", ""]
    if load is None:
        lines.append("Not measured (--quick or --no-load).")
    else:
        lines += [
            f"{load['workers']} workers, {load['connections']} connections, "
            f"{load['seconds']} s each, loopback; client: {load['client']}.",
            "",
            "| page | requests/s | median ms | p95 ms |",
            "|---|---:|---:|---:|",
        ]
        for key, label in (("coach_portal", "coach portal"), ("login", "login page (GET)")):
            row = load[key]
            lines.append(
                f"| {label} | {row['rps']:.0f} | {row['median_ms']:.0f} | {row['p95_ms']:.0f} |"
            )
        lines += [
            "",
            f"Coach portal / login page: **1/{1 / load['ratio']:.1f}** "
            f"(target ≥ 1/{1 / THROUGHPUT_TARGET:g}): {_verdict(load['pass'])}",
        ]
    return "\n".join(lines) + "\n"
