"""Print the current two-factor code of a demo account (demo accounts only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_DOMAIN = "demo.casework.example"


class Command(BaseCommand):
    help = (
        "Print the current 6-digit code for a demo account's authenticator (e.g. demo_totp admin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "login", help="The part before @ of a demo account, e.g. admin or billing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email = f"{options['login']}@{DEMO_DOMAIN}"
        device = TOTPDevice.objects.filter(user__email=email, confirmed=True).first()
        if device is None:
            raise CommandError(f"{email} has no demo authenticator.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():06d}")
