"""Time the 837P writer on a large batch of service lines built as plain dataclasses.

    .venv/bin/python bench/claims.py                         # 25,000 claims x 4 lines = 100,000
    .venv/bin/python bench/claims.py --claims 100000 --lines-per-claim 1

Five claims per member (so 5,000 subscriber loops by default), two diagnoses, modifiers and a
rendering provider on every claim; every tenth claim is a replacement. Prints the time to build
the dataclasses (not counted) and, for each run of render_837p, seconds and lines per second.
Target: under 10 s for 100,000 lines. Not part of the test run: speed targets live here, never
as timed assertions in tests.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from casework.billing.x12 import (
    Address,
    BillingProvider,
    Claim,
    ClaimFile,
    Envelope,
    PayerParty,
    Receiver,
    RenderingProvider,
    ServiceLine,
    Submitter,
    Subscriber,
    render_837p,
)

CLAIMS_PER_MEMBER = 5
FIRST_NAMES = ("José", "Ana", "Nguyễn", "Siobhán", "Li", "Zoë", "Amir", "Grace")
LAST_NAMES = ("García", "Rivera", "Tran", "O'Brien", "Smith", "Müller", "Okafor", "Lee")


def build(claims: int, lines_per_claim: int) -> ClaimFile:
    clinician = RenderingProvider("Okafor", "Chidi", "1245319599")
    first_day = datetime.date(2025, 1, 1)
    built = []
    member = None
    for number in range(claims):
        if number % CLAIMS_PER_MEMBER == 0:
            member = Subscriber(
                member_id=f"WA{number:09d}",
                last_name=LAST_NAMES[number % len(LAST_NAMES)],
                first_name=FIRST_NAMES[number % len(FIRST_NAMES)],
                birth_date=datetime.date(1950 + number % 50, 1 + number % 12, 1 + number % 28),
                sex="FMU"[number % 3],
                address=Address("12 Elm St", "Tacoma", "WA", "98402"),
            )
        assert member is not None
        lines = tuple(
            ServiceLine(
                procedure_code="T1016",
                modifiers=("HF", "HQ") if line % 2 else ("HF",),
                charge=Decimal("45.25") * (1 + line),
                units=1 + line,
                service_date=first_day + datetime.timedelta(days=number % 365),
                diagnosis_pointers=(1, 2),
                line_control_number=f"{number}-{line}",
            )
            for line in range(lines_per_claim)
        )
        replacement = number % 10 == 9
        built.append(
            Claim(
                patient_control_number=f"CW{number:09d}",
                place_of_service="12",
                diagnosis_codes=("F32.9", "F41.1"),
                subscriber=member,
                lines=lines,
                frequency="7" if replacement else "1",
                original_reference=f"PAYER{number:09d}" if replacement else "",
                rendering_provider=clinician,
            )
        )
    return ClaimFile(
        envelope=Envelope(
            sender_id="CASEWORK01",
            receiver_id="WAHCA",
            interchange_control_number=1,
            group_control_number=1,
            created_at=datetime.datetime(2025, 3, 4, 9, 5, tzinfo=datetime.UTC),
        ),
        submitter=Submitter(
            "Cascade Community Counseling", "CW0001", "Billing Office", "3605551212"
        ),
        receiver=Receiver("Washington Health Care Authority", "77045"),
        billing_provider=BillingProvider(
            "Cascade Community Counseling",
            "1234567893",
            "91-1234567",
            Address("400 Capitol Way S", "Olympia", "WA", "98501-1234"),
        ),
        payer=PayerParty("Apple Health Managed Care", "WAMCD"),
        claims=tuple(built),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=25_000)
    parser.add_argument("--lines-per-claim", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    claim_file = build(args.claims, args.lines_per_claim)
    lines = args.claims * args.lines_per_claim
    print(
        f"built {args.claims:,} claims x {args.lines_per_claim} lines = {lines:,} lines "
        f"in {time.perf_counter() - started:.1f} s"
    )
    times = []
    for run in range(1, args.repeat + 1):
        started = time.perf_counter()
        text = render_837p(claim_file)
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        print(
            f"run {run}: {elapsed:6.2f} s  {lines / elapsed:10,.0f} lines/s  "
            f"{len(text) / 1e6:.1f} MB"
        )
    best, median = min(times), statistics.median(times)
    print(f"best {best:.2f} s ({lines / best:,.0f} lines/s), median {median:.2f} s")


if __name__ == "__main__":
    main()
