"""The form for making a personal API token."""

from __future__ import annotations

from django import forms

from casework.api.services import DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS
from casework.coordination.models import Organization
from casework.core.models import User


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

    organization = forms.ModelChoiceField(
        label="For an outside organisation's system (optional)",
        queryset=Organization.objects.none(),
        required=False,
        help_text="Only for a system another organisation runs (e.g. a health plan's care "
        "coordination platform). It can only read, and only what the clients' releases let "
        "us share with that organisation; every read is logged as a disclosure.",
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["organization"]
        if user.has_role("agency_admin") and user.agency_id is not None:
            field.queryset = Organization.objects.filter(  # type: ignore[attr-defined]
                agency_id=user.agency_id, is_active=True
            )
        else:
            del self.fields["organization"]
