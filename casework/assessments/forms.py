"""Forms built from an instrument file: one field per item, every one optional until signing."""

from __future__ import annotations

from typing import Any

from django import forms

from casework.assessments.instruments import Instrument, instruments
from casework.assessments.models import Assessment
from casework.assessments.services import TEXT_LIMIT
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
