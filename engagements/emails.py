"""
E-mails: rendered from ``templates/emails/<name>_subject.txt`` and
``<name>.txt`` in the recipient's language, sent through the default mailer,
and recorded as a ``Notification`` so that each goes out once.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification


def render_email(name, context, language):
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
        body = render_to_string(f"emails/{name}.txt", context)
    return subject, body


def send_once(*, key, recipient, name, context, engagement=None, attachments=()):
    """
    Send e-mail ``name`` to ``recipient`` unless the notification ``key`` was
    already sent. The notification row is locked while sending, so that two
    runs of the same task cannot both send; if the process dies before the
    commit, nothing is recorded and a retry sends it again.
    Returns True when an e-mail went out.
    """
    with transaction.atomic():
        notification, _created = Notification.objects.select_for_update().get_or_create(
            key=key, defaults={"recipient": recipient, "engagement": engagement}
        )
        if notification.sent_at:
            return False
        context = {"recipient": recipient, "site_url": settings.SITE_URL, **context}
        subject, body = render_email(name, context, recipient.language)
        message = EmailMultiAlternatives(subject, body, to=[recipient.email])
        for attachment in attachments:
            message.attach(*attachment)
        mailers.default.send_messages([message])
        notification.subject = subject
        notification.sent_at = timezone.now()
        notification.save(update_fields=["subject", "sent_at"])
    return True
