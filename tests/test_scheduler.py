"""The periodic jobs run in-process when there is no broker (``make run``)."""

import pytest

from engagements import scheduler
from engagements.models import PrivateNote

from .test_privacy import ended

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    """The scheduler's thread closes stale connections; a test's runs inside its transaction."""
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)


PURGE = {"task": "engagements.tasks.purge_expired_session_notes", "schedule": 60}


def test_a_due_job_runs_and_waits_for_its_interval(settings):
    settings.CELERY_BEAT_SCHEDULE = {"purge": PURGE}
    settings.SESSION_NOTES_RETENTION_DAYS = 183
    old = ended(days_ago=200)
    next_runs = {"purge": 100}

    assert scheduler.run_due(next_runs, now=99) == 0
    assert PrivateNote.objects.filter(session__engagement=old).exists()

    assert scheduler.run_due(next_runs, now=100) == 1
    assert not PrivateNote.objects.filter(session__engagement=old).exists()
    assert next_runs["purge"] == 160
    assert scheduler.run_due(next_runs, now=130) == 0


def test_a_failing_job_does_not_stop_the_others(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "broken": {"task": "engagements.tasks.send_export_ready", "schedule": 60},
        "purge": PURGE,
    }
    # send_export_ready without its argument fails; the purge still runs.
    assert scheduler.run_due({}, now=0) == 1


def test_every_periodic_job_of_production_runs_in_process():
    """Each job of the beat schedule names a task the app has (as make run runs them)."""
    from celery import current_app
    from django.conf import settings

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks, entry["task"]
