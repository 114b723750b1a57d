"""A small hand-built October for the reports, and bulk activity for the query-count tests."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.billing.models import Authorization, Charge, Payer
from casework.core.models import Role, User
from casework.notes.models import Note
from casework.notes.services import note_sign, note_void
from casework.testing.billing import Billable, billable_world, draft_note
from casework.testing.factories import ClientFactory, UserFactory, add_to_team
from casework.testing.personas import Cast

OCTOBER = {"start": "2026-10-01", "end": "2026-10-31"}
FIRST_WEEK = {"start": "2026-10-05", "end": "2026-10-11"}  # Monday to Sunday


def sign(note: Note, by: User) -> Charge | None:
    return note_sign(note=note, by=by, attest=True, late_reason="Caught up after training.").charge


@dataclass
class October:
    """The case manager (credentialed, NPI) signs four notes with known minutes and a fifth
    that is then voided; the colleague (no credential, no NPI) signs one, whose charge is held.

    T1016 is $25 per 15 minutes under the CMS 8-minute rule, H0023 $60 an encounter:
    case manager  38 min T1016 -> 3 units  $75   ready
                  22 min T1016 -> 1 unit   $25   ready
                  45 min H0023 -> 1 unit   $60   ready
                  20 min, no code, no charge
                  60 min T1016 -> 4 units $100   void (note voided)
    colleague     30 min T1016 -> 2 units  $50   held
    """

    world: Billable
    ready: list[Charge]
    held: Charge
    voided: Charge


@pytest.fixture
def world(cast: Cast) -> Billable:
    return billable_world(cast)


@pytest.fixture
def october(cast: Cast, world: Billable) -> October:
    cm, colleague, client = cast.case_manager, cast.colleague, cast.client

    def note(author: User, code, day: int, minutes: int, start: tuple[int, int] = (10, 0)) -> Note:
        return draft_note(
            author=author,
            client=client,
            code=code,
            day=datetime.date(2026, 10, day),
            minutes=minutes,
            start=start,
        )

    ready = [
        sign(note(cm, world.t1016, 6, 38), cm),
        sign(note(cm, world.t1016, 7, 22), cm),
        sign(note(cm, world.h0023, 8, 45), cm),
    ]
    assert sign(note(cm, None, 9, 20), cm) is None
    to_void = note(cm, world.t1016, 9, 60, start=(14, 0))
    voided = sign(to_void, cm)
    note_void(note=Note.objects.get(pk=to_void.pk), by=cm, reason="Entered for the wrong client.")
    held = sign(note(colleague, world.t1016, 7, 30, start=(13, 0)), colleague)
    assert all(c is not None and c.status == Charge.Status.READY for c in ready)
    assert held is not None and held.status == Charge.Status.HELD
    assert voided is not None
    voided.refresh_from_db()
    assert voided.status == Charge.Status.VOID
    return October(world=world, ready=ready, held=held, voided=voided)  # type: ignore[arg-type]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def add_activity(cast: Cast, world: Billable, count: int) -> None:
    """`count` more case managers on the North team, each with a client, a payer of their own,
    an authorization, a signed note with its charge (every other one held, each for a reason of
    its own) and a draft: every report gains `count` rows."""
    agency = cast.agency
    for i in range(count):
        staff = UserFactory(agency=agency, roles=[Role.CASE_MANAGER])
        add_to_team(staff, cast.team)
        client = ClientFactory(agency=agency, created_by=staff)
        payer = Payer.objects.create(
            agency=agency, name=f"Bulk payer {staff.pk}", kind=Payer.Kind.MEDICAID_MCO
        )
        day = datetime.date(2026, 10, 1 + i % 28)
        authorization = Authorization.objects.create(
            agency=agency,
            client=client,
            payer=payer,
            number=f"BULK{staff.pk}",
            units=10,
            start_on=datetime.date(2026, 10, 1),
            end_on=datetime.date(2026, 12, 31),
        )
        authorization.service_codes.add(world.t1016)
        note = Note.objects.create(
            agency=agency,
            client=client,
            author=staff,
            service_date=day,
            status=Note.Status.SIGNED,
            signed_at=timezone.now(),
            minutes=30,
            service_code=world.t1016,
        )
        held = i % 2 == 1
        Charge.objects.create(
            agency=agency,
            note=note,
            client=client,
            service_code=world.t1016,
            rendering_provider=staff,
            payer=payer,
            authorization=authorization,
            service_date=day,
            minutes=30,
            units=2,
            unit_rule="cms_8_minute",
            rate=Decimal("25.00"),
            amount=Decimal("50.00"),
            place_of_service="12",
            status=Charge.Status.HELD if held else Charge.Status.READY,
            hold_reasons=[{"code": f"bulk_{staff.pk}", "message": "Bulk."}] if held else [],
        )
        Note.objects.create(
            agency=agency,
            client=client,
            author=staff,
            service_date=agency.today() - datetime.timedelta(days=i % 20),
        )


def query_count(http: HttpClient, url: str, params: dict[str, str]) -> int:
    http.get(url, params)  # warm up: the first request of a session does one-off work
    with CaptureQueriesContext(connection) as context:
        response = http.get(url, params)
    assert response.status_code == 200
    return len(context)
