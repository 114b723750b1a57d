"""The API's viewsets: clients, staff and programs of the caller's agency.

Every queryset starts from casework.core.access, so a row outside the caller's scope is a 404.
Writes go through casework.clients.services, which validate, audit and keep the timeline.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from casework.api import schema
from casework.api.outside import OutsideSystemsReadReleasedRecordsOnly, disclose_to_outside
from casework.api.pagination import StrictLimitOffsetPagination
from casework.api.permissions import AgencyMember, ClientRegistryAccess
from casework.api.serializers import (
    IDEMPOTENCY_KEY_SHAPE,
    ClientCreateSerializer,
    ClientListQuerySerializer,
    ClientSerializer,
    ClientUpdateSerializer,
    ProgramSerializer,
    StaffSerializer,
    drf_error,
)
from casework.clients import selectors, services
from casework.clients.models import CareTeamMember, Client
from casework.coordination.models import Category
from casework.core import access
from casework.core.audit import Action, audit_reads, audit_record
from casework.core.models import Program, TeamMembership, User

# A search returns its best matches, not the whole registry; page through at most this many.
API_SEARCH_LIMIT = 200

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A key you choose (up to 64 letters, digits and . _ : -), e.g. a UUID. "
    "Sending the same key again returns the client made the first time (200) instead of a copy.",
)
IF_MATCH_HEADER = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    description="The ETag of the client as you last read it; a newer save by someone else answers 412.",
)
UPDATE_RESPONSES = {
    200: ClientSerializer,
    400: schema.BAD_REQUEST,
    412: schema.BAD_REQUEST,
    **schema.OBJECT_ERRORS,
}


class AgencyApiThrottle(UserRateThrottle):
    """The per-user rate from settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"])."""


class AgencyViewSet(viewsets.GenericViewSet[Any]):
    """Base for the agency API: token or verified-session auth, JSON bodies, per-user throttle."""

    throttle_classes = [AgencyApiThrottle]
    parser_classes = [JSONParser]
    pagination_class = StrictLimitOffsetPagination
    # Any id reaches the view, so a malformed one is a JSON 404 rather than Django's HTML page.
    lookup_value_regex = r"[^/]+"

    # What a read reveals about the clients it names; an outside organisation's system may
    # read only viewsets that say (casework.api.outside).
    disclosure_categories: tuple[str, ...] = ()

    @property
    def user(self) -> User:
        return cast(User, self.request.user)

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        gate = OutsideSystemsReadReleasedRecordsOnly()
        if not gate.has_permission(request, self):
            self.permission_denied(request, message=gate.message)


def _primary_assignments(today: Any) -> Prefetch[Any]:
    return Prefetch(
        "care_team",
        queryset=CareTeamMember.objects.filter(
            CareTeamMember.active_on(today), role=CareTeamMember.Role.PRIMARY
        ).order_by("start_on", "id"),
        to_attr="primary_assignments",
    )


@extend_schema_view(
    list=extend_schema(
        summary="List or search clients",
        description="Clients you may see (your teams' caseloads; the whole agency for admins and "
        "billing). Without `q`, active clients by name. With `q`, the best matches "
        f"(at most {API_SEARCH_LIMIT}), best first. Auditors get 403: they read the audit log only.",
        parameters=[ClientListQuerySerializer],
        responses={200: ClientSerializer(many=True), 400: schema.BAD_REQUEST, **schema.READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One client",
        description="Reading a chart is recorded in the audit log.",
        responses={200: ClientSerializer, **schema.OBJECT_ERRORS},
    ),
    create=extend_schema(
        summary="Register a client",
        description="Registers the client with you as primary case manager (if you are a case "
        "manager). Send an `Idempotency-Key` so that a retried request cannot make a copy.",
        parameters=[IDEMPOTENCY_HEADER],
        request=ClientCreateSerializer,
        responses={
            201: OpenApiResponse(ClientSerializer, description="Registered."),
            200: OpenApiResponse(
                ClientSerializer, description="Already registered with this Idempotency-Key."
            ),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    update=extend_schema(
        summary="Change a client's demographics and status",
        request=ClientUpdateSerializer,
        parameters=[IF_MATCH_HEADER],
        responses=UPDATE_RESPONSES,
    ),
    partial_update=extend_schema(
        summary="Change some of a client's demographics or status",
        request=ClientUpdateSerializer,
        parameters=[IF_MATCH_HEADER],
        responses=UPDATE_RESPONSES,
    ),
)
@extend_schema(tags=["clients"])
class ClientViewSet(AgencyViewSet):
    """Clients of the caller's agency, limited to what the caller may see. No DELETE: charts are kept."""

    serializer_class = ClientSerializer
    disclosure_categories = (Category.DEMOGRAPHICS,)
    permission_classes = [IsAuthenticated, ClientRegistryAccess]
    queryset = Client.objects.none()  # for the schema; get_queryset starts from the access layer

    def get_queryset(self) -> QuerySet[Client]:
        today = self.user.agency.today()  # type: ignore[union-attr]  # permission checked the agency
        return (
            access.visible_clients(self.user)
            .prefetch_related("identifiers", _primary_assignments(today))
            .order_by("legal_last_name", "legal_first_name", "id")
        )

    def _output(self, client: Client, status_code: int = status.HTTP_200_OK) -> Response:
        # The ETag is the record's version: send it back as If-Match to refuse overwriting a newer save.
        headers = {"ETag": f'"{services.client_version(client)}"'}
        return Response(ClientSerializer(client).data, status=status_code, headers=headers)

    def _reloaded(self, client: Client) -> Client:
        """The client with what the output shows, even when the caller cannot list it."""
        today = self.user.agency.today()  # type: ignore[union-attr]
        prefetch_related_objects([client], "identifiers", _primary_assignments(today))
        return client

    def list(self, request: Request) -> Response:
        params = ClientListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query: str = params.validated_data.get("q", "").strip()
        include_inactive: bool = params.validated_data["include_inactive"]
        if query:
            result = selectors.client_search(
                user=self.user,
                query=query,
                include_inactive=include_inactive,
                limit=API_SEARCH_LIMIT,
            )
            audit_record(
                actor=self.user,
                action=Action.SEARCH,
                object_type="clients.client",
                detail={"results": len(result.clients), "via": "api"},
            )
            page = self.paginate_queryset(result.clients)  # type: ignore[arg-type]  # lists paginate too
            prefetch_related_objects(page or [], "identifiers")
        else:
            clients = self.get_queryset().exclude(status=Client.Status.MERGED)
            if not include_inactive:
                clients = clients.filter(status=Client.Status.ACTIVE)
            page = self.paginate_queryset(clients)
        disclose_to_outside(
            request,
            client_ids=[c.pk for c in page or []],
            categories=self.disclosure_categories,
            section="clients",
        )
        audit_reads(actor=self.user, client_ids=[c.pk for c in page or []], section="api list")
        return self.get_paginated_response(ClientSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        client = self.get_object()
        disclose_to_outside(
            request, client_ids=[client.pk], categories=self.disclosure_categories, section="client"
        )
        services.audit_chart_read(user=self.user, client=client, what="api")
        return self._output(client)

    def create(self, request: Request) -> Response:
        sent_key = request.headers.get("Idempotency-Key")
        key = sent_key or ""
        if sent_key is not None and not IDEMPOTENCY_KEY_SHAPE.match(sent_key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use up to 64 letters, digits and . _ : - (a UUID works)."]}
            )
        agency = self.user.agency
        serializer = ClientCreateSerializer(data=request.data, context={"agency": agency})
        serializer.is_valid(raise_exception=True)
        try:
            registration = services.client_create(
                by=self.user,
                data=serializer.demographics(),
                identifiers=serializer.identifiers(),
                primary_case_manager=serializer.validated_data.get("primary_case_manager_id"),
                submission_key=key,
            )
        except DjangoValidationError as error:
            raise drf_error(error) from None
        except services.ClientError as error:
            raise exceptions.PermissionDenied(str(error)) from None
        code = status.HTTP_201_CREATED if registration.created else status.HTTP_200_OK
        return self._output(self._reloaded(registration.client), code)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        client = self.get_object()
        if client.status == Client.Status.MERGED:
            raise exceptions.ValidationError(
                {"non_field_errors": ["This record was merged into another; change that one."]}
            )
        serializer = ClientUpdateSerializer(
            data=request.data, partial=partial, context={"agency": client.agency}
        )
        serializer.is_valid(raise_exception=True)
        expected = request.headers.get("If-Match", "").strip().strip('"')
        try:
            client = services.client_update(
                client=client,
                by=self.user,
                data=dict(serializer.validated_data),
                expected_version=expected,
            )
        except DjangoValidationError as error:
            raise drf_error(error) from None
        except services.StaleEdit as error:
            return Response({"detail": str(error)}, status=status.HTTP_412_PRECONDITION_FAILED)
        except services.ClientError as error:
            raise exceptions.PermissionDenied(str(error)) from None
        return self._output(self._reloaded(client))

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)


@extend_schema_view(
    list=extend_schema(
        summary="Staff of your agency",
        responses={200: StaffSerializer(many=True), 400: schema.BAD_REQUEST, **schema.READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One staff member", responses={200: StaffSerializer, **schema.OBJECT_ERRORS}
    ),
)
@extend_schema(tags=["staff"])
class StaffViewSet(AgencyViewSet, viewsets.ReadOnlyModelViewSet[User]):
    serializer_class = StaffSerializer
    permission_classes = [IsAuthenticated, AgencyMember]
    queryset = User.objects.none()

    def get_queryset(self) -> QuerySet[User]:
        return (
            access.staff_in_agency(self.user)
            .prefetch_related(
                "role_rows",
                Prefetch(
                    "team_memberships",
                    queryset=TeamMembership.objects.filter(team__is_active=True),
                ),
            )
            .order_by("last_name", "first_name", "id")
        )


@extend_schema_view(
    list=extend_schema(
        summary="Programs of your agency",
        responses={
            200: ProgramSerializer(many=True),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One program", responses={200: ProgramSerializer, **schema.OBJECT_ERRORS}
    ),
)
@extend_schema(tags=["programs"])
class ProgramViewSet(AgencyViewSet, viewsets.ReadOnlyModelViewSet[Program]):
    serializer_class = ProgramSerializer
    permission_classes = [IsAuthenticated, AgencyMember]
    queryset = Program.objects.none()

    def get_queryset(self) -> QuerySet[Program]:
        return Program.objects.filter(agency_id=access.agency_id_of(self.user)).order_by(
            "name", "id"
        )
