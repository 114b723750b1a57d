"""Instruments as data: load, check and score the files in data/instruments/.

An instrument file (JSON, checked against data/instrument.schema.json and then for sense:
options that exist, bands that cover every possible total without gaps) describes its items,
answer options with scores, reverse-scored items, subscales, a total, bands and flags. Scores
are always computed here, never typed; a partial set of answers gives no total.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

DATA_DIR = Path(__file__).resolve().parent / "data"
SCHEMA_FILE = DATA_DIR / "instrument.schema.json"
OPERATORS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "<=": operator.le,
    "<": operator.lt,
}


class InstrumentError(ValueError):
    """An instrument file that cannot be used, with what is wrong and where."""


@dataclass(frozen=True)
class Band:
    min: int
    max: int
    label: str
    severity: str = "none"


@dataclass(frozen=True)
class Flag:
    kind: str
    message: str
    urgent: bool
    item: str | None  # the item that raised it, if an item did


@dataclass(frozen=True)
class Result:
    """What a set of answers scores: computed, never typed."""

    complete: bool
    missing: tuple[str, ...]
    total: int | None
    band: Band | None
    subscales: dict[str, int] = field(default_factory=dict)
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    version: str
    raw: Mapping[str, Any]

    @property
    def items(self) -> list[Mapping[str, Any]]:
        return list(self.raw["items"])

    def options(self, item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return list(self.raw["option_sets"][item["options"]]) if item["type"] == "choice" else []

    def items_for(self, sex: str) -> list[Mapping[str, Any]]:
        """The items a client of this sex is asked (some instruments ask by sex)."""
        return [i for i in self.items if "sex" not in i or i["sex"] == sex]

    def bands_for(self, sex: str) -> list[Band]:
        raw = self.raw.get("bands_by_sex", {}).get(sex) or self.raw.get("bands") or []
        return [Band(**b) for b in raw]

    def item_score(self, item: Mapping[str, Any], value: int) -> int:
        """The score of an answer; a reversed item counts from the other end of its options."""
        values = [o["value"] for o in self.options(item)]
        return (min(values) + max(values) - value) if item.get("reverse") else value

    def score(self, answers: Mapping[str, Any], *, sex: str = "U") -> Result:
        scored = [i for i in self.items_for(sex) if i["type"] == "choice" and i.get("scored", True)]
        missing = tuple(
            i["key"]
            for i in self.items_for(sex)
            if i.get("required", True) and answers.get(i["key"]) in (None, "")
        )
        points = {
            i["key"]: self.item_score(i, value)
            for i in scored
            if (value := _answer(answers, i["key"])) is not None
        }
        complete = not missing
        total = (
            sum(points.values()) if complete and self.raw.get("total", True) and scored else None
        )
        band = next(
            (b for b in self.bands_for(sex) if total is not None and b.min <= total <= b.max), None
        )
        subscales = {
            s["key"]: sum(points[k] for k in s["items"] if k in points)
            for s in self.raw.get("subscales", [])
            if all(k in points for k in s["items"])
        }
        return Result(complete, missing, total, band, subscales, self._flags(answers, total))

    def _flags(self, answers: Mapping[str, Any], total: int | None) -> tuple[Flag, ...]:
        """Flags raised by an answer (named item, or any item) or by the total."""
        raised = []
        for rule in self.raw.get("flags", []):
            when = rule["when"]
            test = OPERATORS[when["op"]]
            if "item" in when:
                keys = [when["item"]]
            elif when.get("any_item"):
                keys = [i["key"] for i in self.items if i["type"] == "choice"]
            else:
                keys = []
            hits: list[str | None] = [
                key
                for key in keys
                if (value := _answer(answers, key)) is not None and test(value, when["value"])
            ]
            if not keys and total is not None and test(total, when["value"]):
                hits = [None]
            raised += [
                Flag(rule["kind"], rule["message"], rule.get("urgent", False), h) for h in hits
            ]
        return tuple(raised)


def _answer(answers: Mapping[str, Any], key: str) -> int | None:
    value = answers.get(key)
    if value is None or value == "":
        return None
    return int(value)


def _check_sense(raw: Mapping[str, Any], where: str) -> None:
    """What the schema cannot say: options exist, keys are unique, bands tile every total."""
    keys = [i["key"] for i in raw["items"]]
    if len(keys) != len(set(keys)):
        raise InstrumentError(f"{where}: item keys repeat")
    for item in raw["items"]:
        if item["type"] == "choice" and item.get("options") not in raw["option_sets"]:
            raise InstrumentError(f"{where}: item {item['key']} names no known option set")
    for scale in raw.get("subscales", []):
        unknown = set(scale["items"]) - set(keys)
        if unknown:
            raise InstrumentError(
                f"{where}: subscale {scale['key']} names unknown items {sorted(unknown)}"
            )
    for rule in raw.get("flags", []):
        if "item" in rule["when"] and rule["when"]["item"] not in keys:
            raise InstrumentError(
                f"{where}: flag {rule['kind']} names unknown item {rule['when']['item']}"
            )
    instrument = Instrument(raw["key"], raw["name"], raw["version"], raw)
    for sex in ("F", "M", "U"):
        _check_bands(instrument, sex, where)


def _check_bands(instrument: Instrument, sex: str, where: str) -> None:
    bands = sorted(instrument.bands_for(sex), key=lambda b: b.min)
    if not bands:
        return
    scored = [
        i for i in instrument.items_for(sex) if i["type"] == "choice" and i.get("scored", True)
    ]
    low = sum(min(o["value"] for o in instrument.options(i)) for i in scored)
    high = sum(max(o["value"] for o in instrument.options(i)) for i in scored)
    if bands[0].min != low or bands[-1].max != high:
        raise InstrumentError(f"{where}: bands for {sex} must run from {low} to {high}")
    for before, after in itertools.pairwise(bands):
        if after.min != before.max + 1:
            raise InstrumentError(f"{where}: bands for {sex} leave a gap or overlap at {after.min}")


def instrument_from(raw: Any, *, where: str = "instrument") -> Instrument:
    """Check a parsed file and make the instrument; InstrumentError says what is wrong and where."""
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(raw), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        path = "/".join(str(p) for p in first.path) or "(top)"
        raise InstrumentError(f"{where}: at {path}: {first.message}")
    _check_sense(raw, where)
    return Instrument(raw["key"], raw["name"], raw["version"], raw)


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


@cache
def instruments() -> dict[str, Instrument]:
    """Every shipped instrument, by key."""
    loaded = {}
    for path in sorted((DATA_DIR / "instruments").glob("*.json")):
        instrument = instrument_from(json.loads(path.read_text(encoding="utf-8")), where=path.name)
        loaded[instrument.key] = instrument
    return loaded
