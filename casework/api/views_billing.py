"""The billing API: charges and claim batches of the caller's agency, for billing staff and admins.

Charges start from the clients the caller may see (casework.core.access); batches from the
caller's agency. Another agency's row is a 404. Writes go through casework.billing.services.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from casework.api import schema
from casework.api.outside import disclose_to_outside
from casework.api.serializers import IDEMPOTENCY_KEY_SHAPE
from casework.api.serializers_billing import (
    ChargeListQuerySerializer,
    ChargeSerializer,
    ChargeVoidSerializer,
    ClaimBatchCreateSerializer,
    ClaimBatchListQuerySerializer,
    ClaimBatchSerializer,
    ClaimCorrectionSerializer,
    ClaimLineSerializer,
)
from casework.api.views import AgencyViewSet
from casework.billing.models import Charge, ClaimBatch
from casework.billing.services import charges as charge_services
from casework.billing.services import claims as claim_services
from casework.coordination.models import Category
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.idempotency import submission_result

CHARGE_RESPONSES: dict[int, Any] = {
    200: ChargeSerializer,
    400: schema.BAD_REQUEST,
    **schema.OBJECT_ERRORS,
}
BATCH_IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A key you choose (up to 64 letters, digits and . _ : -), e.g. a UUID. "
    "Sending the same key again returns the batch made the first time (200) instead of "
    "claiming anything twice.",
)


class BillingAccess(BasePermission):
    """Charges and claim batches: billing staff and agency admins only."""

    message = "Your role does not include billing."

    def has_permission(self, request: Request, view: Any) -> bool:
        return access.may_bill(request.user)


class AnyAccept(BaseContentNegotiation):
    """The claim file is plain text whatever the caller accepts, and its errors JSON: never 406."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


def _billing_error(error: Exception) -> exceptions.ValidationError:
    return exceptions.ValidationError({"non_field_errors": [str(error)]})


class BillingViewSet(AgencyViewSet):
    """Base for the billing resources: billing staff and admins, moments in the agency's zone."""

    permission_classes = [IsAuthenticated, BillingAccess]

    def _context(self) -> dict[str, Any]:
        return {"agency": self.user.agency}


@extend_schema_view(
    list=extend_schema(
        summary="List charges",
        description="Charges made by signed notes, newest service first. Filter by status "
        "(held, ready, billed, void), payer, client and service dates. Billing staff and "
        "admins only. Each client shown is recorded in the audit log.",
        parameters=[ChargeListQuerySerializer],
        responses={200: ChargeSerializer(many=True), 400: schema.BAD_REQUEST, **schema.READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One charge",
        description="Reading it is recorded in the audit log.",
        responses={200: ChargeSerializer, **schema.OBJECT_ERRORS},
    ),
)
@extend_schema(tags=["charges"])
class ChargeViewSet(BillingViewSet):
    """Charges are made by signing notes, never by hand: here they are read, rechecked, voided
    or corrected with the payer."""

    disclosure_categories = (Category.DEMOGRAPHICS, Category.DIAGNOSES)

    serializer_class = ChargeSerializer
    queryset = Charge.objects.none()  # for the schema; get_queryset starts from the access layer

    def get_queryset(self) -> QuerySet[Charge]:
        return (
            Charge.objects.filter(
                agency_id=access.agency_id_of(self.user),
                client__in=access.visible_clients(self.user),
            )
            .select_related("service_code")
            .prefetch_related("claim_lines")
            .order_by("-service_date", "-id")
        )

    def _output(self, charge: Charge, status_code: int = status.HTTP_200_OK) -> Response:
        charge = self.get_queryset().get(pk=charge.pk)
        return Response(ChargeSerializer(charge, context=self._context()).data, status=status_code)

    def list(self, request: Request) -> Response:
        params = ChargeListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        charges = self.get_queryset()
        if "status" in filters:
            charges = charges.filter(status=filters["status"])
        if "payer" in filters:
            charges = charges.filter(payer_id=filters["payer"])
        if "client" in filters:
            charges = charges.filter(client_id=filters["client"])
        if "service_from" in filters:
            charges = charges.filter(service_date__gte=filters["service_from"])
        if "service_to" in filters:
            charges = charges.filter(service_date__lte=filters["service_to"])
        page = self.paginate_queryset(charges) or []
        disclose_to_outside(
            self.request,
            client_ids=list(dict.fromkeys(charge.client_id for charge in page)),
            categories=self.disclosure_categories,
            section="api charges",
        )
        audit_reads(
            actor=self.user,
            client_ids=list(dict.fromkeys(charge.client_id for charge in page)),
            section="api charges",
        )
        return self.get_paginated_response(
            ChargeSerializer(page, many=True, context=self._context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        charge = self.get_object()
        disclose_to_outside(
            self.request,
            client_ids=[charge.client_id],
            categories=self.disclosure_categories,
            section="api charge",
        )
        audit_reads(actor=self.user, client_ids=[charge.client_id], section="api charge")
        return Response(ChargeSerializer(charge, context=self._context()).data)

    @extend_schema(
        summary="Work a held charge out again",
        description="From today's facts (coverage, authorization, credentials …); it becomes "
        "ready when nothing holds it any more. Other charges are answered unchanged.",
        request=None,
        responses=CHARGE_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def recheck(self, request: Request, pk: str) -> Response:
        charge = self.get_object()
        try:
            charge = charge_services.charge_recheck(charge=charge, by=self.user)
        except charge_services.ChargeError as error:
            raise _billing_error(error) from None
        return self._output(charge)

    @extend_schema(
        summary="Void an unbilled charge",
        description="A charge already claimed needs a void claim to the payer instead "
        "(POST …/corrections/ with frequency 8).",
        request=ChargeVoidSerializer,
        responses=CHARGE_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str) -> Response:
        charge = self.get_object()
        serializer = ChargeVoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            charge = charge_services.charge_void(
                charge=charge, by=self.user, reason=serializer.validated_data["reason"]
            )
        except charge_services.ChargeError as error:
            raise _billing_error(error) from None
        return self._output(charge)

    @extend_schema(
        summary="Queue a replacement or void claim",
        description="For a charge already claimed: a replacement (7) or void (8) of the "
        "payer's claim, sent with the payer's next batch.",
        request=ClaimCorrectionSerializer,
        responses={201: ClaimLineSerializer, 400: schema.BAD_REQUEST, **schema.OBJECT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def corrections(self, request: Request, pk: str) -> Response:
        charge = self.get_object()
        serializer = ClaimCorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            line = charge_services.claim_correction_request(
                charge=charge,
                by=self.user,
                frequency=serializer.validated_data["frequency"],
                original_reference=serializer.validated_data["original_reference"],
            )
        except charge_services.ChargeError as error:
            raise _billing_error(error) from None
        return Response(
            ClaimLineSerializer(line, context=self._context()).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    list=extend_schema(
        summary="List claim batches",
        description="Generated 837P files of your agency, newest first (their facts; download "
        "a file from …/file/). Billing staff and admins only.",
        parameters=[ClaimBatchListQuerySerializer],
        responses={
            200: ClaimBatchSerializer(many=True),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One claim batch", responses={200: ClaimBatchSerializer, **schema.OBJECT_ERRORS}
    ),
    create=extend_schema(
        summary="Claim the ready charges of a payer",
        description="Every ready charge of the payer between the dates, plus replacements and "
        "voids queued for it, in one immutable 837P file. Send an `Idempotency-Key` so that "
        "a retried request cannot claim anything twice.",
        parameters=[BATCH_IDEMPOTENCY_HEADER],
        request=ClaimBatchCreateSerializer,
        responses={
            201: OpenApiResponse(ClaimBatchSerializer, description="Generated."),
            200: OpenApiResponse(
                ClaimBatchSerializer, description="Already generated with this Idempotency-Key."
            ),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
)
@extend_schema(tags=["claim batches"])
class ClaimBatchViewSet(BillingViewSet):
    """837P claim files: generated from ready charges, downloaded, marked submitted. Never changed."""

    serializer_class = ClaimBatchSerializer
    queryset = ClaimBatch.objects.none()  # for the schema; get_queryset starts from the agency

    def get_queryset(self) -> QuerySet[ClaimBatch]:
        # The file can be megabytes: it is read only by the download.
        return (
            ClaimBatch.objects.filter(agency_id=access.agency_id_of(self.user))
            .defer("content")
            .order_by("-created_at", "-id")
        )

    def list(self, request: Request) -> Response:
        params = ClaimBatchListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        batches = self.get_queryset()
        if "payer" in params.validated_data:
            batches = batches.filter(payer_id=params.validated_data["payer"])
        page = self.paginate_queryset(batches) or []
        return self.get_paginated_response(
            ClaimBatchSerializer(page, many=True, context=self._context()).data
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ClaimBatchSerializer(self.get_object(), context=self._context()).data)

    def create(self, request: Request) -> Response:
        sent_key = request.headers.get("Idempotency-Key")
        if sent_key is not None and not IDEMPOTENCY_KEY_SHAPE.match(sent_key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use up to 64 letters, digits and . _ : - (a UUID works)."]}
            )
        agency = self.user.agency
        assert agency is not None  # BillingAccess let only staff of an agency through
        serializer = ClaimBatchCreateSerializer(data=request.data, context={"agency": agency})
        serializer.is_valid(raise_exception=True)
        key = sent_key or ""
        earlier = submission_result(
            agency=agency, by=self.user, purpose=claim_services.BATCH_CREATE, key=key
        )
        try:
            batch = claim_services.claim_batch_create(
                agency=agency,
                by=self.user,
                request=claim_services.BatchRequest(
                    payer=serializer.validated_data["payer"],
                    service_from=serializer.validated_data["service_from"],
                    service_to=serializer.validated_data["service_to"],
                ),
                submission_key=key,
            )
        except claim_services.BatchError as error:
            raise _billing_error(error) from None
        code = status.HTTP_200_OK if earlier is not None else status.HTTP_201_CREATED
        return Response(ClaimBatchSerializer(batch, context=self._context()).data, status=code)

    @extend_schema(
        summary="Download the 837P file",
        description="The X12 file as text. It holds the data of every client claimed in it: "
        "each download is recorded in the audit log.",
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The X12 text."),
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=AnyAccept)
    def file(self, request: Request, pk: str) -> HttpResponse:
        batch = self.get_object()
        content = ClaimBatch.objects.values_list("content", flat=True).get(pk=batch.pk)
        claim_services.audit_batch_download(batch=batch, by=self.user)
        response = HttpResponse(content, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
        return response

    @extend_schema(
        summary="Mark the file as sent to the payer",
        description="Records when and by whom it was submitted (once; later calls change nothing).",
        request=None,
        responses={200: ClaimBatchSerializer, **schema.OBJECT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        batch = claim_services.claim_batch_mark_submitted(batch=self.get_object(), by=self.user)
        return Response(ClaimBatchSerializer(batch, context=self._context()).data)
