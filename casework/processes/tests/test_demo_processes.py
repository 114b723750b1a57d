"""The demo's processes: the standard definitions installed, and processes part-way through for
the demo case manager, the placement waiting at the facility search."""

from __future__ import annotations

import datetime

import pytest

from casework.clients.demo import seed_demo
from casework.processes.models import ProcessDefinition, ProcessInstance, ProcessStep
from casework.worklist.selectors import my_day

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 23)


def test_the_demo_has_processes_part_way_through_on_the_case_managers_my_day() -> None:
    seed_demo(clients=20, seed=1, today=DAY)
    keys = set(ProcessDefinition.objects.values_list("key", flat=True))
    assert {
        "intake",
        "nursing_facility_placement",
        "involuntary_treatment_referral",
        "benefits_application",
    } <= keys
    placement = ProcessInstance.objects.get(definition__key="nursing_facility_placement")
    open_step = placement.steps.get(status=ProcessStep.Status.OPEN)
    assert open_step.element_id == "ask_facility"
    assert placement.steps.filter(status=ProcessStep.Status.DONE).count() >= 5
    manager = placement.owner
    assert manager.email.startswith("casemanager@")
    items = my_day(user=manager, everything=True).items
    assert any(
        item.kind == "process" and item.title.startswith(f"{open_step.title} — ") for item in items
    )
    assert ProcessInstance.objects.filter(status=ProcessInstance.Status.RUNNING).count() == 3
