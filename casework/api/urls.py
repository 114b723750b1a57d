from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from casework.api import fhir_coordination, fhir_schedule
from casework.api import views_fhir as fhir
from casework.api.routers import router
from casework.api.views_assessments import AssessmentViewSet, InstrumentViewSet
from casework.api.views_billing import ChargeViewSet, ClaimBatchViewSet
from casework.api.views_coordination import (
    CommunicationViewSet,
    ConsentViewSet,
    DocumentViewSet,
    OrganizationViewSet,
    ReferralViewSet,
)
from casework.api.views_notes import NoteViewSet
from casework.api.views_plans import PlanViewSet
from casework.api.views_schedule import AppointmentViewSet
from casework.api.views_tasks import TaskViewSet

router.register("notes", NoteViewSet, basename="api-note")
router.register("charges", ChargeViewSet, basename="api-charge")
router.register("claim-batches", ClaimBatchViewSet, basename="api-claim-batch")
router.register("instruments", InstrumentViewSet, basename="api-instrument")
router.register("assessments", AssessmentViewSet, basename="api-assessment")
router.register("plans", PlanViewSet, basename="api-plan")
router.register("appointments", AppointmentViewSet, basename="api-appointment")
router.register("tasks", TaskViewSet, basename="api-task")
router.register("organizations", OrganizationViewSet, basename="api-organization")
router.register("consents", ConsentViewSet, basename="api-consent")
router.register("referrals", ReferralViewSet, basename="api-referral")
router.register("communications", CommunicationViewSet, basename="api-communication")
router.register("documents", DocumentViewSet, basename="api-document")


@csrf_exempt  # it changes nothing: a DELETE to a wrong address gets this 404, not a CSRF page
def not_found(request: HttpRequest) -> JsonResponse:
    """Any other address under /api/v1/ answers in JSON, as the API does, not with an HTML page."""
    detail = "Not found."
    if not request.path.endswith("/"):
        detail += " API addresses end with a slash, e.g. /api/v1/clients/."
    return JsonResponse({"detail": detail}, status=404)


# FHIR R4 (read-only): addresses as FHIR clients write them, without a trailing slash.
fhir_patterns = [
    path("", fhir.fhir_base, name="fhir_base"),
    path("Questionnaire", fhir.QuestionnaireSearch.as_view(), name="fhir_questionnaire_search"),
    path(
        "Questionnaire/<str:instrument>",
        fhir.QuestionnaireRead.as_view(),
        name="fhir_questionnaire",
    ),
    path(
        "QuestionnaireResponse",
        fhir.QuestionnaireResponseSearch.as_view(),
        name="fhir_questionnaire_response_search",
    ),
    path(
        "QuestionnaireResponse/<str:pk>",
        fhir.QuestionnaireResponseRead.as_view(),
        name="fhir_questionnaire_response",
    ),
    path("CarePlan", fhir.CarePlanSearch.as_view(), name="fhir_care_plan_search"),
    path("CarePlan/<str:pk>", fhir.CarePlanRead.as_view(), name="fhir_care_plan"),
    path("Goal", fhir.GoalSearch.as_view(), name="fhir_goal_search"),
    path("Goal/<str:pk>", fhir.GoalRead.as_view(), name="fhir_goal"),
    path(
        "Appointment",
        fhir_schedule.AppointmentSearch.as_view(),
        name="fhir_appointment_search",
    ),
    path(
        "Appointment/<str:pk>",
        fhir_schedule.AppointmentRead.as_view(),
        name="fhir_appointment",
    ),
    path("Consent", fhir_coordination.ConsentSearch.as_view(), name="fhir_consent_search"),
    path("Consent/<str:pk>", fhir_coordination.ConsentRead.as_view(), name="fhir_consent"),
    path(
        "ServiceRequest",
        fhir_coordination.ServiceRequestSearch.as_view(),
        name="fhir_service_request_search",
    ),
    path(
        "ServiceRequest/<str:pk>",
        fhir_coordination.ServiceRequestRead.as_view(),
        name="fhir_service_request",
    ),
    path(
        "Communication",
        fhir_coordination.CommunicationSearch.as_view(),
        name="fhir_communication_search",
    ),
    path(
        "Communication/<str:pk>",
        fhir_coordination.CommunicationRead.as_view(),
        name="fhir_communication",
    ),
    path(
        "Organization",
        fhir_coordination.OrganizationSearch.as_view(),
        name="fhir_organization_search",
    ),
    path(
        "Organization/<str:pk>",
        fhir_coordination.OrganizationRead.as_view(),
        name="fhir_organization",
    ),
    re_path(r"^", fhir.fhir_not_found),
]

urlpatterns = [
    path("v1/", include(router.urls)),
    re_path(r"^v1/", not_found),
    path("fhir/r4/", include(fhir_patterns)),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves Swagger UI's start-up script as a file, so the page keeps a strict
    # script-src although "Try it out" shows client data in it.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api_schema", template_name="api/redoc.html"),
        name="api_redoc",
    ),
]
