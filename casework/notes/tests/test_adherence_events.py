"""Medications and notable events on a note: saved with the draft, checked, shown, in the API."""

from __future__ import annotations

import datetime
import re

import pytest

from casework.notes.models import Note
from casework.notes.services import NoteError, note_save_draft, note_sign
from casework.testing.billing import billable_world, draft_note

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 16)


@pytest.fixture
def world(cast):
    return billable_world(cast)


@pytest.fixture
def note(cast, world):
    return draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)


def _form(note: Note, **changes) -> dict:
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
        "section_data": "Home visit.",
        "section_assessment": "Stable.",
        "section_plan": "Visit Tuesday.",
    }
    data.update(changes)
    return data


def test_the_form_saves_medications_and_events(cast, note, http_as):
    response = http_as(cast.case_manager).post(
        f"/notes/{note.pk}/edit/",
        _form(note, medication_adherence="not_taking", events=["hospitalized", "er_visit"]),
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.medication_adherence == "not_taking"
    assert note.events == ["er_visit", "hospitalized"]  # in the list's order


def test_not_discussed_and_no_events_are_blank(cast, note, http_as):
    http_as(cast.case_manager).post(f"/notes/{note.pk}/edit/", _form(note))
    note.refresh_from_db()
    assert (note.medication_adherence, note.events) == ("", [])


def test_autosave_keeps_them_too(cast, note, http_as):
    response = http_as(cast.case_manager).post(
        f"/notes/{note.pk}/autosave/", _form(note, medication_adherence="taking", events=["jail"])
    )
    assert response.status_code == 200
    note.refresh_from_db()
    assert (note.medication_adherence, note.events) == ("taking", ["jail"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"medication_adherence": "forgot"}, "Choose one of the medication answers offered."),
        ({"events": ["er_visit", "abducted"]}, "Choose notable events from the list offered."),
    ],
)
def test_unknown_values_are_refused_by_the_form(cast, note, http_as, changes, message):
    response = http_as(cast.case_manager).post(f"/notes/{note.pk}/edit/", _form(note, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    note.refresh_from_db()
    assert (note.medication_adherence, note.events) == ("", [])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"medication_adherence": "forgot"}, "medication_adherence"),
        ({"events": ["evicted"]}, "events"),
        ({"events": "er_visit"}, "events"),
    ],
)
def test_unknown_values_are_refused_by_the_service(cast, note, data, field):
    with pytest.raises(NoteError) as error:
        note_save_draft(note=note, by=cast.case_manager, data=data, expected_version=note.version)
    assert error.value.field == field


def test_the_edit_page_shows_the_saved_answers(cast, note, http_as):
    note = note_save_draft(
        note=note,
        by=cast.case_manager,
        data={"medication_adherence": "stopped", "events": ["housing_lost"]},
        expected_version=note.version,
    )
    body = http_as(cast.case_manager).get(f"/notes/{note.pk}/edit/").content.decode()
    assert "Not discussed" in body and "Arrested or jailed" in body
    assert re.search(r'value="stopped"[^>]*checked', body)
    assert re.search(r'value="housing_lost"[^>]*checked', body)
    assert not re.search(r'value="er_visit"[^>]*checked', body)


def _signed(cast, note):
    note = note_save_draft(
        note=note,
        by=cast.case_manager,
        data={"medication_adherence": "some_missed", "events": ["er_visit", "jail"]},
        expected_version=note.version,
    )
    return note_sign(note=note, by=cast.case_manager, attest=True, late_reason="late").note


def test_the_note_page_and_print_page_show_them(cast, note, http_as):
    note = _signed(cast, note)
    http = http_as(cast.case_manager)
    for url in (f"/notes/{note.pk}/", f"/notes/{note.pk}/print/"):
        body = http.get(url).content.decode()
        assert "Missed some doses" in body, url
        assert "Emergency-room visit, Arrested or jailed" in body, url


def test_a_note_without_them_says_not_discussed(cast, note, http_as):
    note = note_sign(note=note, by=cast.case_manager, attest=True, late_reason="late").note
    body = http_as(cast.case_manager).get(f"/notes/{note.pk}/").content.decode()
    assert "Not discussed" in body and "Notable events" not in body


def test_the_api_returns_them(cast, note, http_as):
    note = _signed(cast, note)
    response = http_as(cast.case_manager).get(f"/api/v1/notes/{note.pk}/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["medication_adherence"] == "some_missed"
    assert data["events"] == ["er_visit", "jail"]
    assert data["appointment_id"] is None
