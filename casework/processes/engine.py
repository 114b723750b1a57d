"""SpiffWorkflow behind one small interface: start a workflow, store and restore it, advance it,
and read its open steps and timers. Nothing outside this module touches SpiffWorkflow's
objects, so the rest of the app speaks of steps and answers only.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from casework.processes import expressions, operations
from casework.processes.bpmn import ParsedDefinition
from casework.processes.steps import (
    TIMER_START_HOUR,
    StepSpec,
    StepSpecError,
    parse_after_answer,
    parse_duration,
    parse_step,
)

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


class EngineError(Exception):
    """The diagram cannot go on with these answers (no path matches, an operation refused);
    the message says where, without the answers."""


def _plain(error: Exception) -> str:
    text = str(error).split("\n")[0]
    if "No conditions satisfied" in text:
        return "No path out of a decision matches these answers; an admin should check the diagram."
    return text[:300]


def _guarded(action: Any) -> None:
    try:
        action()
    except operations.OperationError as error:
        raise EngineError(str(error)) from None
    except (SpiffWorkflowException, expressions.ExpressionError) as error:
        raise EngineError(f"The process cannot go on: {_plain(error)}") from None


class SafeScriptEngine(PythonScriptEngine):
    """Evaluates conditions with our expression language and runs only listed operations."""

    def __init__(self, context: operations.Context) -> None:
        super().__init__()
        self.context = context

    def evaluate(self, task: SpiffTask, expression: str, external_context: Any = None) -> Any:
        if not _is_timer(task):
            return expressions.evaluate(expression, task.data)
        text = (expression or "").strip().strip("\"'")
        try:
            parse_duration(text)
            return text  # a timer's duration, P30D, means itself
        except StepSpecError:
            return self._date_after_answer(task, text)

    def _date_after_answer(self, task: SpiffTask, text: str) -> str:
        """`admission_on + P30D`: 9:00 local time on the answered day, plus the duration."""
        answer, duration = parse_after_answer(text)
        value = task.data.get(answer)
        if not value:
            raise expressions.ExpressionError(f"The timer counts from “{answer}”, not answered.")
        tz = self.context.client.agency.tzinfo
        try:
            start = datetime.datetime.fromisoformat(str(value))
        except ValueError:
            raise expressions.ExpressionError(
                f"The timer counts from “{answer}”, not a date."
            ) from None
        if not isinstance(value, str) or "T" not in value:
            start = datetime.datetime.combine(start.date(), TIMER_START_HOUR)
        if start.tzinfo is None:
            start = start.replace(tzinfo=tz)
        return (start + duration).isoformat()

    def execute(self, task: SpiffTask, script: str, external_context: Any = None) -> Any:
        raise expressions.ExpressionError("Casework processes do not run scripts.")

    def call_service(
        self, task: SpiffTask, operation_name: str = "", operation_params: Any = None, **kw: Any
    ) -> str:
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        return json.dumps(operations.run(operation_name, self.context, params))


def _is_timer(task: SpiffTask) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


@dataclass(frozen=True)
class OpenStep:
    """A step waiting for a person."""

    task_id: str
    element_id: str
    title: str
    instructions: str
    spec: StepSpec


@dataclass(frozen=True)
class Timer:
    element_id: str
    title: str
    fires_at: datetime.datetime


def start(definition: ParsedDefinition, context: operations.Context) -> BpmnWorkflow:
    workflow = BpmnWorkflow(
        definition.spec, definition.subprocess_specs, script_engine=SafeScriptEngine(context)
    )
    advance(workflow)
    return workflow


def dump(workflow: BpmnWorkflow) -> dict[str, Any]:
    return json.loads(SERIALIZER.serialize_json(workflow))


def load(state: dict[str, Any], context: operations.Context) -> BpmnWorkflow:
    workflow = SERIALIZER.deserialize_json(json.dumps(state))
    workflow.script_engine = SafeScriptEngine(context)
    return workflow


def advance(workflow: BpmnWorkflow) -> None:
    """Run everything that needs no person: service tasks, gateways, timers that are due."""

    def run() -> None:
        workflow.refresh_waiting_tasks()
        workflow.do_engine_steps()
        workflow.refresh_waiting_tasks()  # a timer reached just now starts its clock
        workflow.do_engine_steps()

    _guarded(run)


def open_steps(workflow: BpmnWorkflow) -> list[OpenStep]:
    return [_open_step(task) for task in workflow.get_tasks(state=TaskState.READY, manual=True)]


def _open_step(task: SpiffTask) -> OpenStep:
    spec = task.task_spec
    extensions = getattr(spec, "extensions", {}) or {}
    return OpenStep(
        task_id=str(task.id),
        element_id=spec.bpmn_id or spec.name,
        title=spec.bpmn_name or spec.name,
        instructions=(getattr(spec, "documentation", None) or "").strip(),
        spec=parse_step(extensions.get("properties", {})),
    )


def complete(workflow: BpmnWorkflow, task_id: str, answers: dict[str, Any]) -> None:
    """Finish an open step with its answers and run on to the next person or timer."""
    task = workflow.get_task_from_id(uuid.UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise LookupError("The step is no longer open.")
    task.data.update(answers)
    _guarded(task.run)
    advance(workflow)


def timers(workflow: BpmnWorkflow) -> list[Timer]:
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        value = task._get_internal_data("event_value")
        if not value:
            continue
        try:
            fires_at = datetime.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            continue
        spec = task.task_spec
        found.append(Timer(spec.bpmn_id or spec.name, spec.bpmn_name or "Timer", fires_at))
    return sorted(found, key=lambda t: t.fires_at)


def upcoming_titles(workflow: BpmnWorkflow, limit: int = 5) -> list[str]:
    """The steps the process expects next, as far as its answers so far decide them."""
    seen: list[str] = []
    for task in workflow.get_tasks(state=TaskState.LIKELY | TaskState.FUTURE, manual=True):
        title = task.task_spec.bpmn_name or task.task_spec.name
        if title not in seen:
            seen.append(title)
        if len(seen) == limit:
            break
    return seen


def is_finished(workflow: BpmnWorkflow) -> bool:
    return bool(workflow.is_completed())


def cancel(workflow: BpmnWorkflow) -> None:
    workflow.cancel()
