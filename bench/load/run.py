"""Load test: Locust against gunicorn + PostgreSQL + the task worker, on loopback only.

    .venv/bin/pip install -e '.[dev,load]'
    .venv/bin/python bench/load/run.py --fresh              # 200 staff for 5 minutes
    .venv/bin/python bench/load/run.py --users 20 --run-time 30s

Makes the database if it is missing (`--database-url`, default `casework_load` on the local
PostgreSQL), migrates it, seeds it once with `seed_scale` (5,000 clients / 200,000 notes), adds
case managers until there are enough distinct staff, signs each simulated person in (see
`make_sessions`), collects static files, starts gunicorn and `manage.py db_worker`, runs Locust
headless for the given users and time, stops everything it started (also on Ctrl+C or a
failure) and prints a table per request name. Exits non-zero if any request failed.

Settings are production ones (DEBUG off, collected static files, argon2), except that the
server speaks plain HTTP on 127.0.0.1: TLS belongs to the proxy in front of it, so the
HTTPS redirect, secure-only cookies and HSTS are off here.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import datetime
import json
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
sys.path.insert(0, str(PROJECT))

EXTRA_STAFF_DOMAIN = "load.casework.example"  # case managers this runner adds, if needed
MIN_CASELOAD = 10  # a case manager with fewer clients is given some as a peer specialist
PEER_CLIENTS = 20
SLOTS_PER_PERSON = 12  # notes a simulated person may sign in one run (15-minute contacts)
NOTE_WINDOW = (datetime.time(0, 0), datetime.time(8, 0))  # before the seeded day (9:00 on)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="Simulated staff (default 200).")
    parser.add_argument(
        "--spawn-rate", type=float, default=5, help="People starting their day, a second."
    )
    parser.add_argument("--run-time", default="5m", help="Locust's -t, e.g. 30s, 5m.")
    parser.add_argument(
        "--wait", default="10,30", help="Think time between a person's actions, min,max seconds."
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes.")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="gunicorn threads per worker (1, as the README's production command).",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/casework_load"
    )
    parser.add_argument("--clients", type=int, default=5000, help="seed_scale size if empty.")
    parser.add_argument("--notes", type=int, default=200_000, help="seed_scale size if empty.")
    parser.add_argument("--out", default="", help="Results folder (default: a new temp folder).")
    parser.add_argument("--seed", type=int, default=1, help="Random seed for the accounts.")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="Drop and re-create the database first (only one named casework_load…): earlier "
        "runs leave signed notes, bookings and billed charges behind.",
    )
    args = parser.parse_args(argv)
    host = args.database_url.split("@")[-1].split("/")[0].split(":")[0]
    if host not in {"127.0.0.1", "localhost", "[::1]"}:
        parser.error("The load test runs on this machine only: use a loopback database.")
    return args


# ------------------------------------------------------------------------------ environment


def server_env(args: argparse.Namespace, out: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(out / "static"),
        "CASEWORK_DOCUMENTS_ROOT": str(out / "documents"),
        "EMAIL_URL": "console://",
        "CASEWORK_SMS_BACKEND": "casework.automation.messaging.ConsoleBackend",
        "CASEWORK_EMAIL_REMINDER_BACKEND": "casework.automation.messaging.ConsoleBackend",
        "DJANGO_SETTINGS_MODULE": "casework.settings",
    }


def manage(*command: str, quiet: bool = False) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [str(BIN / "python"), str(PROJECT / "manage.py"), *command],
        check=True,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def ensure_database(url: str, *, fresh: bool) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        if fresh:
            if not db["NAME"].startswith("casework_load"):
                raise SystemExit(f"--fresh drops only a casework_load… database, not {db['NAME']}.")
            print(f"Dropping database {db['NAME']}")
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db["NAME"]))
            )
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            print(f"Creating database {db['NAME']}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def seed_if_empty(args: argparse.Namespace) -> None:
    from casework.clients.models import Client
    from casework.clients.scale import RECORD_PREFIX

    if not Client.objects.filter(record_number__startswith=RECORD_PREFIX).exists():
        manage("seed_scale", "--clients", str(args.clients), "--notes", str(args.notes))


# ------------------------------------------------------------------------------ the people


def role_mix(users: int) -> dict[str, int]:
    """An agency's day: one biller, one admin, a supervisor per 13 or so, case managers."""
    billing = 1 if users >= 4 else 0
    office = 1 if users >= 8 else 0
    supervisors = max(1, round(users * 15 / 200)) if users >= 3 else 0
    return {
        "billing": billing,
        "office": office,
        "supervisor": supervisors,
        "case_manager": users - billing - office - supervisors,
    }


def pick_staff(mix: dict[str, int]) -> dict[str, list[Any]]:
    from casework.clients.demo import DEMO_DOMAIN
    from casework.core.models import Role, User

    agency = User.objects.get(email=f"casemanager@{DEMO_DOMAIN}").agency
    staff = User.objects.filter(agency=agency, is_active=True).order_by("pk")

    def with_role(role: str) -> list[User]:
        return list(staff.filter(role_rows__role=role).distinct())

    supervisors = with_role(Role.SUPERVISOR)
    managers = [u for u in with_role(Role.CASE_MANAGER) if u not in supervisors]
    missing = mix["case_manager"] - len(managers)
    if missing > 0:
        add_case_managers(agency, missing)
        managers = [u for u in with_role(Role.CASE_MANAGER) if u not in supervisors]
    chosen = {
        "billing": with_role(Role.BILLING)[: mix["billing"]],
        "office": with_role(Role.AGENCY_ADMIN)[: mix["office"]],
        "supervisor": supervisors[: mix["supervisor"]],
        "case_manager": managers[: mix["case_manager"]],
    }
    for kind, wanted in mix.items():
        if len(chosen[kind]) < wanted:
            raise SystemExit(f"Only {len(chosen[kind])} {kind} accounts; {wanted} asked for.")
    give_caseloads(agency, chosen["case_manager"])
    return chosen


def add_case_managers(agency: Any, count: int) -> None:
    """More case managers, in bulk, spread over the scale teams (which have supervisors)."""
    from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
    from django.db import transaction

    from casework.core.models import Role, StaffRole, Team, TeamMembership, User

    teams = list(Team.objects.filter(agency=agency, name__startswith="Scale team").order_by("pk"))
    first = User.objects.filter(email__endswith=f"@{EXTRA_STAFF_DOMAIN}").count()
    print(f"Adding {count} case managers (the seeded agency has too few distinct staff)")
    with transaction.atomic():
        people = User.objects.bulk_create(
            [
                User(
                    agency=agency,
                    email=f"cm{i}.a{agency.pk}@{EXTRA_STAFF_DOMAIN}",
                    first_name=f"Load{i}",
                    last_name="Staff",
                    password=UNUSABLE_PASSWORD_PREFIX,  # signed in by session only
                )
                for i in range(first, first + count)
            ]
        )
        StaffRole.objects.bulk_create(
            [StaffRole(agency=agency, user=u, role=Role.CASE_MANAGER) for u in people]
        )
        if teams:
            TeamMembership.objects.bulk_create(
                [
                    TeamMembership(agency=agency, team=teams[i % len(teams)], user=u)
                    for i, u in enumerate(people)
                ]
            )


def give_caseloads(agency: Any, managers: list[Any]) -> None:
    """Case managers with (almost) no clients join the care team of teammates' clients as
    peer specialists, so that each simulated person has charts of their own to open."""
    from django.db.models import Count, Q

    from casework.clients.models import CareTeamMember, Client
    from casework.core.models import TeamMembership

    today = agency.today()
    loads = dict(
        CareTeamMember.objects.filter(CareTeamMember.active_on(today), staff__in=managers)
        .values_list("staff_id")
        .annotate(n=Count("id"))
    )
    light = [m for m in managers if loads.get(m.pk, 0) < MIN_CASELOAD]
    if not light:
        return
    primary = Q(care_team__role=CareTeamMember.Role.PRIMARY, care_team__end_on__isnull=True)
    fallback = list(
        Client.objects.filter(agency=agency, status=Client.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)[:2000]
    )
    rows = []
    for n, person in enumerate(light):
        teammates = TeamMembership.objects.filter(
            team__memberships__user=person, kind=TeamMembership.Kind.MEMBER
        ).values("user_id")
        pool = list(
            Client.objects.filter(
                primary, agency=agency, status=Client.Status.ACTIVE, care_team__staff__in=teammates
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        pool = pool or fallback
        start = (n * PEER_CLIENTS) % max(len(pool) - PEER_CLIENTS, 1)
        rows += [
            CareTeamMember(
                agency=agency,
                client_id=client_id,
                staff=person,
                role=CareTeamMember.Role.PEER,
                start_on=today - datetime.timedelta(days=30),
            )
            for client_id in pool[start : start + PEER_CLIENTS]
        ]
    CareTeamMember.objects.bulk_create(rows)
    print(f"Gave {len(light)} case managers {PEER_CLIENTS} clients each as peer specialist")


def make_sessions(people: list[Any]) -> dict[int, str]:
    """Signed-in sessions, made the way the sign-in view makes them, one per person.

    Why not sign in through the form: 200 sign-ins hash 200 argon2 passwords (about 0.4 s of
    CPU each by design, so over a minute of both cores) and would measure the ramp-up rather
    than the working day, and half the mix would need a fresh TOTP code per person. Staff
    sign in once a morning; the mix is what they do after. So each session is made by
    Django's own `login()` (session key rotated, the user's auth hash, `user_logged_in`, so the
    audit log records the sign-in) and, for people with an authenticator, `django_otp.login()`
    (the OTP-verified device key the two-factor gate checks), on a request built here.
    """
    from django.contrib.auth import login
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory
    from django_otp import login as otp_login

    from casework.core.middleware import LAST_ACTIVITY_KEY
    from casework.core.twofactor import confirmed_device

    factory = RequestFactory(REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT="casework-load")
    keys = {}
    for person in people:
        request = factory.post("/login/")
        request.session = SessionStore()
        request.user = AnonymousUser()
        login(request, person, backend="casework.core.backends.StaffBackend")
        device = confirmed_device(person)
        if device is not None:
            otp_login(request, device)
        request.session[LAST_ACTIVITY_KEY] = time.time()
        request.session.save()
        keys[person.pk] = request.session.session_key
    return keys


def note_slots(agency: Any, managers: list[Any]) -> dict[int, list[list[str]]]:
    """Free 15-minute blocks per person, early in the mornings of the last week, which no
    note of theirs covers yet: signing refuses billable minutes that overlap (earlier runs
    leave their signed notes behind, and signed notes are never deleted)."""
    from django.utils import timezone

    from casework.notes.models import Note

    tz, today = agency.tzinfo, agency.today()
    latest_end = timezone.now() - datetime.timedelta(minutes=5)
    days = [today - datetime.timedelta(days=d) for d in range(7)]
    taken: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = {}
    for author_id, start, end in Note.objects.filter(
        author__in=managers,
        start_at__gte=datetime.datetime.combine(days[-1], NOTE_WINDOW[0], tzinfo=tz),
        end_at__isnull=False,
    ).values_list("author_id", "start_at", "end_at"):
        taken.setdefault(author_id, []).append((start, end))
    slots: dict[int, list[list[str]]] = {}
    for person in managers:
        mine: list[list[str]] = []
        for day in days:
            at = datetime.datetime.combine(day, NOTE_WINDOW[0], tzinfo=tz)
            stop = datetime.datetime.combine(day, NOTE_WINDOW[1], tzinfo=tz)
            while at < stop and len(mine) < SLOTS_PER_PERSON:
                end = at + datetime.timedelta(minutes=15)
                free = all(end <= s or at >= e for s, e in taken.get(person.pk, []))
                if end <= latest_end and free:
                    mine.append([day.isoformat(), f"{at:%H:%M}", f"{end:%H:%M}"])
                at += datetime.timedelta(minutes=20)
        slots[person.pk] = mine
    return slots


def accounts_file(chosen: dict[str, list[Any]], path: Path, seed: int) -> None:
    from casework.clients.models import CareTeamMember, Client
    from casework.core import access

    rng = random.Random(seed)
    everyone = [p for people in chosen.values() for p in people]
    agency = everyone[0].agency
    today = agency.today()
    sessions = make_sessions(everyone)
    slots = note_slots(agency, chosen["case_manager"])
    booking_days = [
        (today + datetime.timedelta(days=d)).isoformat()
        for d in range(21, 63)
        if (today + datetime.timedelta(days=d)).weekday() < 5
    ]
    accounts = []
    for kind, people in chosen.items():
        for person in people:
            active = Client.objects.filter(status=Client.Status.ACTIVE)
            if kind == "case_manager":  # their own caseload
                mine = active.filter(
                    care_team__in=CareTeamMember.objects.filter(
                        CareTeamMember.active_on(today), staff=person
                    )
                )
            else:  # what their role lets them open (a team, or the whole agency)
                mine = access.clients_in_scope(person).filter(status=Client.Status.ACTIVE)
            rows = list(
                mine.distinct().values_list(
                    "pk", "legal_first_name", "legal_last_name", "date_of_birth"
                )
            )
            rows = rng.sample(rows, min(len(rows), 200))
            accounts.append(
                {
                    "kind": kind,
                    "email": person.email,
                    "session": sessions[person.pk],
                    "clients": [r[0] for r in rows],
                    "names": [[r[1], r[2], f"{r[3]:%m/%d/%Y}"] for r in rows if r[3]],
                    "slots": slots.get(person.pk, []),
                    "booking_days": booking_days,
                    "billing_window": [
                        (today - datetime.timedelta(days=365)).isoformat(),
                        today.isoformat(),
                    ],
                }
            )
    missing = [a["email"] for a in accounts if a["kind"] != "billing" and not a["clients"]]
    if missing:
        raise SystemExit(f"No clients to open for {', '.join(missing[:5])}")
    path.write_text(json.dumps({"accounts": accounts}, indent=1), encoding="utf-8")


# ------------------------------------------------------------------------------ processes


class Processes:
    """The servers this run started; each is stopped by its own id, newest first."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], log: Path) -> subprocess.Popen[bytes]:
        handle = log.open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own executables, fixed arguments
            command, cwd=PROJECT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append((name, process))
        return process

    def stop(self) -> None:
        while self.running:
            name, process = self.running.pop()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    print(f"{name} did not stop in 30 s; killing it (pid {process.pid})")
                    process.kill()
                    process.wait()


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited while starting; see gunicorn.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def warm_up(port: int, accounts: Path) -> None:
    """Open the main pages a few times in parallel before measuring, so that each gunicorn
    worker has loaded its templates and code (a server in use has done so long before)."""
    people = json.loads(accounts.read_text(encoding="utf-8"))["accounts"]
    person = next(a for a in people if a["kind"] == "case_manager")
    last = person["names"][0][1]
    pages = ["/", f"/clients/{person['clients'][0]}/", "/clients/", f"/clients/?q={last}"]
    pages += ["/schedule/", "/notes/unsigned/", "/schedule/new/"]

    def fetch(path: str) -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Cookie": f"sessionid={person['session']}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, pages * 8))


def loadavg() -> str:
    return Path("/proc/loadavg").read_text(encoding="ascii").strip()


class CpuMeter:
    """Where the CPU went while Locust ran: the machine as a whole (shared with other work),
    the servers this run started, the PostgreSQL backends of its database, Locust itself."""

    def __init__(self, servers: dict[str, int], database: str) -> None:
        self.servers, self.database = servers, database
        self.wall = time.monotonic()
        self.machine = self._machine()
        self.samples = self._sample()
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)

    @staticmethod
    def _machine() -> tuple[float, float]:
        fields = [float(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle, iowait
        return sum(fields) - idle, sum(fields)

    def _sample(self) -> dict[str, dict[int, float]]:
        import psutil

        def seconds(process: psutil.Process) -> float:
            times = process.cpu_times()
            return float(times.user + times.system)

        samples: dict[str, dict[int, float]] = {}
        for name, pid in self.servers.items():
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(pid)
                tree = [root, *root.children(recursive=True)]
                samples[name] = {p.pid: seconds(p) for p in tree if p.is_running()}
        samples["postgres"] = {}
        for process in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if self.database in " ".join(process.info["cmdline"] or []):
                    samples["postgres"][process.pid] = seconds(process)
        return samples

    def report(self) -> str:
        wall = time.monotonic() - self.wall
        busy, total = self._machine()
        cores = (busy - self.machine[0]) / (total - self.machine[1]) * (os.cpu_count() or 1)
        now = self._sample()
        used = {
            name: sum(t - self.samples.get(name, {}).get(pid, 0.0) for pid, t in pids.items())
            for name, pids in now.items()
        }
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        used["locust"] = (children.ru_utime + children.ru_stime) - (
            self.children.ru_utime + self.children.ru_stime
        )
        parts = ", ".join(f"{name} {s:.0f} s ({s / wall:.2f} cores)" for name, s in used.items())
        return (
            f"CPU over {wall:.0f} s: machine busy {cores:.2f} of {os.cpu_count()} cores "
            f"(all work on it); {parts}"
        )


# ------------------------------------------------------------------------------ report


def report(out: Path) -> int:
    rows = list(csv.DictReader((out / "load_stats.csv").open(encoding="utf-8")))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    lines = sorted((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: r["Name"])
    print("\n| request | count | failures | p50 ms | p95 ms | p99 ms | max ms | req/s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in [*lines, total]:
        label = "**total**" if r is total else f"{r['Type']} {r['Name']}"
        print(
            f"| {label} | {int(r['Request Count']):,} | {r['Failure Count']} | {r['50%']} | "
            f"{r['95%']} | {r['99%']} | {float(r['Max Response Time']):.0f} | "
            f"{float(r['Requests/s']):.2f} |"
        )
    failures = list(csv.DictReader((out / "load_failures.csv").open(encoding="utf-8")))
    for failure in failures:
        print(
            f"FAILED {failure['Occurrences']} x {failure['Method']} {failure['Name']}: "
            f"{failure['Error']}"
        )
    return int(total["Failure Count"])


def task_queue() -> str:
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    counts = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")))
    return ", ".join(f"{status.lower()} {n:,}" for status, n in sorted(counts.items()))


def server_errors(log: Path) -> int:
    text = log.read_text(encoding="utf-8", errors="replace")
    return text.count("Traceback (most recent call last)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="casework-load-"))
    out.mkdir(parents=True, exist_ok=True)
    os.environ.update(server_env(args, out))
    ensure_database(args.database_url, fresh=args.fresh)
    manage("migrate", "--noinput", quiet=True)

    import django

    django.setup()
    seed_if_empty(args)
    mix = role_mix(args.users)
    chosen = pick_staff(mix)
    accounts = out / "accounts.json"
    accounts_file(chosen, accounts, args.seed)
    manage("collectstatic", "--noinput", quiet=True)
    wait_min, wait_max = args.wait.split(",")
    classes = {"case_manager": "CaseManager", "supervisor": "Supervisor"}
    classes |= {"billing": "Billing", "office": "Office"}
    user_classes = [classes[kind] for kind, n in mix.items() if n]
    print(f"Staff: {mix}; think time {wait_min} to {wait_max} s; results in {out}")

    processes = Processes()
    failures = 0
    try:
        gunicorn = processes.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "casework.wsgi",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                # Its default control socket is one path per machine user, shared with any
                # other gunicorn running here; this run needs none.
                "--no-control-socket",
            ],
            out / "gunicorn.log",
        )
        wait_until_up(f"http://127.0.0.1:{args.port}/healthz", gunicorn)
        worker = processes.start(
            "db_worker",
            [str(BIN / "python"), str(PROJECT / "manage.py"), "db_worker", "--no-reload"],
            out / "worker.log",
        )
        warm_up(args.port, accounts)
        before = loadavg()
        print(f"load average before: {before}")
        meter = CpuMeter(
            {"gunicorn": gunicorn.pid, "db_worker": worker.pid}, args.database_url.split("/")[-1]
        )
        locust = subprocess.run(  # noqa: S603 - our own executable, fixed arguments
            [
                str(BIN / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.spawn_rate),
                "-t",
                args.run_time,
                "--host",
                f"http://127.0.0.1:{args.port}",
                "--csv",
                str(out / "load"),
                "--only-summary",
                "--stop-timeout",
                "20",
                *user_classes,
            ],
            cwd=PROJECT,
            env={
                **os.environ,
                "LOAD_ACCOUNTS": str(accounts),
                "LOAD_WAIT_MIN": wait_min,
                "LOAD_WAIT_MAX": wait_max,
            },
            check=False,
        )
        after = loadavg()
        cpu = meter.report()
        print(f"load average after: {after}")
        time.sleep(5)  # let the worker take what the last requests queued
    finally:
        processes.stop()
    failures = report(out)
    print(f"\nlocust exit code {locust.returncode}; tasks: {task_queue()}")
    errors = server_errors(out / "gunicorn.log")
    print(f"server tracebacks in gunicorn.log: {errors}; worker log: {out / 'worker.log'}")
    print(f"load average before {before} / after {after}")
    print(cpu)
    return 1 if failures or errors or locust.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
