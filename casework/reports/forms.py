"""The reports' filters: a date range (the current month unless chosen) and, for productivity,
the weekly target. Bad input becomes a message on the form, never an error page."""

from __future__ import annotations

import calendar
import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict

MAX_DAYS = 732  # two years, leap day included: enough for any funder period
DEFAULT_TARGET_HOURS = Decimal(20)


def month_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the day's calendar month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """Service dates from `start` to `end`, both included."""

    start = forms.DateField(label="From", widget=_date_input())
    end = forms.DateField(label="To", widget=_date_input())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end date is before the start date.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", "Choose a period of at most two years.")
        return data


class ProductivityForm(PeriodForm):
    target = forms.DecimalField(
        label="Target billable hours a week",
        min_value=Decimal(0),
        max_value=Decimal(80),
        max_digits=4,
        decimal_places=1,
        help_text="Prorated over the period (days ÷ 7).",
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )


class UnsignedNotesForm(PeriodForm):
    """Open drafts of any age unless a service-date range is chosen."""

    start = forms.DateField(label="Service date from", required=False, widget=_date_input())
    end = forms.DateField(label="Service date to", required=False, widget=_date_input())


def bound(form_class: type[forms.Form], query: QueryDict, defaults: dict[str, Any]) -> forms.Form:
    """The form bound to the query string, with the defaults standing in for absent values,
    so the page shows what it reports on."""
    data: dict[str, Any] = {key: _as_text(value) for key, value in defaults.items()}
    for key in form_class.base_fields:
        value = query.get(key)
        if value is not None and (value.strip() or key not in defaults):
            data[key] = value.strip()[:40]
    return form_class(data)


def _as_text(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)
