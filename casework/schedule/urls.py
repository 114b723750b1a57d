"""Schedule routes (mounted at /schedule/)."""

from django.urls import path

from casework.schedule import views, views_calendar, views_setup

urlpatterns = [
    path("", views_calendar.my_schedule, name="schedule"),
    path("team/<int:team_id>/", views_calendar.team_schedule, name="schedule_team"),
    path("client/<int:client_id>/", views_calendar.client_schedule, name="schedule_client"),
    path("new/", views.appointment_new, name="appointment_new"),
    path("<int:appointment_id>/", views.appointment_detail, name="appointment_detail"),
    path("<int:appointment_id>/edit/", views.appointment_edit, name="appointment_edit"),
    path("<int:appointment_id>/outcome/", views.appointment_outcome, name="appointment_outcome"),
    path("resources/", views_setup.resource_list, name="schedule_resources"),
    path("resources/<int:resource_id>/", views_setup.resource_edit, name="schedule_resource_edit"),
    path("holidays/", views_setup.holiday_list, name="schedule_holidays"),
    path(
        "holidays/<int:holiday_id>/delete/",
        views_setup.holiday_delete,
        name="schedule_holiday_delete",
    ),
    path("feed/", views_setup.feed_page, name="schedule_feed"),
    path("feed/<str:token>.ics", views_setup.feed_ics, name="schedule_feed_calendar"),
]
