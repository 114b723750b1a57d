"""Schedule forms: an appointment (with its travel legs and repeat), its outcome, resources, holidays.

Times are typed in the agency's local time (a date and two clock times, as on paper); the view
turns them into UTC for the services.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.clients.models import Client
from casework.core.models import User
from casework.schedule.models import (
    Appointment,
    AppointmentKind,
    Holiday,
    PlaceType,
    Resource,
    TravelLeg,
)
from casework.web.widgets import DateInput, TimeInput

LEG_ROWS = 4

REPEAT_CHOICES = [
    ("none", "Does not repeat"),
    ("weekdays", "Every weekday (Monday to Friday)"),
    ("weekly", "Every week"),
    ("biweekly", "Every other week"),
    ("monthly", "Every month, on the same date"),
]
WEEKDAY_CHOICES = [
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
]
END_CHOICES = [
    ("never", "No end date"),
    ("until", "On a date"),
    ("count", "After a number of times"),
]


class ClientChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.record_number})"


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name)


class AppointmentForm(forms.Form):
    """A new appointment (with `repeat`) or a change to one (with `version` and `scope`)."""

    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(label="What", choices=[("", "Choose…"), *AppointmentKind.choices])
    clients = ClientChoice(
        label="Client or clients",
        queryset=Client.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=(
            "Your caseload. To book another client, start from that client's chart. "
            "Only a meeting with a provider may have none."
        ),
    )
    # Needed for every kind but a provider meeting (the service says which): not "optional".
    clients.needed_to_sign = True  # type: ignore[attr-defined]
    staff = StaffChoice(label="With", queryset=User.objects.none(), empty_label=None)
    day = forms.DateField(label="Date", widget=DateInput())
    start_time = forms.TimeField(label="From", widget=TimeInput())
    end_time = forms.TimeField(
        label="To", widget=TimeInput(), help_text="Your whole block: pick-up, travel, waiting."
    )
    place_type = forms.ChoiceField(
        label="Kind of place",
        choices=PlaceType.choices,
        help_text="Your phone's calendar shows only this, never the address.",
    )
    place = forms.CharField(label="Address or room", max_length=300, required=False)
    purpose = forms.CharField(label="Purpose", max_length=300, required=False)
    resource = forms.ModelChoiceField(
        label="Car or room", queryset=Resource.objects.none(), required=False, empty_label="None"
    )
    external_with = forms.CharField(
        label="Client's appointment with",
        max_length=200,
        required=False,
        help_text="e.g. Dr. Lee, psychiatry",
    )
    external_place = forms.CharField(label="Where it is", max_length=300, required=False)
    external_start_time = forms.TimeField(label="Starts at", widget=TimeInput(), required=False)
    external_end_time = forms.TimeField(label="Ends at", widget=TimeInput(), required=False)

    def __init__(
        self,
        *args: Any,
        clients: QuerySet[Client],
        client_choices: QuerySet[Client],
        staff: QuerySet[User],
        resources: QuerySet[Resource],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        clients_field = self.fields["clients"]
        assert isinstance(clients_field, ClientChoice)
        # Any client the user may see is accepted; the boxes shown are the ones worth offering.
        clients_field.queryset = clients
        clients_field.widget.choices = [
            (c.pk, clients_field.label_from_instance(c)) for c in client_choices
        ]
        staff_field = self.fields["staff"]
        assert isinstance(staff_field, StaffChoice)
        staff_field.queryset = staff
        resource_field = self.fields["resource"]
        assert isinstance(resource_field, forms.ModelChoiceField)
        resource_field.queryset = resources
        for n in range(1, LEG_ROWS + 1):
            self.fields[f"leg{n}_purpose"] = forms.ChoiceField(
                label=f"Leg {n}",
                choices=[("", "—"), *TravelLeg.Purpose.choices],
                required=False,
            )
            self.fields[f"leg{n}_miles"] = forms.DecimalField(
                label=f"Leg {n} miles",
                required=False,
                min_value=Decimal("0"),
                max_value=Decimal("1000"),
                max_digits=5,
                decimal_places=1,
                widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
            )

    def leg_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"leg{n}_purpose"], self[f"leg{n}_miles"]) for n in range(1, LEG_ROWS + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The end time must be after the start time.")
        ext_start, ext_end = data.get("external_start_time"), data.get("external_end_time")
        if ext_end and not ext_start:
            self.add_error("external_start_time", "Give the time the client's appointment starts.")
        if ext_start and ext_end and ext_end <= ext_start:
            self.add_error("external_end_time", "The end time must be after the start time.")
        for n in range(1, LEG_ROWS + 1):
            purpose, miles = data.get(f"leg{n}_purpose"), data.get(f"leg{n}_miles")
            if purpose and miles is None:
                self.add_error(f"leg{n}_miles", "Give the miles of this leg.")
            if miles is not None and not purpose:
                self.add_error(f"leg{n}_purpose", "Say what this leg was for.")
        return data

    def legs(self) -> list[tuple[str, Decimal]]:
        data = self.cleaned_data
        return [
            (data[f"leg{n}_purpose"], data[f"leg{n}_miles"])
            for n in range(1, LEG_ROWS + 1)
            if data.get(f"leg{n}_purpose") and data.get(f"leg{n}_miles") is not None
        ]

    @staticmethod
    def initial_for(appointment: Appointment, tz: datetime.tzinfo) -> dict[str, Any]:
        """The form's values for an existing appointment, times in the agency's zone."""
        start = appointment.start_at.astimezone(tz)
        initial: dict[str, Any] = {
            "version": appointment.version,
            "kind": appointment.kind,
            "clients": [c.pk for c in appointment.clients.all()],
            "staff": appointment.staff_id,
            "day": start.date(),
            "start_time": start.time().replace(second=0, microsecond=0),
            "end_time": appointment.end_at.astimezone(tz).time().replace(second=0, microsecond=0),
            "place_type": appointment.place_type,
            "place": appointment.place,
            "purpose": appointment.purpose,
            "resource": appointment.resource_id,
            "external_with": appointment.external_with,
            "external_place": appointment.external_place,
        }
        for name in ("external_start", "external_end"):
            value = getattr(appointment, f"{name}_at")
            if value is not None:
                initial[f"{name}_time"] = value.astimezone(tz).time().replace(second=0)
        for n, leg in enumerate(appointment.legs.all(), start=1):
            if n > LEG_ROWS:
                break
            initial[f"leg{n}_purpose"] = leg.purpose
            initial[f"leg{n}_miles"] = leg.miles
        return initial


class RepeatForm(forms.Form):
    """How a new appointment repeats; read together with the appointment form."""

    repeat = forms.ChoiceField(
        label="Repeats", choices=REPEAT_CHOICES, initial="none", widget=forms.RadioSelect
    )
    weekdays = forms.MultipleChoiceField(
        label="On",
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For weekly visits; left empty, the day of the first one.",
    )
    ends = forms.ChoiceField(
        label="Ends", choices=END_CHOICES, initial="never", widget=forms.RadioSelect
    )
    until = forms.DateField(label="Last date", widget=DateInput(), required=False)
    count = forms.IntegerField(label="Number of times", min_value=1, max_value=200, required=False)
    skip_holidays = forms.BooleanField(
        label="Skip the agency's holidays", required=False, initial=True
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("repeat", "none") == "none":
            return data
        if data.get("ends") == "until" and not data.get("until"):
            self.add_error("until", "Give the date of the last one.")
        if data.get("ends") == "count" and not data.get("count"):
            self.add_error("count", "Give how many times.")
        return data


class EditScopeForm(forms.Form):
    scope = forms.ChoiceField(
        label="Change",
        choices=[
            ("this", "This appointment only"),
            ("following", "This and the following appointments of the series"),
        ],
        initial="this",
        widget=forms.RadioSelect,
    )


class ConfirmForm(forms.Form):
    confirm_conflicts = forms.BooleanField(
        label="Save anyway, despite the clashes above", required=False
    )


class OutcomeForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (Appointment.Status.ATTENDED, "Attended"),
            (Appointment.Status.NO_SHOW, "No-show"),
            (Appointment.Status.CANCELLED, "Cancelled"),
        ]
    )
    cancelled_by = forms.ChoiceField(
        choices=[("", "—"), *Appointment.CancelledBy.choices], required=False
    )
    reason = forms.CharField(label="Reason", max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == Appointment.Status.CANCELLED and not data.get("cancelled_by"):
            self.add_error("cancelled_by", "Say who cancelled.")
        return data


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Resource.Kind.choices)
    name = forms.CharField(label="Name", max_length=100, help_text="e.g. Blue Corolla, Room 2")


class HolidayForm(forms.Form):
    day = forms.DateField(label="Date", widget=DateInput())
    name = forms.CharField(label="Name", max_length=100, help_text="e.g. Thanksgiving")


def holiday_initial(holiday: Holiday) -> dict[str, Any]:
    return {"day": holiday.day, "name": holiday.name}
