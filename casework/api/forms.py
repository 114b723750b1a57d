"""The form for making a personal API token."""

from __future__ import annotations

from django import forms

from casework.api.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What will use it, e.g. “caseload export script”.",
    )
    days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
        help_text=f"{DEFAULT_TOKEN_DAYS} days unless you need longer; at most {MAX_TOKEN_DAYS}.",
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the token a name.")
        return name
