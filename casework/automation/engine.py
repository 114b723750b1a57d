"""Running a rule for an event: once, logged, switched off per client, chains bounded.

Every rule that matches an event gets one `AutomationRun`, written in the same transaction as
its action. The run is unique per rule, client and event key, so:

- a queue job run twice (at-least-once delivery) or two workers at once act once: the second
  insert waits on the unique index and then finds the first;
- a worker killed half-way rolls the whole transaction back (run row and action), so the retry,
  or the next hourly sweep, acts once.

A run caused by another run (a process a rule started completed, and another rule fires) is one
deeper; beyond `MAX_CHAIN_DEPTH` nothing is done and the run says why.

An unexpected error in one rule's action rolls that run back, is logged (ids and the error's
class, never its text), recorded as a failed run, and the other rules go on.
"""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from casework.automation import actions
from casework.automation.models import AutomationOptOut, AutomationRule, AutomationRun, Trigger
from casework.clients.models import Client
from casework.core.audit import Action, audit_record

logger = logging.getLogger(__name__)
MAX_CHAIN_DEPTH = 3
Outcome = AutomationRun.Outcome


@dataclass(frozen=True)
class Event:
    """Something that happened to (or is coming up for) one client.

    `key` names it so that it is acted on once ("noshow:12", "release:7:2026-12-24"); `what` says
    it in words for the task a rule makes (it may name dates; it stays in the task, not the log).
    `occurred_at`, when known, keeps a rule from acting on what happened before it existed.
    """

    trigger: str
    agency_id: int
    client_id: int
    key: str
    what: str
    depth: int = 0
    caused_by_id: int | None = None
    process_key: str = ""
    occurred_at: datetime.datetime | None = None


def rules_for(event: Event) -> list[AutomationRule]:
    """The agency's active rules this event triggers (one query)."""
    rules = AutomationRule.objects.filter(
        agency_id=event.agency_id, trigger=event.trigger, is_active=True
    ).select_related("agency", "assignee")
    if event.trigger == Trigger.PROCESS_COMPLETED:
        rules = rules.filter(Q(trigger_process_key="") | Q(trigger_process_key=event.process_key))
    if event.occurred_at is not None:
        rules = rules.filter(created_at__lte=event.occurred_at)
    return list(rules.order_by("pk"))


def fire(event: Event, rules: Iterable[AutomationRule] | None = None) -> list[AutomationRun]:
    """Run every matching rule (or the given ones) for the event; returns the new runs."""
    chosen = rules_for(event) if rules is None else list(rules)
    if not chosen:
        return []
    client = (
        Client.objects.select_related("agency")
        .filter(pk=event.client_id, agency_id=event.agency_id)
        .first()
    )
    if client is None:
        return []
    runs = []
    for rule in chosen:
        try:
            run = run_rule(rule=rule, client=client, event=event)
        except Exception as error:  # a bug in one action must not stop the other rules
            log_failure(
                "Automation rule %s failed for client %s on event %s",
                rule.pk,
                client.pk,
                event.key[:160],
                error=error,
            )
            run = record_failure(rule=rule, client=client, event=event, error=error)
        if run is not None:
            runs.append(run)
    return runs


def log_failure(message: str, *ids: object, error: BaseException) -> None:
    """Log an unexpected error with ids, its class and where it happened, never its text: the
    text of a database or library error may quote the client's data."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error(message + " (%s)\n%s", *ids, type(error).__name__, frames)


def record_failure(
    *, rule: AutomationRule, client: Client, event: Event, error: Exception
) -> AutomationRun | None:
    """The action rolled back with an unexpected error: log the run as failed, so the log shows
    it and the hourly sweep does not repeat it every hour (the error is in the server's log)."""
    try:
        with transaction.atomic():
            run = AutomationRun.objects.create(
                agency_id=client.agency_id,
                rule=rule,
                client=client,
                event_key=event.key[:160],
                outcome=Outcome.FAILED,
                summary=f"Failed: an unexpected error ({type(error).__name__}); "
                "nothing was done. Tell your Casework administrator.",
                depth=event.depth,
                caused_by_id=event.caused_by_id,
            )
            audit_record(
                actor=None,
                actor_label="automation",
                action=Action.CREATE,
                obj=run,
                client_id=client.pk,
                agency_id=client.agency_id,
                detail={"rule": rule.pk, "outcome": Outcome.FAILED, "depth": event.depth},
            )
    except Exception as second:  # e.g. another worker logged this event meanwhile
        log_failure(
            "Could not log the failure of rule %s for client %s", rule.pk, client.pk, error=second
        )
        return None
    return run


def run_rule(*, rule: AutomationRule, client: Client, event: Event) -> AutomationRun | None:
    """Act on the event once for this rule and client; None when it was acted on before."""
    assert rule.agency_id == client.agency_id == event.agency_id
    key = event.key[:160]
    if AutomationRun.objects.filter(rule=rule, client=client, event_key=key).exists():
        return None
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = AutomationRun.objects.create(
                    agency_id=client.agency_id,
                    rule=rule,
                    client=client,
                    event_key=key,
                    outcome=Outcome.NOT_DONE,
                    summary="Started",
                    depth=event.depth,
                    caused_by_id=event.caused_by_id,
                )
        except IntegrityError:
            return None  # another worker has it (and acts, or rolls back and leaves it to us)
        outcome, summary, made = _decide_and_act(rule, client, event, run)
        run.outcome, run.summary = outcome, summary[:300]
        if made is not None:
            run.object_type = f"{made._meta.app_label}.{made._meta.model_name}"[:64]
            run.object_id = str(made.pk)[:64]
        run.save(update_fields=["outcome", "summary", "object_type", "object_id"])
        audit_record(
            actor=None,
            actor_label="automation",
            action=Action.CREATE,
            obj=run,
            client_id=client.pk,
            agency_id=client.agency_id,
            detail={"rule": rule.pk, "outcome": outcome, "depth": event.depth},
        )
    return run


def is_switched_off(*, rule: AutomationRule, client: Client) -> bool:
    return AutomationOptOut.objects.filter(
        Q(rule__isnull=True) | Q(rule=rule), client=client
    ).exists()


def _decide_and_act(
    rule: AutomationRule, client: Client, event: Event, run: AutomationRun
) -> tuple[str, str, actions.Made]:
    if event.depth > MAX_CHAIN_DEPTH:
        return Outcome.CHAIN_TOO_LONG, "Stopped: rule chain too long", None
    if is_switched_off(rule=rule, client=client):
        return Outcome.OPTED_OUT, "Skipped: automation is switched off for this client", None
    if client.status != Client.Status.ACTIVE:
        return Outcome.NOT_DONE, "Not done: the client is not active", None
    try:
        done = actions.perform(rule=rule, client=client, event_what=event.what, run=run)
    except actions.ActionError as error:
        return Outcome.NOT_DONE, f"Not done: {error}", None
    return Outcome.DONE, done.summary, done.made
