"""The hourly pass: rules that fire on the passing of time, and a sweep for lost events.

Time triggers read facts, not events: a release in force that expires within N days, the
current signed plan whose review is due within N days, an authorization in force with N % of
its units used. Each is keyed by what it is about and the date or threshold it crossed
("release:7:2026-12-24", "auth:3:80"), so the pass may run as often as we like. A release or
plan review already within its rule's days when the rule was made is not acted on (the rule
acts from then on); an authorization has no date it crossed its share, so one already past the
share when the rule is made is acted on at the next pass (the rule form says so).

The sweep re-reads the event triggers' records of the last `SWEEP_BACK` (no-shows, signed notes
with a hospital stay, signed assessments with a flag): if a queued job was lost (a worker killed
before it finished), the event is acted on here, once. A rule never acts on what happened before
it was made.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import replace

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from casework.assessments.models import Assessment
from casework.automation import events
from casework.automation.engine import Event, fire, log_failure
from casework.automation.models import AutomationRule, Trigger
from casework.billing.models import Authorization
from casework.billing.selectors.catalogue import authorizations_with_usage
from casework.clients.models import Client
from casework.coordination.models import Consent
from casework.core import jobs
from casework.core.models import Agency
from casework.notes.models import Note
from casework.plans.models import ServicePlan
from casework.processes.models import ProcessInstance
from casework.schedule.models import Appointment, AppointmentClient

DEFAULT_DAYS = 14
logger = logging.getLogger(__name__)

SWEEP_BACK = datetime.timedelta(days=2)
SWEPT = (
    Trigger.NO_SHOW,
    Trigger.HOSPITAL_STAY,
    Trigger.ASSESSMENT_FLAG,
    Trigger.PROCESS_COMPLETED,
)


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%b}"


def _days(rule: AutomationRule) -> int:
    return rule.days_before or DEFAULT_DAYS


def _crossed_since_made(
    rule: AutomationRule, agency: Agency, day: datetime.date, today: datetime.date
) -> bool:
    """Whether a date `rule.days_before` ahead has come within reach, and came within reach
    on or after the day the rule was made: a release or plan already inside the window when
    the rule was made is left to the people who knew of it (the rule acts from now on)."""
    threshold = day - datetime.timedelta(days=_days(rule))
    return threshold <= today and threshold >= rule.created_at.astimezone(agency.tzinfo).date()


def _release_events(
    agency: Agency, rules: list[AutomationRule], today: datetime.date, now: datetime.datetime
) -> list[tuple[AutomationRule, Event]]:
    horizon = today + datetime.timedelta(days=max(_days(r) for r in rules))
    consents = (
        Consent.objects.filter(
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
            agency=agency,
            client__status=Client.Status.ACTIVE,
            ended_on__isnull=True,
            starts_on__lte=today,
            expires_on__gte=today,
            expires_on__lte=horizon,
        )
        .order_by("expires_on", "pk")
        .values_list("pk", "client_id", "expires_on")
    )
    found = []
    for pk, client_id, expires_on in consents:
        assert expires_on is not None  # filtered on
        event = Event(
            trigger=Trigger.RELEASE_EXPIRING,
            agency_id=agency.pk,
            client_id=client_id,
            key=f"release:{pk}:{expires_on.isoformat()}",
            what=f"a release of information expires on {_day(expires_on)}",
        )
        for rule in rules:
            if _crossed_since_made(rule, agency, expires_on, today):
                found.append((rule, event))
    return found


def _plan_events(
    agency: Agency, rules: list[AutomationRule], today: datetime.date
) -> list[tuple[AutomationRule, Event]]:
    horizon = today + datetime.timedelta(days=max(_days(r) for r in rules))
    later = ServicePlan.objects.filter(
        client_id=OuterRef("client_id"),
        status=ServicePlan.Status.SIGNED,
        number__gt=OuterRef("number"),
    )
    plans = (
        ServicePlan.objects.filter(
            agency=agency,
            status=ServicePlan.Status.SIGNED,
            client__status=Client.Status.ACTIVE,
            review_due_on__gte=today,
            review_due_on__lte=horizon,
        )
        .exclude(Exists(later))
        .order_by("review_due_on", "pk")
        .values_list("pk", "client_id", "review_due_on")
    )
    found = []
    for pk, client_id, due in plans:
        assert due is not None  # filtered on
        event = Event(
            trigger=Trigger.PLAN_REVIEW_DUE,
            agency_id=agency.pk,
            client_id=client_id,
            key=f"plan:{pk}:{due.isoformat()}",
            what=f"the service plan review is due on {_day(due)}",
        )
        for rule in rules:
            if _crossed_since_made(rule, agency, due, today):
                found.append((rule, event))
    return found


def _authorization_events(
    agency: Agency, rules: list[AutomationRule], today: datetime.date
) -> list[tuple[AutomationRule, Event]]:
    authorizations = authorizations_with_usage(
        Authorization.objects.filter(
            agency=agency,
            client__status=Client.Status.ACTIVE,
            start_on__lte=today,
            end_on__gte=today,
        ).order_by("pk")
    )
    found = []
    for authorization in authorizations:
        pk, client_id, units = authorization.pk, authorization.client_id, authorization.units
        used = int(authorization.used_units or 0)  # type: ignore[attr-defined]
        percent_used = used * 100 // units if units else 100
        for rule in rules:
            if percent_used >= rule.percent:
                found.append(
                    (
                        rule,
                        Event(
                            trigger=Trigger.AUTHORIZATION_USED,
                            agency_id=agency.pk,
                            client_id=client_id,
                            key=f"auth:{pk}:{rule.percent}",
                            what=f"{percent_used} % of an authorization's {units} units are used",
                        ),
                    )
                )
    return found


def _swept_events(agency: Agency, now: datetime.datetime, triggers: set[str]) -> list[Event]:
    since = now - SWEEP_BACK
    found: list[Event] = []
    if Trigger.NO_SHOW in triggers:
        rows = (
            AppointmentClient.objects.filter(
                agency=agency,
                appointment__status=Appointment.Status.NO_SHOW,
                appointment__outcome_at__gte=since,
            )
            .select_related("appointment")
            .order_by("pk")
        )
        for row in rows:
            event = events.no_show(
                row.appointment, row.client_id, occurred_at=row.appointment.outcome_at
            )
            if event is not None:
                found.append(event)
    if Trigger.HOSPITAL_STAY in triggers:
        notes = (
            Note.objects.filter(agency=agency, status=Note.Status.SIGNED, signed_at__gte=since)
            .exclude(events=[])
            .select_related("program")
        )
        for note in notes.order_by("pk"):
            event = events.hospital_stay(note, occurred_at=note.signed_at)
            if event is not None:
                found.append(event)
    if Trigger.ASSESSMENT_FLAG in triggers:
        signed = Assessment.objects.filter(
            agency=agency, status=Assessment.Status.SIGNED, signed_at__gte=since
        ).exclude(flags=[])
        for assessment in signed.order_by("pk"):
            event = events.assessment_flag(assessment, occurred_at=assessment.signed_at)
            if event is not None:
                found.append(event)
    if Trigger.PROCESS_COMPLETED in triggers:
        found += _completed_processes(agency, since)
    return found


def _completed_processes(agency: Agency, since: datetime.datetime) -> list[Event]:
    """Processes completed lately. A chain a rule stopped is not started again: its stop is
    logged under the same rule and event, so firing again does nothing."""
    completed = ProcessInstance.objects.filter(
        agency=agency, status=ProcessInstance.Status.COMPLETED, ended_at__gte=since
    ).values_list("pk", "client_id", "definition__key", "ended_at")
    found = []
    for instance_id, client_id, key, ended_at in completed.order_by("pk"):
        event = events.process_completed(
            instance_id=instance_id, client_id=client_id, process_key=key, depth=0
        )
        if event is not None:
            found.append(replace(event, occurred_at=ended_at))
    return found


def run_agency(*, agency: Agency, now: datetime.datetime | None = None) -> int:
    """One agency's time rules and sweep; returns how many runs were logged."""
    now = now or timezone.now()
    today = now.astimezone(agency.tzinfo).date()
    by_trigger: dict[str, list[AutomationRule]] = defaultdict(list)
    for rule in AutomationRule.objects.filter(agency=agency, is_active=True).order_by("pk"):
        by_trigger[rule.trigger].append(rule)
    pairs: list[tuple[AutomationRule, Event]] = []
    if by_trigger[Trigger.RELEASE_EXPIRING]:
        pairs += _release_events(agency, by_trigger[Trigger.RELEASE_EXPIRING], today, now)
    if by_trigger[Trigger.PLAN_REVIEW_DUE]:
        pairs += _plan_events(agency, by_trigger[Trigger.PLAN_REVIEW_DUE], today)
    if by_trigger[Trigger.AUTHORIZATION_USED]:
        pairs += _authorization_events(agency, by_trigger[Trigger.AUTHORIZATION_USED], today)
    runs = sum(len(fire(event, [rule])) for rule, event in pairs)
    swept: set[str] = {str(t) for t in SWEPT if by_trigger[t]}
    if swept:
        runs += sum(len(fire(event)) for event in _swept_events(agency, now, swept))
    return runs


def run_time_triggers(*, now: datetime.datetime | None = None, agency_id: int | None = None) -> int:
    """Every agency with an active rule (or one agency); returns how many runs were logged.
    Jobs abandoned by a killed worker are closed first (`jobs.fail_abandoned_jobs`)."""
    abandoned = jobs.fail_abandoned_jobs(now=now)
    if abandoned:
        logger.warning("Closed %d job(s) abandoned by a killed task worker.", abandoned)
    agencies = Agency.objects.filter(
        pk__in=AutomationRule.objects.filter(is_active=True).values("agency_id")
    ).order_by("pk")
    if agency_id is not None:
        agencies = agencies.filter(pk=agency_id)
    runs = 0
    for agency in agencies:
        try:
            runs += run_agency(agency=agency, now=now)
        except Exception as error:  # one agency's failure must not stop the others' pass
            log_failure("The hourly automation pass failed for agency %s", agency.pk, error=error)
    return runs
