"""Small helpers shared by every app's forms."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet


def set_queryset(form: forms.BaseForm, field_name: str, queryset: QuerySet[Any]) -> None:
    """Limit a choice field to the rows the user may pick (always scoped by the caller)."""
    cast(forms.ModelChoiceField, form.fields[field_name]).queryset = queryset
