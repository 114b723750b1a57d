"""Demo assessments and service plans, made through the real services like the rest of the demo.

Each case manager's first clients show the range a person meets on a Monday: a plan reviewed
into version 2 with progress, a plan whose review is overdue, a draft to finish, and a client
whose first plan is still to write. PHQ-9s over nine months give the trend chart something to show.
"""

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path
from typing import Any

from casework.assessments.models import Assessment
from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.clients.models import CareTeamMember, Client
from casework.core.models import Agency, User
from casework.plans import services
from casework.plans.models import PlanSignature, ServicePlan

DEMO = json.loads((Path(__file__).parent / "data" / "demo_plans.json").read_text(encoding="utf-8"))
CLIENTS_PER_CASE_MANAGER = 4
PSYCHOSOCIAL = {
    "presenting_issues": "“I want to keep my apartment and feel less alone.”",
    "housing_status": 3,
    "housing_notes": "Supported housing since last year; rent has been late twice.",
    "income_enough": 1,
    "benefits": "SSI; Apple Health. SNAP not applied for.",
    "food_enough": 1,
    "health": "Diabetes, seen at the clinic twice a year.",
    "medication_taken": 1,
    "mental_health": "Schizoaffective disorder; psychiatrist every 6 weeks.",
    "substance_use_now": 0,
    "substance_use": "None reported.",
    "legal_now": 0,
    "legal": "None.",
    "transport": 1,
    "social_supports": "Sister in Tacoma; church on Sundays.",
    "strengths": "Keeps a daily walk; good at budgeting when things are calm.",
    "suicide_risk": 0,
    "homicide_risk": 0,
    "self_harm": 0,
    "risk_notes": "No current risk; crisis line number on the fridge.",
    "recommendations": "Intensive case management; service plan within 30 days.",
}


def seed_assessments_and_plans(*, agency: Agency, today: datetime.date, rng: random.Random) -> None:
    primaries = (
        CareTeamMember.objects.filter(agency=agency, role="primary", end_on__isnull=True)
        .select_related("client", "staff")
        .order_by("staff_id", "client_id")
    )
    per_staff: dict[int, int] = {}
    for member in primaries:
        index = per_staff.get(member.staff_id, 0)
        if index >= CLIENTS_PER_CASE_MANAGER:
            _routine_plan(member.client, member.staff, today, rng)
            continue
        per_staff[member.staff_id] = index + 1
        _phq9_series(member.client, member.staff, today, rng)
        _signed(
            member.client,
            member.staff,
            "psychosocial",
            today - datetime.timedelta(days=205),
            PSYCHOSOCIAL,
        )
        _plan_for(index, member.client, member.staff, today, rng)


def _signed(
    client: Client, by: User, instrument: str, day: datetime.date, answers: dict[str, Any]
) -> Assessment:
    assessment = assessment_start(
        client=client, author=by, instrument_key=instrument, administered_on=day, mode="in_person"
    )
    assessment, _ = assessment_save(
        assessment=assessment, by=by, answers=answers, expected_version=assessment.version
    )
    return assessment_sign(assessment=assessment, by=by)


def _phq9_series(client: Client, by: User, today: datetime.date, rng: random.Random) -> None:
    """Three PHQ-9s, 90 days apart, mostly improving: the chart's trend has a story."""
    level = rng.choice([2, 2, 1])
    for days_ago in (270, 180, 85 + rng.randint(0, 10)):
        answers = {f"q{n}": min(3, max(0, level + rng.choice([-1, 0, 0, 1]))) for n in range(1, 9)}
        _signed(client, by, "phq9", today - datetime.timedelta(days=days_ago), answers | {"q9": 0})
        level = max(0, level - rng.choice([0, 1]))


def _plan_for(
    index: int, client: Client, by: User, today: datetime.date, rng: random.Random
) -> None:
    if index == 3:
        return  # the first plan is still to write: the chart shows when it is due
    starts = today - datetime.timedelta(days=200 if index == 0 else 190)
    plan = _draft(client, by, starts, rng)
    if index == 2:
        return  # a draft to finish
    plan = _sign(plan, by)
    if index == 1:
        return  # signed 190 days ago: the review is overdue
    review = services.plan_review_start(
        plan=plan, by=by, starts_on=today - datetime.timedelta(days=20)
    )
    for objective in review.objectives.all():  # the review sets a new target for each step
        services.objective_save(
            plan=review,
            by=by,
            goal_id=objective.goal_id,
            objective_id=objective.pk,
            text=objective.text,
            measure=objective.measure,
            target_on=review.starts_on + datetime.timedelta(days=90),
        )
    review.refresh_from_db()
    review = services.plan_update(
        plan=review,
        by=by,
        expected_revision=review.revision,
        starts_on=review.starts_on,
        strengths=review.strengths,
        barriers=review.barriers,
        participation=rng.choice(DEMO["participation"]),
        review_summary="Rent paid on time 5 of 6 months; pill organiser used most weeks.",
    )
    review = _sign(review, by)
    for number, objective in enumerate(review.objectives.all()):
        services.objective_status_set(
            client=client,
            by=by,
            objective_key=objective.key,
            status="met" if number == 0 else "progressing",
            comment="Reviewed together.",
        )


def _routine_plan(client: Client, by: User, today: datetime.date, rng: random.Random) -> None:
    """A signed one-goal plan for a client admitted over a month ago; reviews spread over months."""
    month_ago = today - datetime.timedelta(days=30)
    if not client.episodes.filter(discharged_on__isnull=True, admitted_on__lt=month_ago).exists():
        return  # admitted lately: the first plan is still coming due
    starts = today - datetime.timedelta(days=rng.randint(10, 175))
    _sign(_draft(client, by, starts, rng, goals=1), by)


def _draft(
    client: Client, by: User, starts: datetime.date, rng: random.Random, goals: int = 2
) -> ServicePlan:
    plan = services.plan_start(client=client, by=by, starts_on=starts)
    plan = services.plan_update(
        plan=plan,
        by=by,
        expected_revision=plan.revision,
        starts_on=starts,
        strengths=plan.strengths or rng.choice(DEMO["strengths"]),
        barriers="Bus routes are long; money runs out late in the month.",
        participation=rng.choice(DEMO["participation"]),
    )
    for item in rng.sample(DEMO["items"], k=goals):
        need = services.need_save(plan=plan, by=by, area=item["area"], text=item["need"])
        goal = services.goal_save(plan=plan, by=by, text=item["goal"], need_id=need.pk)
        objective = services.objective_save(
            plan=plan,
            by=by,
            goal_id=goal.pk,
            text=item["objective"],
            measure=item["measure"],
            target_on=starts + datetime.timedelta(days=item["days"]),
        )
        services.intervention_save(
            plan=plan,
            by=by,
            objective_id=objective.pk,
            action=item["action"],
            responsible=item["who"],
            frequency=item["frequency"],
            service_code=item["code"],
        )
    plan.refresh_from_db()
    return plan


def _sign(plan: ServicePlan, by: User) -> ServicePlan:
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
