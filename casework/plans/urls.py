"""Service plan routes."""

from django.urls import path

from casework.plans import views

urlpatterns = [
    path("new/<int:client_id>/", views.plan_new, name="plan_new"),
    path("client/<int:client_id>/", views.plan_history, name="plan_history"),
    path("goals.csv", views.goals_export, name="plan_goals_csv"),
    path("<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("<int:plan_id>/edit/", views.plan_edit, name="plan_edit"),
    path("<int:plan_id>/sign/", views.plan_sign, name="plan_sign"),
    path("<int:plan_id>/signature/", views.plan_signature, name="plan_signature"),
    path("<int:plan_id>/review/", views.plan_review, name="plan_review"),
    path("<int:plan_id>/discard/", views.plan_discard, name="plan_discard"),
    path("<int:plan_id>/pdf/", views.plan_pdf, name="plan_pdf"),
    path("<int:plan_id>/<slug:kind>/add/", views.plan_part, name="plan_part_add"),
    path("<int:plan_id>/<slug:kind>/<int:item_id>/", views.plan_part, name="plan_part_edit"),
    path(
        "<int:plan_id>/<slug:kind>/<int:item_id>/remove/",
        views.plan_part_remove,
        name="plan_part_remove",
    ),
    path(
        "<int:plan_id>/objective/<uuid:key>/progress/",
        views.objective_progress,
        name="plan_objective_progress",
    ),
]
