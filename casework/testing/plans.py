"""Service plans for tests: a complete draft, and one signed with the client on screen."""

from __future__ import annotations

import datetime

from casework.clients.models import Client
from casework.core.models import User
from casework.plans import services
from casework.plans.models import PlanSignature, ServicePlan


def complete_draft(
    *, client: Client, by: User, goals: int = 1, starts_on: datetime.date | None = None
) -> ServicePlan:
    """A draft with strengths, participation, a need and `goals` goals, each fully worked out."""
    start = starts_on or client.agency.today()
    plan = services.plan_start(client=client, by=by, starts_on=start)
    plan = services.plan_update(
        plan=plan,
        by=by,
        expected_revision=plan.revision,
        starts_on=start,
        strengths="Keeps a daily routine; close to her sister.",
        participation="Chose the goals herself: “I want my own place.”",
    )
    need = services.need_save(plan=plan, by=by, area="housing", text="A place of my own")
    for number in range(1, goals + 1):
        goal = services.goal_save(
            plan=plan, by=by, text=f"Live in my own apartment ({number})", need_id=need.pk
        )
        objective = services.objective_save(
            plan=plan,
            by=by,
            goal_id=goal.pk,
            text="Apply to two housing programs",
            measure="Two applications submitted",
            target_on=start + datetime.timedelta(days=60),
        )
        services.intervention_save(
            plan=plan,
            by=by,
            objective_id=objective.pk,
            action="Help fill in the applications",
            responsible="Case manager",
            frequency="Weekly",
        )
    plan.refresh_from_db()
    return plan


def sign(plan: ServicePlan, by: User) -> ServicePlan:
    return services.plan_sign(
        plan=plan,
        by=by,
        expected_revision=plan.revision,
        client_signature=services.Signature(
            role=PlanSignature.Role.CLIENT,
            method=PlanSignature.Method.ON_SCREEN,
            name=plan.client.legal_name,
            signed_on=plan.agency.today(),
        ),
    )


def signed_plan(*, client: Client, by: User, goals: int = 1) -> ServicePlan:
    return sign(complete_draft(client=client, by=by, goals=goals), by)
