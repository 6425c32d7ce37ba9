"""The coachee ends the engagement, at any time, without a reason."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagements.models import CoachingSession, Convention, Engagement

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(engagement_in):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    factories.CoachingSessionFactory(engagement=engagement, status="held")
    factories.CoachingSessionFactory.create_batch(3, engagement=engagement)
    factories.ConventionFactory(
        engagement=engagement,
        status=Convention.Status.SIGNED,
        sent_at=timezone.now(),
        signed_at=timezone.now(),
        document_sha256="e" * 64,
    )
    return engagement


def withdraw(client, engagement, **data):
    return client.post(reverse("engagement_withdraw", args=[engagement.pk]), data)


def test_withdrawal_page_asks_no_reason(client, active, coachee):
    client.force_login(coachee)
    page = client.get(reverse("engagement_withdraw", args=[active.pk]))
    assert page.status_code == 200
    assert "reason" not in page.context["form"].fields
    assert list(page.context["form"].fields) == ["closing_session_wanted"]


def test_withdrawal_stops_everything_but_keeps_the_signed_convention(
    client, active, coachee, django_capture_on_commit_callbacks
):
    client.force_login(coachee)
    with django_capture_on_commit_callbacks(execute=True):
        response = withdraw(client, active)
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == Engagement.Status.WITHDRAWN
    assert active.status_changes.latest("id").reason == ""
    sessions = active.sessions.all()
    assert {s.status for s in sessions} == {"held", "cancelled"}
    cancelled = sessions.filter(status="cancelled")
    assert all(s.cancelled_by == coachee and s.sequence == 1 for s in cancelled)
    assert active.conventions.get().status == Convention.Status.SIGNED
    # One message per party: a neutral notice to the coach and the sponsor, a
    # confirmation to the coachee.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [active.coach.user.email, active.coachee.email, active.sponsor.email]
    )
    # The cancelled sessions leave the calendars of the coach and the coachee,
    # in one file each; the sponsor attends none of them.
    cancellations = [m for m in mail.outbox if m.attachments]
    assert sorted(m.to[0] for m in cancellations) == sorted(
        [active.coach.user.email, active.coachee.email]
    )
    for message in cancellations:
        [(_name, content, _type)] = message.attachments
        assert "METHOD:CANCEL" in str(content)
        assert str(content).count("BEGIN:VEVENT") == 3


def test_a_convention_waiting_for_signatures_is_voided(
    engagement_in, coachee, client, django_capture_on_commit_callbacks
):
    engagement = engagement_in(Engagement.Status.CONTRACTING)
    convention = factories.ConventionFactory(
        engagement=engagement,
        status=Convention.Status.SENT,
        sent_at=timezone.now(),
        document_sha256="f" * 64,
    )
    client.force_login(coachee)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(client, engagement)
    convention.refresh_from_db()
    assert convention.status == Convention.Status.VOIDED
    assert convention.voided_at


def test_only_the_coach_learns_a_closing_session_is_welcome(
    client, active, coachee, django_capture_on_commit_callbacks
):
    client.force_login(coachee)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(client, active, closing_session_wanted="on")
    by_recipient = {m.to[0]: m.body for m in mail.outbox}
    coach_mail = by_recipient[active.coach.user.email]
    sponsor_mail = by_recipient[active.sponsor.email]
    assert coach_mail != sponsor_mail
    assert len(coach_mail) > len(sponsor_mail)


def test_notices_are_sent_once_even_if_the_task_runs_twice(
    active, coachee, django_capture_on_commit_callbacks
):
    from engagements.services.engagements import engagement_withdraw
    from engagements.tasks import send_withdrawal_notices

    with django_capture_on_commit_callbacks(execute=True):
        engagement_withdraw(engagement=active, coachee=coachee)
    assert len(mail.outbox) == 3
    cancelled = list(active.sessions.filter(status="cancelled").values_list("pk", flat=True))
    assert send_withdrawal_notices(active.pk, False, cancelled) == 0
    assert len(mail.outbox) == 3


def test_withdrawing_twice_is_refused_and_changes_nothing(client, active, coachee):
    client.force_login(coachee)
    withdraw(client, active)
    changes = active.status_changes.count()
    response = withdraw(client, active)
    assert response.status_code == 200
    assert active.status_changes.count() == changes


@pytest.mark.parametrize("persona", ["coach", "sponsor", "hr"], indirect=True)
def test_nobody_else_can_withdraw_the_coachee(client, active, persona):
    client.force_login(persona)
    assert withdraw(client, active).status_code == 404
    active.refresh_from_db()
    assert active.status == Engagement.Status.ACTIVE


def test_cancellation_needs_a_reason_and_informs_the_three_parties(
    client, engagement_in, sponsor, django_capture_on_commit_callbacks
):
    engagement = engagement_in(Engagement.Status.KICKOFF)
    factories.CoachingSessionFactory(engagement=engagement, kind="kickoff")
    url = reverse("engagement_cancel", args=[engagement.pk])
    client.force_login(sponsor)
    empty = client.post(url, {"reason": "   "})
    assert empty.status_code == 200 and empty.context["form"].errors
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.KICKOFF

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Poste supprimé"})
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.CANCELLED
    assert engagement.sessions.get().status == CoachingSession.Status.CANCELLED
    # One notice per party, each cancelling the kickoff in their calendar.
    assert len(mail.outbox) == 3
    assert all("Poste supprimé" in m.body for m in mail.outbox)
    assert all("METHOD:CANCEL" in str(m.attachments[0][1]) for m in mail.outbox)


def test_cancellation_after_a_development_session_is_refused_with_a_message(
    client, engagement_in, coach
):
    engagement = engagement_in(Engagement.Status.ACTIVE)
    factories.CoachingSessionFactory(engagement=engagement, status="held")
    client.force_login(coach)
    response = client.post(reverse("engagement_cancel", args=[engagement.pk]), {"reason": "Budget"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    engagement.refresh_from_db()
    assert engagement.status == Engagement.Status.ACTIVE
