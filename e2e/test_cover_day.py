"""Covering for a colleague in the browser: My day shows a "Covering for …" section whose
content (the colleague's appointments and what needs doing for their clients) htmx fetches
right after the page loads, under the site's Content-Security-Policy. The same address is a page
of its own without htmx; the loaded section is reachable with the keyboard and passes axe."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import expect

from casework.clients.models import Client
from casework.coordination import services_collaboration as collaboration
from casework.coordination.models import Coverage
from casework.testing.factories import PASSWORD, ClientFactory, assign
from casework.testing.personas import Cast, build_cast
from casework.worklist.models import Task
from casework.worklist.services import task_create
from e2e.test_accessibility import audit
from e2e.test_care_coordination import tab_to

TASK_TITLE = "Call the landlord about the broken heating"
PLACEHOLDER = "is loading…"


@dataclass
class CoverScene:
    cast: Cast
    coverage: Coverage
    their_client: Client
    task: Task
    heading: str  # the section's heading on My day, and the cover page's h1


def cover_scene() -> CoverScene:
    """Through the services: the colleague has a client and an open task for them, and is away
    until five days from now with the case manager covering."""
    cast = build_cast()
    today = cast.agency.today()
    their_client = ClientFactory.create(
        agency=cast.agency,
        legal_first_name="Tomás",
        legal_last_name="Reyes",
        created_by=cast.colleague,
    )
    assign(their_client, cast.colleague, start_on=today - datetime.timedelta(days=30))
    task = task_create(
        assignee=cast.colleague,
        title=TASK_TITLE,
        by=cast.colleague,
        client=their_client,
    )
    now = datetime.datetime.now(tz=cast.agency.tzinfo)
    ends_at = now + datetime.timedelta(days=5)
    coverage = collaboration.coverage_create(
        absent=cast.colleague,
        covering=cast.case_manager,
        starts_at=now - datetime.timedelta(days=1),
        ends_at=ends_at,
        by=cast.supervisor,
        reason="Training",
    )
    until = ends_at.date()  # not a midnight, so the cover's last day is the day it ends
    return CoverScene(
        cast=cast,
        coverage=coverage,
        their_client=their_client,
        task=task,
        heading=(
            f"Covering for {cast.colleague.full_name} until {until:%A} {until.day} {until:%B}"
        ),
    )


def test_my_day_loads_the_day_of_the_colleague_being_covered_for(
    page: Any, sign_in: Callable[..., None]
) -> None:
    scene = cover_scene()
    cast = scene.cast
    cover_path = f"/my-day/covering/{scene.coverage.pk}/"
    problems: list[str] = []

    # My day arrives without the colleague's day; htmx asks for it once the page has loaded.
    with page.expect_response(lambda response: cover_path in response.url) as loaded:
        sign_in(page, cast.case_manager.email, PASSWORD)
    response = loaded.value
    assert response.ok, response.status
    assert response.request.all_headers().get("hx-request") == "true", (
        "the section was not fetched by htmx"
    )
    assert TASK_TITLE not in page.request.get("/").text(), "My day should not carry it itself"

    expect(page.get_by_role("heading", level=1)).to_contain_text(cast.case_manager.first_name)
    section = page.get_by_role("region", name=scene.heading)
    expect(section.get_by_role("heading", level=2, name=scene.heading)).to_be_visible()
    task_link = section.get_by_role("link", name=TASK_TITLE)
    expect(task_link).to_be_visible()
    expect(task_link).to_have_attribute("href", f"/clients/{scene.their_client.pk}/")
    expect(section.get_by_role("heading", level=3, name="Their appointments today")).to_be_visible()
    expect(section.get_by_text("Nothing scheduled for them today.")).to_be_visible()
    expect(
        section.get_by_role("heading", level=3, name=re.compile(r"^What needs doing"))
    ).to_be_visible()
    # The placeholder was swapped out, and the colleague's task is not in the user's own list.
    expect(section.get_by_text(PLACEHOLDER)).to_have_count(0)
    expect(section.get_by_role("link", name=f"{cast.colleague.first_name}'s day")).to_have_count(0)
    expect(page.get_by_role("link", name=TASK_TITLE)).to_have_count(1)

    problems += audit(page, "My day, covering for a colleague")

    # With the keyboard: from the section's own link, Tab reaches the task, Enter opens it.
    section.get_by_role("link", name="Cover arrangements").focus()
    tab_to(page, task_link, "the colleague's task", most=10)
    expect(task_link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/clients/{scene.their_client.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(scene.their_client.display_name)

    # Without htmx the same address is a page of its own.
    page.goto(cover_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(scene.heading)
    expect(page.get_by_role("heading", level=2, name="Their appointments today")).to_be_visible()
    expect(page.get_by_role("link", name=TASK_TITLE)).to_be_visible()
    problems += audit(page, "the day of the colleague being covered for")

    assert not problems, "\n".join(problems)
