"""The read-only FHIR R4 facade: /api/fhir/r4/.

Questionnaire (the instruments), QuestionnaireResponse (assessments), CarePlan (signed service
plan versions), Goal (the objectives of a client's plan) and Appointment (casework.api.
fhir_schedule), as application/fhir+json. The same authentication, roles and scoping as
/api/v1/: reads start from the apps' selectors, so a client outside the caller's scope is a 404
(OperationOutcome), and each read is audited as a chart read. Searches take `patient` (a client id, or Patient/{id}) and answer a searchset
Bundle of every match. Resource ids: see casework.api.fhir.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from casework.api import fhir
from casework.api.outside import OutsideSystemsReadReleasedRecordsOnly, disclose_to_outside
from casework.api.permissions import AgencyMember, ChartRecordAccess
from casework.api.views import AgencyApiThrottle
from casework.api.views_plans import progress_now
from casework.assessments import selectors as assessment_selectors
from casework.assessments.instruments import instruments
from casework.assessments.models import Assessment
from casework.clients.models import Client
from casework.clients.services import audit_chart_read
from casework.coordination.models import Category
from casework.core import access
from casework.core.models import User
from casework.plans import selectors as plan_selectors
from casework.plans.models import PlanObjective, ServicePlan
from casework.plans.selectors import plans_with_content


class FhirJsonRenderer(BaseRenderer):
    """Renders a fhir.resources model (or, for DRF's own errors, an OperationOutcome)."""

    media_type = fhir.FHIR_JSON
    format = "fhir"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        if not hasattr(data, "model_dump_json"):
            response = (renderer_context or {}).get("response")
            code = getattr(response, "status_code", 500)
            detail = data.get("detail", "") if isinstance(data, dict) else str(data)
            data = fhir.operation_outcome(code, str(detail))
        return data.model_dump_json().encode("utf-8")


class AlwaysFhir(BaseContentNegotiation):
    """FHIR JSON whatever the caller accepts (application/json, */*, fhir+json …): never 406."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class FhirChartAccess(ChartRecordAccess):
    records = "clinical records"


def _fhir_response(description: str) -> dict[Any, OpenApiResponse]:
    outcome = OpenApiResponse(OpenApiTypes.OBJECT, description="An OperationOutcome.")
    return {
        (200, fhir.FHIR_JSON): OpenApiResponse(OpenApiTypes.OBJECT, description=description),
        (400, fhir.FHIR_JSON): outcome,
        (401, fhir.FHIR_JSON): outcome,
        (403, fhir.FHIR_JSON): outcome,
        (404, fhir.FHIR_JSON): outcome,
        (429, fhir.FHIR_JSON): outcome,
    }


PATIENT = OpenApiParameter(
    "patient",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=True,
    description="The client: its id, or Patient/{id}.",
)


def _id_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter("pk", OpenApiTypes.STR, OpenApiParameter.PATH, description=description)


def _message(data: Any) -> str:
    """DRF's error body ({"detail": …}, ["…"] or {field: […]}) as one line."""
    if isinstance(data, dict):
        if "detail" in data:
            return str(data["detail"])
        return " ".join(f"{key}: {_message(value)}" for key, value in data.items())
    if isinstance(data, list):
        return " ".join(_message(item) for item in data)
    return str(data)


class FhirView(APIView):
    """Base of the FHIR reads: token or verified-session auth, per-user throttle, FHIR JSON."""

    renderer_classes = [FhirJsonRenderer]
    content_negotiation_class = AlwaysFhir
    throttle_classes = [AgencyApiThrottle]
    permission_classes = [IsAuthenticated, FhirChartAccess]
    # What a read reveals about the clients it names (casework.api.outside).
    disclosure_categories: tuple[str, ...] = ()
    outside_may_read = False

    @property
    def user(self) -> User:
        return cast(User, self.request.user)

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        gate = OutsideSystemsReadReleasedRecordsOnly()
        if not gate.has_permission(request, self):
            self.permission_denied(request, message=gate.message)

    def base(self) -> str:
        """The service base URL, e.g. https://casework.example/api/fhir/r4."""
        return self.request.build_absolute_uri(reverse("fhir_base")).rstrip("/")

    def patient(self) -> Client:
        """The client of ?patient=, if the caller may see it; 404 otherwise."""
        raw = self.request.query_params.get("patient", "").strip().removeprefix("Patient/")
        if not raw:
            raise exceptions.ValidationError("Search by patient: ?patient=<client id>.")
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise exceptions.ValidationError("patient is a client id, e.g. 42.")
        try:
            return access.client_or_404(self.user, raw)
        except Http404:
            raise exceptions.NotFound("No such patient.") from None

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)
        response.data = fhir.operation_outcome(response.status_code, _message(response.data))
        return response

    def searchset(self, resources: list[Any]) -> Response:
        bundle = fhir.searchset(
            resources, base=self.base(), self_url=self.request.build_absolute_uri()
        )
        return Response(bundle)


# --- Questionnaire -----------------------------------------------------------------------------


@extend_schema(tags=["fhir"])
class QuestionnaireSearch(FhirView):
    outside_may_read = True  # instrument definitions, no client data
    permission_classes = [IsAuthenticated, AgencyMember]

    @extend_schema(
        operation_id="fhir_questionnaire_search",
        summary="FHIR: every instrument as a Questionnaire",
        description="A searchset Bundle of the instruments. Any agency staff member.",
        responses=_fhir_response("A searchset Bundle of Questionnaires."),
    )
    def get(self, request: Request) -> Response:
        base = self.base()
        return self.searchset([fhir.questionnaire(i, base=base) for i in instruments().values()])


@extend_schema(tags=["fhir"])
class QuestionnaireRead(FhirView):
    outside_may_read = True  # instrument definitions, no client data
    permission_classes = [IsAuthenticated, AgencyMember]

    @extend_schema(
        operation_id="fhir_questionnaire_read",
        summary="FHIR: an instrument as a Questionnaire",
        description="The id is the instrument key with _ written as - (phq9, gad7 …). Each "
        "choice carries its score as the ordinalValue extension; the read-only items "
        "score.total and score.band hold the computed total and band in the responses.",
        parameters=[
            OpenApiParameter(
                "instrument", OpenApiTypes.STR, OpenApiParameter.PATH, description="e.g. phq9."
            )
        ],
        responses=_fhir_response("A Questionnaire."),
    )
    def get(self, request: Request, instrument: str) -> Response:
        found = instruments().get(fhir.instrument_key(instrument))
        if found is None or fhir.questionnaire_id(found.key) != instrument:
            raise exceptions.NotFound("No such Questionnaire.")
        return Response(fhir.questionnaire(found, base=self.base()))


# --- QuestionnaireResponse -----------------------------------------------------------------------


def _assessments(user: User) -> QuerySet[Assessment]:
    return assessment_selectors.assessments_visible(user).select_related("client", "author")


def _response(assessment: Assessment, base: str) -> Any:
    instrument = instruments().get(assessment.instrument)
    if instrument is None:
        return None
    result = (
        None
        if assessment.status == Assessment.Status.SIGNED
        else instrument.score(assessment.answers, sex=assessment.client.sex_for_billing)
    )
    return fhir.questionnaire_response(assessment, instrument, base=base, result=result)


@extend_schema(tags=["fhir"])
class QuestionnaireResponseSearch(FhirView):
    disclosure_categories = (Category.ASSESSMENTS,)

    @extend_schema(
        operation_id="fhir_questionnaire_response_search",
        summary="FHIR: a client's assessments as QuestionnaireResponses",
        description="Signed assessments (completed) and your own drafts (in-progress), latest "
        "first. Recorded in the audit log as a read of the client's chart.",
        parameters=[PATIENT],
        responses=_fhir_response("A searchset Bundle of QuestionnaireResponses."),
    )
    def get(self, request: Request) -> Response:
        client = self.patient()
        assessments = (
            _assessments(self.user).filter(client=client).order_by("-administered_on", "-id")
        )
        disclose_to_outside(
            self.request,
            client_ids=[client.pk],
            categories=self.disclosure_categories,
            section="fhir QuestionnaireResponse",
        )
        audit_chart_read(user=self.user, client=client, what="fhir QuestionnaireResponse")
        base = self.base()
        responses = [r for a in assessments if (r := _response(a, base)) is not None]
        return self.searchset(responses)


@extend_schema(tags=["fhir"])
class QuestionnaireResponseRead(FhirView):
    disclosure_categories = (Category.ASSESSMENTS,)

    @extend_schema(
        operation_id="fhir_questionnaire_response_read",
        summary="FHIR: an assessment as a QuestionnaireResponse",
        description="The id is the assessment's id. Recorded in the audit log.",
        parameters=[_id_parameter("The assessment's id.")],
        responses=_fhir_response("A QuestionnaireResponse."),
    )
    def get(self, request: Request, pk: str) -> Response:
        assessment = (
            _assessments(self.user).filter(pk=int(pk)).first()
            if pk.isascii() and pk.isdigit() and len(pk) <= 18
            else None
        )
        response = _response(assessment, self.base()) if assessment is not None else None
        if assessment is None or response is None:
            raise exceptions.NotFound("No such QuestionnaireResponse.")
        disclose_to_outside(
            self.request,
            client_ids=[assessment.client.pk],
            categories=self.disclosure_categories,
            section=f"fhir QuestionnaireResponse {pk}",
        )
        audit_chart_read(
            user=self.user, client=assessment.client, what=f"fhir QuestionnaireResponse {pk}"
        )
        return Response(response)


# --- CarePlan ------------------------------------------------------------------------------------


def _signed_plans(user: User) -> QuerySet[ServicePlan]:
    """Signed plan versions the user may see (drafts are not published), with their content."""
    return plans_with_content(
        plan_selectors.plans_visible(user).filter(status=ServicePlan.Status.SIGNED)
    ).select_related("signed_by")


@extend_schema(tags=["fhir"])
class CarePlanSearch(FhirView):
    disclosure_categories = (Category.PLANS,)

    @extend_schema(
        operation_id="fhir_care_plan_search",
        summary="FHIR: a client's service plans as CarePlans",
        description="Every signed version, newest first: the current one active (completed "
        "once the client is discharged), earlier ones revoked (replaced by their review). "
        "Recorded in the audit log as a read of the client's chart.",
        parameters=[PATIENT],
        responses=_fhir_response("A searchset Bundle of CarePlans."),
    )
    def get(self, request: Request) -> Response:
        client = self.patient()
        plans = list(_signed_plans(self.user).filter(client=client).order_by("-number"))
        disclose_to_outside(
            self.request,
            client_ids=[client.pk],
            categories=self.disclosure_categories,
            section="fhir CarePlan",
        )
        audit_chart_read(user=self.user, client=client, what="fhir CarePlan")
        progress = progress_now(plans)
        base, next_starts = self.base(), None
        care_plans = []
        for plan in plans:  # newest first: each one's successor was seen just before it
            care_plans.append(
                fhir.care_plan(plan, base=base, progress=progress, next_starts_on=next_starts)
            )
            next_starts = plan.starts_on
        return self.searchset(care_plans)


@extend_schema(tags=["fhir"])
class CarePlanRead(FhirView):
    disclosure_categories = (Category.PLANS,)

    @extend_schema(
        operation_id="fhir_care_plan_read",
        summary="FHIR: a service plan version as a CarePlan",
        description="The id is the plan version's id (signed versions only). Its goals are "
        "Goal/{objective key}; its activities are the interventions. Recorded in the audit log.",
        parameters=[_id_parameter("The plan version's id.")],
        responses=_fhir_response("A CarePlan."),
    )
    def get(self, request: Request, pk: str) -> Response:
        plan = (
            _signed_plans(self.user).filter(pk=int(pk)).first()
            if pk.isascii() and pk.isdigit() and len(pk) <= 18
            else None
        )
        if plan is None:
            raise exceptions.NotFound("No such CarePlan.")
        successor = (
            ServicePlan.objects.filter(
                client_id=plan.client_id, status=ServicePlan.Status.SIGNED, number__gt=plan.number
            )
            .order_by("number")
            .values_list("starts_on", flat=True)
            .first()
        )
        disclose_to_outside(
            self.request,
            client_ids=[plan.client.pk],
            categories=self.disclosure_categories,
            section=f"fhir CarePlan {plan.pk}",
        )
        audit_chart_read(user=self.user, client=plan.client, what=f"fhir CarePlan {plan.pk}")
        progress = progress_now([plan])
        return Response(
            fhir.care_plan(plan, base=self.base(), progress=progress, next_starts_on=successor)
        )


# --- Goal ----------------------------------------------------------------------------------------


@extend_schema(tags=["fhir"])
class GoalSearch(FhirView):
    disclosure_categories = (Category.PLANS,)

    @extend_schema(
        operation_id="fhir_goal_search",
        summary="FHIR: the objectives of a client's current plan as Goals",
        description="One Goal per objective of the latest signed plan version, with its "
        "status now (not_started → accepted, progressing → active, met → completed, "
        "discontinued → cancelled). Recorded in the audit log as a read of the client's chart.",
        parameters=[PATIENT],
        responses=_fhir_response("A searchset Bundle of Goals."),
    )
    def get(self, request: Request) -> Response:
        client = self.patient()
        current = _signed_plans(self.user).filter(client=client).order_by("-number").first()
        disclose_to_outside(
            self.request,
            client_ids=[client.pk],
            categories=self.disclosure_categories,
            section="fhir Goal",
        )
        audit_chart_read(user=self.user, client=client, what="fhir Goal")
        if current is None:
            return self.searchset([])
        progress = progress_now([current])
        tz = self.user.agency.tzinfo if self.user.agency else None
        goals = [
            fhir.goal(o, g, client_id=client.pk, latest=progress.get(o.key), tz=tz)
            for g in current.goals.all()
            for o in g.objectives.all()
        ]
        return self.searchset(goals)


@extend_schema(tags=["fhir"])
class GoalRead(FhirView):
    disclosure_categories = (Category.PLANS,)

    @extend_schema(
        operation_id="fhir_goal_read",
        summary="FHIR: an objective as a Goal",
        description="The id is the objective's key (a UUID that stays the same across plan "
        "versions); the Goal shows it as worded in the latest signed version that has it. "
        "Recorded in the audit log.",
        parameters=[_id_parameter("The objective's key.")],
        responses=_fhir_response("A Goal."),
    )
    def get(self, request: Request, pk: str) -> Response:
        try:
            key = UUID(pk)
        except ValueError:
            raise exceptions.NotFound("No such Goal.") from None
        signed = plan_selectors.plans_visible(self.user).filter(status=ServicePlan.Status.SIGNED)
        objective = (
            PlanObjective.objects.filter(key=key, plan__in=signed)
            .select_related("goal", "plan__client__agency")
            .order_by("-plan__number")
            .first()
        )
        if objective is None:
            raise exceptions.NotFound("No such Goal.")
        client = objective.plan.client
        disclose_to_outside(
            self.request,
            client_ids=[client.pk],
            categories=self.disclosure_categories,
            section=f"fhir Goal {key}",
        )
        audit_chart_read(user=self.user, client=client, what=f"fhir Goal {key}")
        progress = progress_now([objective.plan])
        return Response(
            fhir.goal(
                objective,
                objective.goal,
                client_id=client.pk,
                latest=progress.get(objective.key),
                tz=client.agency.tzinfo,
            )
        )


SERVED = (
    "Questionnaire, QuestionnaireResponse, CarePlan, Goal, Appointment, Consent, ServiceRequest, "
    "Communication and Organization"
)


@csrf_exempt  # read-only answers; no form to forge
def fhir_base(request: HttpRequest) -> HttpResponse:
    """The service base itself is not a resource: point at what is."""
    outcome = fhir.operation_outcome(
        404,
        f"Read a resource: {SERVED} (e.g. /api/fhir/r4/CarePlan?patient=42).",
    )
    return HttpResponse(outcome.model_dump_json(), status=404, content_type=fhir.FHIR_JSON)


@csrf_exempt
def fhir_not_found(request: HttpRequest) -> HttpResponse:
    """Any other address under /api/fhir/r4/ answers an OperationOutcome, not an HTML page."""
    outcome = fhir.operation_outcome(
        404,
        f"Not found. This server has {SERVED}.",
    )
    return HttpResponse(outcome.model_dump_json(), status=404, content_type=fhir.FHIR_JSON)
