"""An admin marks a substance-use program as 42 CFR Part 2; its clients' clinical records then
need a Part 2 consent to leave the agency."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client as HttpClient

from casework.clients.models import Episode
from casework.coordination.disclosure import categories_shared
from casework.coordination.models import Category
from casework.core.models import AuditEvent, Program, User
from casework.testing.factories import ProgramFactory
from casework.testing.personas import Cast


def test_an_admin_marks_a_program_part2_and_its_clients_notes_become_part2(
    cast: Cast, http_as: Callable[[User], HttpClient]
) -> None:
    program = ProgramFactory(agency=cast.agency, name="SUD outpatient")
    Episode.objects.create(
        agency=cast.agency, client=cast.client, program=program, admitted_on=cast.agency.today()
    )
    assert Category.SUBSTANCE_USE not in categories_shared(
        client=cast.client, categories=[Category.NOTES]
    )
    response = http_as(cast.admin).post(
        f"/staff/programs/{program.pk}/edit/",
        {"name": "SUD outpatient", "code": "SUD", "description": "", "is_part2": "on"},
    )
    assert response.status_code == 302
    assert Program.objects.get(pk=program.pk).is_part2
    assert AuditEvent.objects.filter(object_type="core.program", action="update").exists()
    assert Category.SUBSTANCE_USE in categories_shared(
        client=cast.client, categories=[Category.NOTES]
    )
    listing = http_as(cast.admin).get("/staff/programs/").content.decode()
    assert "42 CFR Part 2" in listing
    unmarked = http_as(cast.admin).post(
        f"/staff/programs/{program.pk}/edit/",
        {"name": "SUD outpatient", "code": "SUD", "description": ""},
    )
    assert unmarked.status_code == 200
    assert "stay 42 CFR Part 2 records" in unmarked.content.decode()
    assert Program.objects.get(pk=program.pk).is_part2
