"""Team collaboration: comments on a client's chart, cover while away, caseload hand-offs."""

from django.urls import path

from casework.coordination import views_collaboration as views

urlpatterns = [
    path("clients/<int:client_id>/comments/", views.comment_list, name="comment_list"),
    path("clients/<int:client_id>/comments/add/", views.comment_add, name="comment_add"),
    path("team/coverage/", views.coverage_list, name="coverage_list"),
    path("team/coverage/new/", views.coverage_new, name="coverage_new"),
    path("team/coverage/<int:coverage_id>/end/", views.coverage_end, name="coverage_end"),
    path("team/handoffs/", views.handoff_list, name="handoff_list"),
    path("team/handoffs/new/", views.handoff_new, name="handoff_new"),
    path("team/handoffs/<int:handoff_id>/", views.handoff_detail, name="handoff_detail"),
    path("team/handoffs/<int:handoff_id>/print/", views.handoff_print, name="handoff_print"),
    path(
        "team/handoffs/<int:handoff_id>/acknowledge/",
        views.handoff_acknowledge,
        name="handoff_acknowledge",
    ),
]
