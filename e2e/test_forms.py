"""Forms keep what was typed across an idle sign-out, and one registration makes one client."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from playwright.sync_api import expect

from casework.clients.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from casework.clients.models import Client
from casework.core.middleware import LAST_ACTIVITY_KEY

CASE_MANAGER = f"casemanager@{DEMO_DOMAIN}"
RESTORED = "We put back what you had typed before you were signed out"


def fill_registration(page: Any, first: str, last: str) -> None:
    page.get_by_label("Legal first name").fill(first)
    page.get_by_label("Legal last name").fill(last)
    page.get_by_label("Date of birth").fill("1971-02-03")


def age_the_session(page: Any, seconds: int) -> None:
    """Move the server-side record of the last request back, as if the person had walked away."""
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=cookie["value"])
    session[LAST_ACTIVITY_KEY] = time.time() - seconds
    session.save()


def test_typed_text_survives_an_idle_sign_out_and_comes_back_after_signing_in_again(
    page: Any, sign_in: Callable[..., None]
) -> None:
    demo = seed_demo(clients=2, seed=1)
    sign_in(page, CASE_MANAGER, DEMO_PASSWORD)
    page.goto("/clients/new/")
    page.get_by_label("Legal first name").press_sequentially("Wilhelmina")
    page.get_by_label("Legal last name").fill("Okafor-Lindqvist")
    page.get_by_label("Address notes").fill("Blue door behind the laundromat")

    age_the_session(page, demo.agency.idle_timeout_minutes * 60 + 60)
    page.get_by_role("button", name="Register").click()

    expect(page).to_have_url(re.compile(r"/login/\?next=%2Fclients%2Fnew%2F&reason=idle$"))
    expect(page.get_by_role("status")).to_contain_text("signed out after a period without activity")
    assert not Client.objects.filter(legal_last_name="Okafor-Lindqvist").exists()

    sign_in(page, CASE_MANAGER, DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/clients/new/$"))
    expect(page.get_by_text(RESTORED)).to_be_visible()
    expect(page.get_by_label("Legal first name")).to_have_value("Wilhelmina")
    expect(page.get_by_label("Legal last name")).to_have_value("Okafor-Lindqvist")
    expect(page.get_by_label("Address notes")).to_have_value("Blue door behind the laundromat")

    page.get_by_label("Date of birth").fill("1980-07-09")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wilhelmina Okafor-Lindqvist")
    assert Client.objects.filter(legal_last_name="Okafor-Lindqvist").count() == 1
    page.goto("/clients/new/")  # saved: the draft is gone
    expect(page.get_by_label("Legal first name")).to_have_value("")
    expect(page.get_by_text(RESTORED)).to_have_count(0)


def test_a_double_click_on_register_creates_exactly_one_client(
    page: Any, sign_in: Callable[..., None]
) -> None:
    seed_demo(clients=2, seed=1)
    sign_in(page, CASE_MANAGER, DEMO_PASSWORD)
    page.goto("/clients/new/")
    fill_registration(page, "Dorothea", "Twiceclicked")
    page.get_by_role("button", name="Register").dblclick()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Dorothea Twiceclicked")
    expect(page.get_by_role("status")).to_contain_text("is registered as")
    assert Client.objects.filter(legal_last_name="Twiceclicked").count() == 1


def test_the_same_registration_sent_twice_at_once_creates_exactly_one_client(
    page: Any, sign_in: Callable[..., None]
) -> None:
    """The server's own guard, for browsers where the page script did not run."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "the in-memory SQLite test database is one connection shared by every live-server "
            "thread, so two requests at once cannot be tested on it (run with PostgreSQL)"
        )
    seed_demo(clients=2, seed=1)
    sign_in(page, CASE_MANAGER, DEMO_PASSWORD)
    page.goto("/clients/new/")
    fill_registration(page, "Augustin", "Sentwice")
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector("form[data-keep-draft]");
            const send = () => fetch(location.pathname, {method: "POST", body: new FormData(form)});
            const responses = await Promise.all([send(), send()]);
            return responses.map((r) => [r.status, new URL(r.url).pathname]);
        }"""
    )
    assert Client.objects.filter(legal_last_name="Sentwice").count() == 1
    client = Client.objects.get(legal_last_name="Sentwice")
    assert statuses == [[200, f"/clients/{client.pk}/"]] * 2


def test_the_next_person_on_a_shared_computer_never_sees_what_the_last_one_typed(
    page: Any, sign_in: Callable[..., None]
) -> None:
    demo = seed_demo(clients=2, seed=1)
    sign_in(page, CASE_MANAGER, DEMO_PASSWORD)
    page.goto("/clients/new/")
    page.get_by_label("Legal first name").fill("Private")
    page.get_by_label("Address notes").fill("Lives above the pharmacy")
    age_the_session(page, demo.agency.idle_timeout_minutes * 60 + 60)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/login/"))

    sign_in(page, f"jordan@{DEMO_DOMAIN}", DEMO_PASSWORD)  # a colleague sits down at the same tab
    page.goto("/clients/new/")
    expect(page.get_by_label("Legal first name")).to_have_value("")
    expect(page.get_by_label("Address notes")).to_have_value("")
    expect(page.get_by_text(RESTORED)).to_have_count(0)
