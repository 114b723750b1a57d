"""API authentication: personal tokens (hashed, expiring, revocable) and verified browser sessions."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from casework.core import access
from casework.core.models import ApiToken, User

TOKEN_PREFIX_LENGTH = 8


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_generate() -> tuple[str, str, str]:
    """A new raw token, its lookup prefix and its digest."""
    raw = "cw_" + secrets.token_urlsafe(32)
    return raw, raw[3 : 3 + TOKEN_PREFIX_LENGTH], token_digest(raw)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer cw_…` (or `Token cw_…`)."""

    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as: Authorization: Bearer <token>."
            )
        token = (
            ApiToken.objects.select_related("user", "user__agency")
            .filter(digest=token_digest(header[1]))
            .first()
        )
        now = timezone.now()
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token is not valid.")
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                "This token has expired; make a new one on your account page."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is deactivated.")
        if token.organization_id is not None:
            access.outside_reader.set(token.organization_id)
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The browser session, but only once two-factor sign-in is passed where it is required."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        from casework.core.twofactor import confirmed_device

        django_request = request._request
        verified = getattr(django_request.user, "is_verified", lambda: False)()
        if not verified and (user.needs_two_factor or confirmed_device(user) is not None):
            raise exceptions.AuthenticationFailed("Finish two-factor sign-in in the browser first.")
        return result
