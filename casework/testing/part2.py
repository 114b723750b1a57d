"""A 42 CFR Part 2 program around the cast's client, for the tests of who reads its records.

The client (on the North team case manager's caseload) is also enrolled in the agency's SUD
program. The program's team has a counselor on the client's care team, a supervisor, and a
counselor who is not on this client's care team. The counselor has signed a note under the
program (billable, so it has a charge) and uploaded a Part 2 document; the case manager, who
works in no program, has signed a note of their own and uploaded an ordinary document.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from casework.clients.models import CareTeamMember, Episode
from casework.coordination.models import Document
from casework.core.models import Program, Role, Team, TeamMembership, User
from casework.notes.models import Note
from casework.notes.services import NoteStart, note_create, note_save_draft, note_sign
from casework.testing.billing import Billable, billable_world, local, make_credentialed
from casework.testing.coordination import document
from casework.testing.factories import TeamFactory, UserFactory, add_to_team, assign
from casework.testing.personas import Cast

PART2_TEXT = "Discussed relapse triggers and the methadone dose."
OTHER_TEXT = "Helped with the housing application."


@dataclass
class Part2World:
    billable: Billable
    program: Program
    team: Team
    counselor: User  # works in the program, on the client's care team
    program_supervisor: User  # supervises the program's team
    program_peer: User  # works in the program, not on this client's care team
    part2_note: Note
    other_note: Note
    part2_document: Document
    other_document: Document


def signed_note(
    *,
    author: User,
    cast: Cast,
    world: Billable,
    day: datetime.date,
    text: str,
    hour: int = 10,
    facts: dict[str, Any] | None = None,
) -> Note:
    """A billable note with `text` as its narrative (and `facts` such as its medication
    answer and events), signed by its author."""
    start_at = local(day, hour, agency=cast.agency)
    note = note_create(
        client=cast.client,
        author=author,
        start=NoteStart(
            service_date=day,
            start_at=start_at,
            end_at=start_at + datetime.timedelta(minutes=30),
            place_of_service="12",
            service_code_id=world.t1016.pk,
            template="dap",
        ),
    )
    note = note_save_draft(
        note=note,
        by=author,
        data={
            "sections": {"data": text, "assessment": "Stable.", "plan": "Weekly."},
            **(facts or {}),
        },
        expected_version=note.version,
    )
    return note_sign(note=note, by=author, attest=True, late_reason="Test.").note


def part2_world(cast: Cast) -> Part2World:
    billing = billable_world(cast)
    today = cast.agency.today()
    program = Program.objects.create(
        agency=cast.agency, name="SUD outpatient", code="SUD", is_part2=True
    )
    Episode.objects.create(
        agency=cast.agency,
        client=cast.client,
        program=program,
        admitted_on=today - datetime.timedelta(days=60),
    )
    team = TeamFactory(agency=cast.agency, name="Co-occurring", program=program)
    counselor, program_supervisor, program_peer = (
        UserFactory(agency=cast.agency, email=f"{login}@home.example", roles=[role])
        for login, role in (
            ("counselor", Role.CASE_MANAGER),
            ("sud-supervisor", Role.SUPERVISOR),
            ("sud-peer", Role.CASE_MANAGER),
        )
    )
    add_to_team(counselor, team)
    add_to_team(program_peer, team)
    add_to_team(program_supervisor, team, TeamMembership.Kind.SUPERVISOR)
    assign(cast.client, counselor, role=CareTeamMember.Role.CLINICIAN)
    make_credentialed(counselor, nine="987654322")
    day = today - datetime.timedelta(days=2)
    return Part2World(
        billable=billing,
        program=program,
        team=team,
        counselor=counselor,
        program_supervisor=program_supervisor,
        program_peer=program_peer,
        part2_note=signed_note(
            author=counselor, cast=cast, world=billing, day=day, text=PART2_TEXT
        ),
        other_note=signed_note(
            author=cast.case_manager, cast=cast, world=billing, day=day, text=OTHER_TEXT
        ),
        part2_document=document(
            client=cast.client, by=counselor, part2=True, title="Detox discharge summary"
        ),
        other_document=document(client=cast.client, by=cast.case_manager, title="ID card"),
    )
