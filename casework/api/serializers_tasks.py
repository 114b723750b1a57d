"""Tasks API serializers: a task with its history as the API shows it, and what a new task, a
snooze and a reassignment take. Writes go through casework.worklist.services."""

from __future__ import annotations

import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.api.serializers import StrictBooleanField, StrictCharField
from casework.api.serializers_notes import (
    MAX_ID,
    AgencyTimes,
    QueryIntegerField,
    QuerySerializer,
    StrictDateField,
    StrictIntegerField,
)
from casework.api.serializers_plans import enum_schema, in_range
from casework.clients.models import Client
from casework.core import access
from casework.core.models import User
from casework.worklist.models import TEXT_LIMIT, TITLE_LIMIT, Task, TaskEvent
from casework.worklist.selectors import task_assignees


class TaskDateField(StrictDateField):
    def to_internal_value(self, value: Any) -> datetime.date:
        return in_range(super().to_internal_value(value))


# --- output ------------------------------------------------------------------------------------


class TaskEventSerializer(AgencyTimes, serializers.ModelSerializer[TaskEvent]):
    action = serializers.SerializerMethodField()

    class Meta:
        model = TaskEvent
        fields = ["action", "by_id", "at", "detail"]
        read_only_fields = fields

    @extend_schema_field(enum_schema(TaskEvent.Action.choices))
    def get_action(self, event: TaskEvent) -> str:
        return event.action


class TaskSerializer(AgencyTimes, serializers.ModelSerializer[Task]):
    """A task, with where it came from (a person, or a rule when created_by_id is null) and its
    history, oldest step first."""

    kind = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    events = TaskEventSerializer(many=True, read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "title",
            "reason",
            "client_id",
            "assignee_id",
            "due_on",
            "urgent",
            "status",
            "snoozed_until",
            "appointment_id",
            "created_by_id",
            "created_at",
            "done_at",
            "done_by_id",
            "version",
            "events",
        ]
        read_only_fields = fields

    @extend_schema_field(enum_schema(Task.Kind.choices))
    def get_kind(self, task: Task) -> str:
        return task.kind

    @extend_schema_field(
        enum_schema(Task.Status.choices, "An open task snoozed until a later day is still open.")
    )
    def get_status(self, task: Task) -> str:
        return task.status


# --- input -------------------------------------------------------------------------------------


def _assignee(user: User, value: int) -> User:
    """Someone the caller may give a task to (themselves and their teammates; anyone, for an
    admin), as on the My day page."""
    assignee = task_assignees(user).filter(pk=value).first()
    if assignee is None:
        raise serializers.ValidationError(
            "No one you may give a task to has this id: yourself and your teammates (an admin: "
            "anyone on the agency's client staff)."
        )
    return assignee


class TaskCreateSerializer(serializers.Serializer[Any]):
    title = StrictCharField(max_length=TITLE_LIMIT, help_text="What needs doing.")
    assignee_id = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Who it is for: you (if left out), a teammate, or for an admin anyone on the "
        "agency's client staff.",
    )
    client_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="The client it concerns, if any: a client you may see.",
    )
    reason = StrictCharField(
        required=False, allow_blank=True, max_length=TEXT_LIMIT, help_text="Why it needs doing."
    )
    due_on = TaskDateField(required=False, allow_null=True)
    urgent = StrictBooleanField(
        required=False, help_text="Urgent tasks show first on My day, even outside working hours."
    )

    def validate_assignee_id(self, value: int) -> User:
        return _assignee(self.context["user"], value)

    def validate_client_id(self, value: int | None) -> Client | None:
        if value is None:
            return None
        client = access.visible_clients(self.context["user"]).filter(pk=value).first()
        if client is None:
            raise serializers.ValidationError("No client you may see has this id.")
        return client


class TaskSnoozeSerializer(serializers.Serializer[Any]):
    until = TaskDateField(
        help_text="The day it comes back on My day: after today and at most 90 days ahead."
    )


class TaskReassignSerializer(serializers.Serializer[Any]):
    to = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="Who it is for from now on: a teammate (for an admin, anyone on the agency's "
        "client staff).",
    )

    def validate_to(self, value: int) -> User:
        return _assignee(self.context["user"], value)


class TaskListQuerySerializer(QuerySerializer):
    assignee = QueryIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Whose tasks: yours if left out. A supervisor sees the tasks of the people on "
        "the teams they supervise (an admin, anyone's); of anyone else only the tasks you gave "
        "them.",
    )
    status = serializers.ChoiceField(
        choices=Task.Status.choices, required=False, help_text="Open and done if left out."
    )
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only tasks about this client."
    )
