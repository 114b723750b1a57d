"""Forms for automation: a rule, a client's reminder preference, the per-client switch.

The rules themselves live in `services` (`rule_problems`); a form that fails keeps what was typed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.automation.models import (
    DEFAULT_PERCENT,
    MAX_DAYS,
    NAME_LIMIT,
    TITLE_LIMIT,
    ActionKind,
    AssigneeKind,
    AutomationRule,
    Channel,
    ReminderPreference,
    Trigger,
)
from casework.automation.services import NO_SAFE_PHONE, RuleInput, rule_problems
from casework.clients.models import Phone
from casework.core.models import User
from casework.web.forms import set_queryset


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name)


class RuleForm(forms.Form):
    """When … then …: the trigger and its threshold, then the action and who does it."""

    name = forms.CharField(
        max_length=NAME_LIMIT,
        help_text="What the log and the tasks call it, e.g. “No-show follow-up”.",
        error_messages={"required": "Give the rule a name."},
    )
    trigger = forms.ChoiceField(
        label="When",
        choices=[("", "— choose —"), *Trigger.choices],
        help_text=(
            "Events (a no-show, a hospital stay, a flag, a completed process) count from when the "
            "rule is made. Releases and plan reviews: those coming within the days ahead from "
            "then on. Authorizations are looked at every hour, including those already past the "
            "share when the rule is switched on."
        ),
    )
    days_before = forms.IntegerField(
        label="How many days ahead",
        required=False,
        min_value=1,
        max_value=MAX_DAYS,
        help_text="For an expiring release or a plan review: fire this many days before the date.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    percent = forms.IntegerField(
        label="Share of the authorization's units used (%)",
        required=False,
        min_value=1,
        max_value=100,
        initial=DEFAULT_PERCENT,
        help_text="For an authorization: fire once this share is used.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    trigger_process_key = forms.ChoiceField(
        label="Which process", required=False, help_text="For a completed guided process."
    )
    action = forms.ChoiceField(label="Then", choices=[("", "— choose —"), *ActionKind.choices])
    task_title = forms.CharField(
        label="Task title",
        max_length=TITLE_LIMIT,
        required=False,
        help_text="Blank uses a title that fits the trigger. Do not name a client here.",
    )
    due_in_days = forms.IntegerField(
        label="Due in (days)",
        min_value=0,
        max_value=MAX_DAYS,
        initial=1,
        help_text="0 is the same day.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    assignee_kind = forms.ChoiceField(
        label="Who does it",
        choices=AssigneeKind.choices,
        initial=AssigneeKind.PRIMARY,
        widget=forms.RadioSelect,
        help_text="“Notify the supervisor” goes to this person's team supervisor.",
    )
    assignee = StaffChoice(
        label="Staff member",
        queryset=User.objects.none(),
        required=False,
        empty_label="— choose —",
        help_text="Only when you chose “A staff member I choose”.",
    )
    process_key = forms.ChoiceField(
        label="Process to start", required=False, help_text="For “Start a guided process”."
    )
    is_active = forms.BooleanField(label="The rule is on", required=False, initial=True)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        agency_id: int,
        staff: QuerySet[User],
        processes: list[tuple[str, str]],
        rule: AutomationRule | None = None,
        **kwargs: Any,
    ) -> None:
        if rule is not None:
            kwargs.setdefault("initial", _initial(rule))
        else:
            kwargs.setdefault(
                "initial", {"submission_key": uuid.uuid4().hex, "is_active": True, "due_in_days": 1}
            )
        super().__init__(*args, **kwargs)
        self.agency_id, self.rule = agency_id, rule
        set_queryset(self, "assignee", staff)
        self._choices("trigger_process_key", [("", "Any process"), *processes])
        self._choices("process_key", [("", "— choose —"), *processes])
        for name in ("days_before", "percent", "trigger_process_key"):
            self.fields[name].needed_to_sign = True  # type: ignore[attr-defined]

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def rule_input(self) -> RuleInput:
        data = self.cleaned_data
        percent = data.get("percent")
        return RuleInput(
            name=data.get("name", ""),
            trigger=data.get("trigger", ""),
            action=data.get("action", ""),
            days_before=data.get("days_before"),
            percent=DEFAULT_PERCENT if percent is None else percent,
            trigger_process_key=data.get("trigger_process_key", ""),
            task_title=data.get("task_title", ""),
            due_in_days=data.get("due_in_days") or 0,
            assignee_kind=data.get("assignee_kind", AssigneeKind.PRIMARY),
            assignee=data.get("assignee"),
            process_key=data.get("process_key", ""),
            is_active=bool(data.get("is_active")),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        failed = set(self.errors)
        problems = rule_problems(
            self.rule_input(),
            agency_id=self.agency_id,
            rule_id=self.rule.pk if self.rule is not None else None,
        )
        for field, message in problems:
            target = field if field in self.fields else None
            if target not in failed:
                self.add_error(target, message)
                if target is not None:
                    failed.add(target)
        return cleaned


def _initial(rule: AutomationRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "days_before": rule.days_before,
        "percent": rule.percent,
        "trigger_process_key": rule.trigger_process_key,
        "action": rule.action,
        "task_title": rule.task_title,
        "due_in_days": rule.due_in_days,
        "assignee_kind": rule.assignee_kind,
        "assignee": rule.assignee_id,
        "process_key": rule.process_key,
        "is_active": rule.is_active,
        "version": rule.version,
    }


class ReminderForm(forms.Form):
    """How the client wants appointment reminders: a text to one of their phones marked safe to
    text on the contact details (never a number typed here), or an email."""

    channel = forms.ChoiceField(
        label="Appointment reminders",
        choices=Channel.choices,
        widget=forms.RadioSelect,
        help_text="Off unless the client asks. A text says only the agency, the day and the time.",
    )
    phone = forms.ChoiceField(
        label="Number to text",
        required=False,
        help_text="Only the client's numbers marked safe to text on the contact details.",
    )
    email = forms.EmailField(label="Email address", max_length=254, required=False)

    def __init__(
        self,
        *args: Any,
        phones: list[Phone],
        preference: ReminderPreference | None,
        **kwargs: Any,
    ) -> None:
        self.phones = {str(p.pk): p for p in phones}
        if preference is not None:
            chosen = str(preference.phone_id or "")
            kwargs.setdefault(
                "initial",
                {
                    "channel": preference.channel,
                    "phone": chosen if chosen in self.phones else "",
                    "email": preference.email,
                },
            )
        else:
            kwargs.setdefault("initial", {"channel": Channel.NONE})
        super().__init__(*args, **kwargs)
        field = self.fields["phone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "— choose —"),
            *[
                (key, f"{p.number} ({p.get_kind_display().lower()})")
                for key, p in self.phones.items()
            ],
        ]
        if not self.phones:
            field.help_text = NO_SAFE_PHONE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("channel") == Channel.SMS and not cleaned.get("phone"):
            self.add_error("phone", "Choose the number to text." if self.phones else NO_SAFE_PHONE)
        wants_email = cleaned.get("channel") == Channel.EMAIL
        if wants_email and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", "Type the email address.")
        return cleaned

    def chosen_phone(self) -> Phone | None:
        return self.phones.get(str(self.cleaned_data.get("phone") or ""))


class SwitchForm(forms.Form):
    """Switch automation off (or on) for the client: every rule, or one."""

    rule = forms.IntegerField(required=False, widget=forms.HiddenInput)
    off = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why (optional)",
        max_length=300,
        required=False,
        help_text="E.g. “the client asked not to be called after a no-show”.",
    )
