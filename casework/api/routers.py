"""The API's routes; each app's viewsets register here."""

from rest_framework.routers import DefaultRouter

from casework.api.views import ClientViewSet, ProgramViewSet, StaffViewSet


class JsonRouter(DefaultRouter):
    """The API speaks JSON only, so no ".json" twin of every route."""

    include_format_suffixes = False


router = JsonRouter()
router.register("clients", ClientViewSet, basename="api-client")
router.register("staff", StaffViewSet, basename="api-staff")
router.register("programs", ProgramViewSet, basename="api-program")
