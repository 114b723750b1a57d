"""Time My day for a case manager with two years of history, then again in a 50,000-client agency.

    .venv/bin/python bench/my_day.py                            # fresh SQLite database in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/my_day.py

Bulk-inserts (no services, for speed) one agency where the case manager has `--primary` primary
clients, each with `--years` of weekly history: an appointment and a signed note a week (about
104 each over two years, one in thirteen a no-show with its follow-up task and no-show note), a
few drafts, tasks done and open, a PHQ-9 every 90 days, a service plan reviewed every 180; this week's and the next weeks'
visits are booked. Times `GET /` (My day) for that case manager and `/my-day/team/` for the
supervisor, as ratios to /healthz measured in the same run, with query counts. Then adds
clients up to `--agency-clients` under other case managers (care-team rows, episodes, a light
history each) and times the same pages again: My day must not slow down or grow its query count
with the agency. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casework.settings")
os.environ.setdefault("DEBUG", "1")

PER_OTHER_CM = 35  # clients per case manager in the rest of the agency
TEAM_SIZE = 10  # case managers per team (each team has one supervisor)
VISIT_MINUTES = 50
NO_SHOW_EVERY = 13  # one visit in 13 is a no-show
PHQ9_EVERY_DAYS = 90
PLAN_REVIEW_DAYS = 180
BATCH = 2000  # clients made at a time in the rest of the agency


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--primary", type=int, default=40, help="the case manager's clients")
    parser.add_argument("--years", type=int, default=2, help="history of each of them")
    parser.add_argument("--agency-clients", type=int, default=50_000)
    parser.add_argument(
        "--other-weeks", type=int, default=4, help="weeks of history of every other client"
    )
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from casework.clients.models import CareTeamMember
    from casework.core.management.commands.db_maintain import refresh_statistics
    from casework.testing.personas import build_cast

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    cast = build_cast()
    today = cast.agency.today()
    # The fixture's own client is handed over: the case manager's caseload is the bench's.
    CareTeamMember.objects.filter(client=cast.client).update(end_on=today)
    world = World(cast, today)

    started = time.perf_counter()
    made = world.caseload(args.primary, args.years)
    print(
        f"made the case manager's {args.primary} clients in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n:,} {what}" for what, n in made.items())
    )
    refresh_statistics()  # as `manage.py db_maintain` (SQLite) or autovacuum (PostgreSQL) would
    print()
    header()
    first = measure(cast, f"{world.clients():,}", args.repeat, args.primary)

    started = time.perf_counter()
    made = world.rest_of_agency(args.agency_clients, args.other_weeks)
    print()
    print(
        f"added the rest of the agency in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n:,} {what}" for what, n in made.items())
    )
    refresh_statistics()
    print()
    header()
    second = measure(cast, f"{world.clients():,}", args.repeat, args.primary)
    for page in first:
        if first[page] != second[page]:
            print(f"!! {page}: {first[page]} queries, then {second[page]} in the big agency")


def header() -> None:
    print(f"{'page':40} {'agency':>8} {'p50 ms':>8} {'p95 ms':>8} {'x bare':>8} {'queries':>8}")


def measure(cast: Any, label: str, repeat: int, primary: int) -> dict[str, int]:
    """Time each page `repeat` times after a warm-up; return the query count of each."""
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    from casework.testing.personas import sign_in

    scenarios = [
        ("bare view /healthz", cast.case_manager, "/healthz"),
        (f"my day / (case manager, {primary} clients)", cast.case_manager, "/"),
        ("team board /my-day/team/ (supervisor)", cast.supervisor, "/my-day/team/"),
    ]
    baseline = None
    counts = {}
    for name, user, url in scenarios:
        http = sign_in(HttpClient(HTTP_HOST="localhost"), user)
        http.get(url)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = http.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            http.get(url)
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18]
        baseline = baseline or p50
        counts[name] = len(queries)
        print(f"{name:40} {label:>8} {p50:8.1f} {p95:8.1f} {p50 / baseline:8.1f} {len(queries):8d}")
    return counts


class World:
    """Bulk rows for one agency, in the shapes the services would have made them."""

    def __init__(self, cast: Any, today: datetime.date) -> None:
        from django.utils import timezone

        from casework.core.models import Program

        self.cast = cast
        self.agency = cast.agency
        self.tz = cast.agency.tzinfo
        self.today = today
        self.now = timezone.now()
        self.program = Program.objects.create(
            agency=self.agency, name="Intensive case management", contact_every_days=7
        )
        self.serial = itertools.count(1)

    def clients(self) -> int:
        from casework.clients.models import Client

        return Client.objects.filter(agency=self.agency).count()

    def _clients(self, n: int, created_by: Any, since: datetime.date) -> list[Any]:
        from casework.clients import search
        from casework.clients.models import Client

        rows = []
        for _ in range(n):
            i = next(self.serial)
            first, last = f"Bench{i}", ["Núñez", "O'Brien", "Smith", "Nguyen", "Kowalski"][i % 5]
            rows.append(
                Client(
                    agency=self.agency,
                    record_number=f"MD-{i:07d}",
                    legal_first_name=first,
                    legal_last_name=last,
                    date_of_birth=datetime.date(1960, 1, 1) + datetime.timedelta(days=i % 15000),
                    acuity=1 + i % 3,
                    search_name=" ".join(search.tokens(f"{first} {last}")),
                    created_by=created_by,
                )
            )
        clients = Client.objects.bulk_create(rows, batch_size=BATCH)
        self._enrol(clients, since)
        return clients

    def _enrol(self, clients: list[Any], since: datetime.date) -> None:
        from casework.clients.models import Episode

        Episode.objects.bulk_create(
            [
                Episode(agency=self.agency, client=c, program=self.program, admitted_on=since)
                for c in clients
            ],
            batch_size=BATCH,
        )

    def _primary(self, pairs: list[tuple[Any, Any]], since: datetime.date) -> None:
        from casework.clients.models import CareTeamMember

        CareTeamMember.objects.bulk_create(
            [
                CareTeamMember(
                    agency=self.agency,
                    client=client,
                    staff=staff,
                    role=CareTeamMember.Role.PRIMARY,
                    start_on=since,
                )
                for client, staff in pairs
            ],
            batch_size=BATCH,
        )

    def _at(self, day: datetime.date, hour: int) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour), tzinfo=self.tz)

    def _visits(
        self, plan: list[tuple[Any, Any, list[datetime.date], int]], drafts: dict[int, int]
    ) -> dict[str, int]:
        """Weekly home visits (client, staff, days, hour): past ones attended (one in 13 a
        no-show) and documented by a signed note (the last `drafts[client]` left drafts), the
        rest booked. Returns counts of what was made."""
        from casework.notes.models import ContactType, Note
        from casework.schedule.models import Appointment, AppointmentClient
        from casework.worklist.models import Task

        rows, owners = [], []
        for client, staff, days, hour in plan:
            for n, day in enumerate(days):
                start = self._at(day, hour)
                past = day < self.today
                missed = past and (n + client.pk) % NO_SHOW_EVERY == 0
                status = (
                    Appointment.Status.SCHEDULED
                    if not past
                    else Appointment.Status.NO_SHOW
                    if missed
                    else Appointment.Status.ATTENDED
                )
                rows.append(
                    Appointment(
                        agency=self.agency,
                        kind="home_visit",
                        staff=staff,
                        start_at=start,
                        end_at=start + datetime.timedelta(minutes=VISIT_MINUTES),
                        place_type="client_home",
                        purpose="Weekly visit",
                        status=status,
                        outcome_at=start + datetime.timedelta(hours=1) if past else None,
                        outcome_by=staff if past else None,
                        created_by=staff,
                    )
                )
                owners.append(client)
        appointments = Appointment.objects.bulk_create(rows, batch_size=5000)
        AppointmentClient.objects.bulk_create(
            [
                AppointmentClient(agency=self.agency, appointment=a, client=c)
                for a, c in zip(appointments, owners, strict=True)
            ],
            batch_size=5000,
        )
        notes, tasks = [], []
        past_of: dict[int, list[int]] = {}
        for a, c in zip(appointments, owners, strict=True):
            if a.status == Appointment.Status.ATTENDED:
                past_of.setdefault(c.pk, []).append(a.pk)
        unsigned = {pk for c, n in drafts.items() if n for pk in past_of.get(c, [])[-n:]}
        for a, c in zip(appointments, owners, strict=True):
            if a.status == Appointment.Status.SCHEDULED:
                continue
            missed = a.status == Appointment.Status.NO_SHOW
            draft = a.pk in unsigned
            notes.append(
                Note(
                    agency=self.agency,
                    client=c,
                    author=a.staff,
                    status=Note.Status.DRAFT if draft else Note.Status.SIGNED,
                    service_date=a.start_at.astimezone(self.tz).date(),
                    start_at=a.start_at,
                    end_at=a.end_at,
                    contact_type=ContactType.NO_SHOW if missed else ContactType.FACE_TO_FACE,
                    place_of_service="12",
                    present="" if missed else "Client",
                    sections={
                        "data": "Visited at home; talked about the week.",
                        "assessment": "Stable.",
                        "plan": "Same time next week.",
                    },
                    appointment=a,
                    signed_at=None if draft else a.end_at + datetime.timedelta(hours=2),
                    minutes=None if draft or missed else VISIT_MINUTES,
                )
            )
            if missed:
                tasks.append(
                    Task(
                        agency=self.agency,
                        assignee=a.staff,
                        client=c,
                        kind=Task.Kind.FOLLOW_UP,
                        title=f"Follow up with {c.display_name} after the missed home visit",
                        reason="No-show at the home visit",
                        due_on=a.start_at.date() + datetime.timedelta(days=1),
                        status=Task.Status.DONE,
                        appointment=a,
                        created_by=a.staff,
                        done_at=a.start_at + datetime.timedelta(days=1),
                        done_by=a.staff,
                    )
                )
        Note.objects.bulk_create(notes, batch_size=5000)
        Task.objects.bulk_create(tasks, batch_size=5000)
        return {
            "appointments": len(appointments),
            "notes": len(notes),
            "drafts": sum(1 for n in notes if n.status == Note.Status.DRAFT),
            "follow-ups done": len(tasks),
        }

    def _phq9(self, clients: list[Any], author: Any, since: datetime.date) -> int:
        from casework.assessments.models import Assessment

        rows = []
        for c in clients:
            day = since
            while day < self.today:
                rows.append(
                    Assessment(
                        agency=self.agency,
                        client=c,
                        author=author,
                        instrument="phq9",
                        instrument_version="1",
                        administered_on=day,
                        answers={f"q{n}": 1 for n in range(1, 9)} | {"q9": 0},
                        status=Assessment.Status.SIGNED,
                        total=8,
                        band="Mild",
                        signed_at=self._at(day, 12),
                    )
                )
                day += datetime.timedelta(days=PHQ9_EVERY_DAYS)
        Assessment.objects.bulk_create(rows, batch_size=5000)
        return len(rows)

    def _plans(self, clients: list[Any], author: Any, since: datetime.date) -> int:
        """Signed service plans, reviewed every 180 days (reviews spread over the caseload)."""
        from casework.plans.models import ServicePlan

        every = datetime.timedelta(days=PLAN_REVIEW_DAYS)
        starts = {c.pk: since + datetime.timedelta(days=i % 60) for i, c in enumerate(clients)}
        previous: dict[int, Any] = {}
        made, number = 0, 1
        while starts:
            layer = ServicePlan.objects.bulk_create(
                [
                    ServicePlan(
                        agency=self.agency,
                        client_id=pk,
                        number=number,
                        previous=previous.get(pk),
                        status=ServicePlan.Status.SIGNED,
                        starts_on=day,
                        review_due_on=day + every,
                        participation="Chose the goals herself.",
                        author=author,
                        signed_at=self._at(day, 16),
                        signed_by=author,
                    )
                    for pk, day in starts.items()
                ],
                batch_size=BATCH,
            )
            made += len(layer)
            previous = {p.client_id: p for p in layer}
            starts = {pk: day + every for pk, day in starts.items() if day + every <= self.today}
            number += 1
        return made

    def _tasks(self, clients: list[Any], staff_of: dict[int, Any], done_each: int) -> int:
        """Manual tasks: `done_each` done in the past and one open a client (some overdue)."""
        from casework.worklist.models import Task

        rows = []
        for i, c in enumerate(clients):
            staff = staff_of[c.pk]
            for k in range(done_each):
                due = self.today - datetime.timedelta(days=60 * (k + 1))
                rows.append(
                    Task(
                        agency=self.agency,
                        assignee=staff,
                        client=c,
                        title=f"Call {c.display_name}'s landlord about the lease",
                        reason="Rent is going up",
                        due_on=due,
                        status=Task.Status.DONE,
                        created_by=staff,
                        done_at=self._at(due, 15),
                        done_by=staff,
                    )
                )
            rows.append(
                Task(
                    agency=self.agency,
                    assignee=staff,
                    client=c,
                    title=f"Help {c.display_name} renew the bus pass",
                    reason="Runs out at the end of the month",
                    due_on=self.today + datetime.timedelta(days=i % 10 - 3),
                    urgent=i % 17 == 0,
                    created_by=staff,
                )
            )
        Task.objects.bulk_create(rows, batch_size=5000)
        return len(rows)

    def _weekly(self, since: datetime.date, weekday: int, until: datetime.date) -> list[Any]:
        first = since + datetime.timedelta(days=(weekday - since.weekday()) % 7)
        days = []
        while first <= until:
            days.append(first)
            first += datetime.timedelta(days=7)
        return days

    def caseload(self, primary: int, years: int) -> dict[str, int]:
        """The case manager's clients, each with `years` of weekly visits and notes."""
        cm = self.cast.case_manager
        since = self.today - datetime.timedelta(days=365 * years)
        clients = self._clients(primary, cm, since)
        self._primary([(c, cm) for c in clients], since)
        # Eight visits a weekday, on the hour from 9:00: no two overlap.
        plan = [
            (
                c,
                cm,
                self._weekly(since, i % 5, self.today + datetime.timedelta(days=28)),
                9 + i // 5,
            )
            for i, c in enumerate(clients)
        ]
        drafts = {c.pk: 1 + i % 2 for i, c in enumerate(clients) if i % 4 == 0}
        made = {"clients": len(clients)} | self._visits(plan, drafts)
        made["tasks"] = self._tasks(clients, {c.pk: cm for c in clients}, done_each=6)
        made["PHQ-9s"] = self._phq9(clients, cm, since)
        made["service plans"] = self._plans(clients, cm, since)
        return made

    def _staff(self, n: int) -> list[Any]:
        """`n` case managers in teams of TEAM_SIZE, each team with a supervisor."""
        from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX

        from casework.clients.scale import staff_in_teams
        from casework.core.models import User

        def person(kind: str, i: int) -> Any:
            return User(
                agency=self.agency,
                email=f"{kind}{i}@bench.example",
                first_name=f"{kind.capitalize()}{i}",
                last_name="Bench",
                password=UNUSABLE_PASSWORD_PREFIX,  # these people never sign in
                work_days="MO,TU,WE,TH,FR,SA,SU",
                work_starts=datetime.time(0),
                work_ends=datetime.time(0),
            )

        return staff_in_teams(
            self.agency,
            self.program,
            "Bench",
            [person("cm", i) for i in range(n)],
            lambda i: person("sup", i),
            team_size=TEAM_SIZE,
        )

    def rest_of_agency(self, total: int, weeks: int) -> dict[str, int]:
        """Clients up to `total` in the agency, under other case managers, with a light history:
        `weeks` weekly visits and notes, one open task and one PHQ-9 each."""
        missing = total - self.clients()
        made = {"clients": 0, "case managers": 0}
        if missing <= 0:
            return made
        managers = self._staff(-(-missing // PER_OTHER_CM))
        made["case managers"] = len(managers)
        since = self.today - datetime.timedelta(days=7 * weeks + 30)
        done = 0
        while done < missing:
            n = min(BATCH, missing - done)
            clients = self._clients(n, self.cast.admin, since)
            staff_of = {c.pk: managers[(done + k) // PER_OTHER_CM] for k, c in enumerate(clients)}
            self._primary([(c, staff_of[c.pk]) for c in clients], since)
            first = self.today - datetime.timedelta(days=7 * weeks)
            plan = [
                (
                    c,
                    staff_of[c.pk],
                    self._weekly(first, k % 5, self.today + datetime.timedelta(days=7)),
                    9 + ((done + k) % PER_OTHER_CM) // 5,
                )
                for k, c in enumerate(clients)
            ]
            for what, count in self._visits(plan, {}).items():
                made[what] = made.get(what, 0) + count
            made["tasks"] = made.get("tasks", 0) + self._tasks(clients, staff_of, done_each=0)
            made["PHQ-9s"] = made.get("PHQ-9s", 0) + self._phq9(clients, self.cast.admin, since)
            plans = self._plans(clients, self.cast.admin, since)
            made["service plans"] = made.get("service plans", 0) + plans
            made["clients"] += n
            done += n
        return made


if __name__ == "__main__":
    main()
