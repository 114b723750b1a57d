"""Audit every sign-in, sign-out and failed sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from casework.core.audit import Action, audit_record
from casework.core.models import User


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(actor=user, action=Action.LOGIN, obj=user)


@receiver(user_logged_out)
def audit_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    # Idle sign-out and "sign out everywhere" record their own entry, with the reason.
    if user is not None and not getattr(request, "logout_audited", False):
        audit_record(actor=user, action=Action.LOGOUT, obj=user)


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    attempted = str(credentials.get("username", ""))[:254].lower()
    known = User.objects.filter(email__iexact=attempted).values_list("pk", "agency_id").first()
    audit_record(
        actor=None,
        action=Action.LOGIN_FAILED,
        actor_label=attempted,
        object_type="core.user",
        object_id=known[0] if known else "",
        agency_id=known[1] if known else None,
    )
