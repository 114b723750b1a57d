"""TOTP two-factor sign-in (django-otp): enrolment with a QR code, and verification."""

from __future__ import annotations

import time

import segno
from django.contrib.sessions.backends.base import SessionBase
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from casework.core.models import User

DEVICE_NAME = "Authenticator app"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


SETUP_KEY = "casework_totp_setup_key"


def setup_device(user: User, session: SessionBase) -> TOTPDevice:
    """The authenticator being set up: its key waits in the session, nothing is saved until it works."""
    if not session.get(SETUP_KEY):
        session[SETUP_KEY] = random_hex(20)
    return TOTPDevice(user=user, name=DEVICE_NAME, key=session[SETUP_KEY], confirmed=False)


def setup_code_matches(device: TOTPDevice, token: str) -> int | None:
    """The TOTP time step the code belongs to, or None. (No throttle: the key is on the person's screen.)"""
    if not token.isdigit():
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return int(totp.t()) if totp.verify(int(token), tolerance=device.tolerance) else None


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image download, no CDN)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def readable_secret(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
