"""The audit log is append-only (the database says no) and hash-chained (audit_verify finds tampering)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from casework.core.audit import Action, audit_chain_breaks, audit_record
from casework.core.models import AuditEvent
from casework.testing.personas import Cast


def _drop_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER core_auditevent_no_update_delete ON core_auditevent")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("DROP TRIGGER core_auditevent_no_delete")


@pytest.mark.django_db
def test_entries_link_to_the_previous_entry_of_their_agency(cast: Cast) -> None:
    first = audit_record(
        actor=cast.case_manager, action=Action.VIEW, obj=cast.client, client_id=cast.client.pk
    )
    second = audit_record(
        actor=cast.case_manager, action=Action.VIEW, obj=cast.client, client_id=cast.client.pk
    )
    other = audit_record(actor=cast.outsider_cm, action=Action.VIEW, obj=cast.outsider_client)
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
    assert other.chain == cast.outsider_agency.pk != first.chain


@pytest.mark.django_db
def test_database_refuses_update(cast: Cast) -> None:
    event = audit_record(actor=cast.admin, action=Action.VIEW, obj=cast.client)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")


@pytest.mark.django_db
def test_database_refuses_delete(cast: Cast) -> None:
    event = audit_record(actor=cast.admin, action=Action.VIEW, obj=cast.client)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_refuses_truncate(cast: Cast) -> None:
    audit_record(actor=cast.admin, action=Action.VIEW, obj=cast.client)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE core_auditevent")


@pytest.mark.django_db
def test_verify_passes_on_an_intact_log(cast: Cast, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        audit_record(actor=cast.case_manager, action=Action.VIEW, obj=cast.client)
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_names_the_first_changed_entry(cast: Cast) -> None:
    events = [
        audit_record(actor=cast.case_manager, action=Action.VIEW, obj=cast.client) for _ in range(4)
    ]
    _drop_triggers()  # as an attacker with table rights would; rolled back with the test
    AuditEvent.objects.filter(pk=events[1].pk).update(actor_label="nobody@example.org")
    breaks = list(audit_chain_breaks())
    assert [(b.event_id, "changed" in b.reason) for b in breaks] == [(events[1].pk, True)]
    with pytest.raises(CommandError, match="broken"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_verify_notices_a_removed_entry(cast: Cast) -> None:
    events = [
        audit_record(actor=cast.case_manager, action=Action.VIEW, obj=cast.client) for _ in range(3)
    ]
    _drop_triggers()
    AuditEvent.objects.filter(pk=events[1].pk).delete()
    (only_break,) = list(audit_chain_breaks())
    assert only_break.event_id == events[2].pk and "missing" in only_break.reason
