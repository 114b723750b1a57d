from django.urls import path

from casework.worklist import views

urlpatterns = [
    path("covering/<int:coverage_id>/", views.my_day_cover, name="my_day_cover"),
    path("tasks/new/", views.task_new, name="task_new"),
    path("tasks/<int:task_id>/", views.task_detail, name="task_detail"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("tasks/<int:task_id>/reopen/", views.task_reopen, name="task_reopen"),
    path("tasks/<int:task_id>/snooze/", views.task_snooze, name="task_snooze"),
    path("tasks/<int:task_id>/reassign/", views.task_reassign, name="task_reassign"),
    path("snooze/", views.item_snooze, name="item_snooze"),
    path("put-aside/", views.put_aside, name="put_aside"),
    path("snoozed/<int:snooze_id>/bring-back/", views.item_bring_back, name="item_bring_back"),
    path("team/", views.team_board, name="team_board"),
]
