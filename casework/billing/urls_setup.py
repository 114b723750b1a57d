"""Billing set-up routes, under /billing/setup/: payers, catalogue, authorizations, claim settings."""

from django.urls import path

from casework.billing import views_setup as views

urlpatterns = [
    path("", views.setup_home, name="billing_setup"),
    path("payers/", views.payer_list, name="billing_payer_list"),
    path("payers/new/", views.payer_new, name="billing_payer_new"),
    path("payers/<int:payer_id>/edit/", views.payer_edit, name="billing_payer_edit"),
    path(
        "payers/<int:payer_id>/unit-rules/",
        views.payer_code_rules,
        name="billing_payer_code_rules",
    ),
    path("codes/", views.code_list, name="billing_code_list"),
    path("codes/new/", views.code_new, name="billing_code_new"),
    path("codes/standard/", views.catalogue_seed, name="billing_catalogue_seed"),
    path("codes/<int:code_id>/edit/", views.code_edit, name="billing_code_edit"),
    path("codes/<int:code_id>/rates/", views.code_rates, name="billing_code_rates"),
    path("authorizations/", views.authorization_list, name="billing_authorization_list"),
    path("authorizations/new/", views.authorization_new, name="billing_authorization_new"),
    path(
        "authorizations/<int:authorization_id>/edit/",
        views.authorization_edit,
        name="billing_authorization_edit",
    ),
    path("claims/", views.claim_settings, name="billing_claim_settings"),
]
