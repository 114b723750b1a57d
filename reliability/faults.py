"""Crash and fault injection against the real app server, worker and PostgreSQL.

    .venv/bin/python reliability/faults.py                   # every scenario (`make faults`)
    .venv/bin/python reliability/faults.py --scenario sign   # set-up, one scenario, final checks

Builds a private PostgreSQL cluster in a temporary folder (never the shared server the tests
use), migrates and seeds it with the project's own commands, starts gunicorn (casework.wsgi)
and `manage.py db_worker`, then:

  sign      kill -9 gunicorn while many note-sign requests are in flight
  batch     kill -9 gunicorn while a claim batch is being written
  worker    kill -9 the worker while it sends reminders (to a fake SMS server) and runs rules
  postgres  restart PostgreSQL (-m fast) and crash it (-m immediate) under HTTP load

and finally checks the audit chain (`manage.py audit_verify`) and /healthz. Prints one line
per check (PASS/FAIL) and exits 1 if any check failed, 2 if the run could not be set up.
docs/RELIABILITY.md says what each scenario checks and why.

Beside it: harness.py (cluster, processes, HTTP, forms, fake SMS, report), world.py (set-up and
seeded data) and one module per scenario family (scenario_app_server, scenario_worker,
scenario_postgres).
"""

# ruff: noqa: T201 - a harness that prints its report

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The modules beside this script (put on the path above).
from harness import Browser, ClusterError, Report
from scenario_app_server import scenario_batch, scenario_sign
from scenario_postgres import scenario_postgres
from scenario_worker import scenario_worker
from world import Run

SCENARIOS: dict[str, Callable[[Run], None]] = {
    "sign": scenario_sign,
    "batch": scenario_batch,
    "worker": scenario_worker,
    "postgres": scenario_postgres,
}


# --- final checks -----------------------------------------------------------------------------


def final_checks(run: Run) -> None:
    result = run.manage("audit_verify", timeout=60)
    run.check(
        "after",
        "manage.py audit_verify passes",
        result.returncode == 0,
        (result.stdout.strip() or result.stderr.strip()).splitlines()[-1][:200],
    )
    health = Browser(run.web_port, "").get("/healthz")
    run.check("after", "/healthz answers 200", health.status == 200, f"HTTP {health.status}")
    web_errors = [
        line
        for line in (run.root / "gunicorn.log").read_text(errors="replace").splitlines()
        if "Traceback" in line
    ]
    run.report.note(f"{len(web_errors)} tracebacks in the gunicorn log (expected during outages)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=SCENARIOS, help="Only this scenario.")
    parser.add_argument(
        "--keep", action="store_true", help="Keep the temporary folder (logs) afterwards."
    )
    args = parser.parse_args()
    # Stopped from outside (CI's time limit, Ctrl+C): still end every process and the cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = Report()
    root = Path(tempfile.mkdtemp(prefix="casework-faults-"))
    run: Run | None = None
    try:
        run = Run(root, report)
        run.set_up()
        run.start_web()
        run.start_worker()
        chosen = [args.scenario] if args.scenario else list(SCENARIOS)
        for scenario in chosen:
            report.note(f"scenario {scenario}")
            SCENARIOS[scenario](run)
        final_checks(run)
    except ClusterError as error:
        print(f"SETUP FAILED: {error}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        report.failures.append("the harness itself failed (traceback above)")
    finally:
        # A second TERM must not cut the clean-up short: it ends the processes and the cluster.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if run is not None:
            run.close()
        if not args.keep and not report.failures:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root} (the logs of gunicorn, the worker and PostgreSQL)")
    took = time.monotonic() - report.started
    if report.failures:
        print(f"{len(report.failures)} of {report.checks} checks FAILED in {took:.0f} s")
        return 1
    print(f"all {report.checks} checks passed in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
