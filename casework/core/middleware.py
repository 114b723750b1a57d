"""Request id, idle sign-out and the two-factor gate."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from casework.core import access
from casework.core.audit import Action, RequestContext, audit_record, current_request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-]{8,64}$")
LAST_ACTIVITY_KEY = "casework_last_activity"


def client_ip(request: HttpRequest) -> str:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:45]
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


class RequestIdMiddleware:
    """Gives every request an id (kept from X-Request-ID when sane) for logs and the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = current_request.set(
            RequestContext(
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", "")[:300],
                request_id=request_id,
            )
        )
        memo = access.scope_memo.set({})
        reader = access.outside_reader.set(None)
        try:
            response = self.get_response(request)
        finally:
            access.outside_reader.reset(reader)
            access.scope_memo.reset(memo)
            current_request.reset(token)
        response["X-Request-ID"] = request_id
        return response


def idle_minutes_for(request: HttpRequest) -> int:
    agency = getattr(request.user, "agency", None)
    return agency.idle_timeout_minutes if agency else settings.CASEWORK_DEFAULT_IDLE_MINUTES


def redirect_page(request: HttpRequest, url: str) -> HttpResponse:
    """Send the whole page elsewhere, also when htmx asked for only a fragment."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _login_redirect(request: HttpRequest, reason: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return HttpResponse(
            "Session ended after inactivity.", status=401, content_type="text/plain"
        )
    next_path = request.get_full_path() if request.method == "GET" else request.path
    return redirect_page(
        request, f"{reverse('login')}?{urlencode({'next': next_path, 'reason': reason})}"
    )


class IdleTimeoutMiddleware:
    """Signs a person out after the agency's idle time (default 15 minutes).

    The page warns before this happens (static/casework/session.js); a passive status check
    (`/session/status`) does not count as activity.
    """

    PASSIVE_PATHS = ("/session/status",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and hasattr(request, "session")
            and "_auth_user_id" in request.session
        ):
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            limit = idle_minutes_for(request) * 60
            if last is not None and now - float(last) > limit:
                audit_record(actor=user, action=Action.LOGOUT, obj=user, detail={"reason": "idle"})
                request.logout_audited = True  # type: ignore[attr-defined]
                logout(request)
                if request.path not in self.PASSIVE_PATHS:
                    return _login_redirect(request, "idle")
                return self.get_response(request)  # the status check answers "signed out" itself
            # Writing the session costs a query; a 30-second granularity is plenty for a timeout.
            if request.path not in self.PASSIVE_PATHS and (last is None or now - float(last) > 30):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Sends a signed-in person to two-factor set-up or verification until they pass it.

    Anyone who has a confirmed device must use it; admins and billing staff (and everyone,
    where the agency says so) must have one.
    """

    OPEN_PREFIXES = (
        "/static/",
        "/healthz",
        "/logout",
        "/login",
        "/account/two-factor",
        "/session/",
        "/password-reset",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(self.OPEN_PREFIXES)
            and not request.path.startswith("/api/")
            and not getattr(user, "is_verified", lambda: False)()
        ):
            from casework.core.twofactor import confirmed_device

            if confirmed_device(user) is not None:
                return self._redirect(request, "two_factor_verify")
            if user.needs_two_factor:
                return self._redirect(request, "two_factor_setup")
        return self.get_response(request)

    @staticmethod
    def _redirect(request: HttpRequest, name: str) -> HttpResponse:
        return redirect_page(
            request, f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"
        )


class AgencyTimeZoneMiddleware:
    """Times are stored in UTC and shown in the time zone of the signed-in person's agency."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        agency = getattr(request.user, "agency", None) if request.user.is_authenticated else None
        if agency is not None:
            timezone.activate(agency.tzinfo)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
