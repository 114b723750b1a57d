"""Referrals (with their packets) and prior-authorization requests."""

from django.urls import path

from casework.coordination import views_referrals as views

REFERRAL = "clients/<int:client_id>/referrals/<int:referral_id>/"
PRIOR_AUTH = "clients/<int:client_id>/prior-auths/<int:prior_auth_id>/"

urlpatterns = [
    path("referrals/", views.referral_caseload, name="referral_caseload"),
    path("clients/<int:client_id>/referrals/", views.referral_list, name="referral_list"),
    path("clients/<int:client_id>/referrals/new/", views.referral_new, name="referral_new"),
    path(REFERRAL, views.referral_detail, name="referral_detail"),
    path(REFERRAL + "edit/", views.referral_edit, name="referral_edit"),
    path(REFERRAL + "packet/", views.referral_packet, name="referral_packet"),
    path(REFERRAL + "packet.pdf", views.referral_packet_pdf, name="referral_packet_pdf"),
    path(REFERRAL + "status/", views.referral_status, name="referral_status"),
    path("clients/<int:client_id>/prior-auths/", views.prior_auth_list, name="prior_auth_list"),
    path("clients/<int:client_id>/prior-auths/new/", views.prior_auth_new, name="prior_auth_new"),
    path(PRIOR_AUTH, views.prior_auth_detail, name="prior_auth_detail"),
    path(PRIOR_AUTH + "edit/", views.prior_auth_edit, name="prior_auth_edit"),
    path(PRIOR_AUTH + "status/", views.prior_auth_status, name="prior_auth_status"),
]
