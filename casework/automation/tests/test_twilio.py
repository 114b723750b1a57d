"""The Twilio adapter against a real HTTP server on 127.0.0.1 that records what it is sent."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ImproperlyConfigured

from casework.automation.messaging import MessageError, TwilioSmsBackend

SID, TOKEN, FROM = "AC0123456789abcdef", "secret-token", "+12065550199"


@dataclass
class FakeTwilio:
    """What the server received, and what it answers next (status, JSON body); `location`
    makes it answer with a redirect there instead."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    answer: tuple[int, dict[str, Any]] = (201, {"sid": "SM0001", "status": "queued"})
    location: str = ""


@contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    state = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers.items()),
                    "form": parse_qs(self.rfile.read(length).decode()),
                }
            )
            if state.location:
                self.send_response(302)
                self.send_header("Location", state.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, payload = state.answer
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST  # a followed redirect arrives as a GET: recorded all the same

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as state:
        yield state


def backend(twilio: FakeTwilio) -> TwilioSmsBackend:
    return TwilioSmsBackend(
        account_sid=SID, auth_token=TOKEN, from_number=FROM, base_url=twilio.url, timeout=5
    )


def test_a_text_is_posted_to_the_messages_api_and_its_sid_returned(twilio):
    assert backend(twilio).send("+12065550142", "Reminder: Tuesday at 10 AM") == "SM0001"
    (request,) = twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request["form"] == {
        "To": ["+12065550142"],
        "From": [FROM],
        "Body": ["Reminder: Tuesday at 10 AM"],
    }
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request["headers"]["Authorization"] == f"Basic {expected}"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_refusal_raises_a_clear_error_without_the_number(twilio):
    twilio.answer = (
        400,
        {"code": 21211, "message": "The 'To' number +12065550142 is not a valid phone number."},
    )
    with pytest.raises(MessageError) as error:
        backend(twilio).send("+12065550142", "Hi")
    assert str(error.value) == "Twilio refused the message (HTTP 400, Twilio error 21211)."


def test_a_server_error_raises_a_clear_error(twilio):
    twilio.answer = (503, {})
    with pytest.raises(MessageError, match=r"HTTP 503\)"):
        backend(twilio).send("+12065550142", "Hi")


def test_an_answer_without_a_sid_is_an_error(twilio):
    twilio.answer = (201, {"status": "queued"})
    with pytest.raises(MessageError, match="no message id"):
        backend(twilio).send("+12065550142", "Hi")


def test_an_unreachable_server_is_an_error(twilio):
    closed = TwilioSmsBackend(
        account_sid=SID,
        auth_token=TOKEN,
        from_number=FROM,
        base_url="http://127.0.0.1:9",
        timeout=2,
    )
    with pytest.raises(MessageError, match="Could not reach Twilio"):
        closed.send("+12065550142", "Hi")


def test_missing_settings_stop_it_with_a_clear_message(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"):
        TwilioSmsBackend(from_number=FROM)


def test_only_web_addresses_are_accepted_as_the_base_url():
    with pytest.raises(ImproperlyConfigured):
        TwilioSmsBackend(
            account_sid=SID, auth_token=TOKEN, from_number=FROM, base_url="file:///etc"
        )


def test_a_redirect_is_refused_and_the_token_goes_nowhere_else(twilio):
    with fake_twilio() as elsewhere:
        twilio.location = f"{elsewhere.url}/2010-04-01/Accounts/{SID}/Messages.json"
        with pytest.raises(MessageError, match=r"redirect \(HTTP 302\); it was not followed"):
            backend(twilio).send("+12065550142", "Hi")
        assert len(twilio.requests) == 1
        assert elsewhere.requests == []  # neither the token nor the number went there


@pytest.mark.parametrize(
    "url",
    [
        "http://api.twilio.com",
        "http://10.0.0.5:8080",
        "http://127.0.0.1.evil.example",
        "ftp://api.twilio.com",
        "file:///etc",
        "api.twilio.com",
    ],
)
def test_only_https_is_accepted_except_to_this_machine(url):
    with pytest.raises(ImproperlyConfigured, match="https://"):
        TwilioSmsBackend(account_sid=SID, auth_token=TOKEN, from_number=FROM, base_url=url)


@pytest.mark.parametrize(
    "url", ["https://api.twilio.com", "http://127.0.0.1:8080", "http://localhost:9000"]
)
def test_https_and_loopback_base_urls_are_accepted(url):
    made = TwilioSmsBackend(account_sid=SID, auth_token=TOKEN, from_number=FROM, base_url=url)
    assert made.url.startswith(url)


@pytest.mark.django_db
def test_the_reminder_job_sends_through_twilio_when_configured(cast, twilio, settings):
    import datetime

    import time_machine

    from casework.automation import reminders
    from casework.automation.models import ClientReminder
    from casework.automation.tests.helpers import texts
    from casework.testing.schedule import appointment_for, local

    settings.CASEWORK_SMS_BACKEND = "casework.automation.messaging.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    settings.TWILIO_FROM_NUMBER, settings.TWILIO_BASE_URL = FROM, twilio.url
    now = local(cast.agency, datetime.date(2026, 12, 8), "12:00")
    with time_machine.travel(now, tick=False):
        texts(cast, "206 555 0142")
        appointment_for(cast, start=now + datetime.timedelta(hours=3))
        assert reminders.send_client_reminders() == 1
        assert reminders.send_client_reminders() == 0
    (request,) = twilio.requests
    assert request["form"]["To"] == ["+12065550142"]
    assert ClientReminder.objects.get().provider_id == "SM0001"
