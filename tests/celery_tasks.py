"""Tasks used only by the worker integration tests (loaded with ``--include``)."""

import time

import redis
from celery import shared_task
from django.conf import settings


@shared_task
def mark_slowly(key, seconds):
    """Record that the task started, work for ``seconds``, record that it finished."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.incr(f"{key}:started")
    time.sleep(seconds)
    client.incr(f"{key}:done")
