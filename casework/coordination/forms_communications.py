"""Forms for the communications log, letters and letter templates; rules live in the services."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.coordination.forms_consents import PersonChoiceField
from casework.coordination.letters import (
    LETTER_CATEGORIES,
    TemplateText,
    letter_template_problems,
    placeholder_problem,
)
from casework.coordination.models import (
    Category,
    Communication,
    LetterTemplate,
    Organization,
    Person,
)
from casework.coordination.models.communications import LETTER_LIMIT, TEXT_LIMIT
from casework.coordination.services_communications import (
    MAX_MINUTES,
    NewCommunication,
    communication_problems,
)
from casework.core.models import Agency
from casework.web.forms import set_queryset
from casework.web.widgets import DateInput, TimeInput


def _add_problems(form: forms.Form, problems: list[tuple[str | None, str]]) -> None:
    failed = set(form.errors)
    for field, message in problems:
        name = field if field in form.fields else None
        if name not in failed:
            form.add_error(name, message)
            if name is not None:
                failed.add(name)


class CommunicationForm(forms.Form):
    occurred_on = forms.DateField(label="Date", widget=DateInput())
    occurred_time = forms.TimeField(label="Time", widget=TimeInput())
    channel = forms.ChoiceField(
        label="How", choices=[("", "— choose —"), *Communication.Channel.choices]
    )
    direction = forms.ChoiceField(
        label="Who reached out",
        choices=Communication.Direction.choices,
        widget=forms.RadioSelect,
        initial=Communication.Direction.OUTGOING,
    )
    person = PersonChoiceField(
        queryset=Person.objects.none(), required=False, label="Person", empty_label="— none —"
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Organisation",
        empty_label="— none —",
    )
    with_name = forms.CharField(
        label="Name",
        max_length=200,
        required=False,
        help_text="When they are not in the directory.",
    )
    with_role = forms.ChoiceField(
        label="Their role",
        choices=[("", "— choose —"), *Person.Role.choices],
        required=False,
        help_text="Needed with a typed name.",
    )
    minutes = forms.IntegerField(
        label="Minutes", min_value=1, max_value=MAX_MINUTES, required=False
    )
    summary = forms.CharField(
        label="What was discussed", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 5})
    )
    outcome = forms.CharField(
        label="Outcome",
        max_length=500,
        required=False,
        help_text="What came of it, or what happens next.",
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        organizations: QuerySet[Organization],
        people: QuerySet[Person],
        **kwargs: Any,
    ) -> None:
        now = datetime.datetime.now(tz=agency.tzinfo)
        kwargs.setdefault(
            "initial",
            {
                "occurred_on": now.date(),
                "occurred_time": now.time().replace(second=0, microsecond=0),
                "direction": Communication.Direction.OUTGOING,
                "submission_key": uuid.uuid4().hex,
            },
        )
        super().__init__(*args, **kwargs)
        self.agency = agency
        set_queryset(self, "person", people)
        set_queryset(self, "organization", organizations)

    def entry(self) -> NewCommunication:
        data = self.cleaned_data
        day, time = data.get("occurred_on"), data.get("occurred_time")
        when = (
            datetime.datetime.combine(day, time, tzinfo=self.agency.tzinfo)
            if day is not None and time is not None
            else datetime.datetime.now(tz=self.agency.tzinfo)
        )
        return NewCommunication(
            occurred_at=when,
            channel=data.get("channel", ""),
            direction=data.get("direction", ""),
            organization=data.get("organization"),
            person=data.get("person"),
            with_name=data.get("with_name", ""),
            with_role=data.get("with_role", ""),
            minutes=data.get("minutes"),
            summary=data.get("summary", ""),
            outcome=data.get("outcome", ""),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        now = datetime.datetime.now(tz=self.agency.tzinfo)
        problems = communication_problems(self.entry(), now=now)
        if "occurred_on" in self.errors or "occurred_time" in self.errors:
            problems = [p for p in problems if p[0] != "occurred_on"]
        _add_problems(self, problems)
        return cleaned


class LetterStartForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=LetterTemplate.objects.none(), label="Letter", empty_label="— choose —"
    )
    person = PersonChoiceField(
        queryset=Person.objects.none(), required=False, label="To a person", empty_label="— none —"
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="At an organisation",
        empty_label="— none —",
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(
        self,
        *args: Any,
        templates: QuerySet[LetterTemplate],
        organizations: QuerySet[Organization],
        people: QuerySet[Person],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {"submission_key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)
        set_queryset(self, "template", templates)
        set_queryset(self, "person", people)
        set_queryset(self, "organization", organizations)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = cleaned.get("person") or cleaned.get("organization")
        failed = "person" in self.errors or "organization" in self.errors
        if not chosen and not failed:
            self.add_error("person", "Choose who the letter is to, from the directory.")
        return cleaned


class LetterForm(forms.Form):
    subject = forms.CharField(label="Subject", max_length=200)
    body = forms.CharField(
        label="Letter",
        max_length=LETTER_LIMIT,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Placeholders such as {{ today }} are filled in when you save.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("subject", "body"):
            if message := placeholder_problem(cleaned.get(name, "")):
                self.add_error(name, message)
        return cleaned


class LetterTemplateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    body = forms.CharField(
        label="Letter text",
        max_length=LETTER_LIMIT,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Plain text. Use the placeholders listed below, written as {{ name }}.",
    )
    categories = forms.MultipleChoiceField(
        label="What a letter from this template shares",
        choices=[(c, label) for c, label in Category.choices if c in LETTER_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Issuing a letter needs a release that covers these for its recipient.",
    )
    is_active = forms.BooleanField(label="Offer this letter to staff", required=False)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def text(self) -> TemplateText:
        data = self.cleaned_data
        return TemplateText(
            name=data.get("name", ""),
            body=data.get("body", ""),
            categories=tuple(data.get("categories") or ()),
            is_active=bool(data.get("is_active")),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _add_problems(self, letter_template_problems(self.text()))
        return cleaned
