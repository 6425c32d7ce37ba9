"""The coach sees who accepted their invitation and can send it again, once per click."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.models import Notification
from engagements.services.accounts import invitation_resend
from engagements.tasks import send_invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def not_joined(engagement, coachee):
    """The coachee was invited and never chose a password."""
    coachee.set_unusable_password()
    coachee.save()
    return coachee


def resend_url(engagement, role="coachee"):
    return reverse("invitation_resend", args=[engagement.pk, role])


def invitations_to(person):
    return [m for m in mail.outbox if m.to == [person.email] and "/invitation/" in m.body]


def test_the_coach_sees_who_accepted_their_invitation(client, engagement, coach, not_joined):
    client.force_login(coach)
    page = client.get(engagement.get_absolute_url()).content.decode()
    parties = page[page.index('id="parties-title"') :]
    coachee_item = parties[: parties.index(str(engagement.sponsor))]
    sponsor_item = parties[parties.index(str(engagement.sponsor)) :]
    assert "Invitation not accepted yet" in coachee_item or "pas encore acceptée" in coachee_item
    assert resend_url(engagement) in coachee_item
    assert resend_url(engagement, "sponsor") not in page  # the sponsor has accepted
    assert "✓" in sponsor_item[: sponsor_item.index("</li>")]


@pytest.mark.parametrize("persona", ["coachee", "sponsor", "hr"], indirect=True)
def test_nobody_but_the_coach_sees_the_invitations(client, engagement, not_joined, persona):
    client.force_login(persona)
    page = client.get(engagement.get_absolute_url()).content.decode()
    assert resend_url(engagement) not in page
    assert "✓" not in page[page.index('id="parties-title"') :].split("</section>")[0]


def test_a_resend_sends_the_invitation_once_per_click(
    client, engagement, coach, not_joined, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(resend_url(engagement))
    assert response.status_code == 302
    [message] = invitations_to(not_joined)
    assert str(coach) in message.body or coach.email in message.body
    # The task running a second time sends nothing more.
    key = Notification.objects.get(key__contains=":resend-").key
    assert send_invitation(not_joined.pk, coach.pk, key.split(":", 2)[2]) is False
    assert len(invitations_to(not_joined)) == 1


def test_a_second_resend_within_the_hour_is_refused_with_a_clear_message(
    client, engagement, coach, not_joined, django_capture_on_commit_callbacks
):
    client.force_login(coach)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend_url(engagement))
        response = client.post(resend_url(engagement), follow=True)
    assert len(invitations_to(not_joined)) == 1
    assert Notification.objects.filter(key__contains=":resend-").count() == 1
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 2  # the first resend's confirmation, then the refusal
    assert str(not_joined) in messages[1]
    page = response.content.decode()
    assert resend_url(engagement) not in page  # the button waits for the hour to pass


def test_an_hour_later_the_invitation_can_be_sent_again(
    engagement, coach, not_joined, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_resend(engagement=engagement, role="coachee", by=coach)
    Notification.objects.filter(key__contains=":resend-").update(
        created_at=timezone.now() - timedelta(hours=1, minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        invitation_resend(engagement=engagement, role="coachee", by=coach)
    assert len(invitations_to(not_joined)) == 2


def test_an_accepted_invitation_is_not_sent_again(client, engagement, coach, sponsor):
    client.force_login(coach)
    mail.outbox.clear()
    response = client.post(resend_url(engagement, "sponsor"), follow=True)
    assert response.status_code == 200
    assert not invitations_to(sponsor)
    assert not Notification.objects.filter(key__contains=":resend-").exists()
    [message] = [str(m) for m in response.context["messages"]]
    assert str(sponsor) in message


@pytest.mark.parametrize(
    "persona", ["coachee", "sponsor", "hr", "other_coach", "other_hr", "outsider"], indirect=True
)
def test_only_the_coach_may_resend_an_invitation(client, engagement, not_joined, persona):
    client.force_login(persona)
    mail.outbox.clear()
    assert client.post(resend_url(engagement)).status_code == 404
    assert not mail.outbox
    assert not Notification.objects.filter(key__contains=":resend-").exists()


def test_an_unknown_role_is_not_found(client, engagement, coach):
    client.force_login(coach)
    assert client.post(resend_url(engagement, "coach")).status_code == 404
    assert client.post(resend_url(engagement, "anything")).status_code == 404


def test_resending_is_a_post(client, engagement, coach, not_joined):
    client.force_login(coach)
    assert client.get(resend_url(engagement)).status_code == 405


def test_the_invitations_cost_one_query_whatever_was_sent(client, engagement, coach, not_joined):
    client.force_login(coach)
    client.get(engagement.get_absolute_url())  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(engagement.get_absolute_url())
    for number in range(5):
        Notification.objects.create(
            key=f"invitation:{not_joined.pk}:old-{number}",
            recipient=not_joined,
            sent_at=timezone.now(),
        )
    with CaptureQueriesContext(connection) as many:
        client.get(engagement.get_absolute_url())
    assert len(many) == len(few)


def test_once_both_accepted_the_invitations_cost_no_query(client, engagement, coach):
    client.force_login(coach)
    client.get(engagement.get_absolute_url())  # warm the session
    with CaptureQueriesContext(connection) as queries:
        page = client.get(engagement.get_absolute_url()).content.decode()
    assert not [q for q in queries if "engagements_notification" in q["sql"]]
    parties = page[page.index('id="parties-title"') :].split("</section>")[0]
    assert parties.count("✓") == 2
