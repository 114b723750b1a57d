"""Signing in (with and without two-factor), finding a client, signing out; the keyboard path."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from casework.clients.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from casework.clients.models import CareTeamMember, Client, SafetyFlag
from casework.core.models import Team, User


def misspell(name: str) -> str:
    """Swap the second and third letters: "Nguyen" → "Nugyen" (one slip of a hurried thumb)."""
    return name[0] + name[2] + name[1] + name[3:]


def test_an_admin_signs_in_with_a_code_finds_a_misspelled_client_and_signs_out(
    page: Any, totp_code: Callable[[User], str]
) -> None:
    demo = seed_demo(clients=20, seed=1)
    admin = User.objects.get(email=f"admin@{DEMO_DOMAIN}")
    last_names = list(Client.objects.values_list("legal_last_name", flat=True))
    client = next(
        c
        for c in Client.objects.filter(agency=demo.agency).order_by("pk")
        if len(c.legal_last_name) >= 6
        and c.legal_last_name.isalpha()
        and last_names.count(c.legal_last_name) == 1
        and c.legal_last_name[1] != c.legal_last_name[2]
    )
    SafetyFlag.objects.create(
        agency=demo.agency,
        client=client,
        kind=SafetyFlag.Kind.DOG,
        detail="Large dog, call from the gate",
        created_by=admin,
    )
    primary = CareTeamMember.objects.get(client=client, role=CareTeamMember.Role.PRIMARY).staff

    page.goto("/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("6-digit code").fill(totp_code(admin))
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(re.compile(r"^My day"))
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="My day")).to_have_attribute("aria-current", "page")

    main_nav.get_by_role("link", name="Clients").click()
    expect(page).to_have_title(re.compile(r"^Clients"))
    typo = misspell(client.legal_last_name)
    page.get_by_label("Search by name").press_sequentially(typo, delay=30)
    results = page.locator("#results")
    expect(results).to_contain_text("by name")
    expect(page).to_have_url(re.compile(r"\?q=" + re.escape(typo)))  # htmx pushed the search
    # a screen reader hears the count, not the whole table
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^\d+ match(es)? by name\.$"))
    result_link = results.get_by_role(
        "link", name=f"{client.legal_last_name}, {client.legal_first_name}"
    )
    expect(result_link).to_be_visible()
    result_link.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(client.display_name)
    flags = page.get_by_role("list", name="Safety flags")
    expect(flags).to_contain_text("Dog on premises: Large dog, call from the gate")
    expect(page.locator(".facts-inline")).to_contain_text(
        f"Primary case manager {primary.full_name}"
    )

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Casework")).to_be_visible()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/clients/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/clients/$"))
    expect(page.get_by_role("heading", name="Sign in to Casework")).to_be_visible()
    expect(page.get_by_text(client.legal_last_name)).to_have_count(0)


def test_a_case_manager_without_two_factor_sees_only_the_clients_of_their_team(
    page: Any, sign_in: Callable[..., None]
) -> None:
    demo = seed_demo(clients=20, seed=1)
    north = Team.objects.get(agency=demo.agency, name="North ICM team")
    north_staff = set(north.memberships.values_list("user_id", flat=True))
    primaries = CareTeamMember.objects.filter(role=CareTeamMember.Role.PRIMARY)
    mine = {
        f"{m.client.legal_last_name}, {m.client.legal_first_name}"
        for m in primaries.filter(staff_id__in=north_staff).select_related("client")
    }
    theirs = {
        f"{m.client.legal_last_name}, {m.client.legal_first_name}"
        for m in primaries.exclude(staff_id__in=north_staff).select_related("client")
    }
    assert mine and theirs and not mine & theirs, "the demo should have clients on both teams"

    sign_in(page, f"casemanager@{DEMO_DOMAIN}", DEMO_PASSWORD)
    expect(page).to_have_title(re.compile(r"^My day"))  # no two-factor step for this role
    page.goto("/clients/")
    names = page.locator("#results tbody tr td:first-child a").all_inner_texts()
    assert set(names) == mine
    assert not set(names) & theirs


def test_the_skip_link_comes_first_and_the_login_form_works_from_the_keyboard(
    page: Any,
) -> None:
    seed_demo(clients=1, seed=1)
    page.goto("/login/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    expect(page.get_by_role("link", name="Skip to main content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(f"casemanager@{DEMO_DOMAIN}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile(r"^My day"))
