"""Forms for the agency-admin screens: staff, credentials, programs, teams, agency settings.

Choices that name rows (teams, programs) are always limited by the view to the admin's agency.
"""

from __future__ import annotations

import re
import uuid
import zoneinfo
from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.core.models import Agency, Credential, Program, Role, Team
from casework.core.services import AGENCY_SETTINGS_FIELDS
from casework.core.validators import validate_npi
from casework.notes.templates import template_choices
from casework.web.widgets import DateInput
from casework.worklist.priority import MAX_WEIGHT, weights_of


class StaffForm(forms.Form):
    """A staff member's details, roles and teams (used to invite and to edit)."""

    first_name = forms.CharField(max_length=100, label="First name")
    last_name = forms.CharField(max_length=100, label="Last name")
    email = forms.EmailField(
        max_length=254,
        label="Work email",
        help_text="They sign in with this address. Each person has one account.",
    )
    title = forms.CharField(max_length=120, required=False, label="Job title")
    phone = forms.CharField(max_length=32, required=False, label="Work phone")
    npi = forms.CharField(
        max_length=10,
        required=False,
        label="Individual NPI",
        validators=[validate_npi],
        help_text="Printed as the rendering provider on claims; needed to bill their notes.",
    )
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role."},
        help_text="Agency admins and billing staff always sign in with two-factor.",
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Member of teams",
    )
    supervised_teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Supervises teams",
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("teams", "supervised_teams"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = teams

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        if phone and not re.fullmatch(r"[0-9+().\-\s x]*", phone):
            raise forms.ValidationError("Use digits, spaces and + ( ) - only, e.g. 206-555-0142.")
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        both = set(cleaned.get("teams") or []) & set(cleaned.get("supervised_teams") or [])
        if both:
            names = ", ".join(sorted(team.name for team in both))
            self.add_error(
                "supervised_teams",
                f"Choose member or supervisor for each team, not both: {names}.",
            )
        return cleaned


class StaffInviteForm(StaffForm):
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4().hex


class CredentialForm(forms.ModelForm):
    class Meta:
        model = Credential
        fields = [
            "kind",
            "number",
            "issued_on",
            "expires_on",
            "background_check",
            "background_checked_on",
            "supervision_required",
            "notes",
        ]
        labels = {
            "kind": "Credential type",
            "issued_on": "Issued on",
            "expires_on": "Expires on",
            "background_check": "Background check",
            "background_checked_on": "Background check date",
            "supervision_required": "Needs clinical supervision",
        }
        widgets = {
            "issued_on": DateInput(),
            "expires_on": DateInput(),
            "background_checked_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("background_check") == Credential.BackgroundCheck.CLEARED
            and not cleaned.get("background_checked_on")
            and "background_checked_on" not in self.errors
        ):
            self.add_error(
                "background_checked_on", "Give the date the background check was cleared."
            )
        return cleaned


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["name", "code", "description", "is_part2"]
        labels = {"code": "Short code", "is_part2": "A 42 CFR Part 2 substance-use program"}
        help_texts = {
            "code": "Optional, e.g. ICM or SUD-OP.",
            "is_part2": "The clinical records of its clients are shared outside the agency "
            "only under a Part 2 consent.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3, "maxlength": 2000})}


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "program"]
        labels = {"program": "Belongs to program"}

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = programs
        field.required = False
        field.empty_label = "No program"


def _time_zone_choices(current: str) -> list[tuple[str, str]]:
    zones = {
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "posix/", "right/", "SystemV/"))
    }
    zones.add(current)
    us = sorted(zone for zone in zones if zone.startswith("America/") or zone.startswith("US/"))
    rest = sorted(zones - set(us))
    return [(zone, zone.replace("_", " ")) for zone in us + rest]


class AgencySettingsForm(forms.ModelForm):
    note_template = forms.ChoiceField(
        label="Template for new service notes", choices=template_choices
    )

    class Meta:
        model = Agency
        fields = [name for name in AGENCY_SETTINGS_FIELDS if name != "priority_weights"]
        labels = {
            "name": "Agency name",
            "npi": "Organisation NPI",
            "address_line1": "Address line 1",
            "address_line2": "Address line 2",
            "postal_code": "ZIP code",
            "idle_timeout_minutes": "Sign out after this many idle minutes",
            "require_two_factor_for_all": "Require two-factor sign-in for everyone",
            "billing_sees_narratives": "Billing staff may read note narratives",
            "credential_warning_days": "Warn about expiring credentials this many days ahead",
            "break_glass_minutes": "Emergency (break-the-glass) access lasts this many minutes",
            "late_note_days": "Ask for a late-entry reason when a note is signed more than this many days after the service",
            "plan_first_due_days": "First service plan due this many days after admission",
            "plan_review_every_days": "Review service plans every this many days",
            "contact_every_days": "See each client at least every this many days",
            "calendar_feeds_enabled": "Staff may subscribe their phone's calendar to their appointments",
        }
        help_texts = {
            "npi": "The 10-digit type 2 NPI used on claims.",
            "tax_id": "Written 12-3456789.",
            "idle_timeout_minutes": "Between 2 and 240.",
            "credential_warning_days": "Between 0 and 365.",
            "break_glass_minutes": "Between 5 and 1440 (24 hours).",
            "postal_code": "Claims need the 9-digit ZIP code, written 98101-1234.",
            "late_note_days": "Between 1 and 60.",
            "plan_first_due_days": "Between 1 and 365; commonly 30.",
            "plan_review_every_days": "Between 7 and 365; commonly 180.",
            "contact_every_days": "Between 1 and 365. A program's or client's own standard comes first.",
            "calendar_feeds_enabled": "The feed shows initials and the kind of place only.",
        }

    NUMBER_RANGES = {
        "idle_timeout_minutes": (2, 240),
        "credential_warning_days": (0, 365),
        "break_glass_minutes": (5, 24 * 60),
        "late_note_days": (1, 60),
        "plan_first_due_days": (1, 365),
        "plan_review_every_days": (7, 365),
        "contact_every_days": (1, 365),
    }
    WEIGHTS = {
        "due": "How due it is",
        "risk": "Risk to the client",
        "billing": "Billing at stake",
        "contact": "Time since the client was last seen",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.time_zone if self.instance else ""
        self.fields["time_zone"] = forms.ChoiceField(
            label="Time zone",
            choices=_time_zone_choices(current),
            help_text="Dates and times are shown in this zone.",
        )
        for name, (low, high) in self.NUMBER_RANGES.items():
            old = self.fields[name]
            self.fields[name] = forms.IntegerField(
                label=old.label,
                help_text=old.help_text,
                error_messages={"invalid": "Enter a whole number.", "required": "Enter a number."},
                widget=forms.NumberInput(attrs={"min": low, "max": high, "inputmode": "numeric"}),
            )
        weights = weights_of(self.instance)
        for factor, label in self.WEIGHTS.items():
            self.fields[f"weight_{factor}"] = forms.IntegerField(
                label=label,
                min_value=0,
                max_value=MAX_WEIGHT,
                initial=weights[factor],
                help_text=f"0 to {MAX_WEIGHT}; 0 ignores it.",
                error_messages={"invalid": "Enter a whole number."},
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[f"weight_{factor}"] for factor in self.WEIGHTS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["priority_weights"] = {
            factor: cleaned[f"weight_{factor}"]
            for factor in self.WEIGHTS
            if cleaned.get(f"weight_{factor}") is not None
        }
        return cleaned

    def _whole_number(self, name: str, what: str) -> int:
        low, high = self.NUMBER_RANGES[name]
        value = self.cleaned_data[name]
        if value is None or not low <= value <= high:
            raise forms.ValidationError(f"{what} must be between {low} and {high}.")
        return int(value)

    def clean_idle_timeout_minutes(self) -> int:
        return self._whole_number("idle_timeout_minutes", "The idle time-out")

    def clean_credential_warning_days(self) -> int:
        return self._whole_number("credential_warning_days", "The warning period")

    def clean_break_glass_minutes(self) -> int:
        return self._whole_number("break_glass_minutes", "Emergency access")

    def clean_plan_first_due_days(self) -> int:
        return self._whole_number("plan_first_due_days", "The first plan's deadline")

    def clean_plan_review_every_days(self) -> int:
        return self._whole_number("plan_review_every_days", "The review interval")

    def clean_contact_every_days(self) -> int:
        return self._whole_number("contact_every_days", "The contact standard")

    def clean_state(self) -> str:
        state: str = self.cleaned_data["state"].strip().upper()
        if state and not re.fullmatch(r"[A-Z]{2}", state):
            raise forms.ValidationError("Use the two-letter state code, e.g. WA.")
        return state

    def clean_postal_code(self) -> str:
        code: str = self.cleaned_data["postal_code"].strip()
        if code and not re.fullmatch(r"\d{5}(-\d{4})?", code):
            raise forms.ValidationError("A ZIP code is 5 digits, or ZIP+4 written 98101-1234.")
        return code

    def clean_npi(self) -> str:
        return str(self.cleaned_data["npi"]).strip()

    def clean_tax_id(self) -> str:
        return str(self.cleaned_data["tax_id"]).strip()
