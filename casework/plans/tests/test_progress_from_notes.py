"""A note that addresses a plan objective updates the objective's status when it is signed."""

from __future__ import annotations

import datetime

import pytest

from casework.notes.services import note_save_draft, note_sign
from casework.plans.models import ObjectiveProgress
from casework.testing.billing import billable_world, draft_note
from casework.testing.plans import signed_plan

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 16)


@pytest.fixture
def world(cast):
    return billable_world(cast)


def _note_form(note, **changes: str) -> dict[str, str]:
    return {
        "service_date": note.service_date.isoformat(),
        "start_time": "10:00",
        "end_time": "10:38",
        "contact_type": "face_to_face",
        "place_of_service": "12",
        "service_code": str(note.service_code_id or ""),
        "present": "Client",
        "template": "dap",
        "version": str(note.version),
        "section_data": "Viewed two apartments together.",
        "section_assessment": "Hopeful.",
        "section_plan": "Submit the application Friday.",
        **changes,
    }


def test_the_note_form_offers_the_plan_objectives_and_signing_records_progress(
    cast, world, http_as
):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    objective = plan.objectives.get()
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    http = http_as(cast.case_manager)
    page = http.get(f"/notes/{note.pk}/edit/").content.decode()
    assert "Service plan objectives addressed" in page and objective.text in page
    field = f"objective_{objective.key.hex}"
    response = http.post(
        f"/notes/{note.pk}/edit/",
        _note_form(note, **{field: "progressing"}, action="sign", attest="on", late_reason="x"),
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.goals_addressed == [{"objective": str(objective.key), "status": "progressing"}]
    progress = ObjectiveProgress.objects.get()
    assert (progress.objective_key, progress.status, progress.note_id) == (
        objective.key,
        "progressing",
        note.pk,
    )
    chart = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert ">Progressing<" in chart
    detail = http.get(f"/notes/{note.pk}/").content.decode()
    assert (
        "Service plan objectives addressed" in detail
        and f"{objective.text} — progressing" in detail
    )


def test_a_draft_keeps_the_objectives_chosen_and_only_signing_records_them(cast, world, http_as):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    objective = plan.objectives.get()
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    http = http_as(cast.case_manager)
    field = f"objective_{objective.key.hex}"
    http.post(f"/notes/{note.pk}/edit/", _note_form(note, **{field: "met"}, action="save"))
    page = http.get(f"/notes/{note.pk}/edit/").content.decode()
    assert '<option value="met" selected>' in page
    assert not ObjectiveProgress.objects.exists()


def test_objectives_of_another_client_or_nonsense_in_a_note_are_ignored(cast, world):
    other_plan = signed_plan(client=cast.other_client, by=cast.case_manager)
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    note = note_save_draft(
        note=note,
        by=cast.case_manager,
        expected_version=note.version,
        data={
            "goals_addressed": [
                {"objective": str(other_plan.objectives.get().key), "status": "met"},
                {"objective": "not-a-key", "status": "met"},
                "junk",
            ]
        },
    )
    note_sign(note=note, by=cast.case_manager, attest=True, late_reason="late")
    assert not ObjectiveProgress.objects.exists()


def test_what_a_voided_note_said_about_an_objective_no_longer_counts(cast, world, http_as):
    from casework.notes.services import note_void
    from casework.plans.selectors import objective_history

    plan = signed_plan(client=cast.client, by=cast.case_manager)
    objective = plan.objectives.get()
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    note = note_save_draft(
        note=note,
        by=cast.case_manager,
        expected_version=note.version,
        data={"goals_addressed": [{"objective": str(objective.key), "status": "met"}]},
    )
    note_sign(note=note, by=cast.case_manager, attest=True, late_reason="late")
    assert objective_history(client_id=cast.client.pk, keys=[objective.key])[objective.key]
    note_void(note=note, by=cast.case_manager, reason="Wrong client")
    assert objective_history(client_id=cast.client.pk, keys=[objective.key]) == {}
