"""Every read of guided processes, starting from the access layer's scoped client set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from casework.clients.models import Client
from casework.core import access
from casework.core.models import User
from casework.processes import bpmn, engine, operations
from casework.processes.models import ProcessDefinition, ProcessEvent, ProcessInstance, ProcessStep
from casework.processes.steps import StepSpec

OPEN = ProcessInstance.OPEN_STATUSES
BOARD_LIMIT = 500
# Lists never need a process's stored workflow or its diagram's XML (tens of KB each).
HEAVY = ("state", "definition__bpmn")
HEAVY_VIA_INSTANCE = ("instance__state", "instance__definition__bpmn")


def instances_visible(user: User, client_id: int | None = None) -> QuerySet[ProcessInstance]:
    """Processes of clients the user may see, or of the one client given."""
    if not access.may_read_narratives(user):
        return ProcessInstance.objects.none()
    if client_id is not None:
        return access.of_visible_client(user, ProcessInstance.objects.all(), client_id)
    return ProcessInstance.objects.filter(client__in=access.visible_clients(user))


def instance_or_404(user: User, instance_id: int | str) -> ProcessInstance:
    try:
        return (
            instances_visible(user)
            .select_related("definition", "client__agency", "owner", "started_by")
            .defer("definition__bpmn")
            .get(pk=int(instance_id))
        )
    except (ValueError, TypeError, ProcessInstance.DoesNotExist):
        raise Http404("No such process.") from None


def step_or_404(instance: ProcessInstance, step_id: int | str) -> ProcessStep:
    try:
        return instance.steps.select_related("owner", "done_by", "client__agency").get(
            pk=int(step_id)
        )
    except (ValueError, TypeError, ProcessStep.DoesNotExist):
        raise Http404("No such step.") from None


@dataclass
class CardRow:
    instance: ProcessInstance
    open_steps: list[ProcessStep]


def client_process_card(*, user: User, client: Client) -> list[CardRow] | None:
    """The chart's processes card: open processes and their open steps, in two queries."""
    if not access.may_read_narratives(user):
        return None
    open_steps = ProcessStep.objects.filter(status=ProcessStep.Status.OPEN).select_related("owner")
    instances = (
        instances_visible(user, client.pk)
        .filter(status__in=OPEN)
        .select_related("definition", "owner")
        .defer(*HEAVY)
        .prefetch_related(Prefetch("steps", queryset=open_steps, to_attr="open_steps"))
    )
    return [CardRow(i, i.open_steps) for i in instances]


def client_processes(*, user: User, client: Client) -> list[ProcessInstance]:
    return list(
        instances_visible(user, client.pk)
        .select_related("definition", "owner")
        .defer(*HEAVY)
        .annotate(open_count=Count("steps", filter=Q(steps__status=ProcessStep.Status.OPEN)))
    )


@dataclass
class Detail:
    instance: ProcessInstance
    steps: list[ProcessStep]
    events: list[ProcessEvent]
    timers: list[engine.Timer] = field(default_factory=list)
    upcoming: list[str] = field(default_factory=list)


def process_detail(*, instance: ProcessInstance) -> Detail:
    steps = list(instance.steps.select_related("owner", "done_by"))
    events = list(instance.events.select_related("actor"))
    timers: list[engine.Timer] = []
    upcoming: list[str] = []
    if instance.is_open:
        workflow = _workflow(instance)
        timers = engine.timers(workflow)
        upcoming = engine.upcoming_titles(workflow)
    return Detail(instance, steps, events, timers, upcoming)


def my_open_steps(user: User) -> QuerySet[ProcessStep]:
    """Steps waiting for this person in running processes of clients they may see (My day)."""
    return (
        ProcessStep.objects.filter(
            owner=user,
            status=ProcessStep.Status.OPEN,
            instance__status=ProcessInstance.Status.RUNNING,
            client__in=access.visible_clients(user),
        )
        .select_related("client", "instance__definition")
        .defer(*HEAVY_VIA_INSTANCE)
        .order_by("due_at", "pk")
    )


def waiting_board(*, user: User, key: str = "", owner_id: int | None = None) -> list[ProcessStep]:
    """Every open step in the user's scope: who is waiting on whom, soonest due first."""
    steps = (
        ProcessStep.objects.filter(
            status=ProcessStep.Status.OPEN,
            instance__status__in=OPEN,
            instance__in=instances_visible(user),
        )
        .select_related("client", "owner", "instance__definition")
        .defer(*HEAVY_VIA_INSTANCE)
        .order_by("due_at", "pk")
    )
    if key:
        steps = steps.filter(instance__definition__key=key)
    if owner_id:
        steps = steps.filter(owner_id=owner_id)
    return list(steps[:BOARD_LIMIT])


@dataclass
class DefinitionRow:
    current: ProcessDefinition
    versions: int
    running: int


def definition_rows(*, user: User) -> list[DefinitionRow]:
    """Each process the agency has: its newest version, how many versions, how many running."""
    definitions = list(
        ProcessDefinition.objects.filter(agency_id=access.agency_id_of(user))
        .defer("bpmn")
        .order_by("key", "-version")
    )
    running = dict(
        ProcessInstance.objects.filter(agency_id=access.agency_id_of(user), status__in=OPEN)
        .values_list("definition__key")
        .annotate(n=Count("pk"))
        .values_list("definition__key", "n")
    )
    rows: dict[str, DefinitionRow] = {}
    for definition in definitions:
        if definition.key in rows:
            rows[definition.key].versions += 1
        else:
            rows[definition.key] = DefinitionRow(definition, 1, running.get(definition.key, 0))
    return sorted(rows.values(), key=lambda r: r.current.name)


def definition_or_404(user: User, definition_id: int | str) -> ProcessDefinition:
    try:
        return ProcessDefinition.objects.get(
            pk=int(definition_id), agency_id=access.agency_id_of(user)
        )
    except (ValueError, TypeError, ProcessDefinition.DoesNotExist):
        raise Http404("No such process definition.") from None


def definition_versions(definition: ProcessDefinition) -> QuerySet[ProcessDefinition]:
    return (
        ProcessDefinition.objects.filter(agency_id=definition.agency_id, key=definition.key)
        .select_related("uploaded_by")
        .order_by("-version")
    )


def _workflow(instance: ProcessInstance) -> Any:
    context = operations.Context(
        client=instance.client, by=None, today=instance.client.agency.today()
    )
    return engine.load(instance.state, context)


def open_step_spec(*, instance: ProcessInstance, task_id: str) -> engine.OpenStep | None:
    """The open step as the diagram version the process started on declares it."""
    for step in engine.open_steps(_workflow(instance)):
        if step.task_id == task_id:
            return step
    return None


@dataclass(frozen=True)
class DefinitionStep:
    element_id: str
    title: str
    spec: StepSpec


def definition_steps(definition: ProcessDefinition) -> list[DefinitionStep]:
    """The steps a definition asks people to do, in the order the file lists them."""
    parsed = bpmn.read_definition(definition.bpmn.encode("utf-8"))
    return [
        DefinitionStep(key, parsed.titles.get(key, key), spec) for key, spec in parsed.steps.items()
    ]


def field_labels(definition: ProcessDefinition, element_id: str) -> dict[str, str]:
    """The labels a definition version gives a step's fields, by field name."""
    parsed = bpmn.read_definition(definition.bpmn.encode("utf-8"))
    step = parsed.steps.get(element_id)
    return {f.name: f.label for f in step.fields} if step else {}
