"""Service-note routes."""

from django.urls import path

from casework.notes import views

urlpatterns = [
    path("new/<int:client_id>/", views.note_new, name="note_new"),
    path("unsigned/", views.unsigned_notes, name="unsigned_notes"),
    path("cosign/", views.cosign_queue, name="cosign_queue"),
    path("phrases/", views.quick_phrase_list, name="quick_phrase_list"),
    path("phrases/<int:phrase_id>/delete/", views.quick_phrase_delete, name="quick_phrase_delete"),
    path("group/new/", views.group_note_new, name="group_note_new"),
    path("group/<int:session_id>/", views.group_session, name="group_session"),
    path("<int:note_id>/", views.note_detail, name="note_detail"),
    path("<int:note_id>/edit/", views.note_edit, name="note_edit"),
    path("<int:note_id>/autosave/", views.note_autosave, name="note_autosave"),
    path("<int:note_id>/quote/", views.note_quote, name="note_quote"),
    path("<int:note_id>/print/", views.note_print, name="note_print"),
    path("<int:note_id>/cosign/", views.note_cosign, name="note_cosign"),
    path("<int:note_id>/addendum/", views.note_addendum, name="note_addendum"),
    path("<int:note_id>/void/", views.note_void, name="note_void"),
    path("<int:note_id>/discard/", views.note_discard, name="note_discard"),
]
