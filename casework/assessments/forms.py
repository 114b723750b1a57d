"""Forms built from an instrument file: one field per item, every one optional until signing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.assessments.instruments import Instrument, instruments
from casework.assessments.models import MAX_DAYS, Assessment
from casework.assessments.services import TEXT_LIMIT
from casework.core.models import Program
from casework.web.widgets import DateInput


class StartForm(forms.Form):
    instrument = forms.ChoiceField(label="Instrument")
    administered_on = forms.DateField(label="Date given", widget=DateInput())
    mode = forms.ChoiceField(
        label="How it is given", choices=Assessment.Mode.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instrument"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(i.key, i.name) for i in instruments().values()]


class AnswersForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, instrument: Instrument, sex: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.item_keys: list[str] = []
        for item in instrument.items_for(sex):
            self.item_keys.append(item["key"])
            if item["type"] == "choice":
                field: forms.Field = forms.TypedChoiceField(
                    label=item["text"],
                    choices=[(o["value"], o["label"]) for o in instrument.options(item)],
                    coerce=int,
                    required=False,
                    widget=forms.RadioSelect,
                )
            else:
                field = forms.CharField(
                    label=item["text"],
                    required=False,
                    max_length=TEXT_LIMIT,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            field.needed_to_sign = item.get("required", True)  # type: ignore[attr-defined]
            field.section = item.get("section", "")  # type: ignore[attr-defined]
            self.fields[item["key"]] = field

    @property
    def item_fields(self) -> list[forms.BoundField]:
        return [self[key] for key in self.item_keys]

    def answers(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(key) for key in self.item_keys}


class RuleForm(forms.Form):
    """An agency's rule for one instrument; the service checks the ranges and duplicates."""

    instrument = forms.ChoiceField(
        label="Instrument",
        error_messages={
            "required": "Choose an instrument.",
            "invalid_choice": "There is no instrument “%(value)s”; choose one from the list.",
        },
    )
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        empty_label="All programs",
        label="Program",
        help_text="A program's rule replaces the all-programs rule for that program's clients.",
        error_messages={"invalid_choice": "Choose a program of your agency."},
    )
    repeat_every_days = forms.IntegerField(
        required=False,
        label="Repeat every (days)",
        help_text=(
            "Days after the last signed one. Leave blank for the instrument's own interval; "
            "0 means it is not repeated."
        ),
        error_messages={"invalid": "Enter a whole number of days, e.g. 90."},
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_DAYS, "inputmode": "numeric"}),
    )
    required = forms.BooleanField(
        required=False, label="Required for every client of the program (or of the agency)"
    )
    first_due_days = forms.IntegerField(
        initial=30,
        label="First due (days after admission)",
        help_text="For a required instrument the client has never had.",
        error_messages={
            "required": "Say how many days after admission it is first due.",
            "invalid": "Enter a whole number of days, e.g. 30.",
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": MAX_DAYS, "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instrument = self.fields["instrument"]
        assert isinstance(instrument, forms.ChoiceField)
        instrument.choices = [("", "Choose an instrument")] + [
            (i.key, f"{i.name} (every {i.raw['repeat_every_days']} days)")
            if i.raw.get("repeat_every_days")
            else (i.key, i.name)
            for i in instruments().values()
        ]
        program = self.fields["program"]
        assert isinstance(program, forms.ModelChoiceField)
        program.queryset = programs
