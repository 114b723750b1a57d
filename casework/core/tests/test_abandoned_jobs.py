"""A job whose worker was killed is closed by the next hourly run, not left RUNNING for ever."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from casework.automation import timers
from casework.core.jobs import ABANDONED_AFTER, WORKER_LOST, fail_abandoned_jobs

pytestmark = pytest.mark.django_db


def _job(status: str, started_ago: datetime.timedelta | None) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status=status,
        task_path="casework.automation.tasks.send_client_reminders",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        queue_name="default",
        priority=0,
        enqueued_at=now - (started_ago or datetime.timedelta()),
        started_at=None if started_ago is None else now - started_ago,
        worker_ids=["killed-worker"],
    )


def test_only_jobs_running_far_longer_than_any_job_takes_are_closed() -> None:
    abandoned = _job(TaskResultStatus.RUNNING, ABANDONED_AFTER + datetime.timedelta(minutes=1))
    running = _job(TaskResultStatus.RUNNING, datetime.timedelta(minutes=5))
    waiting = _job(TaskResultStatus.READY, None)
    done = _job(TaskResultStatus.SUCCESSFUL, ABANDONED_AFTER * 3)

    assert fail_abandoned_jobs() == 1
    statuses = {j.pk: j.status for j in DBTaskResult.objects.all()}
    assert statuses == {
        abandoned.pk: TaskResultStatus.FAILED,
        running.pk: TaskResultStatus.RUNNING,
        waiting.pk: TaskResultStatus.READY,
        done.pk: TaskResultStatus.SUCCESSFUL,
    }
    abandoned.refresh_from_db()
    assert abandoned.exception_class_path == WORKER_LOST and abandoned.finished_at is not None
    assert "next hourly run" in abandoned.traceback
    assert fail_abandoned_jobs() == 0  # once only


def test_the_hourly_automation_pass_closes_them() -> None:
    abandoned = _job(TaskResultStatus.RUNNING, ABANDONED_AFTER * 2)
    timers.run_time_triggers()
    abandoned.refresh_from_db()
    assert abandoned.status == TaskResultStatus.FAILED
