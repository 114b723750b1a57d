"""Time a whole claim batch: ready charges in the database → one 837P file, through the service.

    .venv/bin/python bench/claim_batch.py                       # 100,000 charges, fresh SQLite in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/casework_bench .venv/bin/python bench/claim_batch.py

Bulk-inserts signed notes and their ready charges (50 per client, so 2,000 subscriber loops for
100,000), then times `claim_batch_create`: loading the charges, writing the file, recording the
claim lines and marking the charges billed, in one transaction. Prints seconds and lines per
second. Target: under 10 s for 100,000 lines. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casework.settings")
os.environ.setdefault("DEBUG", "1")

PER_CLIENT = 50
DAY = datetime.date(2026, 10, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--charges", type=int, default=100_000)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from casework.billing.models import Charge
    from casework.billing.services.claims import BatchRequest, claim_batch_create
    from casework.clients.models import Client, Coverage
    from casework.notes.models import Note
    from casework.testing.billing import billable_world
    from casework.testing.personas import build_cast

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    cast = build_cast()
    world = billable_world(cast)
    clients = Client.objects.bulk_create(
        [
            Client(
                agency=cast.agency,
                record_number=f"B-{i:07d}",
                legal_first_name=f"Bench{i}",
                legal_last_name="Núñez-O'Brien",
                date_of_birth=datetime.date(1970, 1, 1) + datetime.timedelta(days=i % 9000),
                created_by=cast.admin,
            )
            for i in range(args.charges // PER_CLIENT)
        ],
        batch_size=2000,
    )
    coverages = Coverage.objects.bulk_create(
        [
            Coverage(
                agency=cast.agency,
                client=c,
                payer=world.payer,
                member_id=f"{c.pk:09d}WA",
                start_on=DAY,
            )
            for c in clients
        ],
        batch_size=2000,
    )
    now = timezone.now()
    start = datetime.datetime(2026, 10, 1, 9, tzinfo=datetime.UTC)
    notes = Note.objects.bulk_create(
        [
            Note(
                agency=cast.agency,
                client=c,
                author=cast.case_manager,
                status=Note.Status.SIGNED,
                service_date=DAY,
                start_at=start,
                end_at=start + datetime.timedelta(minutes=38),
                place_of_service="12",
                service_code=world.t1016,
                signed_at=now,
                minutes=38,
            )
            for c in clients
            for _ in range(PER_CLIENT)
        ],
        batch_size=5000,
    )
    coverage_of = {cov.client_id: cov for cov in coverages}
    Charge.objects.bulk_create(
        [
            Charge(
                agency=cast.agency,
                note=n,
                client_id=n.client_id,
                service_code=world.t1016,
                rendering_provider=cast.case_manager,
                payer=world.payer,
                coverage=coverage_of[n.client_id],
                service_date=DAY,
                minutes=38,
                units=3,
                unit_rule="cms_8_minute",
                rate=Decimal("25.00"),
                amount=Decimal("75.00"),
                place_of_service="12",
                diagnosis_codes=["F20.9", "Z59.00"],
                status=Charge.Status.READY,
            )
            for n in notes
        ],
        batch_size=5000,
    )
    print(
        f"made {len(notes):,} signed notes and ready charges in {time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    batch = claim_batch_create(
        agency=cast.agency, by=cast.billing, request=BatchRequest(world.payer, DAY, DAY)
    )
    seconds = time.perf_counter() - started
    print(
        f"claim batch: {batch.claim_count:,} claims in {seconds:.2f} s "
        f"({batch.claim_count / seconds:,.0f} lines/s), file {len(batch.content) / 1e6:.1f} MB, "
        f"target < 10 s"
    )


if __name__ == "__main__":
    main()
