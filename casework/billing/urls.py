"""Billing routes: set-up screens (urls_setup) and the billing work (charges, holds, batches)."""

from django.urls import include, path

urlpatterns = [
    path("setup/", include("casework.billing.urls_setup")),
]
