"""Minutes to units under each payer rule, on the boundary minutes DOMAIN.md lists."""

from __future__ import annotations

import pytest

from casework.billing.models import ServiceCode, UnitRule
from casework.billing.units import units_for_minutes

BOUNDARIES = [0, 1, 7, 8, 15, 22, 23, 37, 38, 52, 53, 67, 68]
EXPECTED = {
    UnitRule.CMS_8_MINUTE: [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5],
    UnitRule.HALF_UNIT: [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5],
    UnitRule.FULL_UNITS: [0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4],
    UnitRule.FIRST_UNIT_ANY: [0, 1, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5],
    UnitRule.ENCOUNTER: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
}


@pytest.mark.parametrize("rule", list(EXPECTED))
def test_fifteen_minute_units_on_every_boundary(rule: str) -> None:
    got = [
        units_for_minutes(minutes=m, unit_type=ServiceCode.UnitType.PER_15_MINUTES, rule=rule)
        for m in BOUNDARIES
    ]
    assert got == EXPECTED[rule], dict(zip(BOUNDARIES, got, strict=True))


@pytest.mark.parametrize(("minutes", "units"), [(29, 0), (30, 1), (89, 1), (90, 2), (120, 2)])
def test_hourly_units_count_from_half_an_hour(minutes: int, units: int) -> None:
    assert (
        units_for_minutes(
            minutes=minutes, unit_type=ServiceCode.UnitType.PER_HOUR, rule=UnitRule.CMS_8_MINUTE
        )
        == units
    )


@pytest.mark.parametrize(("minutes", "units"), [(0, 0), (7, 0), (8, 1), (600, 1)])
def test_encounter_codes_bill_one_unit_above_their_minimum(minutes: int, units: int) -> None:
    assert (
        units_for_minutes(
            minutes=minutes,
            unit_type=ServiceCode.UnitType.PER_ENCOUNTER,
            rule=UnitRule.CMS_8_MINUTE,
            minimum_minutes=8,
        )
        == units
    )


def test_a_day_code_bills_one_unit_whatever_the_rule() -> None:
    assert (
        units_for_minutes(
            minutes=300, unit_type=ServiceCode.UnitType.PER_DAY, rule=UnitRule.FULL_UNITS
        )
        == 1
    )
