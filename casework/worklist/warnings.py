"""Early warnings: rules, each an agency setting, that see a client slipping and say why.

A rule raises a `ClientWarning` with its evidence in plain words ("Missed 2 appointments in a
row: home visit 3 Dec, home visit 10 Dec"). The evidence is PHI: it stays in the warning row,
never in logs or audit details. A warning is raised once per piece of evidence (its
`evidence_key`), so the rules may run as often as we like: after a note or an assessment is
signed, after an appointment's outcome, and nightly for the whole agency (`run_warnings`). They
never run on page load. A warning leaves My day only when someone acknowledges it with a plan,
which is a task.

The rules and their defaults (an agency changes them on /warnings/rules/):

- missed in a row: the client's last N appointments with an outcome were no-shows (N = 2).
  Attended breaks the run; cancellations (by either side) neither count nor break it.
- no contact: no signed face-to-face, phone or video contact for N days (N = 30), counted
  from the last one or, for a client never seen, from registration. The client's own or their
  program's contact standard applies instead when it is stricter.
- PHQ-9 rise: the latest signed PHQ-9 is N points or more above the one before it (N = 5).
- PHQ-9 item 9: the latest signed PHQ-9 answers item 9 above "Not at all" (no threshold).
- medication, ER or hospital, housing lost: what a signed note recorded (no threshold), except
  the notes of a 42 CFR Part 2 program, which only the program's staff may read.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from casework.assessments.models import Assessment
from casework.clients.models import CareTeamMember, Client
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import Agency, User
from casework.notes.models import MedicationAdherence, NotableEvent, Note
from casework.schedule.models import Appointment, AppointmentClient
from casework.worklist.contact import last_contacts, program_standards
from casework.worklist.models import TITLE_LIMIT, ClientWarning, Task, WarningKind, WarningRule
from casework.worklist.services import TaskError, task_create

Kind = WarningKind
# Kinds whose threshold an agency may change; the others fire on what a record says.
DEFAULT_THRESHOLDS: dict[str, int] = {
    Kind.MISSED_IN_A_ROW: 2,
    Kind.NO_CONTACT: 30,
    Kind.PHQ9_RISE: 5,
}
THRESHOLD_UNITS: dict[str, str] = {
    Kind.MISSED_IN_A_ROW: "appointments",
    Kind.NO_CONTACT: "days",
    Kind.PHQ9_RISE: "points",
}
# What each rule watches for, as the settings page explains it.
RULE_TEXT: dict[str, str] = {
    Kind.MISSED_IN_A_ROW: "The client missed this many appointments in a row (no-shows; "
    "cancellations do not count).",
    Kind.NO_CONTACT: "No face-to-face, phone or video contact for this many days. The client's "
    "own or their program's contact standard applies when it is stricter.",
    Kind.PHQ9_RISE: "A signed PHQ-9 is this many points or more above the one before it.",
    Kind.PHQ9_ITEM9: "A signed PHQ-9 answers item 9 (thoughts of death or self-harm) above "
    "“Not at all”.",
    Kind.MEDICATION: "A signed note says the client stopped a medication or is not taking it.",
    Kind.ER_OR_HOSPITAL: "A signed note records an emergency-room visit or a hospitalization.",
    Kind.HOUSING_LOST: "A signed note records that the client lost their housing.",
}
URGENT_KINDS = frozenset({Kind.PHQ9_ITEM9, Kind.ER_OR_HOSPITAL, Kind.HOUSING_LOST})
MEDICATION_WORRIES = (MedicationAdherence.NOT_TAKING, MedicationAdherence.STOPPED)
NOTE_EVENT_KINDS: dict[str, str] = {
    NotableEvent.ER_VISIT: Kind.ER_OR_HOSPITAL,
    NotableEvent.HOSPITALIZED: Kind.ER_OR_HOSPITAL,
    NotableEvent.HOUSING_LOST: Kind.HOUSING_LOST,
}
# Notes signed this recently are read; older ones were read when they were signed.
NOTE_LOOKBACK = datetime.timedelta(days=30)
# A run of misses already warned about and not yet acknowledged is not warned about again.
STREAK_KINDS = frozenset({Kind.MISSED_IN_A_ROW})
BATCH = 500
MIN_THRESHOLD, MAX_THRESHOLD = 1, 365  # as WarningRule.threshold allows
PHQ9 = "phq9"
PHQ9_ITEM9 = "q9"


class WarningError(Exception):
    """A warning change that cannot be made; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Rule:
    """One rule as it applies in an agency: on or off, and its threshold (None: no threshold)."""

    enabled: bool
    threshold: int | None


def rules_for(agency: Agency | int) -> dict[str, Rule]:
    """Every kind's rule for the agency: its WarningRule row, else on with the default (1 query)."""
    agency_id = agency if isinstance(agency, int) else agency.pk
    rows = {r.kind: r for r in WarningRule.objects.filter(agency_id=agency_id)}
    rules = {}
    for kind in Kind.values:
        row = rows.get(kind)
        default = DEFAULT_THRESHOLDS.get(kind)
        threshold = default
        if row is not None and row.threshold is not None and default is not None:
            threshold = row.threshold
        rules[kind] = Rule(enabled=row.is_enabled if row else True, threshold=threshold)
    return rules


@dataclass(frozen=True)
class RuleInput:
    """What an admin sets for one kind: on or off, and a threshold (None: the default)."""

    kind: str
    enabled: bool
    threshold: int | None


def warning_rules_save(*, agency: Agency, by: User, wanted: Sequence[RuleInput]) -> None:
    """Save the agency's early-warning rules (agency admins only); audited, one transaction.

    A threshold on a kind without one is refused; the nightly run and the next change apply
    the new settings (warnings already raised stay until acknowledged).
    """
    if not access.may_manage_staff(by) or access.agency_id_of(by) != agency.pk:
        raise WarningError("Only agency admins change the early-warning rules.")
    for rule in wanted:
        if rule.kind not in Kind.values:
            raise WarningError("There is no such early-warning rule.")
        if rule.threshold is not None:
            if rule.kind not in DEFAULT_THRESHOLDS:
                raise WarningError("This rule has no threshold.", field=f"{rule.kind}-threshold")
            if not MIN_THRESHOLD <= rule.threshold <= MAX_THRESHOLD:
                raise WarningError(
                    f"Enter a number from {MIN_THRESHOLD} to {MAX_THRESHOLD}, or leave it blank "
                    "for the default.",
                    field=f"{rule.kind}-threshold",
                )
    with transaction.atomic():
        current = {r.kind: r for r in WarningRule.objects.select_for_update().filter(agency=agency)}
        for rule in wanted:
            row = current.get(rule.kind) or WarningRule(agency=agency, kind=rule.kind)
            if row.pk and (row.is_enabled, row.threshold) == (rule.enabled, rule.threshold):
                continue
            row.is_enabled, row.threshold = rule.enabled, rule.threshold
            row.save()
            audit_record(
                actor=by,
                action=Action.UPDATE,
                obj=row,
                detail={"kind": rule.kind, "enabled": rule.enabled, "threshold": rule.threshold},
            )


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    client_id: int
    kind: str
    evidence_key: str
    evidence: str


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%b}"


def _local_day(value: datetime.datetime, agency: Agency) -> datetime.date:
    return value.astimezone(agency.tzinfo).date()


def _missed_in_a_row(
    client_ids: list[int], agency: Agency, need: int, now: datetime.datetime
) -> list[Finding]:
    """The last `need` appointments with an outcome were all no-shows (1 query)."""
    rows = (
        AppointmentClient.objects.filter(
            client_id__in=client_ids,
            appointment__status__in=(Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW),
            appointment__start_at__lte=now,
        )
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("client_id")],
                order_by=[F("appointment__start_at").desc(), F("appointment_id").desc()],
            )
        )
        .filter(position__lte=need)
        .values(
            "client_id",
            "appointment_id",
            "appointment__kind",
            "appointment__start_at",
            "appointment__status",
        )
    )
    recent: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        recent[row["client_id"]].append(row)
    findings = []
    kinds = dict(Appointment._meta.get_field("kind").flatchoices)
    for client_id, latest in recent.items():
        latest.sort(key=lambda r: (r["appointment__start_at"], r["appointment_id"]))
        if len(latest) < need or any(
            r["appointment__status"] != Appointment.Status.NO_SHOW for r in latest
        ):
            continue
        listed = ", ".join(
            f"{str(kinds.get(r['appointment__kind'], 'appointment')).lower()} "
            f"{_day(_local_day(r['appointment__start_at'], agency))}"
            for r in latest
        )
        findings.append(
            Finding(
                client_id,
                Kind.MISSED_IN_A_ROW,
                f"appointment:{latest[-1]['appointment_id']}",
                f"Missed {need} appointment{'s' if need != 1 else ''} in a row: {listed}",
            )
        )
    return findings


ESCALATE_AFTER_STANDARDS = 2  # missed contacts before "not seen" becomes a warning


def _contact_standards(
    client_ids: list[int], clients: dict[int, Client], today: datetime.date
) -> dict[int, int | None]:
    """The client's own contact standard, else the strictest of their current programs' (1 query)."""
    programs = program_standards(client_ids, today)
    return {pk: clients[pk].contact_every_days or programs.get(pk) for pk in client_ids}


def _no_contact(
    clients: dict[int, Client], agency: Agency, days: int, today: datetime.date
) -> list[Finding]:
    """No signed contact for `days` days, or for twice the client's contact standard when that
    is sooner (2 queries). Once past the standard itself the client is already on My day as
    "See …"; the warning is the escalation."""
    ids = list(clients)
    last_contact = last_contacts(ids)
    standards = _contact_standards(ids, clients, today)
    findings = []
    for pk, client in clients.items():
        standard = standards.get(pk)
        limit = min(days, ESCALATE_AFTER_STANDARDS * standard) if standard else days
        last = last_contact.get(pk)
        since_day = last or _local_day(client.created_at, agency)
        since = (today - since_day).days
        if since < limit:
            continue
        why = f"; this client's standard is every {standard} days" if standard else ""
        if last is None:
            evidence = (
                f"No contact recorded since registration on {_day(since_day)} ({since} days){why}"
            )
        else:
            evidence = f"No contact for {since} days: last contact {_day(last)}{why}"
        key = f"contact:{last.isoformat()}" if last else "contact:none"
        findings.append(Finding(pk, Kind.NO_CONTACT, key, evidence))
    return findings


def _phq9(client_ids: list[int], rules: dict[str, Rule]) -> list[Finding]:
    """A rise between the last two signed PHQ-9s, and item 9 on the latest (1 query)."""
    rows = (
        Assessment.objects.filter(
            client_id__in=client_ids,
            instrument=PHQ9,
            status=Assessment.Status.SIGNED,
            total__isnull=False,
        )
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("client_id")],
                order_by=[F("administered_on").desc(), F("id").desc()],
            )
        )
        .filter(position__lte=2)
        .values("id", "client_id", "administered_on", "total", "answers", "position")
    )
    latest: dict[int, dict[str, Any]] = {}
    before: dict[int, dict[str, Any]] = {}
    for row in rows:
        (latest if row["position"] == 1 else before)[row["client_id"]] = row
    rise, item9 = rules[Kind.PHQ9_RISE], rules[Kind.PHQ9_ITEM9]
    findings = []
    for client_id, last in latest.items():
        key = f"assessment:{last['id']}"
        previous = before.get(client_id)
        if (
            rise.enabled
            and rise.threshold is not None
            and previous is not None
            and last["total"] - previous["total"] >= rise.threshold
        ):
            findings.append(
                Finding(
                    client_id,
                    Kind.PHQ9_RISE,
                    key,
                    f"PHQ-9 rose from {previous['total']} to {last['total']} "
                    f"({_day(previous['administered_on'])} → {_day(last['administered_on'])})",
                )
            )
        answer = (last["answers"] or {}).get(PHQ9_ITEM9)
        if item9.enabled and isinstance(answer, int) and answer > 0:
            findings.append(
                Finding(
                    client_id,
                    Kind.PHQ9_ITEM9,
                    key,
                    f"PHQ-9 of {_day(last['administered_on'])}: item 9 (thoughts of death or "
                    f"self-harm) answered {answer} of 3",
                )
            )
    return findings


def _from_notes(
    client_ids: list[int], rules: dict[str, Rule], now: datetime.datetime
) -> list[Finding]:
    """What signed notes recorded: medications stopped or not taken, ER, hospital, housing (1 query).

    A 42 CFR Part 2 program's notes are left out: a warning is shown to everyone on the chart,
    and would tell staff outside the program what only the program may read."""
    rows = (
        Note.objects.filter(
            client_id__in=client_ids,
            status=Note.Status.SIGNED,
            signed_at__gte=now - NOTE_LOOKBACK,
        )
        .exclude(program__is_part2=True)
        .filter(~Q(medication_adherence="") | ~Q(events=[]))
        .values("id", "client_id", "service_date", "medication_adherence", "events")
        .order_by("service_date", "id")
    )
    adherence = dict(MedicationAdherence.choices)
    event_labels = dict(NotableEvent.choices)
    findings = []
    for row in rows:
        key, on = f"note:{row['id']}", _day(row["service_date"])
        if rules[Kind.MEDICATION].enabled and row["medication_adherence"] in MEDICATION_WORRIES:
            findings.append(
                Finding(
                    row["client_id"],
                    Kind.MEDICATION,
                    key,
                    f"Note of {on}: {adherence[row['medication_adherence']].lower()}",
                )
            )
        by_kind: dict[str, list[str]] = defaultdict(list)
        for event in row["events"] or []:
            event_kind = NOTE_EVENT_KINDS.get(event)
            if event_kind is not None and rules[event_kind].enabled:
                by_kind[event_kind].append(event_labels[event].lower())
        for kind, labels in by_kind.items():
            findings.append(
                Finding(row["client_id"], kind, key, f"Note of {on}: {' and '.join(labels)}")
            )
    return findings


def _findings(
    clients: dict[int, Client], agency: Agency, rules: dict[str, Rule], now: datetime.datetime
) -> list[Finding]:
    ids = list(clients)
    today = now.astimezone(agency.tzinfo).date()
    found: list[Finding] = []
    missed = rules[Kind.MISSED_IN_A_ROW]
    if missed.enabled and missed.threshold:
        found += _missed_in_a_row(ids, agency, missed.threshold, now)
    contact = rules[Kind.NO_CONTACT]
    if contact.enabled and contact.threshold:
        found += _no_contact(clients, agency, contact.threshold, today)
    if rules[Kind.PHQ9_RISE].enabled or rules[Kind.PHQ9_ITEM9].enabled:
        found += _phq9(ids, rules)
    if any(rules[k].enabled for k in (Kind.MEDICATION, Kind.ER_OR_HOSPITAL, Kind.HOUSING_LOST)):
        found += _from_notes(ids, rules, now)
    return found


def _raise(findings: Sequence[Finding], agency_id: int) -> list[ClientWarning]:
    """Store the findings not stored before (1 query to check, then one insert per new one)."""
    if not findings:
        return []
    existing = ClientWarning.objects.filter(
        client_id__in={f.client_id for f in findings}
    ).values_list("client_id", "kind", "evidence_key", "acknowledged_at")
    seen = {(c, k, e) for c, k, e, _ in existing}
    open_streaks = {(c, k) for c, k, _, ack in existing if ack is None and k in STREAK_KINDS}
    raised = []
    for finding in findings:
        if (finding.client_id, finding.kind, finding.evidence_key) in seen:
            continue
        if (finding.client_id, finding.kind) in open_streaks:
            continue
        try:
            with transaction.atomic():
                warning = ClientWarning.objects.create(
                    agency_id=agency_id,
                    client_id=finding.client_id,
                    kind=finding.kind,
                    evidence_key=finding.evidence_key,
                    evidence=finding.evidence[:1000],
                )
        except IntegrityError:
            continue  # a run at the same moment raised it first
        seen.add((finding.client_id, finding.kind, finding.evidence_key))
        # Only that a rule raised a warning: the kind and the evidence stay out of the log.
        audit_record(
            actor=None,
            actor_label="rule",
            action=Action.CREATE,
            obj=warning,
            client_id=finding.client_id,
            agency_id=agency_id,
        )
        raised.append(warning)
    return raised


def _evaluate(
    clients: Iterable[Client], agency: Agency, rules: dict[str, Rule], now: datetime.datetime
) -> list[ClientWarning]:
    by_id = {c.pk: c for c in clients if c.status == Client.Status.ACTIVE}
    if not by_id:
        return []
    with transaction.atomic():
        return _raise(_findings(by_id, agency, rules, now), agency.pk)


def evaluate_client(*, client_id: int, now: datetime.datetime | None = None) -> list[ClientWarning]:
    """Run every enabled rule for one client and raise what is new (a fixed number of queries)."""
    client = Client.objects.select_related("agency").filter(pk=client_id).first()
    if client is None:
        return []
    assert client.agency is not None
    return _evaluate([client], client.agency, rules_for(client.agency), now or timezone.now())


def evaluate_agency(*, agency_id: int, now: datetime.datetime | None = None) -> int:
    """The nightly run: every active client of the agency, in batches. Returns warnings raised."""
    agency = Agency.objects.get(pk=agency_id)
    rules = rules_for(agency)
    now = now or timezone.now()
    raised, after = 0, 0
    while True:
        batch = list(
            Client.objects.filter(
                agency_id=agency_id, status=Client.Status.ACTIVE, pk__gt=after
            ).order_by("pk")[:BATCH]
        )
        if not batch:
            return raised
        raised += len(_evaluate(batch, agency, rules, now))
        after = batch[-1].pk


# --- acknowledging ---------------------------------------------------------------------------


def warning_acknowledge(
    *,
    warning: ClientWarning,
    by: User,
    plan: str,
    due_on: datetime.date | None,
    assignee: User | None = None,
) -> ClientWarning:
    """Acknowledge a warning with a plan: the plan becomes a task; the warning stays, answered.

    Acknowledging twice makes no second task.
    """
    if (
        not access.may_write_notes(by)
        or not access.visible_clients(by).filter(pk=warning.client_id).exists()
    ):
        raise WarningError("Only staff who work with this client can acknowledge its warnings.")
    plan = " ".join(plan.split())
    if not plan:
        raise WarningError("Say what you will do about it.", field="plan")
    if len(plan) > TITLE_LIMIT:
        raise WarningError(f"Keep the plan under {TITLE_LIMIT} characters.", field="plan")
    assert by.agency is not None
    if due_on is None:
        raise WarningError("Say by when.", field="due_on")
    if due_on < by.agency.today():
        raise WarningError("The plan's date is in the past.", field="due_on")
    assignee = assignee or by
    if assignee.pk != by.pk and (
        not access.may_write_notes(assignee)
        or not access.visible_clients(assignee).filter(pk=warning.client_id).exists()
    ):
        raise WarningError(f"{assignee.full_name} does not work with this client.", "assignee")
    with transaction.atomic():
        locked = (
            ClientWarning.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(pk=warning.pk)
        )
        if locked.acknowledged_at is not None:
            return locked
        try:
            task = task_create(
                assignee=assignee,
                title=plan,
                by=by,
                client=locked.client,
                reason=f"Early warning: {locked.get_kind_display()}. {locked.evidence}"[:1000],
                due_on=due_on,
                urgent=locked.kind in URGENT_KINDS,
                kind=Task.Kind.WARNING_PLAN,
            )
        except TaskError as error:
            raise WarningError(str(error), field=error.field) from None
        locked.plan_task = task
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = by
        locked.save(update_fields=["plan_task", "acknowledged_at", "acknowledged_by"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"acknowledged": True, "task": task.pk},
        )
    return locked


# --- reads -----------------------------------------------------------------------------------


def open_warnings_for(*, user: User) -> list[ClientWarning]:
    """Unacknowledged warnings about the user's primary clients and, for a supervisor, their
    team members' primary clients, newest first (one query)."""
    if user.agency is None or not access.may_use_client_registry(user):
        return []
    today = user.agency.today()
    responsible = Q(staff=user) | Q(staff_id__in=access.supervised_staff_ids(user))
    primary = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today),
        responsible,
        agency_id=access.agency_id_of(user),
        role=CareTeamMember.Role.PRIMARY,
    ).values("client_id")
    return list(
        ClientWarning.objects.filter(
            agency_id=access.agency_id_of(user),
            acknowledged_at__isnull=True,
            client_id__in=primary,
        )
        .filter(client__in=access.visible_clients(user))
        .select_related("client")
        .order_by("-raised_at", "-id")
    )


ACKNOWLEDGED_SHOWN = 5


def client_warnings(*, client: Client) -> list[ClientWarning]:
    """For the chart: every open warning, then the last few acknowledged with their plans
    (two queries). The caller has already checked that the user may see the client."""
    base = ClientWarning.objects.filter(client=client, agency_id=client.agency_id)
    open_ = list(base.filter(acknowledged_at__isnull=True).order_by("-raised_at", "-id"))
    answered = list(
        base.filter(acknowledged_at__isnull=False)
        .select_related("acknowledged_by", "plan_task__assignee")
        .order_by("-acknowledged_at", "-id")[:ACKNOWLEDGED_SHOWN]
    )
    return open_ + answered


def warning_or_404(*, user: User, warning_id: int | str) -> ClientWarning:
    """A warning about a client the user may see; 404 otherwise."""
    try:
        return (
            ClientWarning.objects.filter(
                agency_id=access.agency_id_of(user), client__in=access.visible_clients(user)
            )
            .select_related("client", "acknowledged_by", "plan_task__assignee")
            .get(pk=int(warning_id))
        )
    except (ValueError, TypeError, ClientWarning.DoesNotExist):
        raise Http404("No such warning.") from None
