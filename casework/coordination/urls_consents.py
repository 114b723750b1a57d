"""Releases of information and the client's accounting of disclosures (mounted at the root)."""

from django.urls import path

from casework.coordination import views_consents as views

urlpatterns = [
    path("clients/<int:client_id>/releases/", views.release_list, name="release_list"),
    path("clients/<int:client_id>/releases/new/", views.release_new, name="release_new"),
    path(
        "clients/<int:client_id>/releases/<int:consent_id>/",
        views.release_detail,
        name="release_detail",
    ),
    path(
        "clients/<int:client_id>/releases/<int:consent_id>/revoke/",
        views.release_revoke,
        name="release_revoke",
    ),
    path(
        "clients/<int:client_id>/releases/<int:consent_id>/ended/",
        views.release_end,
        name="release_end",
    ),
    path(
        "clients/<int:client_id>/releases/<int:consent_id>/release.pdf",
        views.release_pdf,
        name="release_pdf",
    ),
    path(
        "clients/<int:client_id>/disclosures/",
        views.accounting_page,
        name="disclosure_accounting",
    ),
    path(
        "clients/<int:client_id>/disclosures.pdf",
        views.accounting_download,
        name="disclosure_accounting_pdf",
    ),
]
