"""Automation routes, mounted at /automation/."""

from django.urls import path

from casework.automation import views

urlpatterns = [
    path("rules/", views.rule_list, name="automation_rule_list"),
    path("rules/new/", views.rule_new, name="automation_rule_new"),
    path("rules/<int:automation_rule_id>/", views.rule_edit, name="automation_rule_edit"),
    path(
        "rules/<int:automation_rule_id>/switch/",
        views.rule_switch,
        name="automation_rule_switch",
    ),
    path("log/", views.run_log, name="automation_log"),
    path("clients/<int:client_id>/", views.client_automation, name="automation_client"),
    path(
        "clients/<int:client_id>/reminders/",
        views.client_reminders,
        name="automation_client_reminders",
    ),
    path(
        "clients/<int:client_id>/switch/",
        views.client_switch,
        name="automation_client_switch",
    ),
]
