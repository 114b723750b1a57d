"""How My day ranks its items, in a way a person can check.

Each item gets points (0 to 10) for four factors — how due it is, the risk to the client, the
money at stake, and how long since the client was last seen — and the agency's weights say how
much each factor counts. The score is the weighted sum; the page shows every factor with its
points, so nobody has to trust a black box.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from casework.core.models import Agency

FACTORS = ("due", "risk", "billing", "contact")
DEFAULT_WEIGHTS = {"due": 3, "risk": 3, "billing": 2, "contact": 2}
MAX_WEIGHT = 10
MAX_POINTS = 10.0


def weights_of(agency: Agency) -> dict[str, int]:
    """The agency's weights, each 0 to 10, with the defaults for any it has not set."""
    chosen: dict[str, Any] = agency.priority_weights or {}
    weights = dict(DEFAULT_WEIGHTS)
    for name in FACTORS:
        value = chosen.get(name)
        if isinstance(value, int) and 0 <= value <= MAX_WEIGHT:
            weights[name] = value
    return weights


@dataclass(frozen=True)
class Factor:
    name: str  # one of FACTORS
    points: float
    why: str

    def weighted(self, weights: dict[str, int]) -> float:
        return self.points * weights[self.name]


def due_factor(due_on: datetime.date | None, today: datetime.date) -> Factor | None:
    """6 points on the day, one more for every two days late (to 10), fewer as it is further off."""
    if due_on is None:
        return None
    days = (due_on - today).days
    if days < 0:
        late = -days
        return Factor("due", min(MAX_POINTS, 6 + late / 2), f"{late} day{'s' * (late != 1)} late")
    if days == 0:
        return Factor("due", 6, "due today")
    points = max(0.0, 6 - days / 2)
    return Factor("due", points, f"due in {days} day{'s' * (days != 1)}") if points else None


def risk_factor(*, urgent: bool, acuity: int | None) -> Factor | None:
    if urgent:
        return Factor("risk", MAX_POINTS, "urgent safety concern")
    if acuity == 3:
        return Factor("risk", 5, "high-acuity client")
    if acuity == 2:
        return Factor("risk", 2, "moderate-acuity client")
    return None


def billing_factor(points: float, why: str) -> Factor:
    return Factor("billing", min(MAX_POINTS, points), why)


def contact_factor(days_since: int | None, standard: int) -> Factor | None:
    """Points once the client has gone longer than their contact standard without being seen."""
    if days_since is None:
        return Factor("contact", 8, "never seen")
    over = days_since - standard
    if over <= 0:
        return None
    return Factor(
        "contact",
        min(MAX_POINTS, 4 + over / 2),
        f"not seen for {days_since} days (standard {standard})",
    )


@dataclass
class WorkItem:
    """One line of My day: what to do, why, and how it was ranked."""

    key: str  # stable, for snoozing a derived item: "<kind>:<id>"
    kind: str
    title: str
    reason: str
    url: str
    client: Any = None
    due_on: datetime.date | None = None
    urgent: bool = False
    task: Any = None
    factors: list[Factor] = field(default_factory=list)
    score: int = 0

    def rank(self, weights: dict[str, int]) -> None:
        self.score = round(sum(f.weighted(weights) for f in self.factors))
