"""On a small phone (360 px wide) the pages fit the screen and the navigation can be tapped."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from casework.clients.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from casework.clients.models import CareTeamMember, SafetyFlag
from casework.core.models import User

PHONE = {"width": 360, "height": 740}
TOUCH_TARGET_PX = 44


def assert_no_sideways_scroll(page: Any, what: str) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 5).map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))"""
    )
    assert widths[0] <= widths[1], f"{what} scrolls sideways at 360 px: {widths}, {overflowing}"


def assert_tappable(page: Any, locator: Any, name: str) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{name} is off screen"
    assert box["height"] >= TOUCH_TARGET_PX, f"{name} is {box['height']} px tall, too small to tap"


def test_the_client_list_and_chart_fit_a_small_phone_and_the_navigation_works(
    new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    demo = seed_demo(clients=20, seed=1)
    casey = User.objects.get(email=f"casemanager@{DEMO_DOMAIN}")
    client = (
        CareTeamMember.objects.filter(staff=casey, role=CareTeamMember.Role.PRIMARY)
        .select_related("client")
        .first()
        .client
    )
    SafetyFlag.objects.create(
        agency=demo.agency,
        client=client,
        kind=SafetyFlag.Kind.DO_NOT_VISIT_ALONE,
        detail="Visit with a colleague; meet at the community center instead of the apartment",
        created_by=casey,
    )
    page = new_page(**PHONE)
    sign_in(page, casey.email, DEMO_PASSWORD)

    nav = page.get_by_role("navigation", name="Main")
    boxes = []
    for label in ("My day", "Clients"):
        link = nav.get_by_role("link", name=label)
        assert_tappable(page, link, f"the {label} link")
        boxes.append(link.bounding_box())
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"] or boxes[0]["y"] != boxes[1]["y"]
    assert_tappable(page, page.get_by_role("button", name="Sign out"), "Sign out")
    assert_tappable(page, page.get_by_role("link", name=casey.full_name), "the account link")
    assert_no_sideways_scroll(page, "My day")

    nav.get_by_role("link", name="Clients").click()
    expect(page).to_have_title(re.compile(r"^Clients"))
    expect(
        page.get_by_role("link", name=f"{client.legal_last_name}, {client.legal_first_name}")
    ).to_be_visible()
    assert_no_sideways_scroll(page, "the client list")
    assert_tappable(page, page.get_by_label("Search by name"), "the search box")

    page.get_by_role("link", name=f"{client.legal_last_name}, {client.legal_first_name}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(client.display_name)
    expect(page.get_by_role("list", name="Safety flags")).to_be_in_viewport()
    assert_no_sideways_scroll(page, "the client chart")

    nav.get_by_role("link", name="My day").click()
    expect(page).to_have_title(re.compile(r"^My day"))
