"""Billing routes: set-up screens (urls_setup) and the billing work (charges, holds, batches)."""

from django.urls import include, path

from casework.billing import views

urlpatterns = [
    path("", views.billing_home, name="billing_home"),
    path("charges/", views.charge_list, name="billing_charges"),
    path("charges/<int:charge_id>/", views.charge_detail, name="billing_charge"),
    path(
        "charges/<int:charge_id>/recheck/", views.charge_recheck_view, name="billing_charge_recheck"
    ),
    path("charges/<int:charge_id>/void/", views.charge_void_view, name="billing_charge_void"),
    path(
        "charges/<int:charge_id>/correct/", views.charge_correction, name="billing_charge_correct"
    ),
    path("holds/", views.holds, name="billing_holds"),
    path("holds/recheck/", views.charge_recheck_all, name="billing_holds_recheck"),
    path("batches/", views.batch_list, name="billing_batches"),
    path("batches/new/", views.batch_new, name="billing_batch_new"),
    path("batches/<int:batch_id>/", views.batch_detail, name="billing_batch"),
    path("batches/<int:batch_id>/837p/", views.batch_download, name="billing_batch_download"),
    path(
        "batches/<int:batch_id>/submitted/", views.batch_submitted, name="billing_batch_submitted"
    ),
    path("setup/", include("casework.billing.urls_setup")),
]
