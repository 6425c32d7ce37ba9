"""
The platform's clock. The workflow and the services read the time here, so
that the demo can build a past that reads like a real one (``clock.at``) and
a test can place an action at a chosen moment. Everywhere else, it is simply
``timezone.now()``.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_moment = ContextVar("clock_moment", default=None)


def now():
    return _moment.get() or timezone.now()


def today():
    return timezone.localdate(now())


@contextmanager
def at(moment):
    """Within this block, ``now()`` is ``moment`` (an aware datetime)."""
    if timezone.is_naive(moment):
        raise ValueError("clock.at needs an aware datetime")
    token = _moment.set(moment)
    try:
        yield moment
    finally:
        _moment.reset(token)
