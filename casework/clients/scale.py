"""Synthetic history at benchmark scale, bulk-inserted in the shapes the services would make.

Builds on an agency that already has staff (the demo agency by default, created with
`seed_demo(clients=0)` when the database is empty) and adds `clients` synthetic clients with
`notes` signed notes between them, plus appointments, PHQ-9s, service plans and ready charges
in proportion. The demo case manager is topped up to exactly `PER_CASE_MANAGER` primary
clients; the rest go to bulk-made case managers (no sign-in), `PER_CASE_MANAGER` each, in teams
of `TEAM_SIZE` with a supervisor. One client of the demo case manager, record `BIG_RECORD`,
gets `BIG_CHART_NOTES` notes (or a third of all notes at small sizes): the chart to time. A
case manager who already has 40 or more clients gets just that one more. `seed_names` makes
clients and search keys only, for the search benchmark at a million names.

No service runs per row, so nothing here writes the audit log (hash-chained: one row at a
time, by the services) or client timeline events. Signed notes are inserted already signed,
as `bench/my_day.py` does: the database triggers lock signed notes against UPDATE and DELETE,
not INSERT. Synthetic names only (the demo's name lists); never real people.
"""

from __future__ import annotations

import datetime
import functools
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection, transaction

from casework.assessments.models import Assessment
from casework.billing.models import Charge, Payer, ServiceCode
from casework.clients import search
from casework.clients.demo import DATA, DEMO_DOMAIN, seed_demo
from casework.clients.models import CareTeamMember, Client, Coverage, Episode, NameKey
from casework.core.models import Agency, Program, Role, StaffRole, Team, TeamMembership, User
from casework.core.validators import npi_is_valid
from casework.notes.models import ContactType, Note
from casework.plans.models import ServicePlan
from casework.schedule.models import Appointment, AppointmentClient

RECORD_PREFIX = "SC-"  # every client made here; its presence means the agency is already scaled
BIG_RECORD = f"{RECORD_PREFIX}0000001"
BIG_CHART_NOTES = 2000
PER_CASE_MANAGER = 40
TEAM_SIZE = 10
HISTORY_DAYS = 730
VISIT_MINUTES = 50
NOTES_PER_APPOINTMENT = 2  # every other note documents a booked visit
NO_SHOW_EVERY = 13  # one booked visit in 13 is a no-show
NOTES_PER_PHQ9 = 10
NOTES_PER_PLAN = 10
MAX_PLANS = 4  # a plan reviewed every 180 days over two years
NOTES_PER_CHARGE = 20  # one signed note in 20 has a ready charge: 100,000 at 2,000,000 notes
DRAFT_EVERY = 10  # the latest note of one client in 10 is still a draft
CHUNK = 1000  # clients per transaction
NAMES_CHUNK = 20_000  # clients per transaction when only names are made
BATCH = 5000  # rows per INSERT


class ScaleError(Exception):
    """The agency cannot be scaled as asked; the message says why."""


@dataclass
class ScaleResult:
    agency: Agency
    big_record: str
    big_notes: int
    case_manager: User
    made: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Setting:
    """What every chunk needs: the agency, its people, codes and the shape of the history."""

    agency: Agency
    tz: Any
    today: datetime.date
    now: datetime.datetime
    admin: User
    program: Program
    payer: Payer | None
    code: ServiceCode | None
    names: dict[str, Any]
    rng: random.Random


def seed_scale(
    *,
    clients: int,
    notes: int,
    agency_name: str = "",
    seed: int = 1,
    progress: Callable[[str], None] = lambda line: None,
) -> ScaleResult:
    """Add `clients` clients and `notes` notes (with their history) to the agency, in bulk."""
    if clients < 1 or notes < 0:
        raise ScaleError("Ask for at least one client and no negative number of notes.")
    started = time.perf_counter()
    agency = _agency(agency_name, seed)
    if Client.objects.filter(agency=agency, record_number__startswith=RECORD_PREFIX).exists():
        raise ScaleError(
            f"{agency.name} already has scale data ({RECORD_PREFIX}… records). "
            "Use a fresh database to seed again."
        )
    setting = _setting(agency, seed)
    focus = _focus_case_manager(agency)
    has = CareTeamMember.objects.filter(
        agency=agency, staff=focus, role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
    ).count()
    focus_new = min(clients, max(PER_CASE_MANAGER - has, 1))  # at least the big chart
    others = clients - focus_new
    managers = _case_managers(setting, -(-others // PER_CASE_MANAGER)) if others else []
    per_client = _notes_per_client(clients, notes)
    owners = [focus] * focus_new + [m for m in managers for _ in range(PER_CASE_MANAGER)]
    result = ScaleResult(
        agency=agency, big_record=BIG_RECORD, big_notes=per_client[0], case_manager=focus
    )
    result.made["case managers"] = len(managers)
    done = 0
    while done < clients:
        n = min(CHUNK, clients - done)
        with transaction.atomic():
            made = _chunk(setting, done, owners[done : done + n], per_client[done : done + n])
        for what, count in made.items():
            result.made[what] = result.made.get(what, 0) + count
        done += n
        seconds = time.perf_counter() - started
        rows = sum(result.made.values())
        progress(
            f"{done:,}/{clients:,} clients, {result.made.get('notes', 0):,} notes, "
            f"{rows:,} rows in {seconds:.0f} s ({rows / seconds:,.0f} rows/s)"
        )
    result.seconds = time.perf_counter() - started
    return result


def seed_names(
    *,
    clients: int,
    agency_name: str = "",
    seed: int = 1,
    progress: Callable[[str], None] = lambda line: None,
) -> ScaleResult:
    """Clients with their search keys only (no care team, no history): name search at
    1,000,000 names. Seen by agency-wide roles only; same record numbers and refusal rule."""
    if clients < 1:
        raise ScaleError("Ask for at least one client.")
    started = time.perf_counter()
    agency = _agency(agency_name, seed)
    if Client.objects.filter(agency=agency, record_number__startswith=RECORD_PREFIX).exists():
        raise ScaleError(
            f"{agency.name} already has scale data ({RECORD_PREFIX}… records). "
            "Use a fresh database to seed again."
        )
    setting = _setting(agency, seed)
    result = ScaleResult(
        agency=agency, big_record=BIG_RECORD, big_notes=0, case_manager=setting.admin
    )
    done = 0
    while done < clients:
        n = min(NAMES_CHUNK, clients - done)
        with transaction.atomic():
            made, keys = _new_clients(setting, done, n)
        result.made["clients"] = result.made.get("clients", 0) + len(made)
        result.made["name keys"] = result.made.get("name keys", 0) + keys
        done += n
        seconds = time.perf_counter() - started
        rows = sum(result.made.values())
        progress(
            f"{done:,}/{clients:,} clients, {rows:,} rows in {seconds:.0f} s ({rows / seconds:,.0f} rows/s)"
        )
    result.seconds = time.perf_counter() - started
    return result


def _agency(name: str, seed: int) -> Agency:
    if name:
        agency = Agency.objects.filter(name=name).first()
        if agency is None:
            raise ScaleError(f"No agency is named {name!r}.")
        return agency
    demo = User.objects.filter(email=f"casemanager@{DEMO_DOMAIN}").select_related("agency").first()
    if demo is not None and demo.agency is not None:
        return demo.agency
    if Agency.objects.exists():
        raise ScaleError("The database has agencies but no demo agency: name one (--agency-name).")
    return seed_demo(clients=0, seed=seed).agency


def _setting(agency: Agency, seed: int) -> _Setting:
    from django.utils import timezone

    admin = User.objects.filter(agency=agency, role_rows__role=Role.AGENCY_ADMIN).first()
    if admin is None:
        raise ScaleError(f"{agency.name} has no agency admin to record as the registrar.")
    program = Program.objects.filter(agency=agency).order_by("pk").first() or (
        Program.objects.create(agency=agency, name="Intensive case management")
    )
    payer = (
        Payer.objects.filter(agency=agency, is_active=True, bills_electronically=True)
        .exclude(payer_id="")
        .order_by("pk")
        .first()
    )
    code = ServiceCode.objects.filter(agency=agency, code="T1016", modifiers="").first()
    return _Setting(
        agency=agency,
        tz=agency.tzinfo,
        today=agency.today(),
        now=timezone.now(),
        admin=admin,
        program=program,
        payer=payer,
        code=code,
        names=json.loads((DATA / "demo_names.json").read_text(encoding="utf-8")),
        rng=random.Random(seed),  # noqa: S311 - synthetic names, not secrets
    )


def _focus_case_manager(agency: Agency) -> User:
    """The demo case manager, or the agency's first case manager."""
    user = (
        User.objects.filter(agency=agency, email=f"casemanager@{DEMO_DOMAIN}").first()
        or User.objects.filter(agency=agency, role_rows__role=Role.CASE_MANAGER)
        .order_by("pk")
        .first()
    )
    if user is None:
        raise ScaleError(f"{agency.name} has no case manager.")
    return user


def _notes_per_client(clients: int, notes: int) -> list[int]:
    """The big chart first, then the rest of the notes spread evenly."""
    if clients == 1:
        return [notes]
    big = min(BIG_CHART_NOTES, notes // 3)
    rest, extra = divmod(notes - big, clients - 1)
    return [big] + [rest + (1 if i < extra else 0) for i in range(clients - 1)]


def _case_managers(s: _Setting, n: int) -> list[User]:
    """`n` case managers with NPIs, in teams of TEAM_SIZE, each team with a supervisor."""
    tag = f"a{s.agency.pk}"

    def person(kind: str, i: int) -> User:
        return User(
            agency=s.agency,
            email=f"{kind}{i}.{tag}@scale.casework.example",
            first_name=f"{kind.capitalize()}{i}",
            last_name="Scale",
            password=UNUSABLE_PASSWORD_PREFIX,  # these people never sign in
            npi=_npi(f"2{i:08d}") if kind == "cm" else "",
        )

    return staff_in_teams(
        s.agency,
        s.program,
        "Scale",
        [person("cm", i) for i in range(n)],
        lambda i: person("sup", i),
    )


def staff_in_teams(
    agency: Agency,
    program: Program,
    name: str,
    managers: list[User],
    supervisor: Callable[[int], User],
    team_size: int = TEAM_SIZE,
) -> list[User]:
    """Save the case managers (unsaved) in teams of `team_size` of the program ("<name> team
    <i>"), each team with a supervisor made by `supervisor(i)`; returns the managers, saved."""
    teams_needed = -(-len(managers) // team_size)
    managers = User.objects.bulk_create(managers, batch_size=BATCH)
    bosses = User.objects.bulk_create(
        [supervisor(i) for i in range(teams_needed)], batch_size=BATCH
    )
    teams = Team.objects.bulk_create(
        [Team(agency=agency, name=f"{name} team {i}", program=program) for i in range(teams_needed)]
    )
    StaffRole.objects.bulk_create(
        [StaffRole(agency=agency, user=u, role=Role.CASE_MANAGER) for u in managers]
        + [StaffRole(agency=agency, user=u, role=Role.SUPERVISOR) for u in bosses],
        batch_size=BATCH,
    )
    TeamMembership.objects.bulk_create(
        [
            TeamMembership(agency=agency, team=teams[i // team_size], user=u)
            for i, u in enumerate(managers)
        ]
        + [
            TeamMembership(agency=agency, team=t, user=u, kind=TeamMembership.Kind.SUPERVISOR)
            for t, u in zip(teams, bosses, strict=True)
        ],
        batch_size=BATCH,
    )
    return managers


def _npi(prefix9: str) -> str:
    return next(prefix9 + d for d in "0123456789" if npi_is_valid(prefix9 + d))


def _at(s: _Setting, day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=s.tz)


def _days(s: _Setting, n: int, span: int) -> Iterator[datetime.date]:
    """`n` days spread over the last `span` days, newest (yesterday) first."""
    for k in range(n):
        yield s.today - datetime.timedelta(days=1 + (k * span) // max(n, 1))


@functools.cache
def _keys_of(name: str) -> tuple[str, ...]:
    return tuple(sorted(search.name_keys([name])))


def _insert_name_keys(agency: Agency, clients: list[Client]) -> int:
    """Each client's search keys (as services._refresh_search makes them); COPY on PostgreSQL."""
    rows = [
        (agency.pk, c.pk, key)
        for c in clients
        for key in sorted(
            set(_keys_of(c.legal_first_name))
            | set(_keys_of(c.legal_middle_name))
            | set(_keys_of(c.legal_last_name))
        )
    ]
    if connection.vendor != "postgresql":
        NameKey.objects.bulk_create(
            [NameKey(agency_id=a, client_id=c, key=k) for a, c, k in rows], batch_size=BATCH
        )
        return len(rows)
    table = NameKey._meta.db_table
    sql = f"COPY {table} (agency_id, client_id, key) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def _new_clients(s: _Setting, first: int, n: int) -> tuple[list[Client], int]:
    """Clients `first`+1 … `first`+n with their search keys; returns them and the key count."""
    rng, names = s.rng, s.names
    rows = []
    for i in range(first + 1, first + n + 1):
        given, family = rng.choice(names["first"]), rng.choice(names["last"])
        middle = rng.choice(["", "", "", "A.", "Lee", "Marie"])
        city, postal = rng.choice(names["cities"])
        rows.append(
            Client(
                agency=s.agency,
                record_number=f"{RECORD_PREFIX}{i:07d}",
                legal_first_name=given,
                legal_middle_name=middle,
                legal_last_name=family,
                date_of_birth=s.today - datetime.timedelta(days=rng.randint(19 * 365, 78 * 365)),
                sex_for_billing=rng.choice("FMU"),
                address_line1=f"{rng.randint(100, 9999)} {rng.choice(names['streets'])}",
                city=city,
                state="WA",
                postal_code=postal,
                acuity=1 + i % 3,
                search_name=" ".join(search.tokens(f"{given} {middle} {family}")),
                created_by=s.admin,
            )
        )
    made = Client.objects.bulk_create(rows, batch_size=BATCH)
    return made, _insert_name_keys(s.agency, made)


def _chunk(s: _Setting, first: int, owners: list[User], note_counts: list[int]) -> dict[str, int]:
    """Clients `first`+1… with their enrolment, coverage and history, in one transaction."""
    since = s.today - datetime.timedelta(days=HISTORY_DAYS + 30)
    clients, keys = _new_clients(s, first, len(owners))
    made = {"clients": len(clients), "name keys": keys}
    Episode.objects.bulk_create(
        [Episode(agency=s.agency, client=c, program=s.program, admitted_on=since) for c in clients],
        batch_size=BATCH,
    )
    CareTeamMember.objects.bulk_create(
        [
            CareTeamMember(
                agency=s.agency,
                client=c,
                staff=staff,
                role=CareTeamMember.Role.PRIMARY,
                start_on=since,
            )
            for c, staff in zip(clients, owners, strict=True)
        ],
        batch_size=BATCH,
    )
    coverage: dict[int, Coverage] = {}
    if s.payer is not None:
        rows = Coverage.objects.bulk_create(
            [
                Coverage(
                    agency=s.agency,
                    client=c,
                    payer=s.payer,
                    member_id=f"{700000000 + first + k}WA",
                    start_on=since,
                )
                for k, c in enumerate(clients)
            ],
            batch_size=BATCH,
        )
        coverage = {row.client_id: row for row in rows}
    made["episodes"] = made["primary care-team rows"] = made["coverages"] = len(clients)
    made |= _history(s, first, clients, owners, note_counts, coverage)
    made["PHQ-9s"] = _phq9(s, clients, owners, note_counts)
    made["service plans"] = _plans(s, clients, owners, note_counts)
    return made


def _history(
    s: _Setting,
    first: int,
    clients: list[Client],
    owners: list[User],
    note_counts: list[int],
    coverage: dict[int, Coverage],
) -> dict[str, int]:
    """Notes over the last two years (every other one from a booked visit), one visit booked
    in the next two weeks per client, and a ready charge for one signed note in 20."""
    appointments: list[Appointment] = []
    owner_of: list[Client] = []
    planned: list[tuple[Client, User, datetime.date, int, int, int]] = []
    for k, (client, staff, count) in enumerate(zip(clients, owners, note_counts, strict=True)):
        slot = (first + k) % PER_CASE_MANAGER
        hour = 9 + slot // 5
        for n, day in enumerate(_days(s, count, HISTORY_DAYS)):
            index = -1
            if n % NOTES_PER_APPOINTMENT == 0:
                missed = (n // NOTES_PER_APPOINTMENT + client.pk) % NO_SHOW_EVERY == 0
                index = len(appointments)
                appointments.append(_visit(s, staff, day, hour, missed=missed))
                owner_of.append(client)
            planned.append((client, staff, day, hour, n, index))
        upcoming = s.today + datetime.timedelta(days=slot % 14)
        appointments.append(_visit(s, staff, upcoming, hour, missed=False, booked=True))
        owner_of.append(client)
    appointments = Appointment.objects.bulk_create(appointments, batch_size=BATCH)
    AppointmentClient.objects.bulk_create(
        [
            AppointmentClient(agency=s.agency, appointment=a, client=c)
            for a, c in zip(appointments, owner_of, strict=True)
        ],
        batch_size=BATCH,
    )
    drafts_of = {c.pk for k, c in enumerate(clients) if (first + k) % DRAFT_EVERY == 0}
    notes = []
    for client, staff, day, hour, n, index in planned:
        visit = appointments[index] if index >= 0 else None
        missed = visit is not None and visit.status == Appointment.Status.NO_SHOW
        draft = n == 0 and client.pk in drafts_of
        start = _at(s, day, hour)
        end = start + datetime.timedelta(minutes=VISIT_MINUTES)
        notes.append(
            Note(
                agency=s.agency,
                client=client,
                author=staff,
                status=Note.Status.DRAFT if draft else Note.Status.SIGNED,
                service_date=day,
                start_at=start,
                end_at=end,
                contact_type=ContactType.NO_SHOW if missed else ContactType.FACE_TO_FACE,
                place_of_service="12",
                service_code=None if missed else s.code,
                present="" if missed else "Client",
                sections={
                    "data": "Met at home; talked about the week and the bus pass.",
                    "assessment": "Stable.",
                    "plan": "Same time next week.",
                },
                appointment=visit,
                signed_at=None if draft else end + datetime.timedelta(hours=2),
                minutes=None if draft or missed else VISIT_MINUTES,
            )
        )
    notes = Note.objects.bulk_create(notes, batch_size=BATCH)
    charges = []
    payer, code = s.payer, s.code
    if payer is not None and code is not None:
        for n, note in enumerate(notes):
            billable = note.status == Note.Status.SIGNED and note.service_code_id is not None
            if billable and n % NOTES_PER_CHARGE == NOTES_PER_CHARGE // 2:
                charges.append(_charge(s, note, coverage[note.client_id], payer, code))
        Charge.objects.bulk_create(charges, batch_size=BATCH)
    return {
        "appointments": len(appointments),
        "appointment clients": len(appointments),
        "notes": len(notes),
        "ready charges": len(charges),
    }


def _visit(
    s: _Setting, staff: User, day: datetime.date, hour: int, *, missed: bool, booked: bool = False
) -> Appointment:
    start = _at(s, day, hour)
    status = (
        Appointment.Status.SCHEDULED
        if booked
        else Appointment.Status.NO_SHOW
        if missed
        else Appointment.Status.ATTENDED
    )
    return Appointment(
        agency=s.agency,
        kind="home_visit",
        staff=staff,
        start_at=start,
        end_at=start + datetime.timedelta(minutes=VISIT_MINUTES),
        place_type="client_home",
        purpose="Weekly visit",
        status=status,
        outcome_at=None if booked else start + datetime.timedelta(hours=1),
        outcome_by=None if booked else staff,
        created_by=staff,
    )


def _charge(s: _Setting, note: Note, coverage: Coverage, payer: Payer, code: ServiceCode) -> Charge:
    return Charge(
        agency=s.agency,
        note=note,
        client_id=note.client_id,
        service_code=code,
        rendering_provider_id=note.author_id,
        payer=payer,
        coverage=coverage,
        service_date=note.service_date,
        minutes=VISIT_MINUTES,
        units=3,
        unit_rule="cms_8_minute",
        rate=Decimal("25.00"),
        amount=Decimal("75.00"),
        place_of_service="12",
        diagnosis_codes=["F20.9", "Z59.00"],
        status=Charge.Status.READY,
    )


def _phq9(s: _Setting, clients: list[Client], owners: list[User], counts: list[int]) -> int:
    rows = [
        Assessment(
            agency=s.agency,
            client=c,
            author=staff,
            instrument="phq9",
            instrument_version="1",
            administered_on=day,
            answers={f"q{n}": 1 for n in range(1, 9)} | {"q9": 0},
            status=Assessment.Status.SIGNED,
            total=8,
            band="Mild",
            signed_at=_at(s, day, 12),
        )
        for c, staff, count in zip(clients, owners, counts, strict=True)
        for day in _days(s, max(1, count // NOTES_PER_PHQ9), HISTORY_DAYS)
    ]
    Assessment.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _plans(s: _Setting, clients: list[Client], owners: list[User], counts: list[int]) -> int:
    """Signed plans, each version pointing at the one it replaced; the newest still current."""
    every = datetime.timedelta(days=HISTORY_DAYS // MAX_PLANS)
    versions = {
        c.pk: (staff, min(MAX_PLANS, max(1, count // NOTES_PER_PLAN)))
        for c, staff, count in zip(clients, owners, counts, strict=True)
    }
    previous: dict[int, ServicePlan] = {}
    made = 0
    for number in range(1, MAX_PLANS + 1):
        layer = [
            ServicePlan(
                agency=s.agency,
                client_id=pk,
                number=number,
                previous=previous.get(pk),
                status=ServicePlan.Status.SIGNED,
                starts_on=(start := s.today - every * (total - number + 1)),
                review_due_on=start + every,
                participation="Chose the goals with the case manager.",
                author=staff,
                signed_at=_at(s, start, 16),
                signed_by=staff,
            )
            for pk, (staff, total) in versions.items()
            if number <= total
        ]
        if not layer:
            break
        ServicePlan.objects.bulk_create(layer, batch_size=BATCH)
        previous = {p.client_id: p for p in layer}
        made += len(layer)
    return made
