"""Helpers for tests of guided processes: install the standard definitions and walk steps."""

from __future__ import annotations

from typing import Any

from casework.clients.models import Client
from casework.core.models import User
from casework.processes import services
from casework.processes.models import ProcessInstance, ProcessStep
from casework.testing.personas import Cast


def install_standard(cast: Cast) -> None:
    services.standard_definitions_install(by=cast.admin)


def start(
    cast: Cast, key: str, client: Client | None = None, by: User | None = None
) -> ProcessInstance:
    return services.process_start(client=client or cast.client, key=key, by=by or cast.case_manager)


def open_titles(instance: ProcessInstance) -> list[str]:
    return list(
        instance.steps.filter(status=ProcessStep.Status.OPEN).values_list("element_id", flat=True)
    )


def finish(instance: ProcessInstance, element_id: str, by: User, **answers: Any) -> ProcessInstance:
    """Finish the open step with this element id and return the refreshed process."""
    step = instance.steps.get(element_id=element_id, status=ProcessStep.Status.OPEN)
    services.step_complete(by=by, step=step, answers=answers)
    instance.refresh_from_db()
    return instance
