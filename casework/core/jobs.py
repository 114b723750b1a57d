"""Jobs of the task queue whose worker died before finishing them.

django-tasks-db's worker claims a job by marking it RUNNING and writes the result when it is
done. A worker killed outright (kill -9, the out-of-memory killer, a lost machine) writes
nothing, and no other worker takes the job again: it would stay RUNNING for ever. Every job of
ours is redone by the next hourly run (reminders, the rules' pass and its sweep of lost events,
docs/RELIABILITY.md), so an abandoned job is marked failed, never run again from here.
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

# Far longer than any of our jobs takes (the nightly warnings of a large agency: minutes).
ABANDONED_AFTER = datetime.timedelta(hours=6)
WORKER_LOST = "casework.core.jobs.WorkerLost"


def fail_abandoned_jobs(*, now: datetime.datetime | None = None) -> int:
    """Mark jobs RUNNING since more than ABANDONED_AFTER as failed; returns how many."""
    now = now or timezone.now()
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - ABANDONED_AFTER
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path=WORKER_LOST,
        traceback=(
            f"The worker stopped before finishing (running since more than {ABANDONED_AFTER}); "
            "the next hourly run does what it left."
        ),
    )
