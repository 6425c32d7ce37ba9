"""
The periodic jobs of Celery beat (``CELERY_BEAT_SCHEDULE``) run in-process
when there is no broker: ``manage.py serve`` (what ``make run`` uses) starts
this scheduler beside the development server, so that reminders, pending
seals and purges happen in the demo as they do in production.
"""

import logging
import threading
import time
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

FIRST_RUN_AFTER = 10  # seconds after start, then at each job's interval
TICK = 5


def _seconds(schedule):
    return schedule.total_seconds() if isinstance(schedule, timedelta) else float(schedule)


def run_due(next_runs, now):
    """Run every job whose time has come; returns how many ran."""
    ran = 0
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if now < next_runs.get(name, 0):
            continue
        next_runs[name] = now + _seconds(entry["schedule"])
        try:
            current_app.tasks[entry["task"]].apply()
            ran += 1
        except Exception:
            logger.exception("Periodic job %s failed", name)
        finally:
            close_old_connections()
    return ran


def _loop():
    start = time.monotonic() + FIRST_RUN_AFTER
    next_runs = dict.fromkeys(settings.CELERY_BEAT_SCHEDULE, start)
    while True:
        run_due(next_runs, time.monotonic())
        time.sleep(TICK)


def start():
    """Start the scheduler in a daemon thread (it ends with the process)."""
    thread = threading.Thread(target=_loop, name="periodic-jobs", daemon=True)
    thread.start()
    logger.info("Periodic jobs run in-process: %s", ", ".join(settings.CELERY_BEAT_SCHEDULE))
    return thread
