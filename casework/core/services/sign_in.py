"""Writes about signing in: two-factor devices and ending sessions. Each one transactional and audited."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.core.audit import Action, audit_record
from casework.core.models import (
    User,
)
from casework.core.services.agency import require_admin_of


def two_factor_enrol(*, device: TOTPDevice, last_t: int, by: User) -> TOTPDevice:
    """Save the authenticator the person just proved works; from now on sign-in asks for a code."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=by).delete()  # one authenticator per person
        device.confirmed = True
        device.last_t = last_t
        device.save()
        audit_record(actor=by, action=Action.UPDATE, obj=by, detail={"two_factor": "enabled"})
    return device


def two_factor_reset(*, user: User, by: User) -> None:
    """Remove a person's authenticator (lost phone); they set up a new one at next sign-in."""
    require_admin_of(user.agency_id, by)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"two_factor": "reset"})


def sign_out_everywhere(*, user: User) -> None:
    """End every session of this person (lost phone, shared computer)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
        audit_record(actor=user, action=Action.LOGOUT, obj=user, detail={"scope": "everywhere"})
