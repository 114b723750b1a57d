"""Instruments as data: every shipped file loads, and scores land in the right band on every edge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from casework.assessments.instruments import (
    Instrument,
    InstrumentError,
    instrument_from,
    instruments,
)

SHIPPED = sorted(instruments())


def answers_scoring(instrument: Instrument, total: int, sex: str) -> dict[str, int]:
    """Answers whose score is exactly `total`, filling items one after another."""
    answers: dict[str, int] = {}
    left = total
    for item in instrument.items_for(sex):
        if item["type"] != "choice":
            continue
        options = sorted(
            instrument.options(item), key=lambda o: instrument.item_score(item, o["value"])
        )
        lowest = instrument.item_score(item, options[0]["value"])
        left -= lowest
        choice = options[0]
        for option in options:
            if instrument.item_score(item, option["value"]) - lowest <= left:
                choice = option
        left -= instrument.item_score(item, choice["value"]) - lowest
        answers[item["key"]] = choice["value"]
    assert left == 0, f"cannot reach {total}"
    return answers


def band_edges() -> list[tuple[str, str, int, str]]:
    cases = []
    for key in SHIPPED:
        instrument = instruments()[key]
        for sex in ("F", "M", "U"):
            for band in instrument.bands_for(sex):
                for total in sorted({band.min, band.max}):
                    cases.append((key, sex, total, band.label))
    return cases


def test_every_shipped_instrument_loads() -> None:
    assert {"phq9", "gad7", "auditc", "dast10", "ssm", "psychosocial"} <= set(SHIPPED)


@pytest.mark.parametrize(("key", "sex", "total", "label"), band_edges())
def test_every_band_edge_of_every_instrument(key: str, sex: str, total: int, label: str) -> None:
    instrument = instruments()[key]
    result = instrument.score(answers_scoring(instrument, total, sex), sex=sex)
    assert result.complete and result.total == total
    assert result.band is not None and result.band.label == label


def test_phq9_item_9_above_zero_raises_an_urgent_suicide_risk_flag() -> None:
    phq9 = instruments()["phq9"]
    calm = phq9.score(answers_scoring(phq9, 3, "U"))
    assert calm.flags == ()
    answers = dict.fromkeys((f"q{n}" for n in range(1, 10)), 0) | {"q9": 1}
    result = phq9.score(answers)
    assert result.total == 1 and result.band is not None and result.band.label == "Minimal"
    assert [(f.kind, f.urgent, f.item) for f in result.flags] == [("suicide_risk", True, "q9")]


def test_phq9_item_9_flags_even_before_the_rest_is_answered() -> None:
    result = instruments()["phq9"].score({"q9": 2})
    assert not result.complete and result.total is None
    assert [f.kind for f in result.flags] == ["suicide_risk"]


def test_dast10_item_3_is_scored_reversed() -> None:
    dast = instruments()["dast10"]
    no_to_everything = {f"q{n}": 0 for n in range(1, 11)}
    assert dast.score(no_to_everything).total == 1  # "No, I cannot always stop" counts
    assert dast.score(no_to_everything | {"q3": 1}).total == 0


@pytest.mark.parametrize(
    ("sex", "label"),
    [("M", "Negative"), ("F", "Positive: hazardous drinking likely")],
)
def test_audit_c_cut_off_depends_on_sex(sex: str, label: str) -> None:
    result = instruments()["auditc"].score({"q1": 1, "q2": 1, "q3": 1}, sex=sex)
    assert result.total == 3 and result.band is not None and result.band.label == label


def test_partial_answers_give_no_total_and_name_what_is_missing() -> None:
    result = instruments()["gad7"].score({"q1": 3, "q2": 2})
    assert not result.complete and result.total is None and result.band is None
    assert result.missing == ("q3", "q4", "q5", "q6", "q7")


def test_the_matrix_has_no_total_and_flags_each_domain_in_crisis() -> None:
    ssm = instruments()["ssm"]
    answers = {item["key"]: 3 for item in ssm.items} | {"housing": 1, "food": 1}
    result = ssm.score(answers)
    assert result.complete and result.total is None
    assert sorted(f.item or "" for f in result.flags) == ["food", "housing"]


def _phq9_raw() -> dict[str, Any]:
    return copy.deepcopy(dict(instruments()["phq9"].raw))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw.pop("items"), "'items' is a required property"),
        (lambda raw: raw["items"][0].update(type="slider"), "at items/0/type"),
        (lambda raw: raw["items"][0].update(options="nope"), "q1 names no known option set"),
        (lambda raw: raw["bands"][1].update(min=6), "gap or overlap at 6"),
        (lambda raw: raw["bands"][-1].update(max=30), "must run from 0 to 27"),
        (lambda raw: raw["items"].append(dict(raw["items"][0])), "item keys repeat"),
        (lambda raw: raw["flags"][0]["when"].update(item="q99"), "unknown item q99"),
    ],
)
def test_a_broken_file_is_refused_with_what_and_where(change: Any, message: str) -> None:
    raw = _phq9_raw()
    change(raw)
    with pytest.raises(InstrumentError, match=message) as raised:
        instrument_from(raw, where="agency-phq9.json")
    assert str(raised.value).startswith("agency-phq9.json")


def test_an_agency_can_add_its_own_instrument_as_data() -> None:
    raw = {
        "key": "wellbeing3",
        "name": "Three-question check-in",
        "version": "2026-1",
        "source": "Written by the agency",
        "licence": "Agency's own",
        "option_sets": {"scale": [{"value": 0, "label": "No"}, {"value": 2, "label": "Yes"}]},
        "items": [
            {"key": "slept", "type": "choice", "options": "scale", "text": "Did you sleep well?"},
            {"key": "ate", "type": "choice", "options": "scale", "text": "Did you eat today?"},
            {"key": "notes", "type": "text", "required": False, "text": "Anything else?"},
        ],
        "bands": [
            {"min": 0, "max": 1, "label": "Check in again soon"},
            {"min": 2, "max": 4, "label": "Doing alright"},
        ],
    }
    result = instrument_from(raw).score({"slept": 2, "ate": 0})
    assert (result.total, result.band and result.band.label) == (2, "Doing alright")


def test_the_psychosocial_assessment_needs_its_core_sections_and_flags_risk_at_once() -> None:
    psychosocial = instruments()["psychosocial"]
    partial = psychosocial.score({"suicide_risk": 1, "presenting_issues": "Lost my housing."})
    assert not partial.complete and "strengths" in partial.missing and partial.total is None
    assert [(f.kind, f.urgent) for f in partial.flags] == [("suicide_risk", True)]
    sections = {item.get("section") for item in psychosocial.items}
    assert {
        "Presenting issues",
        "Housing",
        "Income and benefits",
        "Food",
        "Health and medications",
        "Mental health",
        "Substance use",
        "Legal",
        "Transportation",
        "Social supports",
        "Strengths",
        "Risk of harm",
    } <= sections
