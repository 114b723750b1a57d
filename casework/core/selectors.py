"""Reads of staff data, each scoped to what the asking user may see."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from casework.core import access
from casework.core.models import Credential, User


def credentials_expiring(*, user: User, today: datetime.date) -> QuerySet[Credential]:
    """The user's own credentials that expire within the agency's warning window (or have expired)."""
    if user.agency is None:
        return Credential.objects.none()
    horizon = today + datetime.timedelta(days=user.agency.credential_warning_days)
    return Credential.objects.filter(user=user, expires_on__lte=horizon).order_by("expires_on")


def agency_credentials_expiring(*, user: User, today: datetime.date) -> QuerySet[Credential]:
    """For agency admins: every active staff member's credentials expiring soon or expired."""
    if not access.may_manage_staff(user) or user.agency is None:
        return Credential.objects.none()
    horizon = today + datetime.timedelta(days=user.agency.credential_warning_days)
    return (
        Credential.objects.filter(
            agency_id=access.agency_id_of(user), user__is_active=True, expires_on__lte=horizon
        )
        .select_related("user")
        .order_by("expires_on")
    )
