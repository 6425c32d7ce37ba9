"""
Celery tasks. Each takes ids (never model instances), is idempotent, and is
queued after the transaction commits (``delay_on_commit``).
"""

from celery import shared_task

from .services.privacy import session_notes_purge


@shared_task
def purge_expired_session_notes():
    """Periodic (beat): purge session notes past their retention period."""
    return session_notes_purge()
