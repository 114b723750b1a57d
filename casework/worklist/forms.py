"""Forms of My day: a new task, snoozing, reassigning."""

from __future__ import annotations

from typing import Any

from django import forms

from casework.clients.models import Client
from casework.core.models import User
from casework.worklist.models import TEXT_LIMIT, TITLE_LIMIT


class TaskForm(forms.Form):
    title = forms.CharField(max_length=TITLE_LIMIT, label="What needs doing")
    client = forms.ModelChoiceField(queryset=Client.objects.none(), required=False)
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label="For")
    due_on = forms.DateField(
        required=False, label="Due", widget=forms.DateInput(attrs={"type": "date"})
    )
    urgent = forms.BooleanField(
        required=False, help_text="Urgent tasks show first and even outside working hours."
    )
    reason = forms.CharField(
        max_length=TEXT_LIMIT, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    submission_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, clients: Any, assignees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client_field: Any = self.fields["client"]
        client_field.queryset = clients
        client_field.label_from_instance = lambda c: f"{c.display_name} ({c.record_number})"
        assignee_field: Any = self.fields["assignee"]
        assignee_field.queryset = assignees
        assignee_field.label_from_instance = lambda u: u.full_name


class SnoozeForm(forms.Form):
    until = forms.DateField(label="Snooze until", widget=forms.DateInput(attrs={"type": "date"}))
    item_key = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)
    label = forms.CharField(required=False, max_length=TITLE_LIMIT, widget=forms.HiddenInput)


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(queryset=User.objects.none(), label="Give to")

    def __init__(self, *args: Any, assignees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["to"]
        field.queryset = assignees
        field.label_from_instance = lambda u: u.full_name
