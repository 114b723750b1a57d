from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from casework.api.routers import router
from casework.api.views_billing import ChargeViewSet, ClaimBatchViewSet
from casework.api.views_notes import NoteViewSet

router.register("notes", NoteViewSet, basename="api-note")
router.register("charges", ChargeViewSet, basename="api-charge")
router.register("claim-batches", ClaimBatchViewSet, basename="api-claim-batch")


def not_found(request: HttpRequest) -> JsonResponse:
    """Any other address under /api/v1/ answers in JSON, as the API does, not with an HTML page."""
    detail = "Not found."
    if not request.path.endswith("/"):
        detail += " API addresses end with a slash, e.g. /api/v1/clients/."
    return JsonResponse({"detail": detail}, status=404)


urlpatterns = [
    path("v1/", include(router.urls)),
    re_path(r"^v1/", not_found),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api_schema", template_name="api/redoc.html"),
        name="api_redoc",
    ),
]
