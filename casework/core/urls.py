from django.urls import path

from casework.core import views, views_agency, views_audit, views_auth, views_staff
from casework.worklist.views import my_day

urlpatterns = [
    path("", my_day, name="home"),
    path("login/", views_auth.LoginView.as_view(), name="login"),
    path("logout/", views_auth.logout_view, name="logout"),
    path("account/", views.account, name="account"),
    path(
        "account/sign-out-everywhere/", views_auth.sign_out_everywhere, name="sign_out_everywhere"
    ),
    path("account/two-factor/setup/", views_auth.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/verify/", views_auth.two_factor_verify, name="two_factor_verify"),
    path("session/status", views_auth.session_status, name="session_status"),
    path("session/keepalive", views_auth.session_keepalive, name="session_keepalive"),
    path("audit/", views_audit.audit_log, name="audit_log"),
    path("staff/", views_staff.staff_list, name="staff_list"),
    path("staff/<int:user_id>/", views_staff.staff_detail, name="staff_detail"),
    path("staff/new/", views_staff.staff_new, name="staff_new"),
    path("staff/<int:user_id>/edit/", views_staff.staff_edit, name="staff_edit"),
    path("staff/<int:user_id>/deactivate/", views_staff.staff_deactivate, name="staff_deactivate"),
    path("staff/<int:user_id>/reactivate/", views_staff.staff_reactivate, name="staff_reactivate"),
    path(
        "staff/<int:user_id>/two-factor-reset/",
        views_staff.staff_two_factor_reset,
        name="staff_two_factor_reset",
    ),
    path("staff/<int:user_id>/unlock/", views_staff.staff_unlock, name="staff_unlock"),
    path(
        "staff/<int:user_id>/invitation/",
        views_staff.staff_invitation_resend,
        name="staff_invitation_resend",
    ),
    path(
        "staff/<int:user_id>/credentials/new/",
        views_staff.credential_new,
        name="credential_new",
    ),
    path(
        "staff/<int:user_id>/credentials/<int:credential_id>/edit/",
        views_staff.credential_edit,
        name="credential_edit",
    ),
    path(
        "staff/<int:user_id>/credentials/<int:credential_id>/attest/",
        views_staff.credential_attest,
        name="credential_attest",
    ),
    path("staff/programs/", views_agency.program_list, name="program_list"),
    path("staff/programs/new/", views_agency.program_new, name="program_new"),
    path("staff/programs/<int:program_id>/edit/", views_agency.program_edit, name="program_edit"),
    path(
        "staff/programs/<int:program_id>/active/",
        views_agency.program_set_active,
        name="program_set_active",
    ),
    path("staff/teams/", views_agency.team_list, name="team_list"),
    path("staff/teams/new/", views_agency.team_new, name="team_new"),
    path("staff/teams/<int:team_id>/", views_agency.team_detail, name="team_detail"),
    path("staff/teams/<int:team_id>/edit/", views_agency.team_edit, name="team_edit"),
    path(
        "staff/teams/<int:team_id>/active/",
        views_agency.team_set_active,
        name="team_set_active",
    ),
    path("staff/agency/", views_agency.agency_settings, name="agency_settings"),
    path("password-reset/", views_auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        views_auth.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views_auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        views_auth.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
