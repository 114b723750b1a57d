"""Checks on the identifiers and codes a chart holds, each with a message a person can act on."""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError

from casework.clients import icd10

ICD10_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
PROVIDERONE_SHAPE = re.compile(r"^\d{9}WA$")
# CMS MBI format: C A AN N A AN N A A N N (no S, L, O, I, B, Z).
_MBI_ALPHA = "ACDEFGHJKMNPQRTUVWXY"
MBI_SHAPE = re.compile(
    rf"^[1-9][{_MBI_ALPHA}][{_MBI_ALPHA}0-9][0-9][{_MBI_ALPHA}][{_MBI_ALPHA}0-9][0-9][{_MBI_ALPHA}]{{2}}[0-9]{{2}}$"
)
OLDEST_AGE_YEARS = 120


def normalize_icd10(value: str) -> str:
    code = (value or "").strip().upper().replace(" ", "")
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    return code


def validate_icd10_code(value: str) -> None:
    code = normalize_icd10(value)
    if not ICD10_SHAPE.match(code):
        raise ValidationError(
            f"“{value}” is not shaped like an ICD-10-CM code: a letter, two characters, then optionally "
            "a dot and up to four more (for example F20.0 or F33.1).",
            code="icd10_shape",
        )
    entry = icd10.lookup(code)
    if entry is None:
        raise ValidationError(f"{code} is not in the ICD-10-CM code set.", code="icd10_unknown")
    if not entry.billable:
        children = ", ".join(icd10.billable_children(code))
        raise ValidationError(
            f"{code} is a category; claims need a complete code such as {children}.",
            code="icd10_category",
        )


def icd10_description(code: str) -> str:
    entry = icd10.lookup(normalize_icd10(code))
    return entry.description if entry else ""


def normalize_identifier(kind: str, value: str) -> str:
    return re.sub(r"[\s\-]", "", (value or "")).upper()


def validate_identifier(kind: str, value: str) -> None:
    if kind == "providerone" and not PROVIDERONE_SHAPE.match(value):
        raise ValidationError(
            "A ProviderOne client id is 9 digits followed by WA (for example 123456789WA).",
            code="providerone_shape",
        )
    if kind == "medicare_mbi" and not MBI_SHAPE.match(value):
        raise ValidationError(
            "A Medicare MBI has 11 characters, like 1EG4TE5MK73 (no letters S, L, O, I, B or Z).",
            code="mbi_shape",
        )


def validate_phone(value: str) -> None:
    digits = re.sub(r"\D", "", value or "")
    if not 7 <= len(digits) <= 15:
        raise ValidationError(
            "A phone number has 7 to 15 digits, e.g. (206) 555-0142.", code="phone_shape"
        )


def validate_birth_date(value: datetime.date, *, today: datetime.date) -> None:
    if value > today:
        raise ValidationError("The date of birth is in the future.", code="dob_future")
    if today.year - value.year > OLDEST_AGE_YEARS:
        raise ValidationError(
            f"The date of birth is more than {OLDEST_AGE_YEARS} years ago; please check the year.",
            code="dob_too_old",
        )
