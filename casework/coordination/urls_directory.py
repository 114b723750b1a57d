"""The agency's directory of outside organisations and people, and its CSV import."""

from django.urls import path

from casework.coordination import views_directory as views

urlpatterns = [
    path("directory/", views.directory_search, name="directory_search"),
    path(
        "directory/organizations/new/",
        views.directory_organization_new,
        name="directory_organization_new",
    ),
    path(
        "directory/organizations/<int:organization_id>/",
        views.directory_organization,
        name="directory_organization",
    ),
    path(
        "directory/organizations/<int:organization_id>/edit/",
        views.directory_organization_edit,
        name="directory_organization_edit",
    ),
    path(
        "directory/organizations/<int:organization_id>/active/",
        views.directory_organization_active,
        name="directory_organization_active",
    ),
    path("directory/people/new/", views.directory_person_new, name="directory_person_new"),
    path(
        "directory/people/<int:person_id>/edit/",
        views.directory_person_edit,
        name="directory_person_edit",
    ),
    path(
        "directory/people/<int:person_id>/active/",
        views.directory_person_active,
        name="directory_person_active",
    ),
    path("directory/import/", views.directory_import, name="directory_import"),
    path(
        "directory/import/confirm/",
        views.directory_import_confirm,
        name="directory_import_confirm",
    ),
    path(
        "directory/import/sample.csv",
        views.directory_import_sample,
        name="directory_import_sample",
    ),
]
