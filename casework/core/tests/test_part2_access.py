"""42 CFR Part 2 inside the agency: a Part 2 program's notes and documents are read by the
program's staff who need them, by their author, and under an emergency grant; everyone else who
opens the chart sees that they exist and why their content is withheld. The client's other
records read as before, and billing keeps every note's service line."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.utils.html import escape
from rest_framework.test import APIClient

from casework.api.tests.conftest import make_token
from casework.billing.models import Charge
from casework.billing.services.claims import BatchRequest, claim_batch_create
from casework.clients.models import BreakGlassAccess, Episode
from casework.coordination.models import Coverage
from casework.core import access
from casework.core.models import Agency, Program, User
from casework.notes.models import Note
from casework.testing.part2 import OTHER_TEXT, PART2_TEXT, Part2World, part2_world, signed_note
from casework.testing.personas import Cast

MARKER = access.PART2_WITHHELD
SHOWN_MARKER = escape(MARKER)  # as a page shows it

# What each person gets of the Part 2 note: its narrative; the note without it (Part 2, or
# their role reads no narratives); a refusal (auditors read no charts); nothing (outside scope).
READS, WITHHELD, ROLE, REFUSED, HIDDEN = "reads", "withheld", "role", "refused", "hidden"
EXPECTED = {
    "counselor": READS,  # works in the program, on the client's care team, wrote the note
    "program_supervisor": READS,  # supervises the program's team
    "program_peer": WITHHELD,  # works in the program, not on this client's care team
    "case_manager": WITHHELD,  # the client's own case manager, in no program
    "colleague": WITHHELD,  # the case manager's teammate
    "supervisor": WITHHELD,  # supervises the case manager's team, not the program's
    "admin": WITHHELD,  # administers the agency, no clinical role in the program
    "billing": ROLE,
    "auditor": REFUSED,
    "other_team_cm": HIDDEN,
}


@pytest.fixture
def world(cast: Cast) -> Part2World:
    return part2_world(cast)


def _person(cast: Cast, world: Part2World, persona: str) -> User:
    user: User = getattr(world, persona, None) or getattr(cast, persona)
    return user


def _api(user: User) -> APIClient:
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user)[1]}")
    return http


def test_a_note_is_written_under_the_program_its_author_works_in(
    cast: Cast, world: Part2World
) -> None:
    assert world.part2_note.program == world.program
    assert world.other_note.program is None  # the case manager works in no program
    # Before the client was admitted, the counselor's note is not the program's.
    before = signed_note(
        author=world.counselor,
        cast=cast,
        world=world.billable,
        day=cast.agency.today() - datetime.timedelta(days=90),
        text="Before admission.",
    )
    assert before.program is None
    # Where the author works in two programs the client is in, Part 2 wins.
    icm = Program.objects.create(agency=cast.agency, name="ICM")
    Episode.objects.create(
        agency=cast.agency, client=cast.client, program=icm, admitted_on=datetime.date(2026, 1, 1)
    )
    cast.team.program = icm
    cast.team.save()
    assert access.note_program_for(
        author=world.counselor, client_id=cast.client.pk, on=world.part2_note.service_date
    ) == (world.program.pk)
    assert access.note_program_for(
        author=cast.case_manager, client_id=cast.client.pk, on=world.part2_note.service_date
    ) == (icm.pk)


def test_the_program_a_signed_note_was_written_under_is_locked(world: Part2World) -> None:
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="signed note is locked"), transaction.atomic():
        Note.objects.filter(pk=world.part2_note.pk).update(program=None)


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_person_reads_the_part2_note_as_decided_and_the_rest_as_before(
    cast: Cast, world: Part2World, http_as: Callable[[User], HttpClient], persona: str
) -> None:
    user, expected = _person(cast, world, persona), EXPECTED[persona]
    web, api = http_as(user), _api(user)
    part2, other = world.part2_note, world.other_note

    chart = web.get(f"/clients/{cast.client.pk}/")
    detail = web.get(f"/notes/{part2.pk}/")
    printed = web.get(f"/notes/{part2.pk}/print/")
    other_detail = web.get(f"/notes/{other.pk}/")
    listed = api.get("/api/v1/notes/", {"client": cast.client.pk})
    one = api.get(f"/api/v1/notes/{part2.pk}/")
    if expected == HIDDEN:
        assert chart.status_code == 403  # the door that offers to break the glass
        assert {r.status_code for r in (detail, printed, other_detail, one)} == {404}
        assert listed.json()["results"] == []
        return
    if expected == REFUSED:
        assert {r.status_code for r in (chart, detail, printed, other_detail, listed, one)} == {403}
        return
    # The chart lists the note whatever its narrative: it exists, and says so.
    assert chart.status_code == 200 and f"/notes/{part2.pk}/" in chart.content.decode()
    assert detail.status_code == other_detail.status_code == 200
    assert one.status_code == 200 and one.json()["part2"] is True
    by_id = {row["id"]: row for row in listed.json()["results"]}
    assert by_id[other.pk]["part2"] is False
    page = detail.content.decode()
    if expected == READS:
        assert PART2_TEXT in page and MARKER not in page
        assert printed.status_code == 200 and PART2_TEXT in printed.content.decode()
        assert one.json()["sections"]["data"] == PART2_TEXT
        assert one.json()["narrative_withheld"] == ""
        assert by_id[part2.pk]["sections"]["data"] == PART2_TEXT
    else:
        reason = MARKER if expected == WITHHELD else access.NARRATIVE_NOT_FOR_ROLE
        assert PART2_TEXT not in page and escape(reason) in page
        assert printed.status_code == 403
        assert "sections" not in one.json() and one.json()["narrative_withheld"] == reason
        assert "sections" not in by_id[part2.pk]
        assert PART2_TEXT not in listed.content.decode()
    # The service line is everyone's who opens the note: date, code, minutes.
    assert "T1016" in page and str(one.json()["minutes"]) == "30"
    # The client's note of another program reads as before.
    if expected == ROLE:
        assert OTHER_TEXT not in other_detail.content.decode()
    else:
        assert OTHER_TEXT in other_detail.content.decode()
        assert by_id[other.pk]["sections"]["data"] == OTHER_TEXT


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_person_opens_the_part2_document_as_decided(
    cast: Cast, world: Part2World, http_as: Callable[[User], HttpClient], persona: str
) -> None:
    user, expected = _person(cast, world, persona), EXPECTED[persona]
    web, api = http_as(user), _api(user)
    base = f"/clients/{cast.client.pk}/documents"
    part2, other = world.part2_document.pk, world.other_document.pk
    answers = {
        "page": web.get(f"{base}/{part2}/"),
        "inline": web.get(f"{base}/{part2}/view/"),
        "download": web.get(f"{base}/{part2}/download/"),
        "api": api.get(f"/api/v1/documents/{part2}/content/"),
        "other": web.get(f"{base}/{other}/download/"),
        "other api": api.get(f"/api/v1/documents/{other}/content/"),
    }
    codes = {name: response.status_code for name, response in answers.items()}
    if expected == READS:
        assert set(codes.values()) == {200}
    elif expected == WITHHELD:
        assert codes == {
            "page": 200,
            "inline": 403,
            "download": 403,
            "api": 403,
            "other": 200,
            "other api": 200,
        }
        page = answers["page"].content.decode()
        assert SHOWN_MARKER in page and f"{base}/{part2}/download/" not in page
        assert answers["api"].json()["detail"] == MARKER
    elif expected == HIDDEN:
        assert set(codes.values()) == {404}
    else:  # billing and auditors read no documents in charts
        assert set(codes.values()) == {403}


def test_billing_keeps_the_service_line_of_a_part2_note_and_claims_it(
    cast: Cast, world: Part2World, http_as: Callable[[User], HttpClient]
) -> None:
    Agency.objects.filter(pk=cast.agency.pk).update(billing_sees_narratives=True)
    cast.billing.refresh_from_db()
    charge = Charge.objects.get(note=world.part2_note)
    assert charge.status == Charge.Status.READY, charge.hold_reasons
    web = http_as(cast.billing)
    shown = web.get(f"/billing/charges/{charge.pk}/").content.decode()
    assert "T1016" in shown and PART2_TEXT not in shown
    # Allowed to read narratives, billing still is not the program's staff.
    assert access.note_narrative_withheld(cast.billing, world.part2_note) == MARKER
    assert access.note_narrative_withheld(cast.billing, world.other_note) == ""
    assert PART2_TEXT not in web.get(f"/notes/{world.part2_note.pk}/").content.decode()
    day = world.part2_note.service_date
    batch = claim_batch_create(
        agency=cast.agency,
        by=cast.billing,
        request=BatchRequest(payer=world.billable.payer, service_from=day, service_to=day),
    )
    assert charge.pk in set(batch.lines.values_list("charge_id", flat=True))


def test_an_emergency_grant_opens_the_part2_records(
    cast: Cast, world: Part2World, http_as: Callable[[User], HttpClient]
) -> None:
    web = http_as(cast.other_team_cm)
    opened = web.post(
        f"/clients/{cast.client.pk}/break-glass/", {"reason": "Overdose reported by a shelter."}
    )
    assert opened.status_code == 302
    assert BreakGlassAccess.objects.filter(user=cast.other_team_cm, client=cast.client).exists()
    assert PART2_TEXT in web.get(f"/notes/{world.part2_note.pk}/").content.decode()
    download = f"/clients/{cast.client.pk}/documents/{world.part2_document.pk}/download/"
    assert web.get(download).status_code == 200
    # An admin too reads them only under a grant of their own, recorded and reviewed.
    assert access.note_narrative_withheld(cast.admin, world.part2_note) == MARKER
    BreakGlassAccess.objects.create(
        agency=cast.agency,
        client=cast.client,
        user=cast.admin,
        reason="Crisis call",
        granted_at=datetime.datetime.now(datetime.UTC),
        expires_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
    )
    assert access.note_narrative_withheld(cast.admin, world.part2_note) == ""


def test_covering_for_the_programs_counselor_reads_their_clients_part2_notes(
    cast: Cast, world: Part2World
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    assert access.note_narrative_withheld(world.program_peer, world.part2_note) == MARKER
    Coverage.objects.create(
        agency=cast.agency,
        absent=world.counselor,
        covering=world.program_peer,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=3),
        created_by=world.counselor,
    )
    assert access.note_narrative_withheld(world.program_peer, world.part2_note) == ""
    # Covering for the client's case manager, outside the program, opens nothing of it.
    Coverage.objects.create(
        agency=cast.agency,
        absent=cast.case_manager,
        covering=cast.colleague,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=3),
        created_by=cast.case_manager,
    )
    assert access.note_narrative_withheld(cast.colleague, world.part2_note) == MARKER


def test_the_program_s_notes_are_amended_within_the_program(cast: Cast, world: Part2World) -> None:
    note = world.part2_note
    for outsider in (cast.admin, cast.supervisor):
        answer = _api(outsider).post(
            f"/api/v1/notes/{note.pk}/addenda/", {"text": "Seen."}, format="json"
        )
        assert answer.status_code == 400 and MARKER in answer.content.decode()
    answer = _api(world.program_supervisor).post(
        f"/api/v1/notes/{note.pk}/addenda/", {"text": "Reviewed in supervision."}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["text"] == "Reviewed in supervision."
    # The addendum is part of the record: withheld with it.
    read = _api(cast.case_manager).get(f"/api/v1/notes/{note.pk}/").json()
    assert "text" not in read["addenda"][0] and read["narrative_withheld"] == MARKER


def test_a_part2_document_goes_in_a_packet_only_by_the_programs_staff(
    cast: Cast, world: Part2World, http_as: Callable[[User], HttpClient]
) -> None:
    from casework.coordination.models import Referral
    from casework.coordination.services_referrals import ReferralError, referral_send
    from casework.testing.coordination import OrganizationFactory

    referral = Referral.objects.create(
        agency=cast.agency,
        client=cast.client,
        organization=OrganizationFactory(agency=cast.agency),
        reason="Housing",
        created_by=cast.case_manager,
    )
    url = f"/clients/{cast.client.pk}/referrals/{referral.pk}/packet/"
    choice = {
        "summary": "",
        "documents": [world.part2_document.pk],
        "version": referral.version,
        "action": "save",
    }
    outsider = http_as(cast.case_manager)
    page = outsider.get(url).content.decode()
    assert "Detox discharge summary" not in page and "ID card" in page
    refused = outsider.post(url, choice).content.decode()
    assert "Choose documents from the list." in refused
    assert not referral.packet_documents.exists()
    http_as(world.counselor).post(url, choice)
    assert list(referral.packet_documents.all()) == [world.part2_document]
    # Chosen by the program's staff, it still does not leave by an outsider's hand.
    referral.refresh_from_db()
    with pytest.raises(ReferralError, match=MARKER):
        referral_send(
            referral=referral,
            by=cast.case_manager,
            expected_version=referral.version,
            sent_via="fax",
        )


def test_the_part2_rule_costs_a_fixed_number_of_queries_for_a_page_of_notes(
    cast: Cast, world: Part2World, django_assert_max_num_queries: Callable[..., object]
) -> None:
    notes = list(Note.objects.filter(client=cast.client))
    with django_assert_max_num_queries(6):  # type: ignore[operator]
        access.note_narratives_withheld(cast.case_manager, notes)


def test_early_warnings_and_automation_leave_the_part2_programs_notes_out(
    cast: Cast, world: Part2World
) -> None:
    """A warning or an automated task is read by everyone on the chart: what a Part 2 note
    recorded (a stopped medication, an ER visit) must not reach them that way."""
    from casework.automation.events import hospital_stay
    from casework.worklist import warnings
    from casework.worklist.models import ClientWarning

    day = cast.agency.today() - datetime.timedelta(days=1)
    worry = {"medication_adherence": "stopped", "events": ["er_visit"]}

    def note_by(author: User, hour: int) -> Note:
        return signed_note(
            author=author,
            cast=cast,
            world=world.billable,
            day=day,
            text="Seen.",
            hour=hour,
            facts=worry,
        )

    part2 = note_by(world.counselor, 13)
    assert part2.program == world.program and part2.events == ["er_visit"]
    warnings.evaluate_client(client_id=cast.client.pk)
    from_notes = ClientWarning.objects.filter(client=cast.client, evidence_key__startswith="note:")
    assert not from_notes.exists()
    assert hospital_stay(part2) is None

    other = note_by(cast.case_manager, 15)
    warnings.evaluate_client(client_id=cast.client.pk)
    assert {w.evidence_key for w in from_notes} == {f"note:{other.pk}"}
    assert {w.kind for w in from_notes} == {"medication", "er_or_hospital"}
    assert hospital_stay(other) is not None


def test_warnings_raised_from_part2_notes_before_the_rule_are_removed(
    cast: Cast, world: Part2World
) -> None:
    """worklist/0007: what earlier versions raised from a Part 2 note stops showing."""
    import importlib

    from django.apps import apps

    from casework.worklist.models import ClientWarning

    removal = importlib.import_module(
        "casework.worklist.migrations.0007_part2_note_warnings_removed"
    )
    for note in (world.part2_note, world.other_note):
        ClientWarning.objects.create(
            agency=cast.agency,
            client=cast.client,
            kind="er_or_hospital",
            evidence="Note of 2 Dec: emergency-room visit",
            evidence_key=f"note:{note.pk}",
        )
    ClientWarning.objects.create(
        agency=cast.agency, client=cast.client, kind="no_contact", evidence="…", evidence_key="x"
    )
    removal.remove_part2_note_warnings(apps, None)
    kept = set(ClientWarning.objects.values_list("evidence_key", flat=True))
    assert kept == {f"note:{world.other_note.pk}", "x"}


@pytest.mark.parametrize("record", ["note", "document"])
def test_a_withheld_part2_record_offers_emergency_access_and_returns_to_it(
    cast: Cast, world: Part2World, http_as: Callable[[User], HttpClient], record: str
) -> None:
    web = http_as(cast.case_manager)  # the client's own case manager, in no Part 2 program
    page = (
        f"/notes/{world.part2_note.pk}/"
        if record == "note"
        else f"/clients/{cast.client.pk}/documents/{world.part2_document.pk}/"
    )
    shown = web.get(page).content.decode()
    assert "Open in a medical emergency" in shown
    assert f'name="next" value="{page}"' in shown
    assert 'id="emergency_id_reason"' not in shown and 'id="emergency_reason"' in shown

    too_short = web.post(
        f"/clients/{cast.client.pk}/break-glass/", {"reason": "urgent", "next": page}
    )
    assert too_short.status_code == 400
    refused = too_short.content.decode()
    assert "These records are restricted" in refused  # not "not on your caseload"
    assert f'name="next" value="{page}"' in refused  # the second try still comes back here
    assert f'<a href="{page}">Go back</a>' in refused

    opened = web.post(
        f"/clients/{cast.client.pk}/break-glass/",
        {"reason": "Overdose reported by a shelter.", "next": page},
    )
    assert opened.status_code == 302 and opened["Location"] == page
    after = web.get(page).content.decode()
    assert "Open in a medical emergency" not in after
    if record == "note":
        assert PART2_TEXT in after


def test_emergency_access_goes_back_only_to_a_page_of_this_site(
    cast: Cast, world: Part2World, http_as: Callable[[User], HttpClient]
) -> None:
    web = http_as(cast.case_manager)
    opened = web.post(
        f"/clients/{cast.client.pk}/break-glass/",
        {"reason": "Overdose reported by a shelter.", "next": "https://evil.example/phish"},
    )
    assert opened["Location"] == f"/clients/{cast.client.pk}/"


@pytest.mark.parametrize("persona", ["counselor", "billing"])
def test_no_emergency_offer_to_who_reads_the_record_or_whose_role_reads_no_narrative(
    cast: Cast,
    world: Part2World,
    http_as: Callable[[User], HttpClient],
    persona: str,
) -> None:
    web = http_as(_person(cast, world, persona))
    assert (
        "Open in a medical emergency"
        not in web.get(f"/notes/{world.part2_note.pk}/").content.decode()
    )
