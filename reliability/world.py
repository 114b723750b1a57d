"""Set-up of the fault-injection run: the private cluster, the app server and worker, the
seeded data the scenarios work on (reliability/faults.py runs it)."""

# ruff: noqa: S603 - a harness that starts programs (manage.py, gunicorn, the worker)

from __future__ import annotations

import datetime
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    REPO,
    VENV_BIN,
    Browser,
    Cluster,
    ClusterError,
    FakeSms,
    Proc,
    Report,
    free_port,
)

SIGN_NOTES = 24  # drafts signed at once in "sign"
LOAD_NOTES = 4  # drafts autosaved under load in "postgres"
AFTER_RESTART = 6.0  # seconds of load watched after each PostgreSQL restart
REMINDERS = 40  # clients owed a text reminder in "worker"
NO_SHOWS = 60  # no-shows the hourly rules pass acts on in "worker"
TWILIO = {"sid": "ACfaults0000000000000000000000000", "token": "faults-token"}
CASE_MANAGER = "casemanager@demo.casework.example"
BILLING = "billing@demo.casework.example"


@dataclass
class World:
    """What the set-up made, by id, for the scenarios to use."""

    sign_notes: list[int] = field(default_factory=list)
    load_notes: list[int] = field(default_factory=list)
    chart_ids: list[int] = field(default_factory=list)
    payer_id: int = 0
    agency_id: int = 0
    no_show_appointments: list[int] = field(default_factory=list)
    cm_session: str = ""
    billing_session: str = ""


class Run:
    """The whole run: cluster, processes, fake SMS, report. Everything it starts it ends."""

    def __init__(self, root: Path, report: Report) -> None:
        self.root = root
        self.report = report
        self.cluster = Cluster(root)
        self.sms = FakeSms(TWILIO["sid"], TWILIO["token"])
        self.web_port = free_port()
        self.web: Proc | None = None
        self.worker: Proc | None = None
        self.world = World()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"CASEWORK_TESTING", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        } | {
            "DATABASE_URL": self.cluster.url,
            # Production settings, so that errors are answered by the pages users would see,
            # except plain HTTP on the loopback (no HTTPS redirect, HSTS or secure-only cookies).
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            "STATIC_ROOT": str(root / "static"),
            "EMAIL_URL": "console://",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": f"http://127.0.0.1:{self.web_port}",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "CASEWORK_DOCUMENTS_ROOT": str(root / "documents"),
            "CASEWORK_SMS_BACKEND": "casework.automation.messaging.TwilioSmsBackend",
            "TWILIO_ACCOUNT_SID": TWILIO["sid"],
            "TWILIO_AUTH_TOKEN": TWILIO["token"],
            "TWILIO_FROM_NUMBER": "+12065550100",
            "TWILIO_BASE_URL": f"http://127.0.0.1:{self.sms.port}",
        }

    # --- processes ----------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=REPO,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ClusterError(f"manage.py {args[0]} took longer than {timeout:.0f} s.") from None

    def start_web(self) -> float:
        """gunicorn as the README deploys it (3 workers of 4 threads here); returns the seconds
        until /healthz answers 200."""
        started = time.monotonic()
        self.web = Proc(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "casework.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "3",
                "--threads",
                "4",
                "--timeout",
                "30",
                # One import of the app, then forks: a restart on a busy 2-core CI machine is
                # seconds faster. What is under test (kill -9, transactions) is the same.
                "--preload",
                "--log-level",
                "warning",
            ],
            self.env,
            self.root / "gunicorn.log",
        )
        probe = Browser(self.web_port, "", timeout=5)
        while time.monotonic() - started < 30:
            if probe.get("/healthz").status == 200:
                return time.monotonic() - started
            if not self.web.alive:
                break
            time.sleep(0.1)
        raise ClusterError(f"gunicorn did not start:\n{self.web.tail()}")

    def kill_web(self) -> None:
        assert self.web is not None
        self.web.kill()
        self.web = None

    def start_worker(self) -> None:
        self.worker = Proc(
            "db_worker",
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.2",
                "--verbosity",
                "0",
            ],
            self.env,
            self.root / "worker.log",
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.kill()
        self.worker = None

    def close(self) -> None:
        """End everything started; the cluster is destroyed even when a step before it fails."""
        try:
            for proc in (self.web, self.worker):
                if proc is not None and proc.alive:
                    proc.kill()
            self.sms.close()
            from django.conf import settings

            if settings.configured:
                from django.db import connections

                connections.close_all()
        finally:
            self.cluster.destroy()

    # --- set-up -------------------------------------------------------------------------------

    def set_up(self) -> None:
        self.cluster.create()
        self.report.note(f"private PostgreSQL on 127.0.0.1:{self.cluster.port} ({self.root})")
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Static files need no database: collected while it is migrated and seeded.
            collect = ("collectstatic", "--noinput", "--verbosity", "0")
            collected = pool.submit(self.manage, *collect)
            for args in (
                ("migrate", "--verbosity", "0"),
                ("seed_demo", "--clients", "0"),
                ("seed_scale", "--clients", "200", "--notes", "2000"),
            ):
                self._done(args, self.manage(*args))
            self._done(collect, collected.result())
        os.environ.update(self.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "casework.settings"
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        make_world(self.world)
        self.report.note(
            f"{len(self.world.sign_notes)} drafts to sign, {REMINDERS} reminders owed, "
            f"{len(self.world.no_show_appointments)} no-shows for the rules"
        )

    def _done(self, args: tuple[str, ...], result: subprocess.CompletedProcess[str]) -> None:
        if result.returncode != 0:
            raise ClusterError(f"manage.py {args[0]} failed:\n{result.stderr[-2000:]}")
        self.report.note(f"manage.py {' '.join(args)}")

    # --- helpers ------------------------------------------------------------------------------

    def browser(self, session: str) -> Browser:
        return Browser(self.web_port, session)

    def check(self, scenario: str, name: str, ok: bool, detail: str = "") -> bool:
        return self.report.check(scenario, name, ok, detail)


def _daytime_zone(now: datetime.datetime) -> str:
    """A fixed-offset zone where it is early afternoon now: reminders are sent only between
    08:00 and 21:00 local time, and CI runs at any hour."""
    offset = 13 - now.hour
    offset = (offset + 12) % 24 - 12  # -12 … +11
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs are inverted


def make_world(world: World) -> None:
    """Drafts to sign, drafts to autosave, reminders owed and no-shows, made through the
    services where one exists (so they are audited), else as the seeders do (bulk rows)."""
    from django.conf import settings
    from django.db import transaction
    from django.test import Client as DjangoClient
    from django.utils import timezone

    from casework.automation.models import Channel, ReminderPreference
    from casework.billing.models import Charge, ServiceCode
    from casework.clients.models import Client, Phone
    from casework.core.models import Agency, User
    from casework.notes.services import sign_problems
    from casework.schedule.models import Appointment, AppointmentClient
    from casework.testing.billing import draft_note
    from casework.testing.personas import sign_in

    now = timezone.now()
    manager = User.objects.select_related("agency").get(email=CASE_MANAGER)
    agency = manager.agency
    assert agency is not None
    Agency.objects.filter(pk=agency.pk).update(time_zone=_daytime_zone(now))
    agency.refresh_from_db()
    manager.agency = agency
    world.agency_id = agency.pk
    code = ServiceCode.objects.get(agency=agency, code="T1016", modifiers="")
    clients = list(
        Client.objects.filter(care_team__staff=manager, status=Client.Status.ACTIVE)
        .select_related("agency")
        .order_by("pk")
        .distinct()[: SIGN_NOTES + LOAD_NOTES]
    )
    if len(clients) < SIGN_NOTES + LOAD_NOTES:
        raise ClusterError(f"The seeded case manager has only {len(clients)} clients.")
    today = agency.today()
    # Ten-minute contacts from 00:10 local time, one after another: none overlaps another,
    # and all are over by 09:00 (it is about 13:00 in the agency's zone).
    for k, client in enumerate(clients):
        minute = 10 + 12 * k
        note = draft_note(
            author=manager,
            client=client,
            code=code,
            day=today,
            start=(minute // 60, minute % 60),
            minutes=10,
        )
        problems = sign_problems(note=note)
        if problems:
            raise ClusterError(f"Draft {note.pk} cannot be signed: {problems[0].message}")
        (world.sign_notes if k < SIGN_NOTES else world.load_notes).append(note.pk)
    world.chart_ids = [c.pk for c in clients[:8]]
    world.payer_id = (
        Charge.objects.filter(agency=agency, status=Charge.Status.READY)
        .values_list("payer_id", flat=True)
        .first()
        or 0
    )

    others = list(
        Client.objects.filter(agency=agency, status=Client.Status.ACTIVE)
        .exclude(pk__in=[c.pk for c in clients])
        .order_by("pk")[: REMINDERS + NO_SHOWS]
    )
    with transaction.atomic():
        texted, missed = others[:REMINDERS], others[REMINDERS:]
        phones = Phone.objects.bulk_create(
            Phone(
                agency=agency,
                client=c,
                number=f"206555{1000 + k:04d}",
                safe_to_text=True,
                is_primary=True,
            )
            for k, c in enumerate(texted)
        )
        ReminderPreference.objects.bulk_create(
            ReminderPreference(
                agency=agency, client=c, channel=Channel.SMS, phone=p, updated_by=manager
            )
            for c, p in zip(texted, phones, strict=True)
        )
        # One appointment each in the next hours (inside the 24-hour reminder window), and
        # one no-show each recorded now, after the demo's "No-show follow-up" rule was made.
        base = now.replace(second=0, microsecond=0)
        booked = [
            _appointment(agency, manager, base + datetime.timedelta(hours=2, minutes=7 * k))
            for k in range(len(texted))
        ]
        no_shows = [
            _appointment(
                agency,
                manager,
                base - datetime.timedelta(hours=3, minutes=k),
                status=Appointment.Status.NO_SHOW,
                outcome_at=now,
            )
            for k in range(len(missed))
        ]
        made = Appointment.objects.bulk_create(booked + no_shows)
        AppointmentClient.objects.bulk_create(
            AppointmentClient(agency=agency, appointment=a, client=c)
            for a, c in zip(made, texted + missed, strict=True)
        )
        world.no_show_appointments = [a.pk for a in made[len(booked) :]]

    # Sessions are made as the test suite makes them (force_login plus the verified device),
    # because signing in through the form needs the live TOTP code of each person's phone.
    for email, attr in ((CASE_MANAGER, "cm_session"), (BILLING, "billing_session")):
        http = sign_in(DjangoClient(), User.objects.get(email=email))
        setattr(world, attr, http.cookies[settings.SESSION_COOKIE_NAME].value)


def _appointment(agency: Any, staff: Any, start: datetime.datetime, **fields: Any) -> Any:
    from casework.schedule.models import Appointment

    return Appointment(
        agency=agency,
        kind="home_visit",
        staff=staff,
        start_at=start,
        end_at=start + datetime.timedelta(minutes=30),
        place_type="client_home",
        purpose="Visit",
        created_by=staff,
        outcome_by=staff if fields.get("outcome_at") else None,
        **fields,
    )


def db_scalar(sql: str, params: tuple[Any, ...] = ()) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def fresh_db() -> None:
    """Drop the harness's own connection (the server may have restarted since)."""
    from django.db import connections

    connections.close_all()


def wait_until(predicate: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def count_ids() -> Any:
    from django.db.models import Count

    return Count("id")
