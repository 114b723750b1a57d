"""Top-level routes. Each app owns its own urls.py."""

from django.contrib import admin
from django.urls import include, path

from casework.core.views_health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("casework.core.urls")),
    path("clients/", include("casework.clients.urls")),
    path("notes/", include("casework.notes.urls")),
    path("assessments/", include("casework.assessments.urls")),
    path("plans/", include("casework.plans.urls")),
    path("my-day/", include("casework.worklist.urls")),
    path("schedule/", include("casework.schedule.urls")),
    path("warnings/", include("casework.worklist.urls_warnings")),
    path("billing/", include("casework.billing.urls")),
    path("reports/", include("casework.reports.urls")),
    path("", include("casework.coordination.urls")),
    path("", include("casework.processes.urls")),
    path("automation/", include("casework.automation.urls")),
    path("api/", include("casework.api.urls")),
    path("account/api-tokens/", include("casework.api.urls_tokens")),
    path("django-admin/", admin.site.urls),
]

handler500 = "casework.core.views_errors.server_error"
