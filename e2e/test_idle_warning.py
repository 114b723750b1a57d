"""The idle warning: shown before the agency's sign-out time, and "Stay signed in" keeps the session."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from casework.clients.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from casework.core.middleware import LAST_ACTIVITY_KEY
from e2e.test_forms import age_the_session

CASE_MANAGER = f"casemanager@{DEMO_DOMAIN}"


def seconds_idle_on_server(page: Any) -> float:
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    return time.time() - float(SessionStore(session_key=cookie["value"])[LAST_ACTIVITY_KEY])


def test_warning_appears_before_sign_out_and_staying_keeps_the_session(
    page: Any, sign_in: Callable[..., None]
) -> None:
    demo = seed_demo(clients=2, seed=1)
    limit = demo.agency.idle_timeout_minutes * 60
    sign_in(page, CASE_MANAGER, DEMO_PASSWORD)
    page.clock.install()
    page.goto("/clients/")
    dialog = page.get_by_role("dialog", name="Still there?")
    expect(dialog).to_be_hidden()

    age_the_session(page, limit - 100)  # the person walked away 13+ minutes ago
    page.clock.fast_forward((limit - 100) * 1000)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("signed out in 1:")

    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    assert seconds_idle_on_server(page) < 5
    page.goto("/clients/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Clients")


def test_ignoring_the_warning_signs_out_and_says_why(
    page: Any, sign_in: Callable[..., None]
) -> None:
    demo = seed_demo(clients=2, seed=1)
    limit = demo.agency.idle_timeout_minutes * 60
    sign_in(page, CASE_MANAGER, DEMO_PASSWORD)
    page.clock.install()
    page.goto("/clients/")
    age_the_session(page, limit + 5)
    page.clock.fast_forward((limit + 5) * 1000)
    expect(page).to_have_url(re.compile(r"/login/\?reason=idle&next=%2Fclients%2F"))
    expect(page.get_by_role("status")).to_contain_text("signed out after a period without activity")
