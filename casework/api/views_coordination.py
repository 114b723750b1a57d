"""Care coordination in the API (read-only): the directory, and each client's releases,
referrals, communications and documents.

The directory holds no client data: every member of the agency reads it, and so may an outside
organisation's system. The rest are records of a client's chart: found through the clients the
caller may see (anything else is a 404), readable by those who read narratives, audited as
chart reads, and, for an outside organisation's system, checked against the client's releases
and logged as disclosures (casework.api.outside). A document's content is a separate address;
a 42 CFR Part 2 document read by an outside system needs a Part 2 consent.
"""

from __future__ import annotations

import io
import os
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from casework.api import schema
from casework.api.outside import (
    addressed_to_the_reader,
    disclose_to_outside,
    outside_organization,
)
from casework.api.permissions import AgencyMember, ChartRecordAccess
from casework.api.refusals import DomainErrorsMixin, DomainRefusal
from casework.api.serializers import IDEMPOTENCY_KEY_SHAPE
from casework.api.serializers_coordination import (
    CommunicationCreateSerializer,
    CommunicationListQuerySerializer,
    CommunicationSerializer,
    ConsentListQuerySerializer,
    ConsentSerializer,
    DocumentListQuerySerializer,
    DocumentSerializer,
    OrganizationListQuerySerializer,
    OrganizationSerializer,
    ReferralListQuerySerializer,
    ReferralSerializer,
)
from casework.api.views import AgencyViewSet
from casework.api.views_billing import AnyAccept
from casework.coordination.disclosure import categories_shared
from casework.coordination.errors import CoordinationError, SubmissionReused
from casework.coordination.models import (
    Category,
    Communication,
    Consent,
    Document,
    Organization,
    OrganizationService,
    Referral,
)
from casework.coordination.services_communications import (
    COMMUNICATION_LOG,
    EntryError,
    NewCommunication,
    communication_log,
)
from casework.coordination.services_documents import document_with_notice
from casework.coordination.uploads import PDF
from casework.core import access
from casework.core.audit import Action, audit_reads, audit_record
from casework.core.idempotency import submission_result

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A key you choose (up to 64 letters, digits and . _ : -), e.g. a UUID. "
    "Sending the same key again returns the contact logged the first time (200).",
)
# The service's form-field names, as the API calls those fields.
FIELD_NAMES = {"occurred_on": "occurred_at", "person": "person_id"}

# The types an uploaded document can have (casework.coordination.uploads checks the content).
DOCUMENT_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/tiff",
    "image/gif",
)


class CoordinationAccess(ChartRecordAccess):
    records = "care coordination records"


class DirectoryAccess(AgencyMember):
    message = "Your role does not include the directory."

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.may_use_directory(request.user)


def _list_reads(
    request: Request, *, user: Any, client_ids: list[int], categories: tuple[str, ...], section: str
) -> None:
    disclose_to_outside(request, client_ids=client_ids, categories=categories, section=section)
    audit_reads(actor=user, client_ids=client_ids, section=f"api {section}")


def _clients_of(rows: list[Any]) -> list[int]:
    return list(dict.fromkeys(row.client_id for row in rows))


@extend_schema_view(
    list=extend_schema(
        summary="Search the directory",
        description="Active organisations of your agency's directory by name, service type and "
        "whether they accept referrals.",
        parameters=[OrganizationListQuerySerializer],
        responses={
            200: OrganizationSerializer(many=True),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One organisation of the directory",
        responses={200: OrganizationSerializer, **schema.OBJECT_ERRORS},
    ),
)
@extend_schema(tags=["coordination"])
class OrganizationViewSet(AgencyViewSet):
    """The agency's directory of providers and community resources."""

    serializer_class = OrganizationSerializer
    permission_classes = [IsAuthenticated, DirectoryAccess]
    queryset = Organization.objects.none()
    http_method_names = ["get", "head", "options"]
    outside_may_read = True  # the directory holds no client data

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.filter(
            agency_id=access.agency_id_of(self.user)
        ).prefetch_related(
            Prefetch("services", queryset=OrganizationService.objects.order_by("service_type"))
        )

    def list(self, request: Request) -> Response:
        params = OrganizationListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        organizations = self.get_queryset().filter(is_active=True)
        if filters.get("q"):
            organizations = organizations.filter(name__icontains=filters["q"])
        if "service_type" in filters:
            organizations = organizations.filter(services__service_type=filters["service_type"])
        if "accepting_referrals" in filters:
            organizations = organizations.filter(
                accepting_referrals=filters["accepting_referrals"] == "true"
            )
        page = list(self.paginate_queryset(organizations.order_by("name", "id")) or [])
        return self.get_paginated_response(OrganizationSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(OrganizationSerializer(self.get_object()).data)


class ClientRecordViewSet(AgencyViewSet):
    """Base of the read-only views of one kind of a client's coordination records."""

    permission_classes = [IsAuthenticated, CoordinationAccess]
    http_method_names = ["get", "head", "options"]
    section = ""

    def visible(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        return self.visible().filter(client__in=access.visible_clients(self.user))

    def filtered(self, rows: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
        if "client" in filters:
            rows = rows.filter(client_id=filters["client"])
        if "status" in filters:
            rows = rows.filter(status=filters["status"])
        return rows

    def context(self) -> dict[str, Any]:
        now = timezone.now()
        return {"now": now, "today": timezone.localdate(now, self.user.agency.tzinfo)}  # type: ignore[union-attr]

    def categories_of(self, rows: list[Any]) -> tuple[str, ...]:
        return self.disclosure_categories

    def list_rows(self, request: Request, query: type[Any]) -> Response:
        params = query(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = list(
            self.paginate_queryset(self.filtered(self.get_queryset(), params.validated_data)) or []
        )
        _list_reads(
            request,
            user=self.user,
            client_ids=_clients_of(page),
            categories=self.categories_of(page),
            section=self.section,
        )
        serializer = self.get_serializer_class()(page, many=True, context=self.context())
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        _list_reads(
            request,
            user=self.user,
            client_ids=[row.client_id],
            categories=self.categories_of([row]),
            section=f"{self.section} {row.pk}",
        )
        return Response(self.get_serializer_class()(row, context=self.context()).data)


def _reads(description: str, query: type[Any], serializer: type[Any]) -> dict[str, Any]:
    return {
        "list": extend_schema(
            summary=f"List {description}",
            description=f"{description.capitalize()} of the clients you may see, newest first. "
            "Recorded in the audit log as chart reads.",
            parameters=[query],
            responses={200: serializer(many=True), 400: schema.BAD_REQUEST, **schema.READ_ERRORS},
        ),
        "retrieve": extend_schema(
            summary=f"One of the {description}",
            responses={200: serializer, **schema.OBJECT_ERRORS},
        ),
    }


@extend_schema_view(
    **_reads("releases of information", ConsentListQuerySerializer, ConsentSerializer)
)
@extend_schema(tags=["coordination"])
class ConsentViewSet(ClientRecordViewSet):
    """Releases of information (HIPAA authorizations and 42 CFR Part 2 consents)."""

    serializer_class = ConsentSerializer
    queryset = Consent.objects.none()
    disclosure_categories = (Category.DEMOGRAPHICS,)
    section = "releases"

    def visible(self) -> QuerySet[Consent]:
        releases = Consent.objects.select_related("organization", "person")
        return addressed_to_the_reader(releases).order_by("-starts_on", "-id")

    def list(self, request: Request) -> Response:
        return self.list_rows(request, ConsentListQuerySerializer)


@extend_schema_view(**_reads("referrals", ReferralListQuerySerializer, ReferralSerializer))
@extend_schema(tags=["coordination"])
class ReferralViewSet(ClientRecordViewSet):
    """Referrals to outside resources and where each one stands."""

    serializer_class = ReferralSerializer
    queryset = Referral.objects.none()
    disclosure_categories = (Category.DEMOGRAPHICS, Category.NOTES)
    section = "referrals"

    def visible(self) -> QuerySet[Referral]:
        return Referral.objects.prefetch_related(
            Prefetch("packet_documents", queryset=Document.objects.only("id"))
        ).order_by("-created_at", "-id")

    def list(self, request: Request) -> Response:
        return self.list_rows(request, ReferralListQuerySerializer)


@extend_schema_view(
    **_reads("communications", CommunicationListQuerySerializer, CommunicationSerializer),
    create=extend_schema(
        summary="Log a contact about a client",
        description="A call, message, letter or meeting with someone about a client you may "
        "see (e.g. from a phone system): who (a directory person or organisation, or a name and "
        "role), when, how, what was discussed and what came of it. Send an `Idempotency-Key` "
        "so that a retry cannot log it twice.",
        parameters=[IDEMPOTENCY_HEADER],
        request=CommunicationCreateSerializer,
        responses={
            201: OpenApiResponse(CommunicationSerializer, description="Logged."),
            200: OpenApiResponse(
                CommunicationSerializer, description="Already logged with this Idempotency-Key."
            ),
            400: schema.DOMAIN_BAD_REQUEST,
            409: OpenApiResponse(
                schema.DOMAIN_ERROR_SCHEMA,
                description="This Idempotency-Key was already used to log a contact about "
                "another client.",
            ),
            **schema.READ_ERRORS,
        },
    ),
)
@extend_schema(tags=["coordination"])
class CommunicationViewSet(DomainErrorsMixin, ClientRecordViewSet):
    """Calls, messages, letters and meetings with people about a client."""

    serializer_class = CommunicationSerializer
    queryset = Communication.objects.none()
    disclosure_categories = (Category.NOTES,)
    section = "communications"
    http_method_names = ["get", "post", "head", "options"]

    def create(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY_SHAPE.match(key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use up to 64 letters, digits and . _ : - (a UUID works)."]}
            )
        serializer = CommunicationCreateSerializer(
            data=request.data, context={"user": self.user, "agency": self.user.agency}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client = data["client_id"]
        earlier = submission_result(
            agency=client.agency, by=self.user, purpose=COMMUNICATION_LOG, key=key or ""
        )
        entry = NewCommunication(
            occurred_at=data["occurred_at"],
            channel=data["channel"],
            summary=data["summary"],
            direction=data.get("direction", Communication.Direction.OUTGOING),
            organization=data.get("organization_id"),
            person=data.get("person_id"),
            with_name=data.get("with_name", ""),
            with_role=data.get("with_role", ""),
            minutes=data.get("minutes"),
            outcome=data.get("outcome", ""),
        )
        try:
            logged = communication_log(
                client=client, by=self.user, entry=entry, submission_key=key or ""
            )
        except EntryError as error:
            raise DomainRefusal(
                str(error), FIELD_NAMES.get(error.field or "", error.field)
            ) from None
        except SubmissionReused as error:
            raise DomainRefusal(
                str(error), "Idempotency-Key", code=status.HTTP_409_CONFLICT
            ) from None
        except CoordinationError as error:
            raise exceptions.PermissionDenied(str(error)) from None
        code = status.HTTP_200_OK if earlier is not None else status.HTTP_201_CREATED
        return Response(CommunicationSerializer(logged).data, status=code)

    def visible(self) -> QuerySet[Communication]:
        return Communication.objects.select_related("organization", "person").order_by(
            "-occurred_at", "-id"
        )

    def list(self, request: Request) -> Response:
        return self.list_rows(request, CommunicationListQuerySerializer)


@extend_schema_view(**_reads("documents", DocumentListQuerySerializer, DocumentSerializer))
@extend_schema(tags=["coordination"])
class DocumentViewSet(ClientRecordViewSet):
    """Documents in the clients' charts (what they are; the file is at …/content/)."""

    serializer_class = DocumentSerializer
    queryset = Document.objects.none()
    disclosure_categories = (Category.DOCUMENTS,)
    section = "documents"

    def visible(self) -> QuerySet[Document]:
        return Document.objects.filter(removed_at__isnull=True).order_by("-dated_on", "-id")

    def categories_of(self, rows: list[Any]) -> tuple[str, ...]:
        if any(row.part2 for row in rows):
            return (Category.DOCUMENTS, Category.SUBSTANCE_USE)
        return (Category.DOCUMENTS,)

    def list(self, request: Request) -> Response:
        return self.list_rows(request, DocumentListQuerySerializer)

    @extend_schema(
        summary="The document's file",
        description="The file as uploaded, with its type. Recorded in the audit log; for an "
        "outside organisation's system, a disclosure (a Part 2 document needs a Part 2 consent). "
        "A Part 2 program's document is opened by the program's staff only: 403 for others.",
        responses={
            **{
                (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")
                for media_type in DOCUMENT_TYPES
            },
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def content(self, request: Request, pk: str) -> FileResponse:
        document: Document = self.get_object()
        if withheld := access.part2_document_withheld(self.user, document):
            raise exceptions.PermissionDenied(withheld)
        disclose_to_outside(
            request,
            client_ids=[document.client_id],
            categories=self.categories_of([document]),
            section=f"document {document.pk} content",
        )
        audit_record(
            actor=self.user,
            action=Action.EXPORT,
            obj=document,
            client_id=document.client_id,
            detail={"via": "api"},
        )
        reader = outside_organization(request)
        shared = categories_shared(
            client=document.client, categories=self.categories_of([document])
        )
        if reader is not None and Category.SUBSTANCE_USE in shared:
            # A Part 2 record leaves with the 42 CFR 2.32 notice in front of it, as on the web.
            pdf = document_with_notice(
                document=document, recipient=reader.name, on=document.client.agency.today()
            )
            stem = os.path.splitext(document.original_name)[0]
            response = FileResponse(
                io.BytesIO(pdf), as_attachment=True, filename=f"{stem}.pdf", content_type=PDF
            )
        else:
            response = FileResponse(
                document.file.open("rb"),
                as_attachment=True,
                filename=document.original_name,
                content_type=document.content_type,
            )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
