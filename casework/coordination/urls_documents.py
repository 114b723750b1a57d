"""Client documents: `clients/<id>/documents/…` (mounted at the site root by coordination/urls.py)."""

from django.urls import URLPattern, path

from casework.coordination import views_documents as views

DOCUMENT = "clients/<int:client_id>/documents/<int:document_id>/"

urlpatterns: list[URLPattern] = [
    path("clients/<int:client_id>/documents/", views.document_list, name="document_list"),
    path("clients/<int:client_id>/documents/new/", views.document_upload, name="document_upload"),
    path(DOCUMENT, views.document_detail, name="document_detail"),
    path(f"{DOCUMENT}view/", views.document_inline, name="document_inline"),
    path(f"{DOCUMENT}download/", views.document_download, name="document_download"),
    path(f"{DOCUMENT}remove/", views.document_remove, name="document_remove"),
    path(f"{DOCUMENT}give/", views.document_release, name="document_release"),
]
