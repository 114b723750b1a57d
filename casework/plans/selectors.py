"""Reads of service plans, always starting from the clients the user may see."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404

from casework.clients.models import CareTeamMember, Client, Episode
from casework.core import access
from casework.core.models import User
from casework.plans.models import (
    ObjectiveProgress,
    PlanGoal,
    PlanObjective,
    ServicePlan,
)


def plans_visible(user: User, client_id: int | None = None) -> QuerySet[ServicePlan]:
    """Plans (drafts included: they are written together) of clients the user may see, or of
    the one client given."""
    if client_id is not None:
        return access.of_visible_client(user, ServicePlan.objects.all(), client_id)
    return ServicePlan.objects.filter(
        agency_id=access.agency_id_of(user), client__in=access.visible_clients(user)
    )


def plans_with_content(plans: QuerySet[ServicePlan]) -> QuerySet[ServicePlan]:
    return plans.select_related("client", "agency", "author", "signed_by").prefetch_related(
        "needs",
        Prefetch(
            "goals",
            queryset=PlanGoal.objects.select_related("need").prefetch_related(
                Prefetch(
                    "objectives",
                    queryset=PlanObjective.objects.prefetch_related("interventions"),
                )
            ),
        ),
        "signatures",
    )


def plan_or_404(user: User, plan_id: int | str) -> ServicePlan:
    try:
        return plans_with_content(plans_visible(user)).get(pk=int(plan_id))
    except (ValueError, TypeError, ServicePlan.DoesNotExist):
        raise Http404("No such service plan.") from None


def latest_progress(*, client_ids: set[int]) -> dict[UUID, ObjectiveProgress]:
    """The latest counted progress of every objective of these clients (one query)."""
    latest: dict[UUID, ObjectiveProgress] = {}
    rows = counted_progress().filter(client_id__in=client_ids).order_by("-recorded_at", "-id")
    for row in rows:
        latest.setdefault(row.objective_key, row)
    return latest


def counted_progress() -> QuerySet[ObjectiveProgress]:
    """Progress that counts: what a voided note said is set aside with the note."""
    return ObjectiveProgress.objects.exclude(note__status="void")


def objective_history(*, client_id: int, keys: list[UUID]) -> dict[UUID, list[ObjectiveProgress]]:
    history: dict[UUID, list[ObjectiveProgress]] = {}
    rows = (
        counted_progress()
        .filter(client_id=client_id, objective_key__in=keys)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-id")
    )
    for row in rows:
        history.setdefault(row.objective_key, []).append(row)
    return history


def attach_progress(plan: ServicePlan) -> None:
    """Give each objective of the plan its progress, newest first, and its status now."""
    history = objective_history(client_id=plan.client_id, keys=plan_keys(plan))
    for goal in plan.goals.all():
        for objective in goal.objectives.all():
            progress = history.get(objective.key, [])
            objective.progress = progress  # type: ignore[attr-defined]
            objective.status_now = (  # type: ignore[attr-defined]
                progress[0].get_status_display() if progress else "Not started"
            )


def plan_keys(plan: ServicePlan) -> list[UUID]:
    return [o.key for goal in plan.goals.all() for o in goal.objectives.all()]


@dataclass
class PlanCard:
    """What the chart shows about plans: the current one, a draft, and when the next is due."""

    current: ServicePlan | None
    draft: ServicePlan | None
    due_on: datetime.date | None
    due_what: str

    def overdue(self, today: datetime.date) -> bool:
        return self.due_on is not None and self.due_on < today


def _not_superseded(plans: QuerySet[ServicePlan]) -> QuerySet[ServicePlan]:
    """Drafts and the latest signed version of each client: no signed version after them."""
    later = ServicePlan.objects.filter(
        client_id=OuterRef("client_id"),
        status=ServicePlan.Status.SIGNED,
        number__gt=OuterRef("number"),
    )
    return plans.exclude(Exists(later))


def client_plan_card(*, user: User, client: Client) -> PlanCard:
    """The chart's plan section, in a fixed number of queries whatever the plan's size."""
    plans = list(plans_with_content(_not_superseded(plans_visible(user, client.pk))))
    draft = next((p for p in plans if not p.is_signed), None)
    current = next((p for p in plans if p.is_signed), None)
    if current is not None:
        attach_progress(current)
    due_on, due_what = plan_due(client=client, current=current)
    return PlanCard(current, draft, due_on, due_what)


def plan_due(*, client: Client, current: ServicePlan | None) -> tuple[datetime.date | None, str]:
    """When the next plan is due: the review date, or the first plan's deadline from admission."""
    if current is not None:
        return current.review_due_on, "review"
    episode = (
        Episode.objects.filter(client=client, discharged_on__isnull=True)
        .order_by("admitted_on")
        .first()
    )
    if episode is None:
        return None, "first plan"
    days = client.agency.plan_first_due_days
    return episode.admitted_on + datetime.timedelta(days=days), "first plan"


@dataclass(frozen=True)
class GoalRow:
    """One objective of a current plan, for the caseload CSV."""

    client: Client
    plan: ServicePlan
    goal: PlanGoal
    objective: PlanObjective
    status: str


def caseload_goal_rows(*, user: User, mine_only: bool) -> list[GoalRow]:
    """Every objective of the current signed plan of each client in the caseload."""
    clients = access.visible_clients(user)
    if mine_only and user.agency is not None:
        today = user.agency.today()
        mine = CareTeamMember.objects.filter(
            CareTeamMember.active_on(today), staff=user, role=CareTeamMember.Role.PRIMARY
        ).values("client_id")
        clients = clients.filter(id__in=mine)
    signed = plans_visible(user).filter(client__in=clients, status=ServicePlan.Status.SIGNED)
    current = {plan.client_id: plan for plan in plans_with_content(_not_superseded(signed))}
    keys = [key for plan in current.values() for key in plan_keys(plan)]
    statuses = {
        row.objective_key: row.get_status_display()
        for row in counted_progress()
        .filter(client_id__in=list(current), objective_key__in=keys)
        .order_by("recorded_at", "id")
    }
    rows = []
    for plan in sorted(current.values(), key=lambda p: p.client.display_name):
        for goal in plan.goals.all():
            for objective in goal.objectives.all():
                status = statuses.get(objective.key, PlanObjective.Status.NOT_STARTED.label)
                rows.append(GoalRow(plan.client, plan, goal, objective, status))
    return rows


@dataclass(frozen=True)
class ObjectiveChoice:
    """An objective a note can say it addressed, with where it stands now."""

    key: UUID
    text: str
    goal: str
    status: str


def objectives_for_note(*, user: User, client_id: int) -> list[ObjectiveChoice]:
    """The objectives of the client's current signed plan, for the note form (two queries)."""
    current = (
        _not_superseded(plans_visible(user, client_id))
        .filter(status=ServicePlan.Status.SIGNED)
        .first()
    )
    if current is None:
        return []
    objectives = list(
        PlanObjective.objects.filter(plan=current)
        .select_related("goal")
        .order_by("goal__position", "goal_id", "position", "id")
    )
    history = objective_history(client_id=client_id, keys=[o.key for o in objectives])
    return [
        ObjectiveChoice(
            key=o.key,
            text=o.text,
            goal=o.goal.text,
            status=history[o.key][0].status if o.key in history else "not_started",
        )
        for o in objectives
    ]


@dataclass(frozen=True)
class PlanDue:
    """A client of mine whose first plan or plan review is due soon or overdue."""

    client: Client
    due_on: datetime.date
    what: str
    draft_id: int | None


def plans_due_for(*, user: User, within_days: int = 14) -> list[PlanDue]:
    """My clients' plans due within `within_days` or overdue, soonest first (four queries)."""
    if user.agency is None:
        return []
    today = user.agency.today()
    horizon = today + datetime.timedelta(days=within_days)
    mine = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today), staff=user, role=CareTeamMember.Role.PRIMARY
    ).values("client_id")
    clients = {
        c.pk: c
        for c in access.visible_clients(user)
        .filter(id__in=mine)
        .exclude(status=Client.Status.MERGED)
        .select_related("agency")
    }
    # Plans of clients already found visible: no second trip through access.
    plans = _not_superseded(
        ServicePlan.objects.filter(agency_id=user.agency.pk, client_id__in=list(clients))
    )
    review_due: dict[int, datetime.date] = {}
    drafts: dict[int, int] = {}
    for plan_id, client_id, status, due_on in plans.values_list(
        "id", "client_id", "status", "review_due_on"
    ):
        if status == ServicePlan.Status.DRAFT:
            drafts[client_id] = plan_id
        elif due_on is not None:
            review_due[client_id] = due_on
    admitted: dict[int, datetime.date] = {}
    for client_id, admitted_on in (
        Episode.objects.filter(client_id__in=list(clients), discharged_on__isnull=True)
        .exclude(client_id__in=list(review_due))
        .order_by("admitted_on")
        .values_list("client_id", "admitted_on")
    ):
        admitted.setdefault(client_id, admitted_on)
    first_days = datetime.timedelta(days=user.agency.plan_first_due_days)
    due = [
        PlanDue(clients[cid], day, "review", drafts.get(cid)) for cid, day in review_due.items()
    ] + [
        PlanDue(clients[cid], day + first_days, "first plan", drafts.get(cid))
        for cid, day in admitted.items()
    ]
    return sorted((d for d in due if d.due_on <= horizon), key=lambda d: d.due_on)


def objectives_addressed(*, client_id: int, goals_addressed: list[Any]) -> list[tuple[str, str]]:
    """A note's `goals_addressed` as (objective text, status label), for reading the note."""
    chosen = {
        str(entry.get("objective")): entry.get("status", "")
        for entry in goals_addressed or []
        if isinstance(entry, dict)
    }
    if not chosen:
        return []
    texts: dict[str, str] = {}
    for key, text in PlanObjective.objects.filter(plan__client_id=client_id).values_list(
        "key", "text"
    ):
        texts.setdefault(str(key), text)
    labels = dict(PlanObjective.Status.choices)
    return [
        (texts[key], labels.get(status, status)) for key, status in chosen.items() if key in texts
    ]
