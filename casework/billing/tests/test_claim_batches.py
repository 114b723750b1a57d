"""Claim batches made from signed notes: valid 837P files, numbered, immutable, made once."""

from __future__ import annotations

import datetime
import os

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from casework.billing.models import Charge, ClaimBatch, ClaimLine
from casework.billing.services.charges import ChargeError, claim_correction_request
from casework.billing.services.claims import BatchError, BatchRequest, claim_batch_create
from casework.billing.tests.x12_validation import x12_errors
from casework.notes.services import note_sign
from casework.testing.billing import billable_world, draft_note, make_billable_client
from casework.testing.personas import build_cast

DAY = datetime.date(2026, 11, 16)


@pytest.fixture
def world(cast):
    return billable_world(cast)


def _signed_charge(cast, world, *, start=(10, 0), minutes=38, client=None, code=None) -> Charge:
    note = draft_note(
        author=cast.case_manager,
        client=client or cast.client,
        code=code or world.t1016,
        day=DAY,
        start=start,
        minutes=minutes,
    )
    charge = note_sign(note=note, by=cast.case_manager, attest=True, late_reason="Demo").charge
    assert charge is not None and charge.status == Charge.Status.READY, charge.hold_reasons
    return charge


def _batch(cast, world, key: str = "") -> ClaimBatch:
    return claim_batch_create(
        agency=cast.agency,
        by=cast.billing,
        request=BatchRequest(world.payer, DAY, DAY),
        submission_key=key,
    )


@pytest.mark.django_db
def test_a_batch_is_a_valid_837p_with_every_ready_charge(cast, world):
    make_billable_client(cast.other_client, world.payer, since=datetime.date(2026, 1, 1))
    first = _signed_charge(cast, world)
    second = _signed_charge(cast, world, start=(11, 0), client=cast.other_client, code=world.h0023)

    batch = _batch(cast, world)

    assert x12_errors(batch.content) == []
    assert batch.claim_count == 2 and batch.total == first.amount + second.amount
    assert "SV1*HC:T1016*75*UN*3" in batch.content and "SV1*HC:H0023*60*UN*1" in batch.content
    assert "HI*ABK:F209" in batch.content
    assert set(Charge.objects.values_list("status", flat=True)) == {Charge.Status.BILLED}
    assert batch.is_test and "*T*:~" in batch.content.split("\n")[0]


@pytest.mark.django_db
def test_control_numbers_are_unique_and_increasing(cast, world):
    _signed_charge(cast, world)
    first = _batch(cast, world)
    _signed_charge(cast, world, start=(12, 0))
    second = _batch(cast, world)
    assert second.control_number == first.control_number + 1
    assert f"*{second.control_number:09d}*" in second.content.split("\n")[0]


@pytest.mark.django_db
def test_the_same_submission_makes_one_batch(cast, world):
    _signed_charge(cast, world)
    first = _batch(cast, world, key="double-click")
    again = _batch(cast, world, key="double-click")
    assert again.pk == first.pk and ClaimBatch.objects.count() == 1


@pytest.mark.django_db
def test_nothing_ready_gives_a_clear_message(cast, world):
    with pytest.raises(BatchError, match="No charges for Apple Health MCO are ready"):
        _batch(cast, world)


@pytest.mark.django_db
def test_a_missing_nine_digit_zip_is_named_before_any_file_is_written(cast, world):
    _signed_charge(cast, world)
    cast.agency.postal_code = "98101"
    cast.agency.save()
    with pytest.raises(BatchError, match="9-digit ZIP"):
        _batch(cast, world)
    assert Charge.objects.get().status == Charge.Status.READY


@pytest.mark.django_db
def test_a_generated_batch_cannot_be_changed(cast, world):
    _signed_charge(cast, world)
    batch = _batch(cast, world)
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        ClaimBatch.objects.filter(pk=batch.pk).update(content="ISA*tampered~")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        ClaimLine.objects.filter(batch=batch).update(amount=1)
    ClaimBatch.objects.filter(pk=batch.pk).update(submitted_at=batch.created_at)  # allowed


@pytest.mark.django_db
def test_the_cms_rule_adds_up_the_days_minutes_for_a_client_and_code(cast, world):
    first = note_sign(
        note=draft_note(
            author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY, minutes=7
        ),
        by=cast.case_manager,
        attest=True,
        late_reason="x",
    ).charge
    assert first is not None and first.units == 0 and first.status == Charge.Status.HELD
    second = _signed_charge(cast, world, start=(11, 0), minutes=7)
    third = note_sign(
        note=draft_note(
            author=cast.case_manager,
            client=cast.client,
            code=world.t1016,
            day=DAY,
            start=(12, 0),
            minutes=10,
        ),
        by=cast.case_manager,
        attest=True,
        late_reason="x",
    ).charge
    assert (second.units, third.units) == (1, 1)  # 14 minutes: 1 unit; 24 minutes: 2 units


@pytest.mark.django_db
def test_replacement_and_void_claims_carry_the_original_reference(cast, world):
    charge = _signed_charge(cast, world)
    _batch(cast, world)
    other = _signed_charge(cast, world, start=(13, 0))
    _batch(cast, world)
    with pytest.raises(ChargeError, match="claim number"):
        claim_correction_request(
            charge=charge, by=cast.billing, frequency="7", original_reference=" "
        )
    claim_correction_request(
        charge=charge, by=cast.billing, frequency="7", original_reference="PAYER123"
    )
    claim_correction_request(
        charge=other, by=cast.billing, frequency="8", original_reference="PAYER456"
    )
    with pytest.raises(ChargeError, match="already waiting"):
        claim_correction_request(
            charge=charge, by=cast.billing, frequency="8", original_reference="X"
        )

    corrections = _batch(cast, world)

    assert x12_errors(corrections.content) == []
    assert ":B:7*" in corrections.content and "REF*F8*PAYER123" in corrections.content
    assert ":B:8*" in corrections.content and "REF*F8*PAYER456" in corrections.content


@pytest.mark.django_db
def test_a_charge_not_yet_claimed_cannot_be_corrected(cast, world):
    charge = _signed_charge(cast, world)
    with pytest.raises(ChargeError, match="Only a charge that was claimed"):
        claim_correction_request(
            charge=charge, by=cast.billing, frequency="7", original_reference="P1"
        )


class RandomNotesMakeValidClaims(HypothesisTestCase):
    """Random notes (times, codes, places, diagnoses, unicode names) always give a valid file."""

    @settings(
        max_examples=8,
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        notes=st.lists(
            st.tuples(
                st.integers(min_value=8, max_value=240),  # minutes
                st.sampled_from(["12", "11", "99", "04", "53"]),
                st.booleans(),  # T1016 or H0023
            ),
            min_size=1,
            max_size=5,
        ),
        last_name=st.text(
            alphabet=st.characters(codec="utf-8", categories=["Lu", "Ll"]), min_size=1, max_size=30
        ),
        diagnoses=st.lists(
            st.sampled_from(["F20.9", "F31.9", "F33.1", "F41.1", "F10.20", "Z59.00"]),
            min_size=0,
            max_size=5,
            unique=True,
        ),
    )
    def test_random_signed_notes_make_a_valid_837p(self, notes, last_name, diagnoses) -> None:
        from casework.clients.models import Diagnosis

        cast = build_cast()
        world = billable_world(cast)
        cast.client.legal_last_name = last_name
        cast.client.save()
        for code in diagnoses:
            Diagnosis.objects.create(
                agency=cast.agency, client=cast.client, code=code, description="x"
            )
        hour = 0
        for minutes, place, timed in notes:
            note = draft_note(
                author=cast.case_manager,
                client=cast.client,
                code=world.t1016 if timed else world.h0023,
                day=DAY,
                start=(hour, 0),
                minutes=minutes,
                place=place,
            )
            note_sign(note=note, by=cast.case_manager, attest=True, late_reason="Test")
            hour += 5
        try:
            batch = claim_batch_create(
                agency=cast.agency, by=cast.billing, request=BatchRequest(world.payer, DAY, DAY)
            )
        except BatchError:
            # Nothing writable (e.g. a name with no letter X12 can carry): all held, with why.
            held = Charge.objects.filter(status=Charge.Status.HELD)
            assert held.count() == len(notes)
            assert {h["code"] for c in held for h in c.hold_reasons} <= {"claim_data", "zero_units"}
            return
        assert x12_errors(batch.content) == []
        # Under the CMS rule a short contact may add no unit to the day: it waits, held.
        billed = Charge.objects.filter(status=Charge.Status.BILLED).count()
        held_count = Charge.objects.filter(status=Charge.Status.HELD).count()
        assert batch.claim_count == billed and billed + held_count == len(notes)


@pytest.mark.django_db
def test_one_charge_with_bad_claim_data_is_held_and_the_rest_are_billed(cast, world):
    make_billable_client(cast.other_client, world.payer, since=datetime.date(2026, 1, 1))
    good = _signed_charge(cast, world)
    cast.other_client.address_line1, cast.other_client.city = "1 Elm St", "Tacoma"
    cast.other_client.state, cast.other_client.postal_code = "WA", "9840"  # a typo
    cast.other_client.save()
    bad = _signed_charge(cast, world, start=(12, 0), client=cast.other_client)

    batch = _batch(cast, world)

    assert x12_errors(batch.content) == [] and batch.claim_count == 1
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == Charge.Status.BILLED
    assert bad.status == Charge.Status.HELD and "postal_code" in bad.hold_reasons[0]["message"]


@pytest.mark.django_db
def test_a_void_claim_ends_the_charge_and_frees_the_note(cast, world):
    from casework.notes.services import note_void

    charge = _signed_charge(cast, world)
    _batch(cast, world)
    claim_correction_request(charge=charge, by=cast.billing, frequency="8", original_reference="P9")
    _batch(cast, world)
    charge.refresh_from_db()
    assert charge.status == Charge.Status.VOID
    with pytest.raises(ChargeError, match="Only a charge that was claimed"):
        claim_correction_request(
            charge=charge, by=cast.billing, frequency="7", original_reference="P9"
        )
    note_void(note=charge.note, by=cast.case_manager, reason="Entered for the wrong day")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_a_charge_voided_while_the_batch_is_made_undoes_the_batch(cast, world):
    import threading
    import time

    charge = _signed_charge(cast, world)
    locked, release = threading.Event(), threading.Event()

    def void_meanwhile() -> None:
        try:
            with transaction.atomic():
                Charge.objects.select_for_update().get(pk=charge.pk)
                locked.set()
                release.wait(5)
                time.sleep(0.3)  # let the batch reach its UPDATE and wait on this row
                Charge.objects.filter(pk=charge.pk).update(status=Charge.Status.VOID)
        finally:
            connection.close()

    thread = threading.Thread(target=void_meanwhile)
    thread.start()
    locked.wait(5)
    release.set()
    with pytest.raises(BatchError, match="changed while the batch was being made"):
        _batch(cast, world)
    thread.join()
    assert ClaimBatch.objects.count() == 0
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.VOID
