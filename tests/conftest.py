"""
Personas and shared fixtures.

The personas of CONVENTIONS.md: the coach, coachee and sponsor of one
engagement, the HR of its organization, another coach, HR of another
organization, and an outsider with no part in anything.
"""

import io
import os
import threading

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from coaching.celery import app as celery_app
from engagements import workflow
from engagements.models import Convention, Engagement

from . import factories

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# How to reach each state from draft: (transition, actor key) steps.
PATHS = {
    Engagement.Status.DRAFT: [],
    Engagement.Status.KICKOFF: [("schedule_kickoff", "coach")],
    Engagement.Status.CONTRACTING: [
        ("schedule_kickoff", "coach"),
        ("send_convention", "coach"),
    ],
    Engagement.Status.ACTIVE: [
        ("schedule_kickoff", "coach"),
        ("send_convention", "coach"),
        ("activate", "platform"),
    ],
    Engagement.Status.CLOSING: [
        ("schedule_kickoff", "coach"),
        ("send_convention", "coach"),
        ("activate", "platform"),
        ("start_closing", "coach"),
    ],
    Engagement.Status.COMPLETED: [
        ("schedule_kickoff", "coach"),
        ("send_convention", "coach"),
        ("activate", "platform"),
        ("start_closing", "coach"),
        ("complete", "platform"),
    ],
    Engagement.Status.WITHDRAWN: [
        ("schedule_kickoff", "coach"),
        ("withdraw", "coachee"),
    ],
    Engagement.Status.CANCELLED: [("cancel", "sponsor")],
}


def actor_for(engagement, key):
    """The user behind an actor key of PATHS (``platform`` is ``None``)."""
    return {
        "platform": None,
        "coach": engagement.coach.user,
        "coachee": engagement.coachee,
        "sponsor": engagement.sponsor,
    }[key]


def move_to(engagement, status):
    """
    Walk ``engagement`` (in draft) to ``status`` through the real workflow.
    Completion needs the synthesis the coachee validated: one is made first.
    """
    for name, key in PATHS[status]:
        if name == "complete":
            _validated_synthesis(engagement)
        reason = "Raison" if workflow.TRANSITIONS[name].reason_required else ""
        engagement = workflow.transition(
            engagement, name, actor=actor_for(engagement, key), reason=reason
        )
    return engagement


def _validated_synthesis(engagement):
    from engagements.models import ClosingReview

    factories.ClosingReviewFactory(
        engagement=engagement,
        status=ClosingReview.Status.VALIDATED,
        coachee_validated_at=timezone.now(),
    )


@pytest.fixture(scope="session")
def signing_material(tmp_path_factory):
    """A development CA and seal certificate for the whole test run."""
    from django.conf import settings as django_settings
    from django.core.management import call_command

    from engagements import signing

    folder = tmp_path_factory.mktemp("signing")
    django_settings.SIGNING_KEY_PATH = folder / "seal-key.pem"
    django_settings.SIGNING_CERT_PATH = folder / "seal-cert.pem"
    django_settings.SIGNING_CHAIN_PATH = folder / "ca-cert.pem"
    call_command("create_signing_certificate", stdout=io.StringIO())
    signing._signer.cache_clear()
    return folder


@pytest.fixture(autouse=True)
def _fast_and_local(settings, signing_material, tmp_path):
    """Fast password hashing; Celery tasks in-process unless a test asks for a worker."""
    cache.clear()  # each test starts with no cached feed or throttle
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Generated documents go to a fresh folder per test.
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests do not run collectstatic: serve static files without the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def organization(db):
    return factories.OrganizationFactory(name="Helix Énergies")


@pytest.fixture
def engagement(organization):
    return factories.EngagementFactory(
        organization=organization,
        coach__user__email="coach@example.com",
        coachee__email="coachee@example.com",
        sponsor__email="sponsor@example.com",
    )


@pytest.fixture
def engagement_in(engagement):
    """``engagement_in(status)``: the persona engagement, moved to ``status``."""

    def make(status):
        return move_to(engagement, status)

    return make


@pytest.fixture
def coach(engagement):
    return engagement.coach.user


@pytest.fixture
def coachee(engagement):
    return engagement.coachee


@pytest.fixture
def sponsor(engagement):
    return engagement.sponsor


@pytest.fixture
def hr(engagement):
    return factories.HRMembershipFactory(
        organization=engagement.organization, user__email="hr@example.com"
    ).user


@pytest.fixture
def world(engagement_in, coach, hr, other_coach, other_hr, outsider):
    """The persona engagement, active, with a signed convention and an objective."""
    engagement = engagement_in(Engagement.Status.ACTIVE)
    objective = factories.ObjectiveFactory(engagement=engagement)
    factories.CoachingSessionFactory(engagement=engagement)
    report = factories.SponsorReportFactory(
        engagement=engagement,
        status="released",
        approved_at=timezone.now(),
        released_at=timezone.now(),
    )
    factories.ReportProgressFactory(report=report, objective=objective)
    factories.HRProposalFactory(organization=engagement.organization, proposed_by=coach)
    factories.ConventionFactory(
        engagement=engagement,
        status=Convention.Status.SIGNED,
        sent_at=timezone.now(),
        signed_at=timezone.now(),
        document_sha256="a" * 64,
        document=ContentFile(b"%PDF-1.7 convention", name="c.pdf"),
        signed_document=ContentFile(b"%PDF-1.7 signed", name="s.pdf"),
    )
    return engagement


@pytest.fixture
def other_coach(db):
    return factories.CoachFactory(user__email="other.coach@example.com").user


@pytest.fixture
def other_hr(db):
    return factories.HRMembershipFactory(user__email="hr@other.example.com").user


@pytest.fixture
def outsider(db):
    return factories.UserFactory(email="outsider@example.com")


PERSONAS = ["coach", "coachee", "sponsor", "hr", "other_coach", "other_hr", "outsider"]


@pytest.fixture
def persona(request):
    """Indirect fixture: ``@pytest.mark.parametrize("persona", [...], indirect=True)``."""
    return request.getfixturevalue(request.param)


def require_service(name, available, why=""):
    """Skip when a real service is missing on a laptop; fail in CI."""
    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services must run)")
    pytest.skip(message)


def race(*calls):
    """
    Run each call in its own thread (its own database connection), released
    together; each outcome in order: what the call returned, "refused" for a
    ValidationError, or the unexpected exception itself.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def attempt(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except ValidationError:
            outcomes[index] = "refused"
        except Exception as error:  # reported by the assertions on the outcomes
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def postgres(db):
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/coaching",
    )


def pdfsig_report(pdf_path, tmp_path):
    """
    What poppler's ``pdfsig`` says of a PDF's seal, trusting the development
    CA when NSS's ``certutil`` is there (then "Certificate is Trusted" shows).
    """
    import shutil
    import subprocess

    from django.conf import settings as django_settings

    args = ["pdfsig"]
    if shutil.which("certutil"):
        nss = tmp_path / "nss"
        if not nss.exists():
            nss.mkdir()
            subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
            subprocess.run(
                [
                    "certutil",
                    "-A",
                    "-d",
                    f"sql:{nss}",
                    "-n",
                    "dev-ca",
                    "-t",
                    "CT,C,C",
                    "-i",
                    str(django_settings.SIGNING_CHAIN_PATH),
                ],
                check=True,
            )
        args += ["-nssdir", f"sql:{nss}"]
    return subprocess.run([*args, str(pdf_path)], capture_output=True, text=True).stdout
