"""Reading an uploaded BPMN 2.0 file: check everything a person can get wrong, with the line and
element id of each problem, before SpiffWorkflow builds the process from it.

Diagrams come from agency admins, so what a diagram may contain is a closed list: events,
user/manual tasks, service tasks from our own list of operations, gateways with conditions in
the small expression language, duration timers and embedded sub-processes. Script tasks (code),
call activities, messages and signals are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from casework.processes import expressions, operations
from casework.processes.steps import (
    StepSpec,
    StepSpecError,
    parse_after_answer,
    parse_duration,
    parse_step,
)

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DIAGRAM_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
}
LARGEST_FILE = 1_000_000
SUPPORTED = {
    "definitions",
    "process",
    "startEvent",
    "endEvent",
    "userTask",
    "manualTask",
    "task",
    "serviceTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "sequenceFlow",
    "conditionExpression",
    "subProcess",
    "intermediateCatchEvent",
    "boundaryEvent",
    "timerEventDefinition",
    "timeDuration",
    "timeDate",
    "terminateEventDefinition",
    "documentation",
    "extensionElements",
    "laneSet",
    "lane",
    "flowNodeRef",
    "incoming",
    "outgoing",
    "textAnnotation",
    "text",
    "association",
}
SUPPORTED_SPIFF = {"properties", "property", "serviceTaskOperator", "parameters", "parameter"}
MANUAL_STEPS = {"userTask", "manualTask", "task"}
KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{2,59}$"


@dataclass(frozen=True)
class Problem:
    line: int | None
    element_id: str
    message: str

    def __str__(self) -> str:
        where = []
        if self.line:
            where.append(f"line {self.line}")
        if self.element_id:
            where.append(f"element “{self.element_id}”")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class DefinitionInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ParsedDefinition:
    key: str
    name: str
    description: str
    steps: dict[str, StepSpec]
    titles: dict[str, str] = field(default_factory=dict)
    spec: Any = None
    subprocess_specs: dict[str, Any] = field(default_factory=dict)


def _local(element: Any) -> tuple[str, str]:
    qname = etree.QName(element)
    return qname.namespace or "", qname.localname


def _where(element: Any) -> str:
    """The id of the element, or of the nearest ancestor that has one."""
    while element is not None:
        if element.get("id"):
            return str(element.get("id"))
        element = element.getparent()
    return ""


def _xml(data: bytes) -> Any:
    if not data.strip():
        raise DefinitionInvalid([Problem(None, "", "The file is empty.")])
    if len(data) > LARGEST_FILE:
        raise DefinitionInvalid(
            [Problem(None, "", f"The file is over {LARGEST_FILE // 1_000_000} MB.")]
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise DefinitionInvalid(
            [Problem(None, "", "Save the file as UTF-8 (most modellers do); this one is not.")]
        ) from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line = error.lineno or None
        raise DefinitionInvalid(
            [Problem(line, "", f"This is not valid XML ({error.msg}).")]
        ) from None
    if _local(root) != (BPMN, "definitions"):
        raise DefinitionInvalid(
            [Problem(root.sourceline, "", "This is not a BPMN 2.0 file (no bpmn:definitions).")]
        )
    return root


def _element_problems(root: Any) -> list[Problem]:
    problems = []
    for element in root.iter(etree.Element):
        namespace, name = _local(element)
        if namespace in DIAGRAM_NAMESPACES:
            continue
        if namespace == BPMN and name in SUPPORTED:
            continue
        if namespace == SPIFF and name in SUPPORTED_SPIFF:
            continue
        if namespace == BPMN:
            why = f"bpmn:{name} is not supported in Casework processes"
            if name == "scriptTask":
                why += " (scripts would run code; use a service task from the list)"
        else:
            why = f"{etree.QName(element).localname} from {namespace or 'no namespace'} is not read"
            if namespace and _local(element.getparent())[1] == "extensionElements":
                why += " (use spiffworkflow:properties)"
        problems.append(Problem(element.sourceline, _where(element), why + "."))
    return problems


def _process(root: Any) -> Any:
    processes = root.findall(f"{{{BPMN}}}process")
    if len(processes) != 1:
        raise DefinitionInvalid(
            [
                Problem(
                    root.sourceline, "", f"A file holds one process; this one has {len(processes)}."
                )
            ]
        )
    return processes[0]


def _properties(element: Any) -> dict[str, str]:
    found = element.findall(
        f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{{{SPIFF}}}property"
    )
    return {p.get("name", ""): p.get("value", "") for p in found}


def _start_problems(process: Any) -> list[Problem]:
    problems = []
    for container in [process, *process.iter(f"{{{BPMN}}}subProcess")]:
        starts = container.findall(f"{{{BPMN}}}startEvent")
        if not starts:
            what = "The process" if container is process else "This sub-process"
            problems.append(
                Problem(
                    container.sourceline, container.get("id", ""), f"{what} has no start event."
                )
            )
        for start in starts:
            if len(start):
                definitions = [c for c in start if _local(c)[1].endswith("EventDefinition")]
                if definitions:
                    problems.append(
                        Problem(
                            start.sourceline, start.get("id", ""), "Start events must be plain."
                        )
                    )
    return problems


def _step_specs(process: Any) -> tuple[dict[str, StepSpec], list[Problem]]:
    steps: dict[str, StepSpec] = {}
    problems = []
    for element in process.iter(etree.Element):
        namespace, name = _local(element)
        if namespace != BPMN or name not in MANUAL_STEPS:
            continue
        element_id = element.get("id", "")
        if not (element.get("name") or "").strip():
            problems.append(Problem(element.sourceline, element_id, "A step needs a name."))
        try:
            steps[element_id] = parse_step(_properties(element))
        except StepSpecError as error:
            problems.append(Problem(element.sourceline, element_id, str(error)))
    return steps, problems


def _answer_names(steps: dict[str, StepSpec], process: Any) -> set[str]:
    names = {f.name for step in steps.values() for f in step.fields}
    for operator in process.iter(f"{{{SPIFF}}}serviceTaskOperator"):
        names.add(operator.get("resultVariable") or "")
    return names


def _doubled_extensions(process: Any) -> list[Problem]:
    """SpiffWorkflow reads only the last of two operators or property lists; refuse both so the
    check above and the engine never read different things."""
    problems = []
    for extensions in process.iter(f"{{{BPMN}}}extensionElements"):
        for name in ("serviceTaskOperator", "properties"):
            if len(extensions.findall(f"{{{SPIFF}}}{name}")) > 1:
                problems.append(
                    Problem(
                        extensions.sourceline,
                        _where(extensions),
                        f"An element may have one spiffworkflow:{name}, not several.",
                    )
                )
    return problems


def _date_answers(steps: dict[str, StepSpec]) -> set[str]:
    return {
        f.name for step in steps.values() for f in step.fields if f.kind in ("date", "datetime")
    }


def _service_problems(process: Any) -> list[Problem]:
    problems = []
    for task in process.iter(f"{{{BPMN}}}serviceTask"):
        operator = task.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}serviceTaskOperator")
        if operator is None:
            problems.append(
                Problem(task.sourceline, task.get("id", ""), "Name the operation it runs.")
            )
            continue
        try:
            operations.check(operator.get("id", ""), operator.get("resultVariable", ""))
        except operations.OperationError as error:
            problems.append(Problem(operator.sourceline, task.get("id", ""), str(error)))
        for parameter in operator.iter(f"{{{SPIFF}}}parameter"):
            if not parameter.get("id") or not parameter.get("type"):
                problems.append(
                    Problem(
                        parameter.sourceline,
                        task.get("id", ""),
                        'Each parameter needs an id and a type, like id="staff" type="int".',
                    )
                )
                continue
            try:
                expressions.parse(parameter.get("value", ""))
            except expressions.ExpressionError as error:
                problems.append(Problem(parameter.sourceline, task.get("id", ""), str(error)))
    return problems


def _condition_problems(process: Any, answers: set[str]) -> list[Problem]:
    problems = []
    for condition in process.iter(f"{{{BPMN}}}conditionExpression"):
        flow = condition.getparent()
        try:
            unknown = (
                expressions.names_in(condition.text or "") - answers - {"True", "False", "None"}
            )
        except expressions.ExpressionError as error:
            problems.append(Problem(condition.sourceline, flow.get("id", ""), str(error)))
            continue
        for name in sorted(unknown):
            problems.append(
                Problem(
                    condition.sourceline,
                    flow.get("id", ""),
                    f"The condition reads “{name}”, which no step asks for.",
                )
            )
    return problems


def _timer_problems(process: Any, dates: set[str]) -> list[Problem]:
    """Timers wait a duration (`PT120H`) or until a date answer plus a duration
    (`admission_on + P30D`); `dates` are the date and date-time answers steps ask for."""
    problems = []
    for timer in process.iter(f"{{{BPMN}}}timerEventDefinition"):
        duration = timer.find(f"{{{BPMN}}}timeDuration")
        date = timer.find(f"{{{BPMN}}}timeDate")
        event_id = timer.getparent().get("id", "")
        try:
            if duration is not None:
                parse_duration((duration.text or "").strip().strip("\"'"))
            elif date is not None:
                answer, _ = parse_after_answer((date.text or "").strip().strip("\"'"))
                if answer not in dates:
                    raise StepSpecError(
                        f"The timer counts from “{answer}”, which no step asks for as a date."
                    )
            else:
                raise StepSpecError(
                    "A timer waits a duration (timeDuration) or until a date (timeDate)."
                )
        except StepSpecError as error:
            problems.append(Problem(timer.sourceline, event_id, str(error)))
    return problems


def _key_problems(process: Any) -> list[Problem]:
    problems = []
    if not re.match(KEY_PATTERN, process.get("id", "")):
        problems.append(
            Problem(
                process.sourceline,
                process.get("id", ""),
                "The process id must be 3 to 60 letters, digits or _, starting with a letter.",
            )
        )
    if not (process.get("name") or "").strip():
        problems.append(
            Problem(process.sourceline, process.get("id", ""), "The process needs a name.")
        )
    return problems


def _spiff_specs(root: Any, key: str) -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename=f"{key}.bpmn")
        return parser.get_spec(key), parser.get_subprocess_specs(key)
    except ValidationException as error:
        line = int(error.line_number) if str(error.line_number).isdigit() else None
        raise DefinitionInvalid(
            [Problem(line, error.id or "", str(error).split("\n")[0])]
        ) from None


def read_definition(data: bytes) -> ParsedDefinition:
    """The checked definition, or DefinitionInvalid listing every problem with its place."""
    root = _xml(data)
    problems = _element_problems(root)
    if problems:
        raise DefinitionInvalid(problems)
    process = _process(root)
    steps, step_problems = _step_specs(process)
    problems = [
        *_key_problems(process),
        *_doubled_extensions(process),
        *_start_problems(process),
        *step_problems,
        *_service_problems(process),
        *_condition_problems(process, _answer_names(steps, process)),
        *_timer_problems(process, _date_answers(steps)),
    ]
    if problems:
        raise DefinitionInvalid(problems)
    key = process.get("id")
    documentation = process.find(f"{{{BPMN}}}documentation")
    spec, subprocess_specs = _spiff_specs(root, key)
    return ParsedDefinition(
        key=key,
        name=process.get("name").strip(),
        description=(documentation.text or "").strip() if documentation is not None else "",
        steps=steps,
        titles=_step_titles(process),
        spec=spec,
        subprocess_specs=subprocess_specs,
    )


def _step_titles(process: Any) -> dict[str, str]:
    return {
        element.get("id", ""): (element.get("name") or "").strip()
        for element in process.iter(*(f"{{{BPMN}}}{name}" for name in MANUAL_STEPS))
    }
