"""Personal API tokens: made, listed and revoked by their owner; every change is audited."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from casework.api.authentication import token_generate
from casework.coordination.models import Organization
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import ApiToken, User

DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365
MAX_ACTIVE_TOKENS = 20


class TokenError(Exception):
    """A token change that cannot be made, with a message for the person who asked."""


def active_tokens(*, user: User) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now())
    )


def api_token_create(
    *,
    user: User,
    name: str,
    days: int = DEFAULT_TOKEN_DAYS,
    organization: Organization | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for the user; returns it with the raw secret, which is never stored or shown again.

    With `organization`, the token is for that outside organisation's system: it reads only,
    and only what the clients' releases let the agency share with that organisation.
    """
    if user.agency_id is None or not user.is_active:
        raise TokenError("Only active staff of an agency can make API tokens.")
    if organization is not None and not access.may_manage_staff(user):
        raise TokenError("Only an agency admin can make a token for an outside organisation.")
    if organization is not None and organization.agency_id != user.agency_id:
        raise TokenError("Choose an organisation from your agency's directory.")
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name, e.g. the script or tool that will use it.")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenError(f"A token lasts from 1 to {MAX_TOKEN_DAYS} days.")
    if len(active_tokens(user=user)) >= MAX_ACTIVE_TOKENS:
        raise TokenError(
            f"You already have {MAX_ACTIVE_TOKENS} active tokens; revoke one you no longer use."
        )
    raw, prefix, digest = token_generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            agency_id=user.agency_id,
            user=user,
            name=name[:100],
            prefix=prefix,
            digest=digest,
            expires_at=timezone.now() + datetime.timedelta(days=days),
            organization=organization,
        )
        audit_record(
            actor=user,
            action=Action.CREATE,
            obj=token,
            detail={
                "name": token.name,
                "prefix": prefix,
                "expires_at": token.expires_at,
                "organization": organization.pk if organization is not None else None,
            },
        )
    return token, raw


def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke the caller's own token at once; a revoked token answers 401 from then on."""
    if token.user_id != by.pk:
        raise TokenError("You can only revoke your own tokens.")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=token,
            detail={"revoked": True, "prefix": token.prefix},
        )
    return token
