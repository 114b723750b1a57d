"""Validators for identifiers that have a check digit or a fixed shape."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError


def npi_is_valid(value: str) -> bool:
    """NPI check digit: Luhn over the prefix 80840 + the first nine digits (CMS NPI standard)."""
    if not re.fullmatch(r"\d{10}", value):
        return False
    digits = [int(d) for d in "80840" + value]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_npi(value: str) -> None:
    if not re.fullmatch(r"\d{10}", value or ""):
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if not npi_is_valid(value):
        raise ValidationError(
            "This NPI's check digit is wrong; please check for a typo.", code="npi_check"
        )


def validate_ein(value: str) -> None:
    if not re.fullmatch(r"\d{2}-?\d{7}", value or ""):
        raise ValidationError(
            "A federal tax id (EIN) is 9 digits, written 12-3456789.", code="ein_format"
        )
