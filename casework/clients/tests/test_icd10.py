"""The shipped ICD-10-CM code set: complete codes, categories, and the behavioral-health codes we rely on."""

from __future__ import annotations

import pytest

from casework.clients import icd10


@pytest.mark.parametrize(
    ("code", "billable", "description"),
    [
        ("F20.0", True, "Paranoid schizophrenia"),
        ("F25.0", True, "Schizoaffective disorder, bipolar type"),
        ("F31.81", True, "Bipolar II disorder"),
        ("F33.1", True, "Major depressive disorder, recurrent, moderate"),
        ("F11.20", True, "Opioid dependence, uncomplicated"),
        ("Z59.01", True, "Sheltered homelessness"),
        ("F20", False, "Schizophrenia"),
        ("F31.3", False, None),
    ],
)
def test_known_codes(code: str, billable: bool, description: str | None) -> None:
    entry = icd10.lookup(code)
    assert entry is not None and entry.billable is billable
    if description:
        assert entry.description == description


def test_unknown_codes_are_absent() -> None:
    assert icd10.lookup("F99.9") is None and icd10.lookup("F20.0.1") is None


def test_categories_suggest_complete_codes() -> None:
    assert icd10.billable_children("F31.3") == ["F31.30", "F31.31", "F31.32"]
