"""The notes API from every side: drafts, signing and its one charge, who sees the narrative,
stale saves, bad input, and what each read leaves in the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.billing.models import Charge
from casework.core.models import Agency, AuditEvent, User
from casework.notes.models import NARRATIVE_LIMIT, Addendum, Note
from casework.notes.services import addendum_add, note_sign
from casework.testing.billing import Billable, billable_world, draft_note, local
from casework.testing.personas import Cast

ApiAs = Callable[[User | None], APIClient]
LIST = "/api/v1/notes/"
SECTIONS = {"data": "Met at home.", "assessment": "Stable.", "plan": "Visit Tuesday."}


@pytest.fixture
def world(cast: Cast) -> Billable:
    return billable_world(cast)


@pytest.fixture
def day(cast: Cast) -> datetime.date:
    """Two days ago: finished, and within the agency's limit for signing without a late reason."""
    return cast.agency.today() - datetime.timedelta(days=2)


def detail(note: Note | int) -> str:
    return f"{LIST}{note if isinstance(note, int) else note.pk}/"


def ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def moment(day: datetime.date, hour: int, agency: Agency) -> str:
    return local(day, hour, agency=agency).isoformat()


def new_note(cast: Cast, world: Billable, day: datetime.date, **extra: object) -> dict[str, Any]:
    return {
        "client_id": cast.client.pk,
        "service_date": day.isoformat(),
        "start_at": moment(day, 10, cast.agency),
        "end_at": local(day, 10, agency=cast.agency).replace(minute=30).isoformat(),
        "contact_type": "face_to_face",
        "place_of_service": "12",
        "service_code_id": world.t1016.pk,
        "template": "dap",
        "sections": SECTIONS,
        **extra,
    }


def a_draft(cast: Cast, world: Billable, day: datetime.date, author: User | None = None) -> Note:
    return draft_note(
        author=author or cast.case_manager, client=cast.client, code=world.t1016, day=day
    )


def a_signed_note(
    cast: Cast, world: Billable, day: datetime.date, *, start: tuple[int, int] = (10, 0)
) -> Note:
    note = draft_note(
        author=cast.case_manager,
        client=cast.client,
        code=world.t1016,
        day=day,
        start=start,
        minutes=10,
    )
    return note_sign(note=note, by=cast.case_manager, attest=True, late_reason="Catching up.").note


SIGN = {"attest": True}


# --- who may see and change what -------------------------------------------------------------


def test_anonymous_gets_401_on_every_note_route(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    http = api_as(None)
    responses = [
        http.get(LIST),
        http.post(LIST, new_note(cast, world, day), format="json"),
        http.get(detail(note)),
        http.patch(detail(note), {"present": "x"}, format="json"),
        http.delete(detail(note)),
        http.post(f"{detail(note)}sign/", SIGN, format="json"),
        http.post(f"{detail(note)}cosign/"),
        http.post(f"{detail(note)}void/", {"reason": "x"}, format="json"),
        http.post(f"{detail(note)}addenda/", {"text": "x"}, format="json"),
    ]
    assert [r.status_code for r in responses] == [401] * len(responses)
    assert Note.objects.filter(pk=note.pk, present="").exists()


def test_auditors_are_refused_notes_with_403(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    http = api_as(cast.auditor)
    assert http.get(LIST).status_code == 403
    assert http.get(detail(note)).status_code == 403
    assert http.post(LIST, new_note(cast, world, day), format="json").status_code == 403


def test_another_agency_and_another_team_get_404(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    draft = a_draft(cast, world, day - datetime.timedelta(days=1))
    for user in (cast.outsider_cm, cast.outsider_admin, cast.other_team_cm):
        http = api_as(user)
        assert ids(http.get(LIST)) == set(), user
        for target in (note, draft):
            assert http.get(detail(target)).status_code == 404
            assert http.patch(detail(target), {"present": "x"}, format="json").status_code == 404
            assert http.delete(detail(target)).status_code == 404
            assert http.post(f"{detail(target)}sign/", SIGN, format="json").status_code == 404
            assert (
                http.post(f"{detail(target)}void/", {"reason": "x"}, format="json").status_code
                == 404
            )
            assert (
                http.post(f"{detail(target)}addenda/", {"text": "x"}, format="json").status_code
                == 404
            )
    assert Note.objects.get(pk=draft.pk).status == Note.Status.DRAFT
    assert not Addendum.objects.exists()


def test_a_colleague_sees_signed_notes_but_not_someone_elses_draft(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed = a_signed_note(cast, world, day)
    draft = a_draft(cast, world, day - datetime.timedelta(days=1))
    http = api_as(cast.colleague)
    assert ids(http.get(LIST)) == {signed.pk}
    assert http.get(detail(signed)).status_code == 200
    assert http.get(detail(draft)).status_code == 404
    assert ids(api_as(cast.case_manager).get(LIST)) == {signed.pk, draft.pk}


def test_billing_reads_notes_without_their_narrative(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    addendum_add(note=note, by=cast.case_manager, text="Client called back: all well.")
    http = api_as(cast.billing)
    body = http.get(detail(note)).json()
    listed = http.get(LIST).json()["results"][0]
    for shown in (body, listed):
        assert "sections" not in shown and "shared_text" not in shown
        assert "text" not in shown["addenda"][0]
        assert shown["charge"]["status"] == "ready"
        assert shown["service_code_id"] == world.t1016.pk
    assert "Met at home" not in http.get(LIST).content.decode()
    assert "Client called back" not in http.get(detail(note)).content.decode()


def test_billing_reads_the_narrative_where_the_agency_allows_it(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    Agency.objects.filter(pk=cast.agency.pk).update(billing_sees_narratives=True)
    body = api_as(cast.billing).get(detail(note)).json()
    assert body["sections"] == SECTIONS


def test_billing_cannot_write_notes(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    http = api_as(cast.billing)
    created = http.post(LIST, new_note(cast, world, day), format="json")
    voided = http.post(f"{detail(note)}void/", {"reason": "x"}, format="json")
    assert (created.status_code, voided.status_code) == (403, 403)
    assert voided.json()["detail"] == "Your role can read notes but not write them."


def test_the_api_answers_a_signed_in_browser_session_too(
    cast: Cast, world: Billable, day: datetime.date, http_as: Callable[[User], HttpClient]
) -> None:
    note = a_signed_note(cast, world, day)
    response = http_as(cast.case_manager).get(detail(note))
    assert response.status_code == 200
    assert response.json()["sections"] == SECTIONS


# --- reading is a chart read -----------------------------------------------------------------


def test_reading_a_note_is_audited_as_a_chart_read(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    api_as(cast.billing).get(detail(note))
    event = AuditEvent.objects.filter(
        action="view", actor_id=cast.billing.pk, client_id=cast.client.pk
    ).get()
    assert f"api note {note.pk}" in event.detail


def test_listing_notes_audits_each_client_shown_once(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    a_signed_note(cast, world, day)
    a_signed_note(cast, world, day, start=(11, 0))
    api_as(cast.case_manager).get(LIST)
    events = AuditEvent.objects.filter(action="view", actor_id=cast.case_manager.pk)
    assert list(events.values_list("client_id", flat=True)) == [cast.client.pk]


# --- a draft -----------------------------------------------------------------------------------


def test_a_case_manager_starts_a_draft(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    response = api_as(cast.case_manager).post(
        LIST, new_note(cast, world, day, mileage=12.5, travel_minutes=25), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    note = Note.objects.get(pk=body["id"])
    assert response["ETag"] == f'"{note.version}"' == f'"{body["version"]}"'
    assert (body["status"], body["author_id"], body["client_id"]) == (
        "draft",
        cast.case_manager.pk,
        cast.client.pk,
    )
    assert body["sections"] == SECTIONS and note.sections == SECTIONS
    assert body["minutes"] == 30 and body["charge"] is None
    assert (body["mileage"], note.mileage, note.travel_minutes) == (12.5, Decimal("12.5"), 25)
    # Shown in the agency's time zone, with its offset.
    assert datetime.datetime.fromisoformat(body["start_at"]) == local(day, 10, agency=cast.agency)
    assert AuditEvent.objects.filter(action="create", object_id=str(note.pk)).exists()


def test_a_draft_started_with_only_a_client_takes_the_defaults(
    cast: Cast, world: Billable, api_as: ApiAs
) -> None:
    response = api_as(cast.case_manager).post(LIST, {"client_id": cast.client.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["service_date"] == cast.agency.today().isoformat()
    assert (body["template"], body["sections"]) == (cast.agency.note_template, {})


def test_the_same_idempotency_key_twice_starts_one_draft(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    headers = {"Idempotency-Key": "note-7f3a-retry"}
    first = http.post(LIST, new_note(cast, world, day), format="json", headers=headers)
    second = http.post(LIST, new_note(cast, world, day), format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Note.objects.count() == 1


def test_a_key_whose_draft_was_discarded_is_refused_with_a_message(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    headers = {"Idempotency-Key": "note-discarded"}
    first = http.post(LIST, new_note(cast, world, day), format="json", headers=headers)
    assert http.delete(detail(first.json()["id"])).status_code == 204
    again = http.post(LIST, new_note(cast, world, day), format="json", headers=headers)
    assert again.status_code == 400
    assert "discarded" in again.json()["Idempotency-Key"][0]


def test_a_malformed_idempotency_key_is_refused(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    response = api_as(cast.case_manager).post(
        LIST, new_note(cast, world, day), format="json", headers={"Idempotency-Key": "a b"}
    )
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Note.objects.exists()


def test_a_note_about_a_client_outside_ones_scope_is_refused(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    for client in (cast.other_client, cast.outsider_client):
        response = http.post(LIST, new_note(cast, world, day, client_id=client.pk), format="json")
        assert response.status_code == 400
        assert response.json()["client_id"] == ["No client you may see has this id."]
    assert not Note.objects.exists()


def test_patch_saves_the_draft_and_moves_the_etag_on(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    http = api_as(cast.case_manager)
    etag = http.get(detail(note))["ETag"]
    changed = {**SECTIONS, "plan": "Call the landlord on Monday."}
    response = http.patch(
        detail(note),
        {"sections": changed, "interpreter_used": True, "interpreter_language": "Tigrinya"},
        format="json",
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.json()
    assert response["ETag"] == f'"{note.version + 1}"' != etag
    note.refresh_from_db()
    assert (note.sections, note.interpreter_language) == (changed, "Tigrinya")
    assert note.start_at == local(day, 10, agency=cast.agency)  # fields not sent stay


def test_a_stale_if_match_is_412_and_saves_nothing(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    http = api_as(cast.case_manager)
    etag = http.get(detail(note))["ETag"]
    assert http.patch(detail(note), {"present": "Client"}, format="json").status_code == 200
    stale = http.patch(
        detail(note), {"present": "Client and sister"}, format="json", headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert "If-Match" in stale.json()["detail"]
    garbage = http.patch(
        detail(note), {"present": "x"}, format="json", headers={"If-Match": '"not-ours"'}
    )
    assert garbage.status_code == 412
    note.refresh_from_db()
    assert note.present == "Client"


def test_a_signed_note_is_not_patched(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    response = api_as(cast.case_manager).patch(detail(note), {"present": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["This note is signed; add an addendum instead."]


def test_discarding_a_draft_deletes_it_but_a_signed_note_stays(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    draft = a_draft(cast, world, day - datetime.timedelta(days=1))
    signed = a_signed_note(cast, world, day)
    http = api_as(cast.case_manager)
    assert http.delete(detail(draft)).status_code == 204
    refused = http.delete(detail(signed))
    assert refused.status_code == 400 and "void" in refused.json()["non_field_errors"][0]
    assert list(Note.objects.values_list("pk", flat=True)) == [signed.pk]


# --- signing -----------------------------------------------------------------------------------


def test_signing_answers_the_note_with_its_charge(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    response = api_as(cast.case_manager).post(f"{detail(note)}sign/", SIGN, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    charge = Charge.objects.get(note=note)
    assert body["status"] == "signed" and body["signed_at"] is not None
    assert body["charge"] == {
        "id": charge.pk,
        "status": "ready",
        "units": 2,
        "amount": "50.00",
        "holds": [],
    }


def test_signing_twice_answers_the_same_and_makes_one_charge(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    http = api_as(cast.case_manager)
    first = http.post(f"{detail(note)}sign/", SIGN, format="json")
    second = http.post(f"{detail(note)}sign/", SIGN, format="json")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    assert Charge.objects.filter(note=note).count() == 1


def test_a_held_charge_shows_what_holds_it(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day, author=cast.colleague)  # no credential, no NPI
    body = api_as(cast.colleague).post(f"{detail(note)}sign/", SIGN, format="json").json()
    assert body["cosign_required"] is True
    assert body["charge"]["status"] == "held"
    assert {"credential", "no_npi", "cosign"} <= {h["code"] for h in body["charge"]["holds"]}


def test_signing_needs_the_attestation(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    http = api_as(cast.case_manager)
    unticked = http.post(f"{detail(note)}sign/", {"attest": False}, format="json")
    missing = http.post(f"{detail(note)}sign/", {}, format="json")
    as_text = http.post(f"{detail(note)}sign/", {"attest": "yes"}, format="json")
    assert unticked.status_code == 400 and unticked.json() == {
        "attest": ["Tick the attestation to sign."]
    }
    assert missing.status_code == as_text.status_code == 400
    assert Note.objects.get(pk=note.pk).status == Note.Status.DRAFT


def test_an_unfinished_note_is_not_signed_and_the_field_is_named(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    http = api_as(cast.case_manager)
    http.patch(detail(note), {"sections": {**SECTIONS, "plan": "  "}}, format="json")
    response = http.post(f"{detail(note)}sign/", SIGN, format="json")
    assert response.status_code == 400
    assert response.json() == {"sections": ["Write the Plan section."]}
    assert not Charge.objects.exists()


def test_a_late_note_needs_a_reason(cast: Cast, world: Billable, api_as: ApiAs) -> None:
    note = a_draft(cast, world, cast.agency.today() - datetime.timedelta(days=10))
    http = api_as(cast.case_manager)
    refused = http.post(f"{detail(note)}sign/", SIGN, format="json")
    assert refused.status_code == 400 and "late" in refused.json()["late_reason"][0]
    signed = http.post(
        f"{detail(note)}sign/", {**SIGN, "late_reason": "Crisis week."}, format="json"
    )
    assert signed.status_code == 200 and signed.json()["late_reason"] == "Crisis week."


# --- after signing: co-signature, addenda, void ------------------------------------------------


def test_a_supervisor_cosigns_and_the_case_manager_cannot(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day, author=cast.colleague)
    api_as(cast.colleague).post(f"{detail(note)}sign/", SIGN, format="json")
    refused = api_as(cast.case_manager).post(f"{detail(note)}cosign/")
    assert refused.status_code == 400
    assert "supervisor" in refused.json()["non_field_errors"][0]
    done = api_as(cast.supervisor).post(f"{detail(note)}cosign/")
    assert done.status_code == 200
    assert done.json()["cosigned_by_id"] == cast.supervisor.pk
    assert "cosign" not in {h["code"] for h in done.json()["charge"]["holds"]}


def test_an_addendum_is_added_to_a_signed_note(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    http = api_as(cast.case_manager)
    response = http.post(
        f"{detail(note)}addenda/", {"text": "Client phoned: appointment moved."}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["text"] == "Client phoned: appointment moved."
    addenda = http.get(detail(note)).json()["addenda"]
    assert [a["text"] for a in addenda] == ["Client phoned: appointment moved."]
    assert Note.objects.get(pk=note.pk).sections == SECTIONS  # the original is kept


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "Write the addendum."),
        ("x" * 20_001, "no more than 20000 characters"),
    ],
)
def test_a_bad_addendum_is_a_400_with_a_message(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs, text: str, message: str
) -> None:
    note = a_signed_note(cast, world, day)
    response = api_as(cast.case_manager).post(
        f"{detail(note)}addenda/", {"text": text}, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["text"][0]


def test_a_draft_takes_no_addendum(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    response = api_as(cast.case_manager).post(
        f"{detail(note)}addenda/", {"text": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "draft can still be edited" in response.json()["non_field_errors"][0]


def test_voiding_needs_a_reason_and_voids_the_charge(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_signed_note(cast, world, day)
    http = api_as(cast.case_manager)
    empty = http.post(f"{detail(note)}void/", {"reason": "   "}, format="json")
    assert empty.status_code == 400 and empty.json() == {"reason": ["Say why the note is void."]}
    done = http.post(f"{detail(note)}void/", {"reason": "Wrong client."}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["void_reason"]) == ("void", "Wrong client.")
    assert done.json()["charge"]["status"] == "void"


def test_a_draft_is_discarded_not_voided(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    note = a_draft(cast, world, day)
    response = api_as(cast.case_manager).post(
        f"{detail(note)}void/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "discarded" in response.json()["non_field_errors"][0]


# --- bad input gets a clear message ------------------------------------------------------------


def test_a_narrative_over_the_limit_is_a_400_with_a_message(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    too_long = {"data": "x" * (NARRATIVE_LIMIT - 1), "assessment": "ab", "plan": ""}
    http = api_as(cast.case_manager)
    created = http.post(LIST, new_note(cast, world, day, sections=too_long), format="json")
    assert created.status_code == 400
    assert "longer than 100,000 characters" in created.json()["sections"][0]
    assert not Note.objects.exists()  # nothing half-made
    note = a_draft(cast, world, day)
    patched = http.patch(detail(note), {"sections": too_long}, format="json")
    assert patched.status_code == 400
    assert "longer than 100,000 characters" in patched.json()["sections"][0]
    assert Note.objects.get(pk=note.pk).sections == SECTIONS


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"service_date": "2026-13-01"}, "service_date", "Date has wrong format"),
        ({"service_date": "16/11/2026"}, "service_date", "Date has wrong format"),
        ({"service_date": "2206-11-16"}, "service_date", "between 1900-01-01 and 2100-12-31"),
        ({"start_at": "2026-11-16T10:00:00"}, "start_at", "UTC offset"),
        ({"start_at": "tomorrow"}, "start_at", "wrong format"),
        ({"contact_type": "telepathy"}, "contact_type", "is not a valid choice"),
        ({"place_of_service": 12}, "place_of_service", "is not a valid choice"),
        ({"service_code_id": "1"}, "service_code_id", "valid integer"),
        ({"template": "haiku"}, "template", "is not a valid choice"),
        ({"sections": {"poem": "roses"}}, "sections", "has no section poem; use data"),
        ({"sections": {"data": 5}}, "sections", "Section data: Not a valid string."),
        ({"sections": ["data"]}, "sections", "object of key to text"),
        ({"mileage": 12.55}, "mileage", "no more than 1 decimal place"),
        ({"mileage": "12.5"}, "mileage", "valid number"),
        ({"mileage": -1}, "mileage", "greater than or equal to 0"),
        ({"travel_minutes": 1441}, "travel_minutes", "less than or equal to 1440"),
        ({"present": "x" * 501}, "present", "no more than 500 characters"),
        ({"present": "nul\x00byte"}, "present", "Null characters are not allowed"),
        ({"interpreter_used": "yes"}, "interpreter_used", "valid boolean"),
    ],
)
def test_bad_note_input_is_a_400_naming_the_field(
    cast: Cast,
    world: Billable,
    day: datetime.date,
    api_as: ApiAs,
    extra: dict[str, object],
    field: str,
    message: str,
) -> None:
    response = api_as(cast.case_manager).post(
        LIST, new_note(cast, world, day, **extra), format="json"
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Note.objects.exists()


def test_a_service_code_of_another_agency_is_refused(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    from casework.billing.models import ServiceCode

    foreign = ServiceCode.objects.create(
        agency=cast.outsider_agency, code="T1016", description="Theirs", unit_type="15min"
    )
    response = api_as(cast.case_manager).post(
        LIST, new_note(cast, world, day, service_code_id=foreign.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["service_code_id"] == [
        "No active service code of your agency has this id."
    ]


def test_an_end_before_the_start_is_refused_on_create_and_on_save(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    early = moment(day, 9, cast.agency)
    created = http.post(LIST, new_note(cast, world, day, end_at=early), format="json")
    assert created.status_code == 400
    assert created.json() == {"end_at": ["The end time must be after the start time."]}
    note = a_draft(cast, world, day)
    patched = http.patch(detail(note), {"end_at": early}, format="json")
    assert patched.status_code == 400
    assert patched.json() == {"end_at": ["The end time must be after the start time."]}


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script>",
        "Robert'); DROP TABLE notes_note;--",
        "{{ 7*7 }} ${7*7}",
        "Nguyễn Thị: 李小龍 🌈 Te Whāiti",
    ],
)
def test_narratives_are_stored_verbatim_and_returned_as_data(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs, text: str
) -> None:
    http = api_as(cast.case_manager)
    sections = {**SECTIONS, "data": text}
    created = http.post(LIST, new_note(cast, world, day, sections=sections), format="json")
    assert created.status_code == 201
    assert created["Content-Type"] == "application/json"
    assert http.get(detail(created.json()["id"])).json()["sections"]["data"] == text


# --- list --------------------------------------------------------------------------------------


def test_the_list_filters_by_client_status_author_and_dates(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    signed = a_signed_note(cast, world, day)
    earlier = day - datetime.timedelta(days=1)
    draft = a_draft(cast, world, earlier)
    colleague_signed = a_draft(cast, world, earlier, author=cast.colleague)
    note_sign(note=colleague_signed, by=cast.colleague, attest=True)
    http = api_as(cast.case_manager)
    assert ids(http.get(LIST, {"status": "draft"})) == {draft.pk}
    assert ids(http.get(LIST, {"status": "signed"})) == {signed.pk, colleague_signed.pk}
    assert ids(http.get(LIST, {"author": "me"})) == {signed.pk, draft.pk}
    assert ids(http.get(LIST, {"author": cast.colleague.pk})) == {colleague_signed.pk}
    assert ids(http.get(LIST, {"service_from": day.isoformat()})) == {signed.pk}
    assert ids(http.get(LIST, {"service_to": earlier.isoformat()})) == {
        draft.pk,
        colleague_signed.pk,
    }
    assert ids(http.get(LIST, {"client": cast.client.pk})) == {
        signed.pk,
        draft.pk,
        colleague_signed.pk,
    }
    assert ids(http.get(LIST, {"client": cast.outsider_client.pk})) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"service_from": "2026-11-20", "service_to": "2026-11-01"}, "service_to"),
        ({"service_from": "2026-02-30"}, "service_from"),
        ({"status": "finished"}, "status"),
        ({"author": "someone"}, "author"),
        ({"client": "1.0"}, "client"),
        ({"status": ""}, "status"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_list_parameters_are_a_400(
    cast: Cast, api_as: ApiAs, params: dict[str, str], field: str
) -> None:
    response = api_as(cast.case_manager).get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()


def _list_queries(http: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries)


def _sign_notes(cast: Cast, world: Billable, day: datetime.date, count: int, first: int) -> None:
    """`count` signed notes, ten minutes each a quarter hour apart, each with an addendum."""
    for n in range(first, first + count):
        note = a_signed_note(cast, world, day, start=(7 + n // 4, (n % 4) * 15))
        addendum_add(note=note, by=cast.case_manager, text=f"Addendum {n}.")


def test_the_list_runs_the_same_number_of_queries_for_3_and_15_notes(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    http.get(LIST)  # first use of the token records last_used_at
    _sign_notes(cast, world, day, 3, first=0)
    with_3 = _list_queries(http, LIST)
    _sign_notes(cast, world, day, 12, first=3)
    assert _list_queries(http, LIST) == with_3
    assert len(http.get(LIST).json()["results"]) == 15
    billing = api_as(cast.billing)
    billing.get(LIST)
    # Billing sees the whole agency, so its list skips the team lookup a case manager's needs.
    assert _list_queries(billing, LIST) == with_3 - 2


def test_the_list_is_paginated(
    cast: Cast, world: Billable, day: datetime.date, api_as: ApiAs
) -> None:
    _sign_notes(cast, world, day, 3, first=0)
    body = api_as(cast.case_manager).get(LIST, {"limit": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert "offset=2" in body["next"]
