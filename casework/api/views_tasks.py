"""The tasks API: the stored tasks of My day (what people and rules give each other).

The caller sees their own tasks, the ones they gave someone, their team's if they supervise it
and, for an admin, every task of the agency (as on the My day pages); any other task is a 404.
Writes go through casework.worklist.services, which keep each step in the task's history and
audit it; a refusal by its rules answers 400 with the message and the field it concerns. A task
about a client is part of that client's chart: reading it is audited.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from casework.api import schema
from casework.api.refusals import DomainErrorsMixin, DomainRefusal
from casework.api.serializers import IDEMPOTENCY_KEY_SHAPE
from casework.api.serializers_tasks import (
    TaskCreateSerializer,
    TaskListQuerySerializer,
    TaskReassignSerializer,
    TaskSerializer,
    TaskSnoozeSerializer,
)
from casework.api.views import AgencyViewSet
from casework.clients.services import audit_chart_read
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.idempotency import submission_result
from casework.worklist import services
from casework.worklist.models import Task, TaskEvent
from casework.worklist.selectors import tasks_visible
from casework.worklist.services import TaskError

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A key you choose (up to 64 letters, digits and . _ : -), e.g. a UUID. "
    "Sending the same key again returns the task made the first time (200) instead of a copy.",
)
TASK_RESPONSES: dict[int, Any] = {
    200: TaskSerializer,
    400: schema.DOMAIN_BAD_REQUEST,
    **schema.OBJECT_ERRORS,
}
# The service's form-field names, as the API calls those fields.
CREATE_FIELDS = {"assignee": "assignee_id", "client": "client_id"}
REASSIGN_FIELDS = {"assignee": "to"}


class TaskAccess(BasePermission):
    """Staff who work with clients or claims have tasks; auditors read the audit log only."""

    message = "Your role does not include tasks."

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.may_use_client_registry(request.user)


def task_refusal(error: TaskError, fields: dict[str, str]) -> DomainRefusal:
    field = fields.get(error.field or "", error.field)
    return DomainRefusal(str(error), field)


@extend_schema_view(
    list=extend_schema(
        summary="List tasks",
        description="Your tasks unless `assignee` names someone else, soonest due first (those "
        "without a due date last), each with its history. A snoozed task stays open: "
        "`snoozed_until` says when it comes back on My day. Each client a task concerns is "
        "recorded in the audit log.",
        parameters=[TaskListQuerySerializer],
        responses={200: TaskSerializer(many=True), 400: schema.BAD_REQUEST, **schema.READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One task",
        description="With its history. Reading a task about a client is recorded in the audit log.",
        responses={200: TaskSerializer, **schema.OBJECT_ERRORS},
    ),
    create=extend_schema(
        summary="Give someone (or yourself) a task",
        description="It shows on their My day from today (urgent ones first). Send an "
        "`Idempotency-Key` so that a retried request cannot make a copy.",
        parameters=[IDEMPOTENCY_HEADER],
        request=TaskCreateSerializer,
        responses={
            201: OpenApiResponse(TaskSerializer, description="Made."),
            200: OpenApiResponse(TaskSerializer, description="Made earlier with this key."),
            400: schema.DOMAIN_BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
)
@extend_schema(tags=["tasks"])
class TaskViewSet(DomainErrorsMixin, AgencyViewSet):
    """Tasks: made, done, reopened, snoozed and reassigned, each step kept in its history."""

    serializer_class = TaskSerializer
    permission_classes = [IsAuthenticated, TaskAccess]
    queryset = Task.objects.none()  # for the schema; get_queryset starts from the access layer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Task]:
        return (
            tasks_visible(self.user)
            .prefetch_related(Prefetch("events", queryset=TaskEvent.objects.order_by("at", "id")))
            .order_by(F("due_on").asc(nulls_last=True), "id")
        )

    def _context(self) -> dict[str, Any]:
        return {"agency": self.user.agency, "user": self.user}

    def _output(self, task: Task, status_code: int = status.HTTP_200_OK) -> Response:
        """The task as it is now (even if the caller no longer sees it, e.g. after giving it
        away), with its history."""
        task = (
            Task.objects.prefetch_related(
                Prefetch("events", queryset=TaskEvent.objects.order_by("at", "id"))
            )
            .filter(pk=task.pk)
            .get()
        )
        return Response(TaskSerializer(task, context=self._context()).data, status=status_code)

    def list(self, request: Request) -> Response:
        params = TaskListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        tasks = self.get_queryset().filter(assignee_id=filters.get("assignee", self.user.pk))
        if "status" in filters:
            tasks = tasks.filter(status=filters["status"])
        if "client" in filters:
            tasks = tasks.filter(client_id=filters["client"])
        page = list(self.paginate_queryset(tasks) or [])
        audit_reads(
            actor=self.user,
            client_ids=list(dict.fromkeys(t.client_id for t in page if t.client_id is not None)),
            section="api tasks",
        )
        data = TaskSerializer(page, many=True, context=self._context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str) -> Response:
        task: Task = self.get_object()
        if task.client is not None:
            audit_chart_read(user=self.user, client=task.client, what=f"api task {task.pk}")
        return Response(TaskSerializer(task, context=self._context()).data)

    def create(self, request: Request) -> Response:
        sent_key = request.headers.get("Idempotency-Key")
        if sent_key is not None and not IDEMPOTENCY_KEY_SHAPE.match(sent_key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use up to 64 letters, digits and . _ : - (a UUID works)."]}
            )
        serializer = TaskCreateSerializer(data=request.data, context=self._context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        agency = self.user.agency
        assert agency is not None  # TaskAccess let only staff of an agency through
        earlier_id = submission_result(
            agency=agency, by=self.user, purpose=services.TASK_CREATE, key=sent_key or ""
        )
        if earlier_id is not None:
            earlier = self.get_queryset().filter(pk=earlier_id).first()
            if earlier is None:
                raise exceptions.ValidationError(
                    {
                        "Idempotency-Key": [
                            "The task made with this key is no longer yours to see; send a new "
                            "key to make another."
                        ]
                    }
                )
            return self._output(earlier)
        try:
            task = services.task_create(
                assignee=data.get("assignee_id", self.user),
                title=data["title"],
                by=self.user,
                client=data.get("client_id"),
                reason=data.get("reason", ""),
                due_on=data.get("due_on"),
                urgent=data.get("urgent", False),
                submission_key=sent_key or "",
            )
        except TaskError as error:
            raise task_refusal(error, CREATE_FIELDS) from None
        return self._output(task, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark a task done",
        description="By the person it is for, their supervisor or an admin. Doing it twice "
        "changes nothing.",
        request=None,
        responses=TASK_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk: str) -> Response:
        try:
            task = services.task_done(task=self.get_object(), by=self.user)
        except TaskError as error:
            raise task_refusal(error, {}) from None
        return self._output(task)

    @extend_schema(
        summary="Reopen a task marked done",
        description="By the person it is for, their supervisor or an admin.",
        request=None,
        responses=TASK_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str) -> Response:
        try:
            task = services.task_reopen(task=self.get_object(), by=self.user)
        except TaskError as error:
            raise task_refusal(error, {}) from None
        return self._output(task)

    @extend_schema(
        summary="Snooze a task until a later day",
        description="It comes back on My day that morning; at most 90 days ahead. A task "
        "already done cannot be snoozed.",
        request=TaskSnoozeSerializer,
        responses=TASK_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str) -> Response:
        task: Task = self.get_object()
        serializer = TaskSnoozeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            task = services.task_snooze(
                task=task, by=self.user, until=serializer.validated_data["until"]
            )
        except TaskError as error:
            raise task_refusal(error, {}) from None
        return self._output(task)

    @extend_schema(
        summary="Give a task to someone else",
        description="To a teammate who works with clients (an admin: anyone on the agency's "
        "client staff). The old and the new assignee both see it in the task's history; a "
        "snooze is lifted.",
        request=TaskReassignSerializer,
        responses=TASK_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str) -> Response:
        task: Task = self.get_object()
        serializer = TaskReassignSerializer(data=request.data, context=self._context())
        serializer.is_valid(raise_exception=True)
        try:
            task = services.task_reassign(
                task=task, by=self.user, to=serializer.validated_data["to"]
            )
        except TaskError as error:
            raise task_refusal(error, REASSIGN_FIELDS) from None
        return self._output(task)
