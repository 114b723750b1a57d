"""The billing API from every side: charges and claim batches for billing staff only, the
actions that go through the billing services, retried batch requests, bad input."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.billing.models import Charge, ClaimBatch, ClaimLine, Payer
from casework.billing.services.claims import BatchRequest, claim_batch_create
from casework.clients.models import Diagnosis
from casework.core.models import AuditEvent, User
from casework.notes.models import Note
from casework.notes.services import note_sign
from casework.testing.billing import Billable, billable_world, draft_note
from casework.testing.personas import Cast

ApiAs = Callable[[User | None], APIClient]
CHARGES = "/api/v1/charges/"
BATCHES = "/api/v1/claim-batches/"


@pytest.fixture
def world(cast: Cast) -> Billable:
    return billable_world(cast)


@pytest.fixture
def day(cast: Cast) -> datetime.date:
    return cast.agency.today() - datetime.timedelta(days=2)


def ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def signed_charge(
    cast: Cast,
    world: Billable,
    day: datetime.date,
    *,
    start: tuple[int, int] = (10, 0),
    minutes: int = 30,
) -> Charge:
    note = draft_note(
        author=cast.case_manager,
        client=cast.client,
        code=world.t1016,
        day=day,
        start=start,
        minutes=minutes,
    )
    charge = note_sign(note=note, by=cast.case_manager, attest=True, late_reason="Late.").charge
    assert charge is not None
    return charge


def batch_body(world: Billable, day: datetime.date, **extra: object) -> dict[str, object]:
    return {
        "payer": world.payer.pk,
        "service_from": day.isoformat(),
        "service_to": day.isoformat(),
        **extra,
    }


def a_batch(cast: Cast, world: Billable, day: datetime.date) -> ClaimBatch:
    return claim_batch_create(
        agency=cast.agency,
        by=cast.billing,
        request=BatchRequest(payer=world.payer, service_from=day, service_to=day),
    )


# --- who may use billing ----------------------------------------------------------------------


def test_anonymous_gets_401_on_every_billing_route(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    charge = signed_charge(cast, world, day)
    batch = a_batch(cast, world, day)
    http = api_as(None)
    responses = [
        http.get(CHARGES),
        http.get(f"{CHARGES}{charge.pk}/"),
        http.post(f"{CHARGES}{charge.pk}/recheck/"),
        http.post(f"{CHARGES}{charge.pk}/void/", {"reason": "x"}, format="json"),
        http.get(BATCHES),
        http.post(BATCHES, batch_body(world, day), format="json"),
        http.get(f"{BATCHES}{batch.pk}/"),
        http.get(f"{BATCHES}{batch.pk}/file/"),
        http.post(f"{BATCHES}{batch.pk}/submit/"),
    ]
    assert [r.status_code for r in responses] == [401] * len(responses)


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "auditor"])
def test_people_who_do_not_bill_get_403(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs, persona: str
) -> None:
    charge = signed_charge(cast, world, day)
    http = api_as(getattr(cast, persona))
    responses = [
        http.get(CHARGES),
        http.get(f"{CHARGES}{charge.pk}/"),
        http.post(f"{CHARGES}{charge.pk}/void/", {"reason": "x"}, format="json"),
        http.post(f"{CHARGES}{charge.pk}/recheck/"),
        http.post(
            f"{CHARGES}{charge.pk}/corrections/",
            {"frequency": "8", "original_reference": "X"},
            format="json",
        ),
        http.get(BATCHES),
        http.post(BATCHES, batch_body(world, day), format="json"),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert responses[0].json()["detail"] == "Your role does not include billing."
    assert not ClaimBatch.objects.exists()
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.READY


def test_another_agency_gets_404_and_sees_none_of_it(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    charge = signed_charge(cast, world, day)
    batch = a_batch(cast, world, day)
    http = api_as(cast.outsider_admin)
    assert ids(http.get(CHARGES)) == set() and ids(http.get(BATCHES)) == set()
    assert http.get(f"{CHARGES}{charge.pk}/").status_code == 404
    assert (
        http.post(f"{CHARGES}{charge.pk}/void/", {"reason": "x"}, format="json").status_code == 404
    )
    assert http.post(f"{CHARGES}{charge.pk}/recheck/").status_code == 404
    assert http.get(f"{BATCHES}{batch.pk}/").status_code == 404
    assert http.get(f"{BATCHES}{batch.pk}/file/").status_code == 404
    assert http.post(f"{BATCHES}{batch.pk}/submit/").status_code == 404
    refused = http.post(BATCHES, batch_body(world, day), format="json")
    assert refused.status_code == 400 and "payer" in refused.json()
    batch.refresh_from_db()
    assert batch.submitted_at is None
    assert not AuditEvent.objects.filter(actor_id=cast.outsider_admin.pk, action="export").exists()


# --- charges -----------------------------------------------------------------------------------


def test_billing_reads_a_charge(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    charge = signed_charge(cast, world, day)
    body = api_as(cast.billing).get(f"{CHARGES}{charge.pk}/").json()
    assert body["note_id"] == charge.note_id and body["client_id"] == cast.client.pk
    assert (body["status"], body["units"], body["amount"], body["rate"]) == (
        "ready",
        2,
        "50.00",
        "25.00",
    )
    assert (body["service_code"], body["payer_id"]) == ("T1016", world.payer.pk)
    assert body["diagnosis_codes"] == ["F20.9"] and body["holds"] == []
    assert body["claim_number"] == f"CW{cast.agency.pk}-{charge.pk}"
    assert AuditEvent.objects.filter(
        action="view", actor_id=cast.billing.pk, client_id=cast.client.pk
    ).exists()


def test_admins_bill_too(cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs) -> None:
    charge = signed_charge(cast, world, day)
    assert ids(api_as(cast.admin).get(CHARGES)) == {charge.pk}


def test_charges_filter_by_status_payer_client_and_dates(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    ready = signed_charge(cast, world, day)
    earlier = day - datetime.timedelta(days=1)
    Diagnosis.objects.filter(client=cast.client).delete()
    held = signed_charge(cast, world, earlier)
    assert held.status == Charge.Status.HELD
    other_payer = Payer.objects.create(agency=cast.agency, name="Grant", kind=Payer.Kind.GRANT)
    http = api_as(cast.billing)
    assert ids(http.get(CHARGES, {"status": "held"})) == {held.pk}
    assert ids(http.get(CHARGES, {"status": "ready"})) == {ready.pk}
    assert ids(http.get(CHARGES, {"status": "billed"})) == set()
    assert ids(http.get(CHARGES, {"payer": world.payer.pk})) == {ready.pk, held.pk}
    assert ids(http.get(CHARGES, {"payer": other_payer.pk})) == set()
    assert ids(http.get(CHARGES, {"client": cast.client.pk})) == {ready.pk, held.pk}
    assert ids(http.get(CHARGES, {"service_from": day.isoformat()})) == {ready.pk}
    assert ids(http.get(CHARGES, {"service_to": earlier.isoformat()})) == {held.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "paid"}, "status"),
        ({"payer": "abc"}, "payer"),
        ({"service_from": "2026-11-31"}, "service_from"),
        ({"service_from": "2026-11-20", "service_to": "2026-11-19"}, "service_to"),
        ({"service_to": ""}, "service_to"),
    ],
)
def test_bad_charge_filters_are_a_400(
    cast: Cast, api_as: ApiAs, params: dict[str, str], field: str
) -> None:
    response = api_as(cast.billing).get(CHARGES, params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_held_charge_is_released_by_a_recheck_once_fixed(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    diagnosis = Diagnosis.objects.get(client=cast.client)
    Diagnosis.objects.filter(pk=diagnosis.pk).delete()
    charge = signed_charge(cast, world, day)
    http = api_as(cast.billing)
    still = http.post(f"{CHARGES}{charge.pk}/recheck/")
    assert still.status_code == 200
    assert [h["code"] for h in still.json()["holds"]] == ["no_diagnosis"]
    diagnosis.pk = None
    diagnosis.save()
    released = http.post(f"{CHARGES}{charge.pk}/recheck/")
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["holds"]) == ("ready", [])


def test_voiding_a_charge_needs_a_reason(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    charge = signed_charge(cast, world, day)
    http = api_as(cast.billing)
    empty = http.post(f"{CHARGES}{charge.pk}/void/", {"reason": "  "}, format="json")
    missing = http.post(f"{CHARGES}{charge.pk}/void/", {}, format="json")
    assert empty.status_code == 400
    assert empty.json() == {"non_field_errors": ["Say why the charge is void."]}
    assert missing.status_code == 400 and "reason" in missing.json()
    done = http.post(f"{CHARGES}{charge.pk}/void/", {"reason": "Duplicate."}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["void_reason"]) == ("void", "Duplicate.")
    assert Note.objects.get(pk=charge.note_id).status == Note.Status.SIGNED


def test_a_billed_charge_is_corrected_with_the_payer_not_voided(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    charge = signed_charge(cast, world, day)
    a_batch(cast, world, day)
    http = api_as(cast.billing)
    voided = http.post(f"{CHARGES}{charge.pk}/void/", {"reason": "x"}, format="json")
    assert voided.status_code == 400 and "void claim" in voided.json()["non_field_errors"][0]
    url = f"{CHARGES}{charge.pk}/corrections/"
    queued = http.post(
        url, {"frequency": "8", "original_reference": "2026111600001"}, format="json"
    )
    assert queued.status_code == 201, queued.json()
    assert queued.json()["batch_id"] is None and queued.json()["frequency"] == "8"
    again = http.post(url, {"frequency": "7", "original_reference": "2026111600001"}, format="json")
    assert again.status_code == 400 and "already waiting" in again.json()["non_field_errors"][0]
    claims = http.get(f"{CHARGES}{charge.pk}/").json()["claim_lines"]
    assert [c["frequency"] for c in claims] == ["1", "8"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"frequency": "1", "original_reference": "A1"}, "frequency", "is not a valid choice"),
        ({"frequency": 8, "original_reference": "A1"}, "frequency", "is not a valid choice"),
        ({"frequency": "8", "original_reference": " "}, "non_field_errors", "payer's claim number"),
        ({"frequency": "8", "original_reference": "x" * 51}, "original_reference", "no more than"),
    ],
)
def test_bad_corrections_are_a_400_with_a_message(
    cast: Cast,
    world: Billable,
    day: datetime.date,
    api_as: ApiAs,
    body: dict[str, object],
    field: str,
    message: str,
) -> None:
    charge = signed_charge(cast, world, day)
    a_batch(cast, world, day)
    response = api_as(cast.billing).post(f"{CHARGES}{charge.pk}/corrections/", body, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not ClaimLine.objects.filter(frequency="8").exists()


def test_an_unclaimed_charge_has_nothing_to_correct(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    charge = signed_charge(cast, world, day)
    response = api_as(cast.billing).post(
        f"{CHARGES}{charge.pk}/corrections/",
        {"frequency": "7", "original_reference": "A1"},
        format="json",
    )
    assert response.status_code == 400
    assert "Only a charge that was claimed" in response.json()["non_field_errors"][0]


# --- claim batches -----------------------------------------------------------------------------


def test_billing_makes_a_batch_of_the_ready_charges(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    charge = signed_charge(cast, world, day)
    response = api_as(cast.billing).post(BATCHES, batch_body(world, day), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    batch = ClaimBatch.objects.get()
    assert body["id"] == batch.pk and "content" not in body
    assert (body["claim_count"], body["total"], body["payer_id"]) == (1, "50.00", world.payer.pk)
    assert body["filename"] == batch.filename and body["sha256"] == batch.sha256
    assert Charge.objects.get(pk=charge.pk).status == Charge.Status.BILLED


def test_the_same_idempotency_key_twice_makes_one_batch(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed_charge(cast, world, day)
    http = api_as(cast.billing)
    headers = {"Idempotency-Key": "batch-2026-11-retry"}
    first = http.post(BATCHES, batch_body(world, day), format="json", headers=headers)
    second = http.post(BATCHES, batch_body(world, day), format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert ClaimBatch.objects.count() == 1
    # Without the key, a second request finds nothing left to claim.
    third = http.post(BATCHES, batch_body(world, day), format="json")
    assert third.status_code == 400 and "No charges" in third.json()["non_field_errors"][0]


def test_a_malformed_batch_idempotency_key_is_refused(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed_charge(cast, world, day)
    response = api_as(cast.billing).post(
        BATCHES, batch_body(world, day), format="json", headers={"Idempotency-Key": "ü" * 3}
    )
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not ClaimBatch.objects.exists()


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"service_from": "2026-11-31"}, "service_from", "Date has wrong format"),
        ({"service_to": "11/16/2026"}, "service_to", "Date has wrong format"),
        ({"service_from": "2026-11-20", "service_to": "2026-11-01"}, "service_to", "before"),
        ({"payer": 999_999_999}, "payer", "No payer of your agency"),
        ({"payer": "1"}, "payer", "valid integer"),
        ({"payer": None}, "payer", "may not be null"),
    ],
)
def test_bad_batch_input_is_a_400_naming_the_field(
    cast: Cast,
    world: Billable,
    day: datetime.date,
    api_as: ApiAs,
    extra: dict[str, object],
    field: str,
    message: str,
) -> None:
    signed_charge(cast, world, day)
    response = api_as(cast.billing).post(BATCHES, batch_body(world, day, **extra), format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not ClaimBatch.objects.exists()


def test_an_incomplete_claims_set_up_is_named(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed_charge(cast, world, day)
    Payer.objects.filter(pk=world.payer.pk).update(payer_id="")
    response = api_as(cast.billing).post(BATCHES, batch_body(world, day), format="json")
    assert response.status_code == 400
    assert "X12 payer id" in response.json()["non_field_errors"][0]


def test_the_file_downloads_as_text_and_the_download_is_audited(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed_charge(cast, world, day)
    batch = a_batch(cast, world, day)
    http = api_as(cast.billing)
    for accept in ("*/*", "text/plain", "application/json"):
        response = http.get(f"{BATCHES}{batch.pk}/file/", HTTP_ACCEPT=accept)
        assert response.status_code == 200, accept
        assert response["Content-Type"].startswith("text/plain")
        assert response["Content-Disposition"] == f'attachment; filename="{batch.filename}"'
        assert response.content.decode() == batch.content
    assert batch.content.startswith("ISA*")
    downloads = AuditEvent.objects.filter(action="export", actor_id=cast.billing.pk)
    assert downloads.count() == 3


def test_marking_a_batch_submitted_happens_once(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed_charge(cast, world, day)
    batch = a_batch(cast, world, day)
    http = api_as(cast.billing)
    first = http.post(f"{BATCHES}{batch.pk}/submit/")
    second = http.post(f"{BATCHES}{batch.pk}/submit/")
    assert first.status_code == second.status_code == 200
    assert first.json()["submitted_by_id"] == cast.billing.pk
    assert first.json()["submitted_at"] == second.json()["submitted_at"] is not None


def test_batches_list_and_filter_by_payer(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed_charge(cast, world, day)
    batch = a_batch(cast, world, day)
    http = api_as(cast.billing)
    assert ids(http.get(BATCHES)) == {batch.pk}
    assert ids(http.get(BATCHES, {"payer": world.payer.pk})) == {batch.pk}
    assert ids(http.get(BATCHES, {"payer": world.payer.pk + 1000})) == set()
    assert "content" not in http.get(f"{BATCHES}{batch.pk}/").json()


# --- query counts ------------------------------------------------------------------------------


def _queries(http: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries)


def _charges(cast: Cast, world: Billable, day: datetime.date, count: int, first: int) -> None:
    for n in range(first, first + count):
        signed_charge(cast, world, day, start=(7 + n // 4, (n % 4) * 15), minutes=10)


def test_the_charge_list_runs_the_same_number_of_queries_for_3_and_15_charges(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    http = api_as(cast.billing)
    http.get(CHARGES)
    _charges(cast, world, day, 3, first=0)
    a_batch(cast, world, day)  # claim lines to show
    with_3 = _queries(http, CHARGES)
    _charges(cast, world, day, 12, first=3)
    assert _queries(http, CHARGES) == with_3
    assert len(http.get(CHARGES).json()["results"]) == 15


def _batches(cast: Cast, world: Billable, count: int, first: int) -> None:
    for n in range(first, first + count):
        ClaimBatch.objects.create(
            agency=cast.agency,
            payer=world.payer,
            service_from=datetime.date(2026, 11, 1),
            service_to=datetime.date(2026, 11, 15),
            control_number=1000 + n,
            content="ISA*…~",
            sha256="0" * 64,
            claim_count=1,
            total=Decimal("25.00"),
            is_test=True,
            created_by=cast.billing,
        )


def test_the_batch_list_runs_the_same_number_of_queries_for_3_and_15_batches(
    cast: Cast, world: Billable, api_as: ApiAs
) -> None:
    http = api_as(cast.billing)
    http.get(BATCHES)
    _batches(cast, world, 3, first=0)
    with_3 = _queries(http, BATCHES)
    _batches(cast, world, 12, first=3)
    assert _queries(http, BATCHES) == with_3
    assert len(http.get(BATCHES).json()["results"]) == 15
