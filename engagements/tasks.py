"""
Celery tasks. Each takes ids (never model instances), is idempotent (e-mails
go through ``emails.send_once``), and is queued after the transaction commits
(``delay_on_commit``).
"""

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from . import emails
from .models import CoachingSession, Convention, Engagement, User
from .services.convention import convention_seal
from .services.privacy import session_notes_purge
from .tokens import invitation_path


@shared_task
def purge_expired_session_notes():
    """Periodic (beat): purge session notes past their retention period."""
    return session_notes_purge()


def _engagement(engagement_id):
    return Engagement.objects.select_related(
        "coach__user", "coachee", "sponsor", "organization"
    ).get(pk=engagement_id)


@shared_task
def send_invitation(user_id, invited_by_id, occasion):
    """The one-time link with which a new person chooses their password."""
    user = User.objects.get(pk=user_id)
    if user.has_usable_password():
        return False  # already joined: the link would be useless
    inviter = User.objects.filter(pk=invited_by_id).first()
    return emails.send_once(
        key=f"invitation:{user_id}:{occasion}",
        recipient=user,
        name="invitation",
        context={
            "inviter": inviter,
            "link": settings.SITE_URL + invitation_path(user),
            "days": settings.INVITATION_TIMEOUT // 86400,
        },
    )


@shared_task
def send_engagement_opened(engagement_id):
    """Tell the coachee and the sponsor who already have an account about a new engagement."""
    engagement = _engagement(engagement_id)
    sent = 0
    for role, person in (("coachee", engagement.coachee), ("sponsor", engagement.sponsor)):
        if not person.has_usable_password():
            continue  # their invitation says it all
        sent += emails.send_once(
            key=f"opened:{engagement_id}:{role}",
            recipient=person,
            engagement=engagement,
            name="engagement_opened",
            context={
                "engagement": engagement,
                "role": role,
                "link": settings.SITE_URL + engagement.get_absolute_url(),
            },
        )
    return sent


@shared_task
def send_withdrawal_notices(engagement_id, closing_session_wanted=False):
    """Neutral notices to the coach and the sponsor; no reason, no content."""
    engagement = _engagement(engagement_id)
    convention_signed = engagement.conventions.filter(status=Convention.Status.SIGNED).exists()
    sent = 0
    for role, person in (("coach", engagement.coach.user), ("sponsor", engagement.sponsor)):
        sent += emails.send_once(
            key=f"withdrawal:{engagement_id}:{role}",
            recipient=person,
            engagement=engagement,
            name="withdrawal_notice",
            context={
                "engagement": engagement,
                "role": role,
                "convention_signed": convention_signed,
                # Only the coach learns that a closing session would be welcome.
                "closing_session_wanted": closing_session_wanted and role == "coach",
            },
        )
    return sent


@shared_task
def send_cancellation_notices(engagement_id):
    """The reason for a cancellation, to the three parties."""
    engagement = _engagement(engagement_id)
    change = engagement.status_changes.select_related("actor").latest("created_at")
    sent = 0
    for role in ("coach", "coachee", "sponsor"):
        person = engagement.party_for(role)
        sent += emails.send_once(
            key=f"cancellation:{engagement_id}:{role}",
            recipient=person,
            engagement=engagement,
            name="cancellation_notice",
            context={"engagement": engagement, "change": change},
        )
    return sent


@shared_task
def send_session_invitations(session_id):
    """A planned meeting, to everyone invited (the three parties for a tripartite one)."""
    session = CoachingSession.objects.select_related(
        "engagement__coach__user", "engagement__coachee", "engagement__sponsor"
    ).get(pk=session_id)
    engagement = session.engagement
    roles = ["coach", "coachee", "sponsor"] if session.is_tripartite else ["coach", "coachee"]
    sent = 0
    for role in roles:
        sent += emails.send_once(
            key=f"session-planned:{session_id}:{session.sequence}:{role}",
            recipient=engagement.party_for(role),
            engagement=engagement,
            name="session_planned",
            context={
                "session": session,
                "engagement": engagement,
                "link": settings.SITE_URL + engagement.get_absolute_url(),
            },
        )
    return sent


@shared_task
def send_convention_to_sign(convention_id):
    """The convention version is ready: each party is asked to sign it."""
    convention = Convention.objects.select_related(
        "engagement__coach__user", "engagement__coachee", "engagement__sponsor"
    ).get(pk=convention_id)
    if convention.status != Convention.Status.SENT:
        return 0
    engagement = convention.engagement
    sent = 0
    for role in ("coach", "coachee", "sponsor"):
        sent += emails.send_once(
            key=f"convention-to-sign:{convention_id}:{role}",
            recipient=engagement.party_for(role),
            engagement=engagement,
            name="convention_to_sign",
            context={
                "convention": convention,
                "engagement": engagement,
                "link": settings.SITE_URL
                + reverse("convention_sign", args=[engagement.pk, convention.version]),
            },
        )
    return sent


@shared_task
def seal_convention(convention_id):
    """After the third signature: the final sealed PDF, then the engagement starts."""
    if not convention_seal(convention_id=convention_id):
        return False
    convention = Convention.objects.select_related(
        "engagement__coach__user", "engagement__coachee", "engagement__sponsor"
    ).get(pk=convention_id)
    engagement = convention.engagement
    for role in ("coach", "coachee", "sponsor"):
        emails.send_once(
            key=f"convention-signed:{convention_id}:{role}",
            recipient=engagement.party_for(role),
            engagement=engagement,
            name="convention_signed",
            context={
                "convention": convention,
                "engagement": engagement,
                "link": settings.SITE_URL + engagement.get_absolute_url(),
            },
        )
    return True
