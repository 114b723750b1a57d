"""Background tasks for early warnings (django-tasks; the worker is `manage.py db_worker`).

`evaluate_client_warnings` is enqueued by every change a rule reads: a signed note, a signed
assessment, an appointment's outcome. Enqueued inside the change's transaction, it is only
visible to the worker once the change commits (and in tests, the immediate backend runs it at
once, inside that transaction). `evaluate_all_warnings` is the nightly pass over every agency,
for the rules that fire on the passing of time (no contact for N days).
"""

from __future__ import annotations

from django_tasks import task

from casework.core.models import Agency
from casework.worklist import warnings
from casework.worklist.reminders import send_reminders


@task()
def evaluate_client_warnings(client_id: int) -> int:
    """Run the rules for one client; returns how many new warnings were raised."""
    return len(warnings.evaluate_client(client_id=client_id))


@task()
def evaluate_all_warnings() -> int:
    """Run the rules for every active client of every agency; returns warnings raised."""
    return sum(
        warnings.evaluate_agency(agency_id=agency_id)
        for agency_id in Agency.objects.order_by("pk").values_list("pk", flat=True)
    )


@task()
def send_reminders_task() -> int:
    """Hourly: each person's daily digest inside their working hours, and urgent items at once."""
    return send_reminders()
