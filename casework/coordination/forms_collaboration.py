"""Forms of team collaboration: a chart comment, cover while away, a caseload hand-off.

Pickers list the people who make sense (active case managers and supervisors) while accepting
any colleague of the agency, so that a stale choice (someone deactivated since the page opened)
gets the service's clear reason rather than "select a valid choice".
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from casework.clients.models import Client
from casework.coordination.errors import CoordinationError
from casework.coordination.models.collaboration import COMMENT_LIMIT
from casework.coordination.services_collaboration import REASON_LIMIT, clean_comment
from casework.core.models import User
from casework.web.widgets import DateInput

LONGEST_COVER_DAYS = 60


def new_submission_key() -> str:
    return uuid.uuid4().hex


def _staff_picker(
    form: forms.BaseForm, name: str, accepted: QuerySet[User], shown: QuerySet[User]
) -> None:
    field: Any = form.fields[name]
    field.queryset = accepted
    field.label_from_instance = lambda u: u.full_name
    field.widget.choices = [("", "Choose…"), *((u.pk, u.full_name) for u in shown)]


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        strip=False,
        help_text="Type @ and a colleague's email name (@jlee) or first and last name "
        "(@Jamie Lee) to tell them on their My day.",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_LIMIT}),
        error_messages={"required": "Write the comment first."},
    )
    submission_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_body(self) -> str:
        try:
            return clean_comment(self.cleaned_data["body"])
        except CoordinationError as error:
            raise ValidationError(str(error)) from None


class CoverageForm(forms.Form):
    """Both people are looked up together in `clean` (one query)."""

    absent = forms.IntegerField(label="Who is away", widget=forms.Select)
    covering = forms.IntegerField(
        label="Who covers",
        widget=forms.Select,
        help_text="A case manager or supervisor; they see the caseload and the My day of the "
        "person away.",
    )
    starts_on = forms.DateField(widget=DateInput(), label="From")
    ends_on = forms.DateField(
        widget=DateInput(), label="Until", help_text="The last day of the absence (included)."
    )
    reason = forms.CharField(
        required=False, max_length=REASON_LIMIT, help_text="E.g. leave, training."
    )
    submission_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        staff: QuerySet[User],
        absent_choices: QuerySet[User],
        cover_choices: QuerySet[User],
        today: datetime.date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.staff = staff
        for name, shown in (("absent", absent_choices), ("covering", cover_choices)):
            widget = cast(forms.Select, self.fields[name].widget)
            widget.choices = [("", "Choose…"), *((u.pk, u.full_name) for u in shown)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ids = [data[name] for name in ("absent", "covering") if data.get(name) is not None]
        people = self.staff.in_bulk(ids)
        for name in ("absent", "covering"):
            if data.get(name) is None:
                continue
            if data[name] in people:
                data[name] = people[data[name]]
            else:
                self.add_error(name, "Choose someone on your agency's staff.")
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and starts < self.today:
            self.add_error("starts_on", "Cover starts today or later.")
        if starts and ends:
            if ends < starts:
                self.add_error("ends_on", "The last day comes on or after the first.")
            elif (ends - starts).days + 1 > LONGEST_COVER_DAYS:
                self.add_error(
                    "ends_on",
                    "Cover lasts at most 60 days; for a longer absence, hand the clients off.",
                )
        return data


class HandoffForm(forms.Form):
    clients = forms.ModelMultipleChoiceField(
        queryset=Client.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Clients to hand off",
        error_messages={
            "required": "Choose at least one client to hand off.",
            "invalid_choice": "Choose among the clients listed.",
            "invalid_pk_value": "Choose among the clients listed.",
        },
    )
    to_staff = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="To",
        error_messages={"invalid_choice": "Choose someone on your agency's staff."},
    )
    effective_on = forms.DateField(
        widget=DateInput(),
        label="From",
        help_text="The day they become the primary case manager.",
    )
    message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_LIMIT}),
        help_text="What the new case manager should know first.",
    )
    submission_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        clients: QuerySet[Client],
        staff: QuerySet[User],
        receivers: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["clients"]
        field.queryset = clients
        field.label_from_instance = lambda c: f"{c.display_name} ({c.record_number})"
        _staff_picker(self, "to_staff", staff, receivers)

    def clean_message(self) -> str:
        message = str(self.cleaned_data.get("message", "")).replace("\r\n", "\n")
        if len(message) > COMMENT_LIMIT:
            raise ValidationError(
                f"Keep the message under {COMMENT_LIMIT:,} characters (it has {len(message):,})."
            )
        return message
