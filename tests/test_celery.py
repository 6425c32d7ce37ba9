"""
Tasks executed by a real Celery worker on Redis, against the test database on
PostgreSQL. Skipped on a laptop without the services, failing in CI.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from coaching.celery import app as celery_app
from engagements import tasks
from engagements.models import AuditEvent, PrivateNote, SharedSummary
from engagements.tasks import purge_expired_session_notes

from . import factories
from .conftest import move_to, require_service

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _redis_client():
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return None
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError:
        return None
    return client


@pytest.fixture
def broker():
    client = _redis_client()
    require_service("Redis", client is not None, "set REDIS_URL=redis://127.0.0.1:6379/0")
    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "a worker process shares the test database only on PostgreSQL",
    )
    celery_app.conf.task_always_eager = False
    return client


def _database_url():
    db = connection.settings_dict
    credentials = db["USER"] or ""
    if db["PASSWORD"]:
        credentials += f":{db['PASSWORD']}"
    if credentials:
        credentials += "@"
    return f"postgres://{credentials}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A real ``celery worker`` process consuming one private queue."""

    def __init__(self, queue, tmp_path, name, extra_env=None):
        extra_env = extra_env or {}
        self.log = tmp_path / f"{name}.log"
        self.outbox = tmp_path / "outbox"
        self.outbox.mkdir(exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_QUEUE": queue,
            "DJANGO_DEBUG": "0",
            # E-mails the worker sends are written as files, to be read here.
            "EMAIL_URL": f"filemail:///{self.outbox}",
            # The worker stores files where the test reads them.
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            **extra_env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "coaching",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                f"--hostname={name}@%h",
                "-Q",
                queue,
                "--include",
                "tests.celery_tasks",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self._wait_for("ready", timeout=60)

    def _wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"worker never printed {text!r}:\n{self.log.read_text()}")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def queue(broker):
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    broker.delete(name)


@pytest.fixture
def start_worker(queue, tmp_path):
    workers = []

    def start(name="worker", **extra_env):
        worker = Worker(queue, tmp_path, name, extra_env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_until(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_a_real_worker_purges_expired_session_notes(queue, start_worker):
    engagement = move_to(factories.EngagementFactory(), "withdrawn")
    engagement.__class__.objects.filter(pk=engagement.pk).update(
        ended_at=timezone.now() - timedelta(days=400)
    )
    session = factories.CoachingSessionFactory(engagement=engagement)
    factories.PrivateNoteFactory(session=session)
    factories.SharedSummaryFactory(session=session)
    start_worker()

    purge_expired_session_notes.apply_async(queue=queue)

    assert wait_until(lambda: not PrivateNote.objects.exists(), timeout=30)
    assert not SharedSummary.objects.exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.PURGE)
    assert event.engagement_id == engagement.pk
    assert event.detail["private_notes"] == 1


@pytest.mark.slow
def test_a_task_whose_worker_is_killed_is_run_again_by_another_worker(broker, queue, start_worker):
    key = f"test-redelivery-{uuid.uuid4().hex[:8]}"
    first = start_worker("first")
    celery_app.send_task("tests.celery_tasks.mark_slowly", args=[key, 8], queue=queue)
    assert wait_until(lambda: broker.get(f"{key}:started") == b"1", timeout=30)

    first.kill()  # SIGKILL mid-task: no chance to acknowledge or requeue
    start_worker("second")

    # Late acknowledgement + the tuned visibility sweep: back within ~30-35 s.
    assert wait_until(lambda: broker.get(f"{key}:done") == b"1", timeout=60)
    assert broker.get(f"{key}:started") == b"2"
    broker.delete(f"{key}:started", f"{key}:done")


def test_a_real_worker_sends_each_reminder_once(queue, start_worker):
    from engagements.models import Notification
    from engagements.tasks import send_session_reminders

    engagement = move_to(factories.EngagementFactory(), "active")
    factories.CoachingSessionFactory(
        engagement=engagement, starts_at=timezone.now() + timedelta(hours=30)
    )
    worker = start_worker()

    send_session_reminders.apply_async(queue=queue)
    send_session_reminders.apply_async(queue=queue)  # the beat fired twice

    def sent():
        return Notification.objects.filter(sent_at__isnull=False).count()

    assert wait_until(lambda: sent() == 2, timeout=30)
    time.sleep(2)  # let the second run finish: it must send nothing more
    assert sent() == 2
    written = list(worker.outbox.iterdir())
    assert written, "the worker wrote no e-mail"
    text = "".join(path.read_text() for path in written)
    assert engagement.coachee.email in text and engagement.coach.user.email in text


@pytest.mark.slow
def test_an_export_whose_worker_is_killed_completes_once(
    broker, queue, start_worker, settings, monkeypatch
):
    """
    ``kill -9`` of the worker in the middle of a large export, then a new
    worker: the export still completes, with exactly one ZIP and one e-mail.
    """
    import io
    import zipfile

    from django.core.files.base import ContentFile

    from engagements.models import Convention, ConventionExport, HRMembership
    from engagements.services import exports

    hr = factories.UserFactory()
    organization = factories.OrganizationFactory()
    HRMembership.objects.create(user=hr, organization=organization)
    # Large files, so that the build takes long enough to be killed mid-way.
    document = ContentFile(b"%PDF-1.7\n" + os.urandom(2 * 1024 * 1024), name="sealed.pdf")
    first = factories.ConventionFactory(
        engagement__organization=organization,
        status=Convention.Status.SIGNED,
        sent_at=timezone.now(),
        signed_at=timezone.now(),
        document_sha256="a" * 64,
        signed_document=document,
    )
    count = 120
    for _ in range(count - 1):
        factories.ConventionFactory(
            engagement__organization=organization,
            status=Convention.Status.SIGNED,
            sent_at=timezone.now(),
            signed_at=timezone.now(),
            document_sha256="a" * 64,
            signed_document=first.signed_document.name,
        )
    build = tasks.build_convention_export
    monkeypatch.setattr(
        build, "delay_on_commit", lambda *args: build.apply_async(args, queue=queue)
    )
    worker_env = {"EXPORT_STALE_SECONDS": "3"}
    doomed = start_worker("doomed", **worker_env)
    export = exports.export_start(user=hr, filters={})

    def started():
        export.refresh_from_db()
        return export.done > 0

    assert wait_until(started, timeout=60), doomed.log.read_text()
    assert export.status == ConventionExport.Status.RUNNING
    doomed.kill()  # SIGKILL mid-export: no chance to acknowledge or clean up
    start_worker("rescuer", **worker_env)

    def ready():
        export.refresh_from_db()
        return export.status == ConventionExport.Status.READY

    assert wait_until(ready, timeout=90)
    assert export.attempt == 2
    stored = list((settings.MEDIA_ROOT / "exports").iterdir())
    assert [path.name for path in stored] == [export.file.name.removeprefix("exports/")]
    archive = zipfile.ZipFile(io.BytesIO(stored[0].read_bytes()))
    assert archive.testzip() is None
    assert len([name for name in archive.namelist() if name.endswith(".pdf")]) == count
    assert len(archive.namelist()) == len(set(archive.namelist()))
    assert wait_until(lambda: any(doomed.outbox.iterdir()), timeout=30)
    time.sleep(2)  # a late duplicate of the task must send nothing more
    [mail] = doomed.outbox.iterdir()  # the workers share one outbox
    assert hr.email in mail.read_text()
