"""The service plans API: individual service plans of the clients the caller may see.

The queryset starts from casework.plans.selectors.plans_visible (drafts included: plans are
written together), so a plan outside the caller's scope is a 404. Reading needs the right to
read narratives and writing the right to write notes, as on the pages. Writes go through
casework.plans.services; a signed plan is locked, so any change to it answers 409 with the
reason. Every read of a plan is a chart read and is audited.

Parts of a draft (needs, goals, objectives, interventions) are written through one address:
`POST plans/{id}/parts/` with the `kind` and its fields adds one (or, with `id`, changes one),
`DELETE plans/{id}/parts/{kind}/{item_id}/` removes one with what hangs under it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

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
from casework.api.permissions import PlanAccess
from casework.api.refusals import DomainErrorsMixin, DomainRefusal, Stale, expected_version
from casework.api.serializers_plans import (
    PART_FIELDS,
    ObjectiveProgressCreateSerializer,
    PlanCreateSerializer,
    PlanListQuerySerializer,
    PlanObjectiveSerializer,
    PlanPartResultSerializer,
    PlanPartSerializer,
    PlanReviewSerializer,
    PlanSignatureCreateSerializer,
    PlanSignatureSerializer,
    PlanSignSerializer,
    PlanUpdateSerializer,
    ServicePlanSerializer,
)
from casework.api.views import AgencyViewSet
from casework.clients.services import audit_chart_read
from casework.coordination.models import Category
from casework.core.audit import audit_reads
from casework.plans import selectors, services
from casework.plans.models import (
    ObjectiveProgress,
    PlanObjective,
    PlanSignature,
    ServicePlan,
)
from casework.plans.services import PARTS, PlanError, Signature

IF_MATCH_HEADER = OpenApiParameter(
    name="If-Match",
    location=OpenApiParameter.HEADER,
    type=OpenApiTypes.STR,
    required=False,
    description='The ETag of the plan as you last read it (its revision, e.g. "7"). Every change '
    "to a draft, parts included, moves the revision on. Changing the plan's fields: 412 (and "
    "nothing saved) if its fields were changed elsewhere since that revision (a part added "
    "meanwhile is no conflict). Signing: 412 if anything in the plan changed since.",
)
SIGNED = "This plan is signed and cannot change; start a review instead."
# The services' form-field names, as the API calls those fields.
FIELD_NAMES = {"objective": "objective_id"}
PLAN_RESPONSES: dict[int, Any] = {
    200: ServicePlanSerializer,
    400: schema.DOMAIN_BAD_REQUEST,
    **schema.OBJECT_ERRORS,
}
DRAFT_RESPONSES: dict[int, Any] = {**PLAN_RESPONSES, 409: schema.CONFLICT}
PART_KIND_PARAMETER = OpenApiParameter(
    "kind",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=list(PARTS),
    description="need, goal, objective or intervention.",
)
ITEM_ID_PARAMETER = OpenApiParameter(
    "item_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The part's id (as in the plan's needs, goals, objectives, interventions).",
)


def progress_now(plans: list[ServicePlan]) -> dict[UUID, ObjectiveProgress]:
    """The latest counted progress of each objective of these plans' clients (one query)."""
    return selectors.latest_progress(client_ids={plan.client_id for plan in plans})


def plan_refusal(
    plan: ServicePlan, error: PlanError, *, stale: Callable[[ServicePlan], bool] | None = None
) -> Exception:
    """A PlanError as the API answers it: 409 if the plan is signed by now, 412 if `stale`
    says it changed since the caller's If-Match, otherwise 400 naming the field."""
    now = ServicePlan.objects.get(pk=plan.pk)
    if now.is_signed:
        return DomainRefusal(str(error), None, status.HTTP_409_CONFLICT)
    if stale is not None and stale(now):
        return Stale()
    field = FIELD_NAMES.get(error.field or "", error.field)
    return DomainRefusal(str(error), field)


@extend_schema_view(
    list=extend_schema(
        summary="List service plans",
        description="Plan versions of clients you may see (drafts included), by client and "
        "newest version first, each with its needs, goals, objectives (with their status now), "
        "interventions and signatures. Roles that may not read narratives (auditors; billing, "
        "unless the agency allows it) get 403. Each client shown is recorded in the audit log.",
        parameters=[PlanListQuerySerializer],
        responses={
            200: ServicePlanSerializer(many=True),
            400: schema.BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One service plan version",
        description="With everything in it. The ETag header is the plan's revision, for "
        "If-Match. Reading it is recorded in the audit log.",
        responses={200: ServicePlanSerializer, **schema.OBJECT_ERRORS},
    ),
    create=extend_schema(
        summary="Start a client's first plan",
        description="A draft, with the needs and strengths of the client's latest signed "
        "needs assessment filled in. A client has at most one draft: if there is one, it is "
        "answered (200) instead of a second. A client with a signed plan gets a review "
        "instead (POST plans/{id}/review/).",
        request=PlanCreateSerializer,
        responses={
            201: OpenApiResponse(ServicePlanSerializer, description="Started."),
            200: OpenApiResponse(ServicePlanSerializer, description="The client's draft."),
            400: schema.DOMAIN_BAD_REQUEST,
            **schema.READ_ERRORS,
        },
    ),
    partial_update=extend_schema(
        summary="Change the draft's own fields",
        description="Start date, strengths, barriers, how the client took part, and (for a "
        "review) progress since the last version; only the fields sent change. A signed plan "
        "never changes: 409, with the reason.",
        request=PlanUpdateSerializer,
        parameters=[IF_MATCH_HEADER],
        responses={**DRAFT_RESPONSES, 412: schema.PRECONDITION_FAILED},
    ),
)
@extend_schema(tags=["plans"])
class PlanViewSet(DomainErrorsMixin, AgencyViewSet):
    """Service plans: drafts written part by part, signing with the client, reviews, progress."""

    disclosure_categories = (Category.PLANS,)

    serializer_class = ServicePlanSerializer
    permission_classes = [IsAuthenticated, PlanAccess]
    queryset = ServicePlan.objects.none()  # for the schema; get_queryset starts from the selector
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[ServicePlan]:
        return selectors.plans_with_content(selectors.plans_visible(self.user)).order_by(
            "client_id", "-number"
        )

    def _context(self, plans: list[ServicePlan]) -> dict[str, Any]:
        return {
            "agency": self.user.agency,
            "progress": progress_now(plans),
        }

    def _plan_data(self, plan: ServicePlan) -> tuple[Any, int]:
        """The plan as it is now, and its revision."""
        plan = self.get_queryset().get(pk=plan.pk)
        return ServicePlanSerializer(plan, context=self._context([plan])).data, plan.revision

    def _output(self, plan: ServicePlan, status_code: int = status.HTTP_200_OK) -> Response:
        """The plan as it is now, its revision as the ETag."""
        data, revision = self._plan_data(plan)
        return Response(data, status=status_code, headers={"ETag": f'"{revision}"'})

    def _draft(self) -> ServicePlan:
        """The plan of the address, if it is still a draft (409 otherwise)."""
        plan: ServicePlan = self.get_object()
        if plan.is_signed:
            raise DomainRefusal(SIGNED, code=status.HTTP_409_CONFLICT)
        return plan

    def list(self, request: Request) -> Response:
        params = PlanListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        plans = self.get_queryset()
        if "client" in filters:
            plans = plans.filter(client_id=filters["client"])
        if "status" in filters:
            plans = plans.filter(status=filters["status"])
        page = list(self.paginate_queryset(plans) or [])
        disclose_to_outside(
            self.request,
            client_ids=list(dict.fromkeys(plan.client_id for plan in page)),
            categories=self.disclosure_categories,
            section="api service plans",
        )
        audit_reads(
            actor=self.user,
            client_ids=list(dict.fromkeys(plan.client_id for plan in page)),
            section="api service plans",
        )
        data = ServicePlanSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str) -> Response:
        plan: ServicePlan = self.get_object()
        disclose_to_outside(
            self.request,
            client_ids=[plan.client.pk],
            categories=self.disclosure_categories,
            section=f"api service plan {plan.pk}",
        )
        audit_chart_read(user=self.user, client=plan.client, what=f"api service plan {plan.pk}")
        return Response(
            ServicePlanSerializer(plan, context=self._context([plan])).data,
            headers={"ETag": f'"{plan.revision}"'},
        )

    def create(self, request: Request) -> Response:
        serializer = PlanCreateSerializer(data=request.data, context={"user": self.user})
        serializer.is_valid(raise_exception=True)
        client = serializer.validated_data["client_id"]
        agency = self.user.agency
        assert agency is not None  # PlanAccess let only staff of an agency through
        had_draft = ServicePlan.objects.filter(
            client=client, status=ServicePlan.Status.DRAFT
        ).exists()
        try:
            plan = services.plan_start(
                client=client,
                by=self.user,
                starts_on=serializer.validated_data.get("starts_on", agency.today()),
            )
        except PlanError as error:
            raise DomainRefusal(str(error), error.field) from None
        return self._output(plan, status.HTTP_200_OK if had_draft else status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        plan = self._draft()
        serializer = PlanUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected = expected_version(request, plan.revision)
        if expected > plan.revision:  # not an ETag this plan ever had
            raise Stale()
        starts_on = data.pop("starts_on", plan.starts_on)
        try:
            plan = services.plan_update(
                plan=plan, by=self.user, expected_revision=expected, starts_on=starts_on, **data
            )
        except PlanError as error:
            # Only a change to the plan's own fields since the caller read it is a conflict;
            # a part added by a colleague meanwhile is not (as on the page).
            raise plan_refusal(
                plan, error, stale=lambda now: now.fields_revision > expected
            ) from None
        return self._output(plan)

    @extend_schema(
        summary="Start the review of a signed plan",
        description="The next version, as a draft with the same content (and the same keys, so "
        "progress follows each objective). Only the client's current signed plan is reviewed; "
        "if the client already has a draft, it is answered (200) instead of a second.",
        request=PlanReviewSerializer,
        responses={
            201: OpenApiResponse(ServicePlanSerializer, description="The new draft version."),
            200: OpenApiResponse(ServicePlanSerializer, description="The client's draft."),
            400: schema.DOMAIN_BAD_REQUEST,
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str) -> Response:
        plan: ServicePlan = self.get_object()
        serializer = PlanReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        had_draft = ServicePlan.objects.filter(
            client_id=plan.client_id, status=ServicePlan.Status.DRAFT
        ).exists()
        try:
            review = services.plan_review_start(
                plan=plan,
                by=self.user,
                starts_on=serializer.validated_data.get("starts_on", plan.agency.today()),
            )
        except PlanError as error:
            raise DomainRefusal(str(error), error.field) from None
        return self._output(review, status.HTTP_200_OK if had_draft else status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add or change a part of the draft",
        description="`kind` says what: a `need` (area, text), a `goal` (text; need_id or null), "
        "an `objective` (goal_id, text, measure, target_on) or an `intervention` (objective_id, "
        "action, responsible, frequency; service_code if billed). Without `id` a new one is "
        "added at the end (201); with `id` that part is changed (200) and the fields left out "
        "keep their values. Answers the part's id with the whole plan as it is now. To remove "
        "one: DELETE plans/{id}/parts/{kind}/{item_id}/. A signed plan answers 409.",
        request=PlanPartSerializer,
        responses={
            201: OpenApiResponse(PlanPartResultSerializer, description="Added."),
            200: OpenApiResponse(PlanPartResultSerializer, description="Changed."),
            400: schema.DOMAIN_BAD_REQUEST,
            409: schema.CONFLICT,
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def parts(self, request: Request, pk: str) -> Response:
        plan = self._draft()
        serializer = PlanPartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        kind, item_id = data.pop("kind"), data.pop("id", None)
        if item_id is not None:
            item = PARTS[kind].objects.filter(plan=plan, pk=item_id).first()
            if item is None:
                raise DomainRefusal(f"This plan has no {kind} with this id.", "id")
            data = {name: getattr(item, name) for name in PART_FIELDS[kind]} | data
        self._check_parents(plan, data)
        try:
            saved = services.part_save(
                plan=plan, by=self.user, kind=kind, data=data, item_id=item_id
            )
        except PlanError as error:
            raise plan_refusal(plan, error) from None
        plan_data, revision = self._plan_data(plan)
        return Response(
            {"kind": kind, "id": saved.pk, "plan": plan_data},
            status=status.HTTP_201_CREATED if item_id is None else status.HTTP_200_OK,
            headers={"ETag": f'"{revision}"'},
        )

    @staticmethod
    def _check_parents(plan: ServicePlan, data: dict[str, Any]) -> None:
        """The need, goal or objective a part hangs under must be one of this version's."""
        for name, kind in (("need_id", "need"), ("goal_id", "goal"), ("objective_id", "objective")):
            parent_id = data.get(name)
            if (
                parent_id is not None
                and not PARTS[kind].objects.filter(plan=plan, pk=parent_id).exists()
            ):
                raise DomainRefusal(f"This plan has no {kind} with this id.", name)

    @extend_schema(
        summary="Remove a part of the draft",
        description="Removes the need, goal, objective or intervention, with what hangs under "
        "it (a goal's objectives and their interventions …); a goal under a removed need "
        "stays, without a need. Answers the plan as it is now. A signed plan answers 409.",
        parameters=[PART_KIND_PARAMETER, ITEM_ID_PARAMETER],
        request=None,
        responses=DRAFT_RESPONSES,
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"parts/(?P<kind>[^/]+)/(?P<item_id>[^/]+)",
        url_name="part-remove",
    )
    def part_remove(self, request: Request, pk: str, kind: str, item_id: str) -> Response:
        plan = self._draft()
        model = PARTS.get(kind)
        if model is None or not item_id.isascii() or not item_id.isdigit() or len(item_id) > 18:
            raise exceptions.NotFound("No such part of this plan.")
        if not model.objects.filter(plan=plan, pk=int(item_id)).exists():
            raise exceptions.NotFound("No such part of this plan.")
        try:
            services.part_remove(plan=plan, by=self.user, kind=kind, item_id=int(item_id))
        except PlanError as error:
            raise plan_refusal(plan, error) from None
        return self._output(plan)

    @extend_schema(
        summary="Sign the draft with the client",
        description="You sign as the case manager, with the client's (or guardian's) "
        "signature recorded: on screen, on paper (kept on file), or declined with the reason. "
        "The plan locks and its review date is set. What still stands in the way (no "
        "strengths, a goal without an objective …) is refused with a message. If-Match "
        "(the revision you read) makes sure you sign what you read.",
        request=PlanSignSerializer,
        parameters=[IF_MATCH_HEADER],
        responses={**DRAFT_RESPONSES, 412: schema.PRECONDITION_FAILED},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        plan = self._draft()
        serializer = PlanSignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expected = expected_version(request, plan.revision)
        if expected != plan.revision:
            raise Stale()
        signature = Signature(
            role=data.get("role", PlanSignature.Role.CLIENT),
            method=data["method"],
            name=data.get("name", ""),
            signed_on=data.get("signed_on", plan.agency.today()),
            reason=data.get("reason", ""),
        )
        try:
            plan = services.plan_sign(
                plan=plan, by=self.user, client_signature=signature, expected_revision=expected
            )
        except PlanError as error:
            raise plan_refusal(plan, error, stale=lambda now: now.revision != expected) from None
        return self._output(plan)

    @extend_schema(
        summary="Add a signature to a signed plan",
        description="A supervisor of the case manager who signed (or an agency admin) signs as "
        "`supervisor`, on screen; the client's or guardian's signature can follow on paper or "
        "be recorded as declined (with the reason). One signature per role.",
        request=PlanSignatureCreateSerializer,
        responses={
            201: PlanSignatureSerializer,
            400: schema.DOMAIN_BAD_REQUEST,
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def signatures(self, request: Request, pk: str) -> Response:
        plan: ServicePlan = self.get_object()
        serializer = PlanSignatureCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        role = data["role"]
        if (
            role == PlanSignature.Role.SUPERVISOR
            and plan.is_signed
            and not services.may_sign_as_supervisor(self.user, plan)
        ):
            raise exceptions.PermissionDenied(
                "Only a supervisor of the case manager who signed (or an agency admin) signs "
                "as supervisor."
            )
        signature = Signature(
            role=role,
            method=data.get("method", PlanSignature.Method.ON_SCREEN),
            name=data.get("name", ""),
            signed_on=data.get("signed_on", plan.agency.today()),
            reason=data.get("reason", ""),
        )
        try:
            added = services.plan_signature_add(plan=plan, by=self.user, signature=signature)
        except PlanError as error:
            raise DomainRefusal(str(error), error.field) from None
        return Response(
            PlanSignatureSerializer(added, context={"agency": self.user.agency}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Record progress on an objective",
        description="Where an objective of this (signed) plan stands now: not_started, "
        "progressing, met or discontinued, with a comment. Progress is kept by the "
        "objective's key, so it follows the objective into the next version. Answers the "
        "objective with its status now.",
        request=ObjectiveProgressCreateSerializer,
        responses={
            201: OpenApiResponse(
                PlanObjectiveSerializer, description="The objective with its status now."
            ),
            400: schema.DOMAIN_BAD_REQUEST,
            **schema.OBJECT_ERRORS,
        },
    )
    @action(detail=True, methods=["post"], url_path="objective-progress")
    def objective_progress(self, request: Request, pk: str) -> Response:
        plan: ServicePlan = self.get_object()
        serializer = ObjectiveProgressCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not plan.is_signed:
            raise DomainRefusal(
                "Record progress on the signed plan: this draft is not in effect yet."
            )
        key = (
            PlanObjective.objects.filter(plan=plan, pk=data["objective_id"])
            .values_list("key", flat=True)
            .first()
        )
        if key is None:
            raise DomainRefusal("This plan has no objective with this id.", "objective_id")
        try:
            progress = services.objective_status_set(
                client=plan.client,
                by=self.user,
                objective_key=key,
                status=data["status"],
                comment=data.get("comment", ""),
            )
        except PlanError as error:
            raise DomainRefusal(
                str(error), FIELD_NAMES.get(error.field or "", error.field)
            ) from None
        objective = PlanObjective.objects.prefetch_related("interventions").get(
            plan=plan, pk=data["objective_id"]
        )
        context = {"agency": self.user.agency, "progress": {progress.objective_key: progress}}
        return Response(
            PlanObjectiveSerializer(objective, context=context).data,
            status=status.HTTP_201_CREATED,
        )
