"""Assessment routes."""

from django.urls import path

from casework.assessments import views

urlpatterns = [
    path("new/<int:client_id>/", views.assessment_new, name="assessment_new"),
    path("<int:assessment_id>/", views.assessment_detail, name="assessment_detail"),
    path("<int:assessment_id>/addendum/", views.assessment_addendum, name="assessment_addendum"),
    path(
        "client/<int:client_id>/trend/<slug:instrument>/",
        views.assessment_trend,
        name="assessment_trend",
    ),
]
