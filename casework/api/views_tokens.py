"""The account page where a person makes, sees once, lists and revokes their API tokens."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from casework.api import services
from casework.api.forms import ApiTokenForm
from casework.core.models import ApiToken, User
from casework.core.twofactor import confirmed_device

View = Callable[..., HttpResponse]


def two_factor_verified(view: View) -> View:
    """A token outlives the session and skips two-factor sign-in, so only verified people make one."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        if user.agency_id is None:
            raise PermissionDenied("Only staff of an agency can use API tokens.")
        if not getattr(user, "is_verified", lambda: False)():
            step = "two_factor_verify" if confirmed_device(user) else "two_factor_setup"
            return HttpResponseRedirect(
                f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}"
            )
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _page(
    request: HttpRequest, form: ApiTokenForm, new_token: str = "", status: int = 200
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    tokens = (
        ApiToken.objects.filter(user=user)
        .select_related("organization")
        .order_by("revoked_at", "-created_at")[:50]
    )
    response = render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token, "now": timezone.now()},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@two_factor_verified
def token_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if request.method != "POST":
        return _page(request, ApiTokenForm(user=user))
    form = ApiTokenForm(request.POST, user=user)
    if form.is_valid():
        try:
            token, raw = services.api_token_create(
                user=user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                organization=form.cleaned_data.get("organization"),
            )
        except services.TokenError as error:
            form.add_error(None, str(error))
        else:
            # Shown in this response only (no redirect, nothing kept in the session).
            messages.success(
                request, f"Token “{token.name}” made. Copy it now: it is not shown again."
            )
            return _page(request, ApiTokenForm(user=user), new_token=raw)
    return _page(request, form, status=400)


@two_factor_verified
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    token = get_object_or_404(ApiToken, pk=token_id, user=user)
    services.api_token_revoke(token=token, by=user)
    messages.success(request, f"Token “{token.name}” is revoked; it no longer works.")
    return redirect("api_tokens")
