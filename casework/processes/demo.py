"""Demo processes: the standard definitions, and processes part-way through for the demo
case manager's clients, so every kind of step shows on the chart, My day and the board.

The walkthrough client (the case manager's second client by last name) is in a nursing-facility
placement that has reached the facility search: the browser test and a newcomer can ask a
facility, record a decline, ask a second one and record the admission.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from casework.clients.models import CareTeamMember, Client
from casework.core.models import Agency, User
from casework.processes import services
from casework.processes.models import ProcessInstance, ProcessStep
from casework.processes.selectors import open_step_spec
from casework.processes.steps import Field

LONGEST_WALK = 40
SAMPLE_TEXT = {
    "facility": "Evergreen Care Center",
    "facility_name": "Evergreen Care Center",
    "dcr_name": "R. Ortiz",
    "source": "Harborview discharge planner",
    "confirmation": "WA-LTC-20417",
    "confirmation_number": "WA-LTC-20417",
}


@dataclass(frozen=True)
class DemoProcess:
    key: str
    client_index: int
    stop_at: str  # walk until a step with this element id is open ("" = stop at once)


PLAN = (
    DemoProcess("nursing_facility_placement", 1, "ask_facility"),
    DemoProcess("intake", 2, ""),
    DemoProcess("benefits_application", 0, ""),
)


def _sample(field: Field, today: datetime.date) -> Any:
    if field.kind == "yesno":
        return True
    if field.kind == "choice":
        return field.choices[0][0]
    if field.kind == "date":
        return today.isoformat()
    if field.kind == "datetime":
        return f"{today.isoformat()}T10:00"
    if field.kind == "number":
        return 1
    if field.kind == "staff":
        return None
    return SAMPLE_TEXT.get(field.name, "Done; details in the service note of the same day.")


def _walk(instance: ProcessInstance, by: User, stop_at: str, today: datetime.date) -> None:
    for _ in range(LONGEST_WALK):
        step = instance.steps.filter(status=ProcessStep.Status.OPEN).order_by("pk").first()
        if step is None or step.element_id == stop_at or not stop_at:
            return
        spec = open_step_spec(instance=instance, task_id=step.task_id)
        answers = {f.name: _sample(f, today) for f in spec.spec.fields} if spec else {}
        services.step_complete(by=by, step=step, answers=answers)
        instance.refresh_from_db()


def _clients_of(manager: User, today: datetime.date) -> list[Client]:
    rows = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today), staff=manager, role=CareTeamMember.Role.PRIMARY
    ).select_related("client__agency")
    return sorted((r.client for r in rows), key=lambda c: (c.legal_last_name, c.pk))


def seed_processes(*, agency: Agency, staff: list[User], today: datetime.date) -> int:
    """Install the standard processes and start the demo ones; returns how many started."""
    admin = staff[0]
    services.standard_definitions_install(by=admin)
    manager = next((u for u in staff if u.email.startswith("casemanager@")), None)
    if manager is None:
        return 0
    clients = _clients_of(manager, today)
    started = 0
    for plan in PLAN:
        if plan.client_index >= len(clients):
            continue
        instance = services.process_start(
            client=clients[plan.client_index], key=plan.key, by=manager
        )
        _walk(instance, manager, plan.stop_at, today)
        started += 1
    return started
