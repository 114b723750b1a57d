"""Billable units from minutes, by the payer's rule (DOMAIN.md, "Units from minutes").

Timed codes bill per 15 minutes or per hour; encounter and day codes bill one unit when the
contact lasted at least the code's minimum. The rules differ only in how a part unit counts.
"""

from __future__ import annotations

from casework.billing.models import ServiceCode, UnitRule

UNIT_MINUTES: dict[str, int] = {
    ServiceCode.UnitType.PER_15_MINUTES: 15,
    ServiceCode.UnitType.PER_HOUR: 60,
}


def _half(unit: int) -> int:
    """Minutes that make half a unit: 8 of 15, 30 of 60."""
    return (unit + 1) // 2


def units_for_minutes(*, minutes: int, unit_type: str, rule: str, minimum_minutes: int = 1) -> int:
    """Units billed for one contact of `minutes`; 0 means it is too short to bill."""
    if minutes <= 0 or minutes < minimum_minutes:
        return 0
    unit = UNIT_MINUTES.get(unit_type)
    if unit is None or rule == UnitRule.ENCOUNTER:
        return 1
    whole, rest = divmod(minutes, unit)
    if rule == UnitRule.FULL_UNITS:
        return whole
    if rule == UnitRule.FIRST_UNIT_ANY and whole == 0:
        return 1
    # CMS 8-minute, half-unit and (after the first unit) first-unit-any: a part unit counts
    # from half its length. CMS adds minutes across a day's timed services; we bill per note.
    return whole + (1 if rest >= _half(unit) else 0)
