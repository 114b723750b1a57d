"""Time the issue's scenarios at agency scale, as ratios against a bare view measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --clients 2000 --notes 80000   # fresh SQLite database in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_names .venv/bin/python bench/scale.py \
        --search-only --clients 1000000                              # search over a million names

Seeds with `manage.py seed_scale` when the database has no scale data yet (sizes from the
arguments; an already seeded database is used as it is). Then, after a warm-up, times:
the client chart of the big record (2,000 notes) and My day as the demo case manager (40
primary clients); client search as the agency admin over every client (a typo, an exact name,
a birth date); signing a note on the big chart (`note_sign`, the draft made by the services
first and not timed); and a claim batch to 837P of about `--batch-lines` ready charges through
`claim_batch_create` (the service bench/claim_batch.py times on a fresh agency), rolled back so
that the run can be repeated. Prints p50/p95 server time, the ratio of p50 to /healthz, and the
queries of one more request. Note signing adds signed notes to the database: they stay.
With --search-only the database gets names only (1,000,000 of them, say) and only search is timed.
Not part of the test run: speed targets live here, never as timed assertions in tests.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casework.settings")
os.environ.setdefault("DEBUG", "1")

TARGETS = {"chart": 50.0, "my day": 50.0, "search": 30.0}  # p95 ms, ARCHITECTURE.md
BATCH_TARGET_S = 10.0
NIGHT_SLOTS = 40  # twelve-minute notes between midnight and 8:00, before the seeded visits


class Rollback(Exception):
    """Undo the claim batch so that the next run finds the same ready charges."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--notes", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--signs", type=int, default=20, help="notes signed (each timed)")
    parser.add_argument("--batch-lines", type=int, default=100_000)
    parser.add_argument("--batch-runs", type=int, default=2)
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="seed names only (seed_scale --names-only, --clients of them) and time search alone",
    )
    args = parser.parse_args()
    if not 0 < args.signs < NIGHT_SLOTS:
        parser.error(f"--signs must be between 1 and {NIGHT_SLOTS - 1}")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from casework.clients.models import Client
    from casework.clients.scale import BIG_RECORD
    from casework.core.models import User
    from casework.notes.models import Note

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    if not Client.objects.filter(record_number=BIG_RECORD).exists():
        started = time.perf_counter()
        if args.search_only:
            call_command("seed_scale", clients=args.clients, names_only=True)
        else:
            call_command("seed_scale", clients=args.clients, notes=args.notes)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    big = Client.objects.get(record_number=BIG_RECORD)
    manager = User.objects.get(email="casemanager@demo.casework.example")
    admin = User.objects.get(email="admin@demo.casework.example")
    billing = User.objects.get(email="billing@demo.casework.example")
    print(
        f"agency: {Client.objects.filter(agency=big.agency).count():,} clients, "
        f"{Note.objects.filter(agency=big.agency).count():,} notes; big chart {BIG_RECORD}: "
        f"{big.notes.count():,} notes"
    )
    typo, exact = _search_words(big)
    born = big.date_of_birth.isoformat()
    pages = [
        ("bare view /healthz", manager, "/healthz", ""),
        ("client chart (big record)", manager, f"/clients/{big.pk}/", "chart"),
        ("my day (40 primary clients)", manager, "/", "my day"),
        ("search typo (whole agency, admin)", admin, f"/clients/?q={typo}", "search"),
        ("search exact (whole agency, admin)", admin, f"/clients/?q={exact}", "search"),
        ("search birth date (whole agency)", admin, f"/clients/?q={born}", "search"),
    ]
    if args.search_only:
        pages = [page for page in pages if page[3] in ("", "search")]
    print()
    print(f"{'scenario':38} {'p50 ms':>8} {'p95 ms':>8} {'x bare':>8} {'queries':>8} target")
    baseline = 0.0
    for label, user, url, target in pages:
        times, queries = _time_page(user, url, args.repeat)
        baseline = baseline or statistics.median(times)
        _row(label, times, baseline, queries, TARGETS.get(target))
    if args.search_only:
        return
    times, queries = _time_signing(big, manager, args.signs)
    _row("note sign (big record)", times, baseline, queries, None)
    for run in range(args.batch_runs):
        seconds, lines, size = _time_batch(big.agency, billing, args.batch_lines)
        print(
            f"claim batch run {run + 1}: {lines:,} lines -> 837P {size / 1e6:.1f} MB in "
            f"{seconds:.2f} s ({lines / seconds:,.0f} lines/s), target < {BATCH_TARGET_S:.0f} s"
            + ("" if seconds < BATCH_TARGET_S else "  MISSED")
        )


def _row(
    label: str, times: list[float], baseline: float, queries: int, target: float | None
) -> None:
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18] if len(times) > 1 else times[0]
    verdict = "" if target is None else f"< {target:.0f}" + ("" if p95 < target else " MISSED")
    print(f"{label:38} {p50:8.1f} {p95:8.1f} {p50 / baseline:8.1f} {queries:8d} {verdict}")


def _search_words(client: Any) -> tuple[str, str]:
    """The big client's last name with two letters swapped, and the name as written."""
    last = client.search_name.split()[-1]
    typo = last[0] + last[2] + last[1] + last[3:] if len(last) > 3 else last
    return typo, client.search_name.replace(" ", "+")


def _timed(call: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _time_page(user: Any, url: str, repeat: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    from casework.testing.personas import sign_in

    http = sign_in(HttpClient(HTTP_HOST="localhost"), user)

    def get() -> None:
        response = http.get(url)
        assert response.status_code == 200, (url, response.status_code)

    get()
    times = _timed(get, repeat)
    with CaptureQueriesContext(connection) as queries:
        get()
    return times, len(queries)


def _time_signing(client: Any, author: Any, signs: int) -> tuple[list[float], int]:
    """Drafts in the latest night with room (ten minutes each, clear of the seeded visits), then
    each signed: the first counted for queries, the others timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from casework.billing.models import ServiceCode
    from casework.notes.models import Note
    from casework.notes.services import NoteStart, note_create, note_save_draft, note_sign

    agency = client.agency
    day = agency.today()
    while True:  # the latest night with room for the drafts (earlier runs took slots)
        day -= datetime.timedelta(days=1)
        night = datetime.datetime.combine(day, datetime.time(0), tzinfo=agency.tzinfo)
        taken = Note.objects.filter(
            client=client, start_at__gte=night, start_at__lt=night + datetime.timedelta(hours=8)
        ).count()
        if taken + signs + 1 <= NIGHT_SLOTS:
            break
    code = ServiceCode.objects.get(agency=agency, code="T1016", modifiers="")

    def draft(k: int) -> Any:
        start = night + datetime.timedelta(minutes=12 * (taken + k))
        note = note_create(
            client=client,
            author=author,
            start=NoteStart(
                service_date=day,
                start_at=start,
                end_at=start + datetime.timedelta(minutes=10),
                place_of_service="12",
                service_code_id=code.pk,
                present="Client",
            ),
        )
        return note_save_draft(
            note=note,
            by=author,
            data={"sections": {"data": "Phone check-in.", "assessment": "Ok.", "plan": "Visit."}},
            expected_version=note.version,
        )

    drafts = [draft(k) for k in range(signs + 1)]
    with CaptureQueriesContext(connection) as queries:
        note_sign(note=drafts.pop(), by=author, attest=True)
    times = []
    for note in drafts:
        started = time.perf_counter()
        note_sign(note=note, by=author, attest=True)
        times.append((time.perf_counter() - started) * 1000)
    return times, len(queries)


def _time_batch(agency: Any, billing: Any, lines: int) -> tuple[float, int, int]:
    """A batch of the payer's newest `lines` ready charges (whole days), then rolled back."""
    from django.db import transaction

    from casework.billing.models import Charge, Payer
    from casework.billing.services.claims import BatchRequest, claim_batch_create

    ready = Charge.objects.filter(agency=agency, status=Charge.Status.READY)
    payer_id = ready.values_list("payer_id", flat=True).first()
    ready = ready.filter(payer_id=payer_id)
    days = list(ready.order_by("-service_date").values_list("service_date", flat=True)[:lines])
    payer = Payer.objects.get(pk=payer_id)
    request = BatchRequest(payer, days[-1], days[0])
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            batch = claim_batch_create(agency=agency, by=billing, request=request)
            result = {
                "seconds": time.perf_counter() - started,
                "lines": batch.claim_count,
                "size": len(batch.content),
            }
            raise Rollback
    except Rollback:
        pass
    return result["seconds"], result["lines"], result["size"]


if __name__ == "__main__":
    main()
