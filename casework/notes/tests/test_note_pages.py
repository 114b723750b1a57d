"""The note pages as a person uses them: start from the chart, autosave, sign, read, print."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.billing.models import Charge
from casework.notes.models import Note, QuickPhrase
from casework.notes.services import note_sign
from casework.testing.billing import billable_world, draft_note

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 16)


@pytest.fixture
def world(cast):
    return billable_world(cast)


def _form(note: Note, **changes: str) -> dict[str, str]:
    data = {
        "service_date": note.service_date.isoformat(),
        "start_time": "10:00",
        "end_time": "10:38",
        "contact_type": "face_to_face",
        "place_of_service": "12",
        "service_code": str(note.service_code_id or ""),
        "present": "Client",
        "template": "dap",
        "version": str(note.version),
        "section_data": "Home visit; reviewed medications. Señora Núñez said “better”.",
        "section_assessment": "Stable.",
        "section_plan": "Drive to the clinic Tuesday.",
    }
    data.update(changes)
    return data


def test_write_a_note_twice_with_one_submission_makes_one_draft(cast, world, http_as):
    http = http_as(cast.case_manager)
    url = f"/notes/new/{cast.client.pk}/"
    first = http.post(url, {"submission_key": "k1"})
    second = http.post(url, {"submission_key": "k1"})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Note.objects.filter(client=cast.client).count() == 1


def test_a_new_note_starts_from_the_clients_last_note(cast, world, http_as):
    earlier = draft_note(
        author=cast.case_manager, client=cast.client, code=world.h0023, day=DAY, place="99"
    )
    note_sign(note=earlier, by=cast.case_manager, attest=True, late_reason="x")
    http_as(cast.case_manager).post(f"/notes/new/{cast.client.pk}/")
    new = Note.objects.filter(status="draft").get()
    assert (new.service_code_id, new.place_of_service) == (world.h0023.pk, "99")
    assert new.service_date == cast.agency.today()


def test_signing_through_the_form_shows_the_charge(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    http = http_as(cast.case_manager)
    response = http.post(
        f"/notes/{note.pk}/edit/",
        _form(note, action="sign", attest="on", late_reason="Crisis week"),
        follow=True,
    )
    assert response.status_code == 200
    assert "Charge: T1016, 3 units = $75.00" in response.content.decode()
    assert Charge.objects.get(note=note).status == Charge.Status.READY


def test_a_refused_signature_keeps_everything_typed(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    response = http_as(cast.case_manager).post(
        f"/notes/{note.pk}/edit/",
        _form(note, action="sign", section_plan="", late_reason="late"),
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Señora Núñez" in body and "attestation" in body
    note.refresh_from_db()
    assert note.status == "draft" and note.sections["plan"] == ""  # the typing was saved


def test_a_narrative_over_the_limit_is_refused_with_a_message(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    response = http_as(cast.case_manager).post(
        f"/notes/{note.pk}/edit/", _form(note, section_data="x" * 100_001)
    )
    assert response.status_code == 400
    assert "100,000" in response.content.decode()


def test_autosave_saves_and_refuses_a_stale_copy(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    http = http_as(cast.case_manager)
    saved = http.post(f"/notes/{note.pk}/autosave/", _form(note, present="Client and sister"))
    assert saved.status_code == 200 and saved.json()["version"] == note.version + 1
    stale = http.post(f"/notes/{note.pk}/autosave/", _form(note, present="old tab"))
    assert stale.status_code == 409 and stale.json()["conflict"]
    note.refresh_from_db()
    assert note.present == "Client and sister"


def test_someone_elses_draft_cannot_be_opened_or_saved(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    http = http_as(cast.colleague)
    assert http.get(f"/notes/{note.pk}/edit/").status_code == 403
    assert http.post(f"/notes/{note.pk}/autosave/", _form(note)).status_code == 403


def test_billing_sees_the_charge_but_not_the_narrative(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    note_sign(note=note, by=cast.case_manager, attest=True, late_reason="x")
    body = http_as(cast.billing).get(f"/notes/{note.pk}/").content.decode()
    assert "Met at home." not in body and "not their narrative" in body
    assert "$50.00" in body
    assert http_as(cast.billing).get(f"/notes/{note.pk}/print/").status_code == 403


def test_the_print_view_keeps_unicode(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    http = http_as(cast.case_manager)
    http.post(f"/notes/{note.pk}/edit/", _form(note, action="sign", attest="on", late_reason="x"))
    body = http.get(f"/notes/{note.pk}/print/").content.decode()
    assert "Señora Núñez said “better”." in body and "O&#x27;Connor-Núñez" in body


def test_unsigned_queue_lists_my_drafts_oldest_first(cast, world, http_as):
    old = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    new = draft_note(
        author=cast.case_manager,
        client=cast.client,
        code=world.t1016,
        day=DAY + datetime.timedelta(days=2),
    )
    body = http_as(cast.case_manager).get("/notes/unsigned/").content.decode()
    assert body.index(f"/notes/{old.pk}/edit/") < body.index(f"/notes/{new.pk}/edit/")
    assert "late" in body


def test_quick_phrases_are_personal(cast, world, http_as):
    http = http_as(cast.case_manager)
    http.post(
        "/notes/phrases/", {"label": "meds", "text": "Reviewed medications; no side effects."}
    )
    duplicate = http.post("/notes/phrases/", {"label": "MEDS", "text": "again"})
    assert duplicate.status_code == 400 and "already have" in duplicate.content.decode()
    phrase = QuickPhrase.objects.get()
    assert http_as(cast.colleague).post(f"/notes/phrases/{phrase.pk}/delete/").status_code == 404


def test_the_edit_page_runs_a_constant_number_of_queries(cast, world, http_as):
    http = http_as(cast.case_manager)

    def count() -> int:
        note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
        with CaptureQueriesContext(connection) as captured:
            assert http.get(f"/notes/{note.pk}/edit/").status_code == 200
        return len(captured)

    count()  # the first request of a session writes more (session, last sign-in)
    first = count()
    for hour in range(6, 12):
        signed = draft_note(
            author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY, start=(hour, 0)
        )
        note_sign(note=signed, by=cast.case_manager, attest=True, late_reason="x")
        QuickPhrase.objects.create(
            agency=cast.agency, owner=cast.case_manager, label=f"p{hour}", text="t"
        )
    assert count() == first


def test_a_supervisor_cosigns_from_the_queue(cast, world, http_as):
    from casework.core.models import Credential

    Credential.objects.filter(user=cast.case_manager).update(supervision_required=True)
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    note_sign(note=note, by=cast.case_manager, attest=True, late_reason="x")
    http = http_as(cast.supervisor)
    assert "Connor-Núñez" in http.get("/notes/cosign/").content.decode()
    http.post(f"/notes/{note.pk}/cosign/", {"next": "/notes/cosign/"})
    assert Charge.objects.get(note=note).status == Charge.Status.READY
    assert http_as(cast.case_manager).get("/notes/cosign/").status_code == 403


def test_switching_the_note_format_keeps_what_was_written(cast, world, http_as):
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    http = http_as(cast.case_manager)
    http.post(f"/notes/{note.pk}/edit/", _form(note, template="soap", action="save"))
    note.refresh_from_db()
    assert note.template == "soap" and note.sections["data"].startswith("Home visit")
    page = http.get(f"/notes/{note.pk}/edit/").content.decode()
    assert "Subjective" in page and "Señora Núñez" in page  # old text shown beside the new sections


def test_a_group_note_starts_one_draft_per_client_once(cast, world, http_as):
    from casework.notes.models import GroupSession
    from casework.testing.factories import assign

    assign(cast.other_client, cast.case_manager, role="case_manager")
    http = http_as(cast.case_manager)
    assert "submission_key" in http.get("/notes/group/new/").content.decode()
    data = {
        "topic": "Budgeting group",
        "clients": [cast.client.pk, cast.other_client.pk],
        "service_date": DAY.isoformat(),
        "start_time": "13:00",
        "end_time": "14:00",
        "place_of_service": "53",
        "service_code": world.t1016.pk,
        "shared_text": "Six members practised a weekly budget.",
        "submission_key": "group-1",
    }
    first = http.post("/notes/group/new/", data)
    second = http.post("/notes/group/new/", data)
    assert first.status_code == second.status_code == 302
    session = GroupSession.objects.get()
    assert session.notes.count() == 2
    assert "Connor-Núñez" in http.get(first["Location"]).content.decode()
