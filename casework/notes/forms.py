"""The note form: times typed in the agency's time zone become true instants; sections follow the template."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.db.models import QuerySet

from casework.billing.models import PLACE_OF_SERVICE_CHOICES, ServiceCode
from casework.clients.models import Client
from casework.core.models import Agency
from casework.notes.models import (
    NARRATIVE_LIMIT,
    ContactType,
    MedicationAdherence,
    NotableEvent,
    Note,
)
from casework.notes.templates import NoteTemplate, template_choices
from casework.plans.models import PlanObjective
from casework.plans.selectors import ObjectiveChoice
from casework.web.widgets import DateInput, TimeInput

TOO_LONG = (
    f"This section is longer than {NARRATIVE_LIMIT:,} characters. "
    "Shorten it, or put long material in a document."
)


# Optional in a draft (it saves whatever is there) but required to sign a billable note.
NEEDED_TO_SIGN = ("start_time", "end_time", "place_of_service")


class ServiceCodeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        billable = "" if obj.is_billable else " (not billable)"
        return f"{obj.label} {obj.description}{billable}"


def section_field(key: str) -> str:
    return f"section_{key}"


def objective_field(key: Any) -> str:
    return f"objective_{UUID(str(key)).hex}"


class NoteForm(forms.Form):
    """One note's fields; `note_data()` gives what `note_save_draft` takes."""

    service_date = forms.DateField(label="Date of service", widget=DateInput())
    start_time = forms.TimeField(label="Start", required=False, widget=TimeInput())
    end_time = forms.TimeField(
        label="End",
        required=False,
        widget=TimeInput(),
        help_text="An end before the start means the contact ran past midnight.",
    )
    contact_type = forms.ChoiceField(
        label="Contact", choices=ContactType.choices, widget=forms.RadioSelect
    )
    place_of_service = forms.ChoiceField(
        label="Place of service", choices=[("", "—"), *PLACE_OF_SERVICE_CHOICES], required=False
    )
    service_code = ServiceCodeChoice(
        label="Service", queryset=ServiceCode.objects.none(), required=False, empty_label="—"
    )
    present = forms.CharField(
        label="Who was present", max_length=500, required=False, help_text="e.g. client, mother"
    )
    interpreter_used = forms.BooleanField(label="Interpreter used", required=False)
    interpreter_language = forms.CharField(label="Language", max_length=60, required=False)
    mileage = forms.DecimalField(
        label="Miles driven",
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("2000"),
        decimal_places=1,
    )
    travel_minutes = forms.IntegerField(
        label="Travel minutes", required=False, min_value=0, max_value=24 * 60
    )
    medication_adherence = forms.ChoiceField(
        label="Medications",
        required=False,
        choices=[("", "Not discussed"), *MedicationAdherence.choices],
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of the medication answers offered."},
    )
    events = forms.MultipleChoiceField(
        label="Notable events",
        required=False,
        choices=NotableEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Since the last contact. Early warnings read these once the note is signed.",
        error_messages={"invalid_choice": "Choose notable events from the list offered."},
    )
    template = forms.ChoiceField(
        label="Note format",
        choices=template_choices,
        widget=forms.Select(attrs={"data-save-on-change": "1"}),
        help_text="Changing it saves the draft and shows the new sections; text already written is kept.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        codes: QuerySet[ServiceCode],
        template: NoteTemplate,
        kept_sections: tuple[str, ...] = (),
        objectives: Sequence[ObjectiveChoice] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.objectives = list(objectives)
        for objective in self.objectives:
            self.fields[objective_field(objective.key)] = forms.ChoiceField(
                label=objective.text,
                required=False,
                choices=[("", "Not addressed in this contact"), *PlanObjective.Status.choices],
                help_text=f"Goal: {objective.goal[:120]}. Now: "
                f"{PlanObjective.Status(objective.status).label.lower()}.",
            )
        self.note_format = template
        # Text written under another format stays visible and editable, never silently hidden.
        self.section_keys = [s.key for s in template.sections] + [
            k for k in kept_sections if k not in {s.key for s in template.sections}
        ]
        field = self.fields["service_code"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = codes
        for name in NEEDED_TO_SIGN:
            self.fields[name].needed_to_sign = True  # type: ignore[attr-defined]
        for section in template.sections:
            self.fields[section_field(section.key)] = forms.CharField(
                label=section.label,
                required=False,
                max_length=NARRATIVE_LIMIT,
                error_messages={"max_length": TOO_LONG},
                help_text=section.prompt,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4, "data-phrase-target": "1"}),
            )
            self.fields[section_field(section.key)].needed_to_sign = section.required  # type: ignore[attr-defined]
        for key in self.section_keys[len(template.sections) :]:
            self.fields[section_field(key)] = forms.CharField(
                label=f"{key.replace('_', ' ').capitalize()} (from another note format)",
                required=False,
                max_length=NARRATIVE_LIMIT,
                error_messages={"max_length": TOO_LONG},
                strip=False,
                widget=forms.Textarea(attrs={"rows": 3, "data-phrase-target": "1"}),
            )

    @property
    def objective_fields(self) -> list[forms.BoundField]:
        return [self[objective_field(o.key)] for o in self.objectives]

    @property
    def section_fields(self) -> list[forms.BoundField]:
        return [self[section_field(key)] for key in self.section_keys]

    @classmethod
    def initial_for(cls, note: Note) -> dict[str, Any]:
        tz = note.agency.tzinfo
        initial: dict[str, Any] = {
            "service_date": note.service_date,
            "start_time": note.start_at.astimezone(tz).time() if note.start_at else None,
            "end_time": note.end_at.astimezone(tz).time() if note.end_at else None,
            "contact_type": note.contact_type,
            "place_of_service": note.place_of_service,
            "service_code": note.service_code_id,
            "present": note.present,
            "interpreter_used": note.interpreter_used,
            "interpreter_language": note.interpreter_language,
            "mileage": note.mileage,
            "travel_minutes": note.travel_minutes,
            "medication_adherence": note.medication_adherence,
            "events": list(note.events or []),
            "template": note.template,
            "version": note.version,
        }
        for key, text in (note.sections or {}).items():
            initial[section_field(key)] = text
        for entry in note.goals_addressed or []:
            if isinstance(entry, dict) and entry.get("objective"):
                initial[objective_field(entry["objective"])] = entry.get("status", "")
        return initial

    def _instant(self, day: datetime.date, time: datetime.time) -> datetime.datetime:
        local = datetime.datetime.combine(day, time, tzinfo=self.agency.tzinfo)
        return local.astimezone(datetime.UTC)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, start, end = (cleaned.get(k) for k in ("service_date", "start_time", "end_time"))
        if end is not None and start is None:
            self.add_error("start_time", "Enter the start time too.")
        elif day and start:
            # A running timer saves a start without an end; signing needs both.
            start_at = self._instant(day, start)
            cleaned["start_at"], cleaned["end_at"] = start_at, None
            if end is not None:
                end_at = self._instant(day, end)
                if end_at <= start_at:
                    end_at = self._instant(day + datetime.timedelta(days=1), end)
                cleaned["end_at"] = end_at
        total = sum(len(str(cleaned.get(section_field(key)) or "")) for key in self.section_keys)
        if total > NARRATIVE_LIMIT:
            raise forms.ValidationError(
                f"The narrative is {total:,} characters; the limit is {NARRATIVE_LIMIT:,}. "
                "Shorten it, or put long material in a document."
            )
        return cleaned

    def note_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "service_date": data["service_date"],
            "start_at": data.get("start_at"),
            "end_at": data.get("end_at"),
            "contact_type": data["contact_type"],
            "place_of_service": data["place_of_service"],
            "service_code": data["service_code"],
            "present": data["present"].strip(),
            "template": data["template"],
            "sections": {key: data.get(section_field(key)) or "" for key in self.section_keys},
            "mileage": data["mileage"],
            "travel_minutes": data["travel_minutes"],
            "interpreter_used": data["interpreter_used"],
            "interpreter_language": data["interpreter_language"].strip(),
            "medication_adherence": data["medication_adherence"],
            "events": list(data["events"]),
            **self._goals_addressed(),
        }

    def _goals_addressed(self) -> dict[str, Any]:
        """Which plan objectives this contact addressed, and the status each is at now."""
        if not self.objectives:
            return {}
        chosen = [
            {"objective": str(o.key), "status": self.cleaned_data[objective_field(o.key)]}
            for o in self.objectives
            if self.cleaned_data.get(objective_field(o.key))
        ]
        return {"goals_addressed": chosen}


class SignForm(forms.Form):
    attest = forms.BooleanField(
        label="I attest that I provided this service as documented.", required=False
    )
    late_reason = forms.CharField(
        label="Why is this note late?",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum", max_length=20_000, widget=forms.Textarea(attrs={"rows": 4})
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Why is this note void?",
        max_length=500,
        help_text="e.g. written for the wrong client",
    )


class QuickPhraseForm(forms.Form):
    label = forms.CharField(label="Short name", max_length=60)
    text = forms.CharField(label="Text", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class GroupNoteForm(forms.Form):
    topic = forms.CharField(label="Group topic", max_length=200)
    clients: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label="Clients present",
        queryset=Client.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    service_date = forms.DateField(label="Date of service", widget=DateInput())
    start_time = forms.TimeField(label="Start", widget=TimeInput())
    end_time = forms.TimeField(label="End", widget=TimeInput())
    place_of_service = forms.ChoiceField(label="Place of service", choices=PLACE_OF_SERVICE_CHOICES)
    service_code = ServiceCodeChoice(
        label="Service", queryset=ServiceCode.objects.none(), required=False
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    shared_text = forms.CharField(
        label="What happened in the group (shared by every note)",
        max_length=NARRATIVE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(
        self, *args: Any, clients: QuerySet[Any], codes: QuerySet[ServiceCode], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        clients_field = self.fields["clients"]
        assert isinstance(clients_field, forms.ModelMultipleChoiceField)
        clients_field.queryset = clients
        code_field = self.fields["service_code"]
        assert isinstance(code_field, forms.ModelChoiceField)
        code_field.queryset = codes
