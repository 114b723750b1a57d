"""Signing in and out: password, two-factor, idle time-out, sign out everywhere."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login

from casework.core import services
from casework.core.audit import Action, audit_record
from casework.core.middleware import LAST_ACTIVITY_KEY, idle_minutes_for
from casework.core.models import User
from casework.core.twofactor import (
    SETUP_KEY,
    confirmed_device,
    qr_svg,
    readable_secret,
    setup_code_matches,
    setup_device,
)

SIGN_OUT_REASONS = {
    "idle": "You were signed out after a period without activity, to protect your clients' privacy. "
    "Sign in again to carry on; what you were typing is kept in this browser.",
    "everywhere": "You signed out on every device.",
}


THROTTLED = "Too many wrong codes in a row. Wait a few seconds, then type the newest code."


class EmailAuthenticationForm(AuthenticationForm):
    # No autofocus: it would skip the skip link and the notice saying why the person is here.
    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account. Passwords are case-sensitive.",
    }


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sign_out_reason"] = SIGN_OUT_REASONS.get(self.request.GET.get("reason", ""))
        return context


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The name failed sign-ins are counted under: the email as sign-in reads it (any case, no
    surrounding spaces), so CM@… and cm@… share one allowance."""
    source = credentials if credentials else getattr(request, "POST", {})
    return str(source.get("username") or "").strip().lower()


def lockout_response(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    form = EmailAuthenticationForm(request, data=request.POST or None)
    return render(
        request,
        "core/login.html",
        {"form": form, "locked_out": True},
        status=429,
    )


def _safe_next(request: HttpRequest, fallback: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(fallback)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].replace(" ", "")


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if confirmed_device(user) is not None:
        return redirect("two_factor_verify")
    device = setup_device(user, request.session)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        step = setup_code_matches(device, form.cleaned_data["token"])
        if step is None:
            form.add_error(
                "token",
                "That code did not match. Check the time on your phone and try the newest code.",
            )
        else:
            device = services.two_factor_enrol(device=device, last_t=step, by=user)
            del request.session[SETUP_KEY]
            otp_login(request, device)
            messages.success(
                request,
                "Two-factor sign-in is on. You will be asked for a code each time you sign in.",
            )
            return HttpResponseRedirect(_safe_next(request))
    context = {
        "form": form,
        "qr_svg": qr_svg(device),
        "secret": readable_secret(device),
        "next": request.GET.get("next", ""),
    }
    return render(request, "core/two_factor_setup.html", context)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    device = confirmed_device(user)
    if device is None:
        return redirect("two_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("token", THROTTLED)
        elif device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request))
        else:
            form.add_error(
                "token",
                "That code did not match. Use the newest code; codes change every 30 seconds.",
            )
    return render(
        request, "core/two_factor_verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("login")


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.sign_out_everywhere(user=request.user)  # type: ignore[arg-type]
    request.logout_audited = True  # type: ignore[attr-defined]
    logout(request)
    return redirect(f"{reverse('login')}?reason=everywhere")


@require_GET
def session_status(request: HttpRequest) -> JsonResponse:
    """Seconds left before idle sign-out; does not itself count as activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"authenticated": False, "seconds_left": 0})
    last = float(request.session.get(LAST_ACTIVITY_KEY, time.time()))
    left = max(0, int(idle_minutes_for(request) * 60 - (time.time() - last)))
    return JsonResponse({"authenticated": True, "seconds_left": left})


@require_POST
def session_keepalive(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"authenticated": False, "seconds_left": 0}, status=401)
    return JsonResponse({"authenticated": True, "seconds_left": idle_minutes_for(request) * 60})


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "core/password_reset.html"
    email_template_name = "core/email/password_reset.txt"
    subject_template_name = "core/email/password_reset_subject.txt"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "core/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "core/password_reset_confirm.html"
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(
            actor=form.user, action=Action.UPDATE, obj=form.user, detail={"password": "reset"}
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "core/password_reset_complete.html"
