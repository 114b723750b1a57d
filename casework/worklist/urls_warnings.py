"""Early-warning routes, mounted at /warnings/."""

from django.urls import path

from casework.worklist import views_warnings

urlpatterns = [
    path("rules/", views_warnings.warning_rules, name="warning_rules"),
    path(
        "<int:warning_id>/acknowledge/",
        views_warnings.warning_acknowledge,
        name="warning_acknowledge",
    ),
]
