"""The communications log, letters and the agency's letter templates (mounted at the root)."""

from django.urls import path

from casework.coordination import views_communications as views

CLIENT = "clients/<int:client_id>/"

urlpatterns = [
    path(f"{CLIENT}communications/", views.communication_list, name="communication_list"),
    path(f"{CLIENT}communications/new/", views.communication_new, name="communication_new"),
    path(
        f"{CLIENT}communications/<int:communication_id>/note/",
        views.communication_note,
        name="communication_note",
    ),
    path(f"{CLIENT}letters/", views.letter_list, name="letter_list"),
    path(f"{CLIENT}letters/new/", views.letter_new, name="letter_new"),
    path(f"{CLIENT}letters/<int:letter_id>/", views.letter_detail, name="letter_detail"),
    path(f"{CLIENT}letters/<int:letter_id>/issue/", views.letter_issue, name="letter_issue"),
    path(f"{CLIENT}letters/<int:letter_id>/letter.pdf", views.letter_download, name="letter_pdf"),
    path("letter-templates/", views.letter_template_list, name="letter_template_list"),
    path("letter-templates/new/", views.letter_template_new, name="letter_template_new"),
    path(
        "letter-templates/standard/",
        views.letter_template_defaults,
        name="letter_template_defaults",
    ),
    path(
        "letter-templates/<int:template_id>/",
        views.letter_template_edit,
        name="letter_template_edit",
    ),
]
