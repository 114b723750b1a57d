from django.urls import path

from casework.core import views, views_audit, views_auth, views_staff

urlpatterns = [
    path("", views.home, name="home"),
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
