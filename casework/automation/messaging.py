"""Pluggable backends that send a short message to a client: a text (SMS) or an email.

A backend has one method, `send(to, body) -> str`, which returns the provider's id for the
message and raises `MessageError` (with a message that carries no number, address or text) when
it cannot send. Which backend sends each channel is a setting (CASEWORK_SMS_BACKEND,
CASEWORK_EMAIL_REMINDER_BACKEND, dotted paths): the console in development, Django's email
(SMTP, configured by EMAIL_URL) for email, and Twilio for SMS.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.utils.module_loading import import_string

EMAIL_SUBJECT = "Appointment reminder"


class MessageError(Exception):
    """The message could not be sent. The text names no recipient and quotes no message."""


class MessageBackend(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send `body` to `to`; return the provider's id for the message."""
        ...


class ConsoleBackend:
    """Development: writes the message to standard output (never to the logs)."""

    def send(self, to: str, body: str) -> str:
        message_id = f"console-{uuid.uuid4().hex[:12]}"
        sys.stdout.write(f"[reminder {message_id}] to {to}: {body}\n")
        sys.stdout.flush()
        return message_id


@dataclass
class Sent:
    to: str
    body: str
    message_id: str


class MemoryBackend:
    """Tests: keeps what was sent in `MemoryBackend.outbox` (as Django's locmem email does)."""

    outbox: list[Sent] = []
    _lock = threading.Lock()

    def send(self, to: str, body: str) -> str:
        message_id = f"memory-{uuid.uuid4().hex[:12]}"
        with self._lock:
            MemoryBackend.outbox.append(Sent(to, body, message_id))
        return message_id


class UnconfiguredBackend:
    """Production without an SMS provider: every text fails with a message saying so."""

    def send(self, to: str, body: str) -> str:
        raise MessageError("No SMS provider is set up: set CASEWORK_SMS_BACKEND (see README).")


class EmailBackend:
    """Email through Django's mail settings (SMTP in production); the id is the Message-ID."""

    def send(self, to: str, body: str) -> str:
        message_id = make_msgid(domain="casework")
        message = EmailMessage(
            EMAIL_SUBJECT,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [to],
            headers={"Message-ID": message_id},
        )
        try:
            message.send()
        except Exception as error:  # smtplib's errors quote the address: keep only the kind
            raise MessageError(
                f"The mail server refused the email ({type(error).__name__})."
            ) from None
        return message_id


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class RedirectRefused(urllib.error.URLError):
    """The provider answered with a redirect: never followed, so the credentials go nowhere else."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib follows redirects and re-sends the Authorization header; we follow none."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        raise RedirectRefused(
            f"Twilio answered with a redirect (HTTP {code}); it was not followed."
        )


class TwilioSmsBackend:
    """Twilio's Messages API with the standard library only: one form-encoded POST per text.

    `base_url` is configurable (TWILIO_BASE_URL) for a regional endpoint or a test server.
    """

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        from_number: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.account_sid = str(account_sid or getattr(settings, "TWILIO_ACCOUNT_SID", ""))
        self.auth_token = str(auth_token or getattr(settings, "TWILIO_AUTH_TOKEN", ""))
        self.from_number = str(from_number or getattr(settings, "TWILIO_FROM_NUMBER", ""))
        self.base_url = str(
            base_url or getattr(settings, "TWILIO_BASE_URL", "") or "https://api.twilio.com"
        ).rstrip("/")
        self.timeout = timeout
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", self.account_sid),
                ("TWILIO_AUTH_TOKEN", self.auth_token),
                ("TWILIO_FROM_NUMBER", self.from_number),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"Twilio text messages need {', '.join(missing)}.")
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        ):
            raise ImproperlyConfigured(
                "TWILIO_BASE_URL must start with https:// (plain http only to this machine)."
            )
        self._opener = urllib.request.build_opener(_NoRedirects)

    @property
    def url(self) -> str:
        sid = urllib.parse.quote(self.account_sid, safe="")
        return f"{self.base_url}/2010-04-01/Accounts/{sid}/Messages.json"

    def send(self, to: str, body: str) -> str:
        data = urllib.parse.urlencode({"To": to, "From": self.from_number, "Body": body})
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=data.encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode("utf-8") or "{}")
        except RedirectRefused as error:
            raise MessageError(str(error)) from None
        except urllib.error.HTTPError as error:
            raise MessageError(_refusal(error)) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise MessageError(f"Could not reach Twilio ({type(reason).__name__}).") from None
        except ValueError:
            raise MessageError("Twilio's answer was not JSON.") from None
        sid = payload.get("sid") if isinstance(payload, dict) else None
        if not sid:
            raise MessageError("Twilio's answer carried no message id.")
        return str(sid)


def _refusal(error: urllib.error.HTTPError) -> str:
    """HTTP status and Twilio's error code; Twilio's own text may quote the number, so not that."""
    code = ""
    try:
        payload = json.loads(error.read().decode("utf-8"))
        if isinstance(payload, dict) and payload.get("code") is not None:
            code = f", Twilio error {int(payload['code'])}"
    except (ValueError, TypeError, OSError):
        pass
    return f"Twilio refused the message (HTTP {error.code}{code})."


def backend_for(channel: str) -> MessageBackend:
    """The configured backend for "sms" or "email"."""
    path = {
        "sms": settings.CASEWORK_SMS_BACKEND,
        "email": settings.CASEWORK_EMAIL_REMINDER_BACKEND,
    }.get(channel)
    if path is None:
        raise MessageError("There is no such reminder channel.")
    backend: MessageBackend = import_string(path)()
    return backend


NANP = re.compile(r"^1?([2-9][0-9]{2}[2-9][0-9]{6})$")
DIALLED = re.compile(r"^\+?[0-9 ().\-]+$", re.ASCII)


class NotTextable(MessageError):
    """The number is not one a text can go to (an extension, letters, the wrong length…)."""


def to_e164(number: str) -> str:
    """A number as SMS providers want it: "+" and 8 to 15 digits.

    Only ASCII digits with the usual separators are read; an extension ("x12", "ext 3"), a
    letter or another script's digits refuse the number rather than guess. Without a leading
    "+" it must be a North American number (ten digits, or eleven starting with 1).
    """
    text = number.strip()
    if not text or not DIALLED.match(text) or "+" in text[1:]:
        raise NotTextable("The number to text is not a plain phone number.")
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+") and not digits.startswith("1"):
        if not 8 <= len(digits) <= 15:
            raise NotTextable("The number to text does not have 8 to 15 digits.")
        return f"+{digits}"
    nanp = NANP.match(digits)
    if nanp is None or (text.startswith("+") and len(digits) != 11):
        raise NotTextable("The number to text is not a North American mobile number.")
    return f"+1{nanp.group(1)}"
