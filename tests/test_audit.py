"""
The tamper-evident audit log (DOMAIN.md, "Records, retention and privacy"):
append-only, each event chained to the one before by its hash, checked by
``manage.py verify_audit``, untouchable from the admin, and never forked by
concurrent writers.
"""

import io
import itertools
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from engagements import audit
from engagements.models import AuditEvent, AuditLogIsAppendOnly, Convention, Engagement
from engagements.services import convention as convention_service

from . import factories
from .conftest import move_to, require_service
from .test_convention import sign_all

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what services queue after commit (tasks run in-process in tests)."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def signed(engagement, run_on_commit):
    """The persona engagement walked to a signed, sealed convention by real actions."""
    engagement = move_to(engagement, Engagement.Status.KICKOFF)
    factories.KickoffFactory(engagement=engagement)
    factories.ObjectiveFactory(engagement=engagement, approved_by_coachee_at=timezone.now())
    convention = run_on_commit(
        convention_service.convention_send, engagement=engagement, coach=engagement.coach.user
    )
    return sign_all(convention, run_on_commit)


@pytest.fixture
def chain(signed):
    """The events written by those actions, in the order they were written."""
    events = list(AuditEvent.objects.order_by("pk"))
    assert len(events) >= 5
    return events


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# -- the chain over real actions ------------------------------------------------------


def test_real_actions_write_a_chain_that_verifies(signed, chain):
    assert signed.status == Convention.Status.SIGNED
    actions = [event.action for event in chain]
    assert actions.count(AuditEvent.Action.SIGN) == 3
    # schedule_kickoff, send_convention, activate (on sealing).
    assert actions.count(AuditEvent.Action.TRANSITION) >= 3
    signs = [event for event in chain if event.action == AuditEvent.Action.SIGN]
    assert {event.detail["role"] for event in signs} == {"coach", "coachee", "sponsor"}
    assert all(event.record_id == signed.pk for event in signs)

    assert chain[0].previous_hash == ""
    for before, after in itertools.pairwise(chain):
        assert after.previous_hash == before.hash
    for event in chain:
        assert len(event.hash) == 64
        assert event.hash == event.content_hash()

    result = audit.verify()
    assert result.ok
    assert result.broken_at is None
    assert result.checked == len(chain)
    assert result.last_hash == chain[-1].hash


def test_an_empty_log_verifies():
    result = audit.verify()
    assert result.ok and result.checked == 0 and result.last_hash == ""


def test_events_recorded_together_are_chained_in_order(db):
    written = audit.record(
        *[audit.event(action="view", record_type="report", record_id=n) for n in range(5)]
    )
    stored = list(AuditEvent.objects.order_by("pk"))
    assert [event.record_id for event in stored] == [0, 1, 2, 3, 4]
    assert [event.hash for event in stored] == [event.hash for event in written]
    for before, after in itertools.pairwise(stored):
        assert after.previous_hash == before.hash
    assert audit.verify().ok


def test_verification_reads_the_log_in_batches(monkeypatch):
    monkeypatch.setattr(audit, "VERIFY_BATCH", 3)
    for n in range(10):
        audit.log(action="view", record_type="report", record_id=n)
    assert audit.verify().checked == 10
    middle = AuditEvent.objects.order_by("pk")[6]
    raw(f"UPDATE {TABLE} SET record_id = 99 WHERE id = %s", [middle.pk])
    result = audit.verify()
    assert (result.broken_at, result.checked) == (middle.pk, 6)


# -- tampering ------------------------------------------------------------------------


def test_a_changed_row_is_named(chain):
    target = chain[len(chain) // 2]
    raw(f"UPDATE {TABLE} SET record_type = 'forged' WHERE id = %s", [target.pk])
    result = audit.verify()
    assert not result.ok
    assert result.broken_at == target.pk
    assert "changed" in result.reason
    assert result.checked == chain.index(target)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ip_address", "198.51.100.1"),
        ("action", "view"),
        ("record_id", 424242),
        ("created_at", "2001-01-01 00:00:00"),
    ],
)
def test_any_changed_column_is_detected(chain, column, value):
    target = next(event for event in chain if event.action == AuditEvent.Action.SIGN)
    raw(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, target.pk])
    assert audit.verify().broken_at == target.pk


def test_a_changed_row_whose_hash_is_recomputed_breaks_the_next_link(chain):
    target = chain[1]
    raw(f"UPDATE {TABLE} SET record_type = 'forged' WHERE id = %s", [target.pk])
    forged = AuditEvent.objects.get(pk=target.pk)
    raw(f"UPDATE {TABLE} SET hash = %s WHERE id = %s", [forged.content_hash(), target.pk])
    result = audit.verify()
    assert result.broken_at == chain[2].pk
    assert "link" in result.reason


def test_a_deleted_middle_row_names_the_next_one(chain):
    middle = len(chain) // 2
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [chain[middle].pk])
    result = audit.verify()
    assert not result.ok
    assert result.broken_at == chain[middle + 1].pk
    assert "removed" in result.reason
    assert result.checked == middle


def test_a_deleted_first_row_names_the_next_one(chain):
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [chain[0].pk])
    assert audit.verify().broken_at == chain[1].pk


def test_removing_the_last_rows_changes_the_end_of_the_chain(chain):
    """
    A truncated log is still a valid chain: it is found by comparing the end
    of the chain with the one noted before (the command prints it).
    """
    noted = audit.verify().last_hash
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [chain[-1].pk])
    result = audit.verify()
    assert result.ok
    assert result.last_hash != noted
    assert result.last_hash == chain[-2].hash


def test_the_command_passes_then_names_the_first_broken_event(chain):
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"{len(chain)} events" in out.getvalue()
    assert chain[-1].hash[:16] in out.getvalue()

    first, second = chain[2], chain[4]
    raw(f"UPDATE {TABLE} SET record_type = 'forged' WHERE id IN (%s, %s)", [first.pk, second.pk])
    with pytest.raises(CommandError) as error:
        call_command("verify_audit", stdout=io.StringIO())
    assert f"event {first.pk}:" in str(error.value)
    assert f"event {second.pk}:" not in str(error.value)


def test_the_command_names_the_event_after_a_deleted_one(chain):
    raw(f"DELETE FROM {TABLE} WHERE id = %s", [chain[3].pk])
    with pytest.raises(CommandError, match=rf"event {chain[4].pk}:"):
        call_command("verify_audit", stdout=io.StringIO())


def test_new_events_after_tampering_do_not_hide_it(chain):
    raw(f"UPDATE {TABLE} SET record_type = 'forged' WHERE id = %s", [chain[1].pk])
    audit.log(action="view", record_type="report", record_id=1)
    assert audit.verify().broken_at == chain[1].pk


# -- append-only guards --------------------------------------------------------------


def test_an_event_cannot_be_saved_again_or_deleted(chain):
    event = AuditEvent.objects.get(pk=chain[0].pk)
    event.record_type = "forged"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.save(update_fields=["record_type"])
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).record_type != "forged"


def test_querysets_cannot_update_or_delete(chain):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=chain[0].pk).update(record_type="forged")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().update(record_type="forged")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=chain[0].pk).delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    event = AuditEvent.objects.get(pk=chain[0].pk)
    event.record_type = "forged"
    with pytest.raises(AuditLogIsAppendOnly), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["record_type"])
    assert AuditEvent.objects.count() == len(chain)
    assert audit.verify().ok


def test_people_and_engagements_in_the_log_cannot_be_deleted_under_it(chain, signed):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        signed.engagement.coachee.delete()
    assert AuditEvent.objects.count() == len(chain)


# -- the admin -----------------------------------------------------------------------


@pytest.fixture
def owner(client):
    user = factories.UserFactory(email="owner@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_the_admin_shows_events_but_cannot_change_them(client, owner, chain):
    event = chain[2]
    change = reverse("admin:engagements_auditevent_change", args=[event.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert 'name="_continue"' not in page.text
    assert reverse("admin:engagements_auditevent_delete", args=[event.pk]) not in page.text

    response = client.post(change, {"record_type": "forged", "action": "view"})
    assert response.status_code == 403
    assert client.get(reverse("admin:engagements_auditevent_add")).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).record_type == event.record_type
    assert audit.verify().ok


def test_the_admin_cannot_delete_events(client, owner, chain):
    event = chain[2]
    delete = reverse("admin:engagements_auditevent_delete", args=[event.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403

    changelist = reverse("admin:engagements_auditevent_changelist")
    listing = client.get(changelist)
    assert listing.status_code == 200
    assert "delete_selected" not in listing.text
    client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [e.pk for e in chain], "post": "yes"},
    )
    assert AuditEvent.objects.count() == len(chain)
    assert audit.verify().ok


# -- concurrent writers ----------------------------------------------------------------

THREADS, EVENTS_EACH = 8, 20


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    require_service("PostgreSQL", connection.vendor == "postgresql", "the table lock needs it")
    audit.log(action="view", record_type="start")
    barrier = threading.Barrier(THREADS)
    errors = []

    def write(number):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            for n in range(EVENTS_EACH):
                audit.log(
                    action="view",
                    record_type="report",
                    record_id=n,
                    detail={"thread": number},
                )
        except Exception as error:
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=write, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = 1 + THREADS * EVENTS_EACH
    assert AuditEvent.objects.count() == total
    for number in range(THREADS):
        assert AuditEvent.objects.filter(detail__thread=number).count() == EVENTS_EACH
    result = audit.verify()
    assert result.ok, result
    assert result.checked == total
    previous = list(AuditEvent.objects.values_list("previous_hash", flat=True))
    assert len(set(previous)) == total  # no two events follow the same one: no fork
    hashes = set(AuditEvent.objects.values_list("hash", flat=True))
    assert len(hashes) == total
