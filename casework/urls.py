"""Top-level routes. Each app owns its own urls.py."""

from django.contrib import admin
from django.urls import include, path

from casework.core.views_health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("casework.core.urls")),
    path("clients/", include("casework.clients.urls")),
    path("api/", include("casework.api.urls")),
    path("django-admin/", admin.site.urls),
]
