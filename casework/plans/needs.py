"""Needs and strengths suggested for a first plan by the client's latest signed assessment.

Which answers mean a need is data (data/needs_from_assessment.json), so an agency that adds an
instrument can add its rules without code. The need is the client's own words when the
assessment holds them, and the plain words of the rule otherwise.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from casework.assessments.models import Assessment

RULES_FILE = Path(__file__).parent / "data" / "needs_from_assessment.json"


@dataclass(frozen=True)
class SuggestedNeed:
    area: str
    text: str
    assessment: Assessment


@functools.cache
def _rules() -> dict[str, Any]:
    rules: dict[str, Any] = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return rules


def instruments_with_needs() -> set[str]:
    return {rule["instrument"] for rule in _rules()["rules"]}


def needs_from(assessment: Assessment) -> list[SuggestedNeed]:
    """The needs a signed assessment points to, in the order of the rules file."""
    answers = assessment.answers
    needs = []
    for rule in _rules()["rules"]:
        if rule["instrument"] != assessment.instrument:
            continue
        words = str(answers.get(rule.get("words", ""), "")).strip()
        if "item" in rule:
            if answers.get(rule["item"]) not in rule["values"]:
                continue
            text = words or rule["need"]
        elif words:
            text = words
        else:
            continue
        needs.append(SuggestedNeed(area=rule["area"], text=text[:2000], assessment=assessment))
    return needs


def strengths_from(assessment: Assessment) -> str:
    rule = _rules()["strengths"]
    if rule["instrument"] != assessment.instrument:
        return ""
    return str(assessment.answers.get(rule["item"], "")).strip()
