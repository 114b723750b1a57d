"""The instruments and assessments API.

Instruments are the shipped instrument files, read-only, for anyone on an agency's staff.
Assessments start from casework.assessments.selectors.assessments_visible (clients the caller
may see; drafts only to their author), so anything else is a 404. Reading them needs the right
to read narratives, as the pages do; writing needs the right to write notes. Writes go through
casework.assessments.services; every read of an assessment is a chart read and is audited.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
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
from casework.api.outside import disclose_to_outside
from casework.api.permissions import AgencyMember, AssessmentAccess
from casework.api.refusals import DomainErrorsMixin, DomainRefusal, Stale, expected_version
from casework.api.serializers import IDEMPOTENCY_KEY_SHAPE
from casework.api.serializers_assessments import (
    AssessmentAddendumCreateSerializer,
    AssessmentAddendumSerializer,
    AssessmentCreateSerializer,
    AssessmentListQuerySerializer,
    AssessmentSerializer,
    AssessmentUpdateSerializer,
    InstrumentSerializer,
    answers_checked,
)
from casework.api.views import AgencyViewSet
from casework.assessments import selectors, services
from casework.assessments.instruments import Instrument, instruments
from casework.assessments.models import Assessment
from casework.assessments.services import AssessmentError
from casework.clients.services import audit_chart_read
from casework.coordination.models import Category
from casework.core.audit import audit_reads
from casework.core.idempotency import submission_claim, submission_complete

# Idempotency purpose of an assessment started through the API.
ASSESSMENT_CREATE = "api_assessment_create"

IDEMPOTENCY_HEADER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A key you choose (up to 64 letters, digits and . _ : -), e.g. a UUID. Sending "
    "the same key again returns the assessment started the first time (200) instead of a copy.",
)
IF_MATCH_HEADER = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    description='The ETag of the assessment as you last read it (its version, e.g. "3"); a '
    "newer save from elsewhere answers 412 and nothing is saved.",
)
WRITE_RESPONSES: dict[int, Any] = {
    200: AssessmentSerializer,
    400: schema.DOMAIN_BAD_REQUEST,
    **schema.OBJECT_ERRORS,
}


def assessment_refusal(error: AssessmentError, instrument_items: list[str]) -> DomainRefusal:
    """An AssessmentError as a 400; an item key as field becomes "answers.<key>"."""
    field = error.field
    if field is not None and field in instrument_items:
        field = f"answers.{field}"
    return DomainRefusal(str(error), field)


def instrument_of(assessment: Assessment) -> Instrument:
    try:
        return services.instrument_of(assessment)
    except AssessmentError as error:
        raise DomainRefusal(str(error)) from None


@extend_schema_view(
    list=extend_schema(
        summary="List instruments",
        description="Every instrument the agency can give, with its items, answer options (and "
        "what each scores), bands and flags. The same files the pages use.",
        responses={
            200: InstrumentSerializer(many=True),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One instrument",
        parameters=[
            OpenApiParameter(
                "id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Its key, e.g. phq9."
            )
        ],
        responses={200: InstrumentSerializer, **schema.OBJECT_ERRORS},
    ),
)
@extend_schema(tags=["assessments"])
class InstrumentViewSet(AgencyViewSet):
    """Instrument definitions (read-only): anyone on an agency's staff may read them."""

    serializer_class = InstrumentSerializer
    permission_classes = [IsAuthenticated, AgencyMember]
    pagination_class = None  # type: ignore[assignment]  # a handful of instruments: one page

    def list(self, request: Request) -> Response:
        return Response(InstrumentSerializer(list(instruments().values()), many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        instrument = instruments().get(pk)
        if instrument is None:
            raise exceptions.NotFound("No instrument has this key.")
        return Response(InstrumentSerializer(instrument).data)


@extend_schema_view(
    list=extend_schema(
        summary="List assessments",
        description="Assessments of clients you may see, latest first: signed ones and your own "
        "drafts. Roles that may not read narratives (auditors; billing, unless the agency "
        "allows it) get 403. Each client shown is recorded in the audit log.",
        parameters=[AssessmentListQuerySerializer],
        responses={
            200: AssessmentSerializer(many=True),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One assessment",
        description="The ETag header is the assessment's version, for If-Match. The total, band "
        "and flags are computed (fixed at signing). Reading it is recorded in the audit log.",
        responses={200: AssessmentSerializer, **schema.OBJECT_ERRORS},
    ),
    create=extend_schema(
        summary="Start an assessment",
        description="A draft about a client you may see, with you as the person giving it; "
        "answers sent are saved at once (a partial set is normal). An answer that raises an "
        "urgent flag (e.g. PHQ-9 item 9) puts it on the chart and tells the care team straight "
        "away. Send an `Idempotency-Key` so that a retried request cannot start a copy. An "
        'answer the item does not take is refused with {"detail": …, "field": "answers.<key>"}.',
        parameters=[IDEMPOTENCY_HEADER],
        request=AssessmentCreateSerializer,
        responses={
            201: OpenApiResponse(AssessmentSerializer, description="Started."),
            200: OpenApiResponse(
                AssessmentSerializer, description="Already started with this Idempotency-Key."
            ),
            400: schema.DOMAIN_BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    partial_update=extend_schema(
        summary="Save answers to your draft",
        description="The answers sent replace those items' answers; the others stay. Signed "
        "assessments never change (409): add an addendum instead.",
        request=AssessmentUpdateSerializer,
        parameters=[IF_MATCH_HEADER],
        responses={
            **WRITE_RESPONSES,
            409: schema.CONFLICT,
            412: schema.PRECONDITION_FAILED,
        },
    ),
)
@extend_schema(tags=["assessments"])
class AssessmentViewSet(DomainErrorsMixin, AgencyViewSet):
    """Assessments: drafts (the author's own), signing (which fixes the score), addenda."""

    disclosure_categories = (Category.ASSESSMENTS,)

    serializer_class = AssessmentSerializer
    permission_classes = [IsAuthenticated, AssessmentAccess]
    queryset = Assessment.objects.none()  # for the schema; get_queryset starts from the selector
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Assessment]:
        return (
            selectors.assessments_visible(self.user)
            .select_related("client")
            .prefetch_related("addenda")
            .order_by("-administered_on", "-id")
        )

    def _context(self) -> dict[str, Any]:
        return {"agency": self.user.agency, "user": self.user}

    def _output(self, assessment: Assessment, status_code: int = status.HTTP_200_OK) -> Response:
        """The assessment as it is now, its version as the ETag."""
        assessment = self.get_queryset().get(pk=assessment.pk)
        return Response(
            AssessmentSerializer(assessment, context=self._context()).data,
            status=status_code,
            headers={"ETag": f'"{assessment.version}"'},
        )

    def list(self, request: Request) -> Response:
        params = AssessmentListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        assessments = self.get_queryset()
        if "client" in filters:
            assessments = assessments.filter(client_id=filters["client"])
        if "instrument" in filters:
            assessments = assessments.filter(instrument=filters["instrument"])
        if "status" in filters:
            assessments = assessments.filter(status=filters["status"])
        page = self.paginate_queryset(assessments) or []
        disclose_to_outside(
            self.request,
            client_ids=list(dict.fromkeys(a.client_id for a in page)),
            categories=self.disclosure_categories,
            section="api assessments",
        )
        audit_reads(
            actor=self.user,
            client_ids=list(dict.fromkeys(a.client_id for a in page)),
            section="api assessments",
        )
        data = AssessmentSerializer(page, many=True, context=self._context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str) -> Response:
        assessment = self.get_object()
        disclose_to_outside(
            self.request,
            client_ids=[assessment.client.pk],
            categories=self.disclosure_categories,
            section=f"api assessment {assessment.pk}",
        )
        audit_chart_read(
            user=self.user, client=assessment.client, what=f"api assessment {assessment.pk}"
        )
        return Response(
            AssessmentSerializer(assessment, context=self._context()).data,
            headers={"ETag": f'"{assessment.version}"'},
        )

    def create(self, request: Request) -> Response:
        sent_key = request.headers.get("Idempotency-Key")
        if sent_key is not None and not IDEMPOTENCY_KEY_SHAPE.match(sent_key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use up to 64 letters, digits and . _ : - (a UUID works)."]}
            )
        serializer = AssessmentCreateSerializer(data=request.data, context=self._context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        instrument = instruments()[data["instrument"]]
        items = [item["key"] for item in instrument.items]
        try:
            answers = answers_checked(instrument, data.get("answers", {}))
        except AssessmentError as error:
            raise assessment_refusal(error, items) from None
        agency = self.user.agency
        assert agency is not None  # AssessmentAccess let only staff of an agency through
        with transaction.atomic():
            submission = submission_claim(
                agency=agency, by=self.user, purpose=ASSESSMENT_CREATE, key=sent_key or ""
            )
            if submission.earlier_object_id is not None:
                earlier = self.get_queryset().filter(pk=submission.earlier_object_id).first()
                if earlier is None:
                    raise exceptions.ValidationError(
                        {
                            "Idempotency-Key": [
                                "The assessment started with this key is no longer yours to "
                                "see; send a new key to start another."
                            ]
                        }
                    )
                return self._output(earlier)
            try:
                assessment = services.assessment_start(
                    client=data["client_id"],
                    author=self.user,
                    instrument_key=instrument.key,
                    administered_on=data.get("administered_on", agency.today()),
                    mode=data.get("mode", Assessment.Mode.IN_PERSON),
                )
                if answers:
                    assessment, _ = services.assessment_save(
                        assessment=assessment,
                        by=self.user,
                        answers=answers,
                        expected_version=assessment.version,
                    )
            except AssessmentError as error:
                raise assessment_refusal(error, items) from None
            submission_complete(submission, assessment.pk)
        return self._output(assessment, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        assessment = self.get_object()
        if assessment.status == Assessment.Status.SIGNED:
            raise DomainRefusal(
                "This assessment is signed and cannot change; add an addendum instead.",
                code=status.HTTP_409_CONFLICT,
            )
        serializer = AssessmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instrument = instrument_of(assessment)
        items = [item["key"] for item in instrument.items]
        expected = expected_version(request, assessment.version)
        if expected != assessment.version:
            raise Stale()
        try:
            answers = answers_checked(instrument, serializer.validated_data["answers"])
            assessment, _ = services.assessment_save(
                assessment=assessment, by=self.user, answers=answers, expected_version=expected
            )
        except AssessmentError as error:
            now = Assessment.objects.values_list("status", "version").get(pk=assessment.pk)
            if now[0] == Assessment.Status.SIGNED:
                raise DomainRefusal(str(error), code=status.HTTP_409_CONFLICT) from None
            if now[1] != expected:  # saved elsewhere between our read and the service's lock
                raise Stale() from None
            raise assessment_refusal(error, items) from None
        return self._output(assessment)

    @extend_schema(
        summary="Sign your assessment",
        description="Locks it: the answers, total, band and flags are fixed as computed. Every "
        'required item needs an answer first ({"detail": …, "field": "answers.<key>"} names '
        "the first one missing). Signing a signed assessment answers it again unchanged.",
        request=None,
        responses=WRITE_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        assessment = self.get_object()
        instrument = instrument_of(assessment)
        try:
            signed = services.assessment_sign(assessment=assessment, by=self.user)
        except AssessmentError as error:
            raise assessment_refusal(error, [item["key"] for item in instrument.items]) from None
        return self._output(signed)

    @extend_schema(
        summary="Add an addendum to a signed assessment",
        description="A correction or addition; the signed answers stay as they were.",
        request=AssessmentAddendumCreateSerializer,
        responses={
            201: AssessmentAddendumSerializer,
            400: schema.DOMAIN_BAD_REQUEST,
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, pk: str) -> Response:
        assessment = self.get_object()
        serializer = AssessmentAddendumCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            addendum = services.assessment_addendum_add(
                assessment=assessment, by=self.user, text=serializer.validated_data["text"]
            )
        except AssessmentError as error:
            raise DomainRefusal(str(error), error.field) from None
        return Response(
            AssessmentAddendumSerializer(addendum, context=self._context()).data,
            status=status.HTTP_201_CREATED,
        )
