from django.urls import path

from casework.processes import views

urlpatterns = [
    path("clients/<int:client_id>/processes/", views.client_processes, name="client_processes"),
    path("processes/", views.process_board, name="process_board"),
    path("processes/<int:instance_id>/", views.process_detail, name="process_detail"),
    path(
        "processes/<int:instance_id>/steps/<int:step_id>/",
        views.step_detail,
        name="process_step",
    ),
    path("processes/<int:instance_id>/pause/", views.process_pause, name="process_pause"),
    path("processes/<int:instance_id>/resume/", views.process_resume, name="process_resume"),
    path("processes/<int:instance_id>/cancel/", views.process_cancel, name="process_cancel"),
    path("processes/<int:instance_id>/reassign/", views.process_reassign, name="process_reassign"),
    path("processes/definitions/", views.definition_list, name="process_definition_list"),
    path(
        "processes/definitions/standard/",
        views.definition_standard,
        name="process_definition_standard",
    ),
    path(
        "processes/definitions/<int:definition_id>/",
        views.definition_detail,
        name="process_definition",
    ),
    path(
        "processes/definitions/<int:definition_id>/download/",
        views.definition_download,
        name="process_definition_download",
    ),
    path(
        "processes/definitions/<int:definition_id>/retire/",
        views.definition_retire,
        name="process_definition_retire",
    ),
]
