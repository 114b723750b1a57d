from django.urls import path

from casework.clients import views

urlpatterns = [
    path("", views.client_list, name="client_list"),
    path("new/", views.client_new, name="client_new"),
    path("merge/", views.client_merge, name="client_merge"),
    path(
        "break-glass/<int:grant_id>/reviewed/",
        views.break_glass_reviewed,
        name="break_glass_reviewed",
    ),
    path("<int:client_id>/", views.client_chart, name="client_chart"),
    path("<int:client_id>/break-glass/", views.break_glass, name="client_break_glass"),
    path("<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path("<int:client_id>/care-team/", views.care_team, name="client_care_team"),
    path(
        "<int:client_id>/care-team/<int:member_id>/leave/",
        views.care_team_leave,
        name="client_care_team_leave",
    ),
    path("<int:client_id>/add/<slug:section>/", views.chart_record_add, name="client_record_add"),
    path(
        "<int:client_id>/flags/<int:flag_id>/remove/",
        views.flag_resolve,
        name="client_flag_resolve",
    ),
]
