"""Scenario "worker": kill -9 of the db_worker while it sends reminders and runs the rules
(docs/RELIABILITY.md)."""

from __future__ import annotations

import datetime
from collections import Counter

from world import (
    NO_SHOWS,
    REMINDERS,
    Run,
    fresh_db,
    wait_until,
)


def _queue_idle() -> bool:
    from django_tasks_db.models import DBTaskResult

    fresh_db()
    return not DBTaskResult.objects.ready().exists()


def _task_finished(task_id: str) -> bool:
    from django_tasks_db.models import DBTaskResult

    fresh_db()
    return DBTaskResult.objects.filter(pk=task_id, status="SUCCESSFUL").exists()


def _rule_runs() -> int:
    from casework.automation.models import AutomationRun

    fresh_db()
    return AutomationRun.objects.filter(event_key__startswith="noshow:").count()


def scenario_worker(run: Run) -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from casework.automation import tasks
    from casework.automation.models import ClientReminder
    from casework.core.jobs import ABANDONED_AFTER, WORKER_LOST

    name = "worker"
    if run.worker is None:
        run.start_worker()
    wait_until(_queue_idle, 20)
    run.report.note("task queue idle")

    # 1. Reminders: the provider answers the first seven texts at once and holds its answer
    # to the eighth; the worker is killed while it waits for that answer.
    run.sms.hold, run.sms.hold_from = 5.0, 8
    tasks.send_client_reminders.enqueue()
    got = run.sms.received.wait(timeout=30)
    run.kill_worker()
    run.check(name, "the worker was killed mid-send", got, f"{run.sms.total()} texts received")
    fresh_db()
    sending = ClientReminder.objects.filter(status=ClientReminder.Status.SENDING).count()
    run.report.note(f"killed the worker; reminders left 'sending': {sending}")

    # 2. Rules: the hourly pass, killed once a third of the no-shows have been acted on.
    run.start_worker()
    tasks.run_time_triggers.enqueue()
    reached = wait_until(lambda: _rule_runs() >= NO_SHOWS // 3, 30, step=0.02)
    run.kill_worker()
    at_kill = _rule_runs()
    run.check(
        name,
        "the worker was killed mid-rules",
        reached and at_kill < NO_SHOWS,
        f"{at_kill} of {NO_SHOWS} no-shows acted on",
    )

    # 3. Fifteen minutes pass (LOST_AFTER): the claim times of the stuck sends are moved back
    # rather than waiting. Then the next hourly runs.
    fresh_db()
    stuck = list(
        ClientReminder.objects.filter(status=ClientReminder.Status.SENDING).values_list(
            "pk", flat=True
        )
    )
    ClientReminder.objects.filter(pk__in=stuck).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=16)
    )
    # The two jobs the killed workers held stay RUNNING; six hours pass for them too.
    held = list(DBTaskResult.objects.filter(status="RUNNING").values_list("pk", flat=True))
    DBTaskResult.objects.filter(pk__in=held).update(
        started_at=timezone.now() - ABANDONED_AFTER - datetime.timedelta(minutes=1)
    )
    run.sms.hold_from = 0
    run.start_worker()
    reminders_task = tasks.send_client_reminders.enqueue()
    rules_task = tasks.run_time_triggers.enqueue()
    finished = wait_until(
        lambda: _task_finished(reminders_task.id) and _task_finished(rules_task.id), 40
    )
    run.check(name, "the next worker run finishes, successfully", finished)
    run.report.note("the next worker run finished")
    fresh_db()
    closed = DBTaskResult.objects.filter(
        pk__in=held, status="FAILED", exception_class_path=WORKER_LOST
    ).count()
    run.check(
        name,
        "the jobs the killed workers held are closed by the next hourly run",
        len(held) == 2 == closed and not DBTaskResult.objects.filter(status="RUNNING").exists(),
        f"{closed} of {len(held)} closed",
    )
    _reminder_checks(run, name, stuck)
    _rule_checks(run, name)


def _reminder_checks(run: Run, name: str, stuck: list[int]) -> None:
    from casework.automation.messaging import to_e164
    from casework.automation.models import ClientReminder, ReminderPreference
    from casework.automation.reminders import reminder_text

    fresh_db()
    counts = run.sms.snapshot()
    rows = list(
        ClientReminder.objects.filter(agency_id=run.world.agency_id).select_related("agency")
    )
    phones = dict(
        ReminderPreference.objects.filter(agency_id=run.world.agency_id).values_list(
            "client_id", "phone__number"
        )
    )
    keyed = {
        row.pk: (
            to_e164(phones[row.client_id]),
            reminder_text(agency=row.agency, starts_at=row.starts_at),
        )
        for row in rows
    }
    run.check(
        name,
        "the Twilio adapter reached the provider with its credentials",
        run.sms.refused == 0 and bool(counts),
        f"{sum(counts.values())} texts, {run.sms.refused} refused",
    )
    twice = [key for key, n in counts.items() if n > 1]
    run.check(name, "no reminder text was delivered twice", not twice, f"{len(twice)} twice")
    strangers = set(counts) - set(keyed.values())
    run.check(name, "every text delivered has its reminder row", not strangers, f"{len(strangers)}")
    statuses = Counter(row.status for row in rows)
    sent_ok = all(
        counts[keyed[row.pk]] == 1 for row in rows if row.status == ClientReminder.Status.SENT
    )
    run.check(name, "each reminder marked sent was delivered once", sent_ok, str(dict(statuses)))
    unknown = {row.pk for row in rows if row.status == ClientReminder.Status.UNKNOWN}
    run.check(
        name,
        "stuck sends are marked unknown, not resent",
        bool(stuck) and set(stuck) == unknown and all(counts[keyed[pk]] <= 1 for pk in unknown),
        f"{len(stuck)} stuck, {len(unknown)} unknown, "
        f"{sum(1 for pk in unknown if counts[keyed[pk]])} of them had reached the provider",
    )
    # The seeded clients may have a visit of their own in the window too: at least one each.
    run.check(
        name,
        "every owed reminder was sent, except those marked unknown",
        len(rows) >= REMINDERS and statuses[ClientReminder.Status.SENT] + len(unknown) == len(rows),
        f"{len(rows)} reminders for {REMINDERS} clients",
    )


def _rule_checks(run: Run, name: str) -> None:
    from casework.automation.models import AutomationRun
    from casework.worklist.models import Task

    fresh_db()
    keys = [f"noshow:{pk}" for pk in run.world.no_show_appointments]
    runs = list(AutomationRun.objects.filter(event_key__in=keys))
    per_key = Counter(r.event_key for r in runs)
    run.check(
        name,
        "each no-show was acted on exactly once",
        len(per_key) == len(keys) and set(per_key.values()) == {1},
        f"{len(runs)} runs for {len(keys)} no-shows; outcomes "
        f"{dict(Counter(r.outcome for r in runs))}",
    )
    task_ids = [int(r.object_id) for r in runs if r.object_type == "worklist.task"]
    tasks = Task.objects.filter(kind=Task.Kind.AUTOMATED, agency_id=run.world.agency_id)
    by_content = Counter(tasks.values_list("client_id", "title", "reason"))
    run.check(
        name,
        "rules made one task per no-show, none twice",
        len(set(task_ids)) == len(keys)
        and tasks.filter(pk__in=task_ids).count() == len(keys)
        and max(by_content.values(), default=1) == 1,
        f"{tasks.count()} automated tasks",
    )
