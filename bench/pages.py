"""Time the pages a case manager uses most, as ratios against a bare view measured in the same run.

    .venv/bin/python bench/pages.py --clients 2000            # fresh SQLite database in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/pages.py

Prints p50/p95 server time per page, the ratio to /healthz (one SELECT 1), and the query count.
Not part of the test run: speed targets live here, never as timed assertions in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casework.settings")
os.environ.setdefault("DEBUG", "1")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    from casework.clients.models import Client
    from casework.core.models import Agency, User
    from casework.testing.personas import sign_in

    call_command("migrate", verbosity=0)
    if not Agency.objects.exists():
        started = time.perf_counter()
        call_command("seed_demo", clients=args.clients, stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"seeded {args.clients} clients in {time.perf_counter() - started:.1f} s")
    manager = User.objects.get(email="casemanager@demo.casework.example")
    admin = User.objects.get(email="admin@demo.casework.example")
    chart_id = Client.objects.filter(care_team__staff=manager).values_list("pk", flat=True).first()
    scenarios = [
        ("bare view /healthz", manager, "/healthz"),
        ("my day", manager, "/"),
        ("client list (caseload)", manager, "/clients/"),
        ("search typo 'smtih' (caseload)", manager, "/clients/?q=smtih"),
        ("search typo 'smtih' (whole agency)", admin, "/clients/?q=smtih"),
        ("search birth date (whole agency)", admin, "/clients/?q=1970-01-01"),
        ("client chart", manager, f"/clients/{chart_id}/"),
    ]
    baseline = None
    print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'x bare':>8} {'queries':>8}")
    for label, user, url in scenarios:
        http = sign_in(HttpClient(HTTP_HOST="localhost"), user)
        http.get(url)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = http.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            http.get(url)
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18]
        baseline = baseline or p50
        print(f"{label:38} {p50:8.1f} {p95:8.1f} {p50 / baseline:8.1f} {len(queries):8d}")


if __name__ == "__main__":
    main()
