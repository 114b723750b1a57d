"""Assessment routes."""

from django.urls import path

from casework.assessments import views, views_rules

urlpatterns = [
    path("new/<int:client_id>/", views.assessment_new, name="assessment_new"),
    path("<int:assessment_id>/", views.assessment_detail, name="assessment_detail"),
    path("<int:assessment_id>/addendum/", views.assessment_addendum, name="assessment_addendum"),
    path(
        "client/<int:client_id>/trend/<slug:instrument>/",
        views.assessment_trend,
        name="assessment_trend",
    ),
    path(
        "flag-notices/<int:notice_id>/acknowledge/",
        views.flag_notice_acknowledge,
        name="flag_notice_acknowledge",
    ),
    path("rules/", views_rules.rule_list, name="assessment_rule_list"),
    path("rules/new/", views_rules.rule_new, name="assessment_rule_new"),
    path("rules/<int:rule_id>/edit/", views_rules.rule_edit, name="assessment_rule_edit"),
    path("rules/<int:rule_id>/delete/", views_rules.rule_delete, name="assessment_rule_delete"),
]
