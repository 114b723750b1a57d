"""Report routes; each report's CSV is the same URL with `?format=csv`."""

from django.urls import path

from casework.reports import views

urlpatterns = [
    path("", views.report_index, name="reports_index"),
    path("productivity/", views.productivity, name="reports_productivity"),
    path("unsigned-notes/", views.unsigned_notes, name="reports_unsigned_notes"),
    path("charges/", views.charges, name="reports_charges"),
    path("authorizations/", views.authorizations, name="reports_authorizations"),
]
