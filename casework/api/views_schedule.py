"""The appointments API: the schedule of the caller, of the staff they supervise, and of the
clients they may see.

Reads start from casework.schedule.selectors, so an appointment outside the caller's scope is a
404; an appointment names only the clients the caller may see, and each client named is
recorded in the audit log. Writes go through casework.schedule.services: an overlap with
another appointment of the same person or car/room answers 409 with the appointments in the
way (send `confirm_conflicts: true` to book anyway); what the person should know but may go
ahead with comes back as `warnings`. A change takes If-Match (the appointment's version); one
that was changed elsewhere since answers 412. An appointment with an outcome cannot be moved
(409). Only the staff member, their supervisor or an admin changes an appointment (403 for
others who see it through a shared client).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
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
from casework.api.outside import disclose_to_outside
from casework.api.refusals import DomainErrorsMixin, DomainRefusal, Stale, expected_version
from casework.api.serializers import IDEMPOTENCY_KEY_SHAPE
from casework.api.serializers_schedule import (
    AppointmentListQuerySerializer,
    AppointmentSerializer,
    AppointmentWriteSerializer,
    ConflictRefusalSerializer,
    OutcomeResultSerializer,
    OutcomeSerializer,
)
from casework.api.views import AgencyViewSet
from casework.clients.models import Client
from casework.coordination.models import Category
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.idempotency import submission_result
from casework.core.models import User
from casework.schedule import outcomes, selectors, services
from casework.schedule.models import Appointment, TravelLeg
from casework.schedule.services import (
    AppointmentInput,
    ScheduleConflict,
    ScheduleError,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A key you choose (up to 64 letters, digits and . _ : -), e.g. a UUID. "
    "Sending the same key again returns the appointment booked the first time (200) instead "
    "of a copy.",
)
IF_MATCH_HEADER = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    description='The ETag of the appointment as you last read it (its version, e.g. "3"); if '
    "it was changed since (an outcome recorded, a colleague moved it), 412 and nothing saved.",
)
CONFLICT = OpenApiResponse(
    ConflictRefusalSerializer,
    description="It overlaps other appointments of the same person or car/room (listed in "
    "`conflicts`; send confirm_conflicts: true to book anyway), or the appointment has an "
    "outcome and cannot be moved or changed that way (`conflicts` empty).",
)
# The services' field names, as the API calls those fields.
FIELD_NAMES = {"staff": "staff_id", "clients": "client_ids", "resource": "resource_id"}


class AppointmentAccess(BasePermission):
    """Case managers, supervisors and admins keep schedules; billing and auditors do not."""

    message = "Your role does not keep a schedule."

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.may_edit_chart(request.user)  # type: ignore[arg-type]


def may_change(user: User, appointment: Appointment) -> bool:
    """The staff member's own; a supervisor's team's; an admin's whole agency (as the services
    decide; checked first so that someone who sees it through a client gets 403, not 400)."""
    return access.may_act_for(user, appointment.staff_id)


def schedule_refusal(error: ScheduleError) -> DomainRefusal:
    field = FIELD_NAMES.get(error.field or "", error.field)
    return DomainRefusal(str(error), field)


def conflict_response(error: ScheduleConflict | DomainRefusal, agency: Any) -> Response:
    """409: the clashes in the way (their clients are not named), or a locked appointment."""
    clashes = getattr(error, "conflicts", [])
    data = {
        "detail": str(error.detail if isinstance(error, DomainRefusal) else error),
        "field": FIELD_NAMES.get(error.field or "", error.field),
        "conflicts": [
            {
                "appointment_id": c.appointment.pk,
                "staff_id": c.appointment.staff_id,
                "start_at": c.appointment.start_at,
                "end_at": c.appointment.end_at,
                "kind": c.kind,
                "reason": c.reason,
            }
            for c in clashes
        ],
    }
    return Response(
        ConflictRefusalSerializer(data, context={"agency": agency}).data,
        status=status.HTTP_409_CONFLICT,
    )


def _legs() -> Prefetch[Any]:
    return Prefetch("legs", queryset=TravelLeg.objects.order_by("position", "id"))


def _clients() -> Prefetch[Any]:
    return Prefetch("clients", queryset=Client.objects.order_by("id"))


def _day_start(day: datetime.date, tz: Any) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=tz)


@extend_schema_view(
    list=extend_schema(
        summary="List appointments",
        description="Yours, those of the staff you supervise (an admin: the agency's) and those "
        "of the clients you may see, earliest first. Each client named is recorded in the "
        "audit log.",
        parameters=[AppointmentListQuerySerializer],
        responses={
            200: AppointmentSerializer(many=True),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One appointment",
        description="The ETag header is its version, for If-Match. Each client named is "
        "recorded in the audit log.",
        responses={200: AppointmentSerializer, **schema.OBJECT_ERRORS},
    ),
    create=extend_schema(
        summary="Book an appointment",
        description="For you, or (a supervisor) someone on your team, or (an admin) anyone. "
        "With `rule` it repeats, and the answer is its first occurrence. An overlap answers "
        "409 with the appointments in the way unless `confirm_conflicts` is true; `warnings` "
        "say what you may go ahead with but should know. Send an `Idempotency-Key` so that a "
        "retried request cannot book twice.",
        parameters=[IDEMPOTENCY_HEADER],
        request=AppointmentWriteSerializer,
        responses={
            201: OpenApiResponse(AppointmentSerializer, description="Booked."),
            200: OpenApiResponse(
                AppointmentSerializer, description="Booked earlier with this key."
            ),
            400: schema.DOMAIN_BAD_REQUEST,
            409: CONFLICT,
            **schema.READ_ERRORS,
        },
    ),
    partial_update=extend_schema(
        summary="Change an appointment",
        description="Only the fields sent change. For a repeating appointment, `scope` "
        "`following` changes this one and the later ones (a new series from here); otherwise "
        "this one alone changes and leaves the series. A move that overlaps answers 409 "
        "unless `confirm_conflicts` is true. An appointment with an outcome keeps its time, "
        "kind, staff and clients (409).",
        request=AppointmentWriteSerializer,
        parameters=[IF_MATCH_HEADER],
        responses={
            200: AppointmentSerializer,
            400: schema.DOMAIN_BAD_REQUEST,
            409: CONFLICT,
            412: schema.PRECONDITION_FAILED,
            **schema.OBJECT_ERRORS,
        },
    ),
)
@extend_schema(tags=["appointments"])
class AppointmentViewSet(DomainErrorsMixin, AgencyViewSet):
    """Appointments: booking (once or repeating), changing, and recording what happened."""

    # Its purpose and who the client sees there are about their care, not just who they are.
    disclosure_categories = (Category.DEMOGRAPHICS, Category.NOTES)

    serializer_class = AppointmentSerializer
    permission_classes = [IsAuthenticated, AppointmentAccess]
    queryset = Appointment.objects.none()  # for the schema; get_queryset starts from selectors
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Appointment]:
        return (
            selectors.appointments_visible(self.user)
            .prefetch_related(_clients(), _legs())
            .order_by("start_at", "id")
        )

    def get_object(self) -> Appointment:
        pk = str(self.kwargs["pk"])
        if not pk.isascii() or not pk.isdigit() or len(pk) > 18:
            raise exceptions.NotFound("No such appointment.")
        found = self.get_queryset().filter(pk=int(pk)).first()
        if found is None:
            raise exceptions.NotFound("No such appointment.")
        return found

    @property
    def _tz(self) -> Any:
        assert self.user.agency is not None  # AppointmentAccess let only agency staff through
        return self.user.agency.tzinfo

    def _shown(
        self, appointments: list[Appointment], section: str, *, audit: bool = True
    ) -> set[int]:
        """The clients of these appointments the caller may see, recorded as read unless the
        caller has just written them (the write is audited) (one query and one audit batch)."""
        every = {c.pk for a in appointments for c in a.clients.all()}
        visible = (
            set(access.visible_clients(self.user).filter(pk__in=every).values_list("pk", flat=True))
            if every
            else set()
        )
        if audit:
            disclose_to_outside(
                self.request,
                client_ids=sorted(visible),
                categories=self.disclosure_categories,
                section=section,
            )
            audit_reads(actor=self.user, client_ids=sorted(visible), section=section)
        return visible

    def _output(
        self,
        appointment: Appointment,
        status_code: int = status.HTTP_200_OK,
        warnings: list[str] | None = None,
        *,
        written: bool = True,
    ) -> Response:
        """The appointment as it is now, its version as the ETag."""
        appointment = (
            Appointment.objects.prefetch_related(_clients(), _legs())
            .filter(pk=appointment.pk)
            .get()
        )
        visible = self._shown([appointment], f"api appointment {appointment.pk}", audit=not written)
        context = {"agency": self.user.agency, "visible": visible, "warnings": warnings or []}
        return Response(
            AppointmentSerializer(appointment, context=context).data,
            status=status_code,
            headers={"ETag": f'"{appointment.version}"'},
        )

    def _may_change(self, appointment: Appointment) -> None:
        if not may_change(self.user, appointment):
            raise exceptions.PermissionDenied(
                "You can change your own appointments; a supervisor or an admin changes others'."
            )

    def list(self, request: Request) -> Response:
        params = AppointmentListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        appointments = self.get_queryset()
        if "staff" in filters:
            appointments = appointments.filter(staff_id=filters["staff"])
        if "client" in filters:
            appointments = appointments.filter(clients__id=filters["client"])
        if "start" in filters:
            appointments = appointments.filter(start_at__gte=_day_start(filters["start"], self._tz))
        if "end" in filters:
            after = filters["end"] + datetime.timedelta(days=1)
            appointments = appointments.filter(start_at__lt=_day_start(after, self._tz))
        if "status" in filters:
            appointments = appointments.filter(status=filters["status"])
        page = list(self.paginate_queryset(appointments) or [])
        visible = self._shown(page, "api appointments")
        context = {"agency": self.user.agency, "visible": visible}
        return self.get_paginated_response(
            AppointmentSerializer(page, many=True, context=context).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        visible = self._shown([appointment], f"api appointment {appointment.pk}")
        context = {"agency": self.user.agency, "visible": visible}
        return Response(
            AppointmentSerializer(appointment, context=context).data,
            headers={"ETag": f'"{appointment.version}"'},
        )

    @staticmethod
    def _input(data: dict[str, Any], user: User, current: Appointment | None) -> AppointmentInput:
        """The appointment as it should be: what was sent, the rest as it is now."""

        def value(name: str, now: Any, default: Any = "") -> Any:
            if name in data:
                return data[name]
            return now if current is not None else default

        return AppointmentInput(
            kind=value("kind", current and current.kind),
            staff=value("staff_id", current and current.staff, user),
            clients=value("client_ids", current and list(current.clients.all()), []),
            start_at=value("start_at", current and current.start_at),
            end_at=value("end_at", current and current.end_at),
            place_type=value("place_type", current and current.place_type),
            place=value("place", current and current.place),
            purpose=value("purpose", current and current.purpose),
            resource=value("resource_id", current and current.resource, None),
            external_with=value("external_with", current and current.external_with),
            external_place=value("external_place", current and current.external_place),
            external_start_at=value(
                "external_start_at", current and current.external_start_at, None
            ),
            external_end_at=value("external_end_at", current and current.external_end_at, None),
            legs=value(
                "legs",
                current and [(leg.purpose, leg.miles) for leg in current.legs.all()],
                [],
            ),
        )

    def create(self, request: Request) -> Response:
        sent_key = request.headers.get("Idempotency-Key")
        if sent_key is not None and not IDEMPOTENCY_KEY_SHAPE.match(sent_key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use up to 64 letters, digits and . _ : - (a UUID works)."]}
            )
        serializer = AppointmentWriteSerializer(
            data=request.data, context={"user": self.user, "creating": True}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        agency = self.user.agency
        assert agency is not None
        earlier_id = submission_result(
            agency=agency, by=self.user, purpose=services.APPOINTMENT_CREATE, key=sent_key or ""
        )
        if earlier_id is not None:
            earlier = self.get_queryset().filter(pk=earlier_id).first()
            if earlier is None:
                raise exceptions.ValidationError(
                    {
                        "Idempotency-Key": [
                            "The appointment booked with this key is no longer yours to see; "
                            "send a new key to book another."
                        ]
                    }
                )
            return self._output(earlier, written=False)
        wanted = self._input(data, self.user, None)
        try:
            appointment = services.appointment_create(
                data=wanted,
                by=self.user,
                rule=data.get("rule", ""),
                skip_holidays=data.get("skip_holidays", True),
                confirm_conflicts=data.get("confirm_conflicts", False),
                submission_key=sent_key or "",
            )
        except ScheduleConflict as clash:
            return conflict_response(clash, agency)
        except ScheduleError as error:
            raise schedule_refusal(error) from None
        warnings = services.appointment_warnings(data=wanted)
        return self._output(appointment, status.HTTP_201_CREATED, warnings)

    def partial_update(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        self._may_change(appointment)
        expected = expected_version(request, appointment.version)
        if expected != appointment.version:
            raise Stale()
        serializer = AppointmentWriteSerializer(
            data=request.data, partial=True, context={"user": self.user, "creating": False}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        wanted = self._input(data, self.user, appointment)
        try:
            saved = services.appointment_update(
                appointment=appointment,
                data=wanted,
                by=self.user,
                expected_version=expected,
                scope=data.get("scope", "this"),
                confirm_conflicts=data.get("confirm_conflicts", False),
                rule=data.get("rule"),
            )
        except ScheduleConflict as clash:
            return conflict_response(clash, self.user.agency)
        except ScheduleError as error:
            now = Appointment.objects.get(pk=appointment.pk)
            if now.version != expected:
                raise Stale() from None
            if now.has_outcome and error.field is None:
                return conflict_response(schedule_refusal(error), self.user.agency)
            raise schedule_refusal(error) from None
        warnings = (
            services.appointment_warnings(data=wanted)
            if saved.status == Appointment.Status.SCHEDULED
            else []
        )
        return self._output(saved, warnings=warnings)

    @extend_schema(
        summary="Record what happened",
        description="attended, no_show or cancelled (with cancelled_by). A no-show, or a "
        "cancellation by the client, makes one follow-up task for the staff member and one "
        "note per client documenting it; their ids come back. The same outcome twice changes "
        "nothing. Attended and no-show can be swapped while no note about it is signed; any "
        "other change answers 409.",
        request=OutcomeSerializer,
        responses={
            200: OutcomeResultSerializer,
            400: schema.DOMAIN_BAD_REQUEST,
            409: CONFLICT,
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        self._may_change(appointment)
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["status"] == Appointment.Status.CANCELLED and "cancelled_by" not in data:
            raise DomainRefusal("Say who cancelled: client or staff.", "cancelled_by")
        try:
            result = outcomes.appointment_outcome(
                appointment=appointment,
                by=self.user,
                status=data["status"],
                cancelled_by=data.get("cancelled_by", ""),
                reason=data.get("reason", ""),
            )
        except ScheduleError as error:
            # The input was checked above: what is left is the appointment's state.
            now = Appointment.objects.get(pk=appointment.pk)
            if now.has_outcome:
                return conflict_response(schedule_refusal(error), self.user.agency)
            raise schedule_refusal(error) from None
        saved = (
            Appointment.objects.prefetch_related(_clients(), _legs())
            .filter(pk=result.appointment.pk)
            .get()
        )
        visible = self._shown([saved], f"api appointment {saved.pk}", audit=False)
        context = {"agency": self.user.agency, "visible": visible}
        body = {
            "appointment": saved,
            "task_id": result.task.pk if result.task is not None else None,
            "note_ids": [note.pk for note in result.notes],
        }
        return Response(
            OutcomeResultSerializer(body, context=context).data,
            headers={"ETag": f'"{saved.version}"'},
        )
