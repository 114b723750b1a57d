"""The operations a diagram's service tasks may run: a closed list of our own functions.

A service task names one with `spiffworkflow:serviceTaskOperator id="coverage_check"
resultVariable="coverage"`; its answer lands in the process's answers under that name, where
gateway conditions can read it (`coverage["medicaid"]`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casework.billing.models import Payer
from casework.clients.models import CareTeamMember, Client, Coverage
from casework.core.models import User
from casework.processes.steps import NAME

MEDICAID_KINDS = {Payer.Kind.MEDICAID_MCO, Payer.Kind.MEDICAID_FFS}


class OperationError(ValueError):
    """The operation is unknown or cannot run; the message says why."""


@dataclass(frozen=True)
class Context:
    client: Client
    by: User | None
    today: datetime.date


@dataclass(frozen=True)
class Operation:
    description: str
    run: Callable[[Context, dict[str, Any]], dict[str, Any]]


def _coverage_check(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    coverages = [
        c
        for c in Coverage.objects.filter(client=context.client).select_related("payer")
        if c.is_active_on(context.today)
    ]
    return {
        "active": bool(coverages),
        "medicaid": any(c.payer.kind in MEDICAID_KINDS for c in coverages),
        "payers": ", ".join(sorted({c.payer.name for c in coverages})),
    }


def _release_check(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    from casework.coordination.models import Consent
    from casework.coordination.selectors import releases_in_force_on

    count = Consent.objects.filter(
        releases_in_force_on(context.today), client=context.client
    ).count()
    return {"any": bool(count), "in_force": count}


def _assign_case_manager(context: Context, params: dict[str, Any]) -> dict[str, Any]:
    from casework.clients import services as client_services

    if context.by is None:
        raise OperationError("A person must finish the step before a case manager is assigned.")
    staff_id = params.get("staff")
    staff = (
        User.objects.filter(pk=int(staff_id), agency_id=context.client.agency_id).first()
        if isinstance(staff_id, int | str) and str(staff_id).isdigit()
        else None
    )
    if staff is None:
        raise OperationError("Choose the case manager from this agency's staff.")
    already = CareTeamMember.objects.filter(
        CareTeamMember.active_on(context.today),
        client=context.client,
        role=CareTeamMember.Role.PRIMARY,
        staff=staff,
    ).exists()
    if already:
        return {"assigned": staff.pk, "from": context.today.isoformat()}
    effective = _first_free_day(context.client, context.today)
    try:
        client_services.caseload_reassign(
            client=context.client, to=staff, effective=effective, by=context.by
        )
    except client_services.ClientError as error:
        raise OperationError(str(error)) from None
    return {"assigned": staff.pk, "from": effective.isoformat()}


def _first_free_day(client: Client, today: datetime.date) -> datetime.date:
    """Today, or the day after the current primary assignment began if that is today (a
    client registered and assigned at intake): the care team keeps one primary per day."""
    started = (
        CareTeamMember.objects.filter(
            client=client, role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
        )
        .order_by("-start_on")
        .values_list("start_on", flat=True)
        .first()
    )
    if started is not None and started >= today:
        return started + datetime.timedelta(days=1)
    return today


OPERATIONS: dict[str, Operation] = {
    "coverage_check": Operation(
        "Reads the client's coverage in force today: active, medicaid (true/false), payers.",
        _coverage_check,
    ),
    "release_check": Operation(
        "Counts the client's releases of information in force: any (true/false), in_force.",
        _release_check,
    ),
    "assign_case_manager": Operation(
        "Makes the staff member in parameter `staff` the client's primary case manager.",
        _assign_case_manager,
    ),
}


def check(name: str, result_variable: str) -> None:
    if name not in OPERATIONS:
        known = ", ".join(sorted(OPERATIONS))
        raise OperationError(f"Unknown operation “{name}” (the list: {known}).")
    if not NAME.match(result_variable or ""):
        raise OperationError(
            "Give the operation a resultVariable of a-z, 0-9 and _ for its answer."
        )


def run(name: str, context: Context, params: dict[str, Any]) -> dict[str, Any]:
    check(name, "result")
    return OPERATIONS[name].run(context, params)
