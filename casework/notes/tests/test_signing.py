"""Signing a note: what it checks, what it locks, and the one charge it makes."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from casework.billing.models import Authorization, Charge
from casework.billing.services.charges import charge_recheck
from casework.clients.models import Coverage, Diagnosis
from casework.core.models import Credential
from casework.notes.models import Addendum, Note
from casework.notes.services import (
    NoteError,
    addendum_add,
    note_cosign,
    note_save_draft,
    note_sign,
    note_void,
)
from casework.testing.billing import billable_world, draft_note, local

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 16)


@pytest.fixture
def world(cast):
    return billable_world(cast)


def _sign(note, by, **kwargs):
    return note_sign(
        note=note, by=by, attest=True, late_reason="Caught up after a crisis week.", **kwargs
    )


def test_signing_a_billable_note_makes_one_ready_charge(cast, world):
    note = draft_note(
        author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY, minutes=38
    )

    signed = _sign(note, cast.case_manager)

    charge = signed.charge
    assert charge is not None and charge.status == Charge.Status.READY, charge.hold_reasons
    assert (charge.minutes, charge.units, charge.amount) == (38, 3, Decimal("75.00"))
    assert charge.payer == world.payer and charge.diagnosis_codes == ["F20.9"]
    assert signed.note.status == Note.Status.SIGNED and signed.note.minutes == 38


def test_signing_twice_creates_one_charge(cast, world):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    first = _sign(note, cast.case_manager)
    second = _sign(note, cast.case_manager)
    assert second.already_signed and second.charge == first.charge
    assert Charge.objects.filter(note=note).count() == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_two_tabs_signing_at_once_make_one_charge(cast, world):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def sign() -> None:
        try:
            barrier.wait()
            _sign(Note.objects.get(pk=note.pk), cast.case_manager)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Charge.objects.filter(note=note).count() == 1


def test_signed_content_cannot_change_through_the_orm_or_raw_sql(cast, world):
    note = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY),
        cast.case_manager,
    ).note
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(sections={"data": "rewritten"})
    with (
        pytest.raises((IntegrityError, DatabaseError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE notes_note SET present = 'someone else' WHERE id = %s", [note.pk])
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(status="draft")
    note.refresh_from_db()
    assert note.sections["data"] == "Met at home." and note.present == ""


@pytest.mark.parametrize(
    "change",
    [{"medication_adherence": "stopped"}, {"events": ["er_visit"]}, {"mileage": 99}],
)
def test_the_risk_fields_of_a_signed_note_are_locked_too(cast, world, change):
    note = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY),
        cast.case_manager,
    ).note
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(**change)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_signed_note_cannot_be_deleted_with_raw_sql_on_postgresql(cast, world):
    note = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=None, day=DAY),
        cast.case_manager,
    ).note
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM notes_note WHERE id = %s", [note.pk])


def test_a_signed_note_refuses_a_draft_save(cast, world):
    note = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY),
        cast.case_manager,
    ).note
    with pytest.raises(NoteError, match="addendum"):
        note_save_draft(
            note=note, by=cast.case_manager, data={"present": "x"}, expected_version=note.version
        )


def test_an_addendum_keeps_the_original(cast, world):
    note = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY),
        cast.case_manager,
    ).note
    addendum_add(note=note, by=cast.case_manager, text="Client also asked about SNAP.")
    note.refresh_from_db()
    assert note.sections["data"] == "Met at home."
    assert Addendum.objects.get(note=note).text == "Client also asked about SNAP."
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Addendum.objects.filter(note=note).update(text="changed")


def test_overlapping_billable_minutes_are_refused(cast, world):
    from casework.testing.billing import make_billable_client

    make_billable_client(cast.other_client, world.payer, since=datetime.date(2026, 1, 1))
    _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY),
        cast.case_manager,
    )
    overlapping = draft_note(
        author=cast.case_manager,
        client=cast.other_client,
        code=world.t1016,
        day=DAY,
        start=(10, 29),
    )
    with pytest.raises(NoteError, match="overlap") as raised:
        _sign(overlapping, cast.case_manager)
    assert raised.value.field == "start_time"
    touching = draft_note(
        author=cast.case_manager,
        client=cast.other_client,
        code=world.t1016,
        day=DAY,
        start=(10, 30),
    )
    assert _sign(touching, cast.case_manager).charge is not None


def test_group_notes_may_share_minutes(cast, world):
    from casework.notes.services import NoteStart, group_session_create
    from casework.testing.billing import make_billable_client

    make_billable_client(cast.other_client, world.payer, since=datetime.date(2026, 1, 1))
    start = local(DAY, 13, agency=cast.agency)
    session = group_session_create(
        author=cast.case_manager,
        clients=[cast.client, cast.other_client],
        topic="Budgeting group",
        start=NoteStart(
            service_date=DAY,
            start_at=start,
            end_at=start + datetime.timedelta(minutes=60),
            place_of_service="53",
            service_code_id=world.t1016.pk,
        ),
        shared_text="Six members practised a weekly budget.",
    )
    charges = []
    for note in session.notes.all():
        note = note_save_draft(
            note=note,
            by=cast.case_manager,
            data={
                "sections": {"data": "Took part.", "assessment": "Engaged.", "plan": "Next week."}
            },
            expected_version=note.version,
        )
        charges.append(_sign(note, cast.case_manager).charge)
    assert all(c is not None and c.units == 4 for c in charges)
    assert {n.shared_text for n in Note.objects.filter(group=session)} == {
        "Six members practised a weekly budget."
    }


@pytest.mark.parametrize(
    ("minutes", "message"),
    [(12 * 60 + 1, "longer than 12 hours")],
)
def test_impossible_durations_are_refused(cast, world, minutes, message):
    note = draft_note(
        author=cast.case_manager,
        client=cast.client,
        code=world.t1016,
        day=DAY,
        start=(6, 0),
        minutes=minutes,
    )
    with pytest.raises(NoteError, match=message):
        _sign(note, cast.case_manager)


def test_zero_minutes_are_refused_before_saving(cast, world):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    with pytest.raises(NoteError, match="after the start"):
        note_save_draft(
            note=note,
            by=cast.case_manager,
            data={"end_at": note.start_at},
            expected_version=note.version,
        )


def test_a_future_service_cannot_be_signed(cast, world):
    tomorrow = cast.agency.today() + datetime.timedelta(days=1)
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=tomorrow)
    with pytest.raises(NoteError, match="future"):
        _sign(note, cast.case_manager)


def test_crossing_midnight_counts_the_true_minutes(cast, world):
    note = draft_note(
        author=cast.case_manager,
        client=cast.client,
        code=world.t1016,
        day=DAY,
        start=(23, 30),
        minutes=45,
    )
    signed = _sign(note, cast.case_manager)
    assert signed.note.minutes == 45 and signed.note.service_date == DAY
    assert signed.charge is not None and signed.charge.units == 3


def test_the_night_clocks_fall_back_is_an_hour_longer(cast, world):
    fall_back = datetime.date(2026, 11, 1)  # 02:00 PDT becomes 01:00 PST
    start = local(fall_back, 0, 30, agency=cast.agency)
    end = local(fall_back, 2, 30, agency=cast.agency)
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=fall_back)
    note = note_save_draft(
        note=note,
        by=cast.case_manager,
        data={"start_at": start, "end_at": end},
        expected_version=note.version,
    )
    assert note.duration_minutes == 180


def test_late_notes_need_a_reason(cast, world):
    old_day = cast.agency.today() - datetime.timedelta(days=cast.agency.late_note_days + 2)
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=old_day)
    with pytest.raises(NoteError, match="late") as raised:
        note_sign(note=note, by=cast.case_manager, attest=True)
    assert raised.value.field == "late_reason"
    signed = note_sign(
        note=note, by=cast.case_manager, attest=True, late_reason="Hospital all week."
    )
    assert signed.note.late_reason == "Hospital all week."


def test_signing_needs_the_attestation_and_every_required_section(cast, world):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    with pytest.raises(NoteError, match="attestation"):
        note_sign(note=note, by=cast.case_manager, attest=False)
    note = note_save_draft(
        note=note,
        by=cast.case_manager,
        data={"sections": {"data": "x", "assessment": "   ", "plan": "y"}},
        expected_version=note.version,
    )
    with pytest.raises(NoteError, match="Assessment") as raised:
        _sign(note, cast.case_manager)
    assert raised.value.field == "section_assessment"


def test_a_narrative_over_100_kb_is_refused_with_a_message(cast, world):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    with pytest.raises(NoteError, match="100,000"):
        note_save_draft(
            note=note,
            by=cast.case_manager,
            data={"sections": {"data": "ü" * 100_001}},
            expected_version=note.version,
        )


def test_a_stale_draft_is_refused(cast, world):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    note_save_draft(
        note=note, by=cast.case_manager, data={"present": "client"}, expected_version=note.version
    )
    with pytest.raises(NoteError, match="another tab"):
        note_save_draft(
            note=note, by=cast.case_manager, data={"present": "x"}, expected_version=note.version
        )


def test_no_show_is_never_billable(cast, world):
    note = draft_note(
        author=cast.case_manager,
        client=cast.client,
        code=world.t1016,
        day=DAY,
        contact_type="no_show",
    )
    with pytest.raises(NoteError, match="never billable"):
        _sign(note, cast.case_manager)
    note = note_save_draft(
        note=note, by=cast.case_manager, data={"service_code": None}, expected_version=note.version
    )
    assert _sign(note, cast.case_manager).charge is None


def _held(cast, world, **kwargs) -> Charge:
    note = draft_note(
        author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY, **kwargs
    )
    charge = _sign(note, cast.case_manager).charge
    assert charge is not None and charge.status == Charge.Status.HELD
    return charge


def test_no_coverage_holds_the_charge_until_coverage_is_added(cast, world):
    Coverage.objects.filter(client=cast.client).update(start_on=DAY + datetime.timedelta(days=1))
    charge = _held(cast, world)
    assert [h["code"] for h in charge.hold_reasons] == ["no_coverage"]
    Coverage.objects.filter(client=cast.client).update(start_on=DAY)
    assert charge_recheck(charge=charge, by=cast.billing).status == Charge.Status.READY


def test_an_expired_credential_holds_the_charge(cast, world):
    Credential.objects.filter(user=cast.case_manager).update(
        expires_on=DAY - datetime.timedelta(days=1)
    )
    charge = _held(cast, world)
    assert "credential" in [h["code"] for h in charge.hold_reasons]


def test_a_missing_diagnosis_holds_the_charge(cast, world):
    Diagnosis.objects.filter(client=cast.client).update(
        resolved_on=DAY - datetime.timedelta(days=1)
    )
    charge = _held(cast, world)
    assert [h["code"] for h in charge.hold_reasons] == ["no_diagnosis"]


def test_an_exhausted_authorization_holds_the_charge(cast, world):
    world.payer.requires_authorization = True
    world.payer.save()
    authorization = Authorization.objects.create(
        agency=cast.agency,
        client=cast.client,
        payer=world.payer,
        number="PA-1",
        units=4,
        start_on=DAY - datetime.timedelta(days=30),
        end_on=DAY + datetime.timedelta(days=30),
    )
    authorization.service_codes.add(world.t1016)
    first = _sign(
        draft_note(
            author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY, minutes=45
        ),
        cast.case_manager,
    ).charge
    assert (
        first is not None
        and first.status == Charge.Status.READY
        and first.authorization == authorization
    )
    second = _held(cast, world, start=(14, 0), minutes=30)
    assert [h["code"] for h in second.hold_reasons] == ["authorization_exhausted"]
    assert "1 units left" in second.hold_reasons[0]["message"]
    used = Charge.objects.filter(authorization=authorization, status="ready").aggregate(
        u=Sum("units")
    )
    assert used["u"] == 3


def test_no_authorization_holds_when_the_payer_requires_one(cast, world):
    world.payer.requires_authorization = True
    world.payer.save()
    charge = _held(cast, world)
    assert [h["code"] for h in charge.hold_reasons] == ["no_authorization"]


def test_a_supervised_author_waits_for_the_cosignature(cast, world):
    Credential.objects.filter(user=cast.case_manager).update(supervision_required=True)
    charge = _held(cast, world)
    assert [h["code"] for h in charge.hold_reasons] == ["cosign"]
    with pytest.raises(NoteError, match="supervisor"):
        note_cosign(note=charge.note, by=cast.colleague)
    note_cosign(note=charge.note, by=cast.supervisor)
    charge.refresh_from_db()
    assert charge.status == Charge.Status.READY


def test_voiding_a_note_voids_its_unbilled_charge_and_keeps_the_record(cast, world):
    signed = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY),
        cast.case_manager,
    )
    with pytest.raises(NoteError, match="why"):
        note_void(note=signed.note, by=cast.case_manager, reason="  ")
    note_void(note=signed.note, by=cast.case_manager, reason="Wrong client")
    note = Note.objects.get(pk=signed.note.pk)
    assert note.status == Note.Status.VOID and note.sections["data"] == "Met at home."
    assert Charge.objects.get(note=note).status == Charge.Status.VOID


def test_signing_runs_a_constant_number_of_queries(cast, world):
    def queries_to_sign(hour: int) -> int:
        note = draft_note(
            author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY, start=(hour, 0)
        )
        with CaptureQueriesContext(connection) as captured:
            _sign(note, cast.case_manager)
        return len(captured)

    first = queries_to_sign(6)
    for hour in range(7, 12):
        draft = draft_note(
            author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY, start=(hour, 0)
        )
        _sign(draft, cast.case_manager)
    assert queries_to_sign(13) == first


def test_void_and_cosignature_facts_are_written_once(cast, world):
    note = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=None, day=DAY),
        cast.case_manager,
    ).note
    note_void(note=note, by=cast.case_manager, reason="Wrong day")
    for change in ({"status": "signed"}, {"void_reason": ""}, {"voided_at": None}):
        with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
            Note.objects.filter(pk=note.pk).update(**change)
    Note.objects.filter(pk=note.pk).update(cosigned_by=cast.supervisor, cosigned_at=note.signed_at)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Note.objects.filter(pk=note.pk).update(cosigned_by=cast.admin)


def test_a_billed_charge_cannot_be_changed(cast, world):
    from casework.billing.services.claims import BatchRequest, claim_batch_create

    charge = _sign(
        draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY),
        cast.case_manager,
    ).charge
    claim_batch_create(
        agency=cast.agency, by=cast.billing, request=BatchRequest(world.payer, DAY, DAY)
    )
    for change in ({"units": 9}, {"amount": Decimal("1.00")}, {"status": "ready"}):
        with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
            Charge.objects.filter(pk=charge.pk).update(**change)


def test_fixing_the_cause_on_the_chart_releases_the_held_charge(cast, world):
    from casework.clients.services import chart_record_save
    from casework.core.services import credential_save

    Coverage.objects.filter(client=cast.client).delete()
    Credential.objects.filter(user=cast.case_manager).update(
        expires_on=DAY - datetime.timedelta(days=1)
    )
    charge = _held(cast, world)
    # No current credential on the day also means the note needs a supervisor's co-signature.
    assert {h["code"] for h in charge.hold_reasons} == {"no_coverage", "credential", "cosign"}

    coverage = Coverage(payer=world.payer, member_id="M1", start_on=DAY)
    chart_record_save(client=cast.client, record=coverage, by=cast.case_manager, summary="Coverage")
    charge.refresh_from_db()
    assert {h["code"] for h in charge.hold_reasons} == {"credential", "cosign"}

    credential = Credential.objects.get(user=cast.case_manager)
    credential.expires_on = DAY + datetime.timedelta(days=365)
    credential_save(credential=credential, by=cast.admin)
    charge.refresh_from_db()
    assert [h["code"] for h in charge.hold_reasons] == ["cosign"]
    note_cosign(note=charge.note, by=cast.supervisor)
    charge.refresh_from_db()
    assert charge.status == Charge.Status.READY
