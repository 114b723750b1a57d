"""seed_scale: bulk benchmark data on top of the demo agency, in the shapes the pages expect."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from casework.clients import selectors
from casework.clients.demo import DEMO_DOMAIN, seed_demo
from casework.clients.models import CareTeamMember, Client
from casework.clients.scale import BIG_RECORD, PER_CASE_MANAGER
from casework.core.models import AuditEvent, User
from casework.notes.models import Note

pytestmark = pytest.mark.django_db


def _queries(http: Any, url: str) -> int:
    assert http.get(url).status_code == 200  # warm-up: first-visit work is not the page's
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def _primaries(user: User) -> int:
    return CareTeamMember.objects.filter(
        staff=user, role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
    ).count()


def _older_copies_of_the_signed_notes(author: User) -> int:
    """Double the author's history: each signed note again, three years earlier."""
    back = datetime.timedelta(days=3 * 365)
    notes = list(Note.objects.filter(author=author, status=Note.Status.SIGNED))
    for note in notes:
        note.pk = None
        note.appointment = None
        note.service_date -= back
        note.start_at = note.start_at - back if note.start_at else None
        note.end_at = note.end_at - back if note.end_at else None
        note.signed_at = note.signed_at - back if note.signed_at else None
    return len(Note.objects.bulk_create(notes))


def test_scale_data_gives_the_big_chart_a_full_caseload_and_steady_query_counts(
    http_as: Any,
) -> None:
    seed_demo(clients=8)  # one client for each of the eight case managers
    manager = User.objects.get(email=f"casemanager@{DEMO_DOMAIN}")
    assert _primaries(manager) == 1
    audit_rows = AuditEvent.objects.count()

    out = StringIO()
    call_command("seed_scale", clients=60, notes=600, stdout=out)

    big = Client.objects.get(record_number=BIG_RECORD)
    counts = Client.objects.filter(agency=big.agency).annotate(n=Count("notes")).order_by("-n")
    assert counts[0].pk == big.pk and counts[0].n > counts[1].n
    assert Note.objects.filter(client__record_number__startswith="SC-").count() == 600
    assert _primaries(manager) == PER_CASE_MANAGER
    assert big.care_team.get(end_on__isnull=True).staff == manager
    assert f"record {BIG_RECORD}" in out.getvalue()
    assert big.legal_last_name not in out.getvalue()  # progress never names a client
    assert AuditEvent.objects.count() == audit_rows  # no audit entries written in bulk

    # Query counts depend on which kinds of records a page shows, never on how many: a chart
    # of 7 notes and one of 200 (both with a draft), My day before and after the history doubles.
    http = http_as(manager)
    small_chart = Client.objects.get(record_number="SC-0000011")
    assert small_chart.notes.count() < 10 < 100 < big.notes.count()
    chart = _queries(http, f"/clients/{small_chart.pk}/")
    assert _queries(http, f"/clients/{big.pk}/") == chart
    my_day = _queries(http, "/")
    assert _older_copies_of_the_signed_notes(manager) > 400
    assert _queries(http, "/") == my_day
    assert _queries(http, f"/clients/{big.pk}/") == chart


def test_seeding_twice_refuses_instead_of_adding_a_second_copy() -> None:
    call_command("seed_scale", clients=3, notes=12, stdout=StringIO())
    with pytest.raises(CommandError, match="already has scale data"):
        call_command("seed_scale", clients=3, notes=12, stdout=StringIO())
    assert Client.objects.filter(record_number__startswith="SC-").count() == 3


def test_names_only_makes_clients_found_by_name_and_by_a_typo(cast: Any) -> None:
    call_command(
        "seed_scale", clients=30, names_only=True, agency_name=cast.agency.name, stdout=StringIO()
    )
    client = Client.objects.get(record_number=BIG_RECORD)
    assert client.agency == cast.agency and not client.notes.exists()
    first, last = client.legal_first_name, client.legal_last_name
    for query in (f"{first} {last}", f"{first} {last[:-1]}"):  # exact, then a letter missing
        assert client in selectors.client_search(user=cast.admin, query=query).clients, query
