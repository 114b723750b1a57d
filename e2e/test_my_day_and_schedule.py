"""Scheduling, My day and the team board in the browser (issue 6, "done when"): a weekly home
visit booked through the form from two weeks ago → the first visit marked a no-show puts a
follow-up with its reason on My day → the second marked attended leads to a note prefilled from
it → the supervisor's team board has the case manager's row. Then axe on My day, the week and
the appointment form, and My day and the week on a 360 px phone."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from casework.notes.models import Note
from casework.schedule.models import Appointment
from casework.schedule.outcomes import appointment_outcome
from casework.schedule.services import AppointmentInput, appointment_create
from casework.testing.factories import PASSWORD
from casework.testing.personas import Cast, build_cast
from casework.worklist.models import Task
from e2e.test_accessibility import audit
from e2e.test_phone import PHONE, assert_no_sideways_scroll

START, END = datetime.time(10, 0), datetime.time(11, 0)


def us(day: datetime.date) -> str:
    return f"{day:%m/%d/%Y}"


def spoken(day: datetime.date, time: datetime.time) -> str:
    """As the follow-up's reason says it: "Tue 3 Nov at 10:00"."""
    return f"{day:%a} {day.day} {day:%b} at {time:%H:%M}"


def day_card(page: Any, day: datetime.date) -> Any:
    """One day of the week view: a region named by its heading, e.g. "Monday 06/08"."""
    return page.get_by_role("region", name=f"{day:%A %m/%d}")


def book_weekly_home_visit(page: Any, cast: Cast, first: datetime.date) -> Appointment:
    """Through the new-appointment form: a weekly home visit from `first`, 10:00 to 11:00."""
    page.goto("/schedule/")
    page.get_by_role("link", name="New appointment").click()
    expect(page.get_by_role("heading", level=1, name="New appointment")).to_be_visible()
    page.get_by_label("What", exact=True).select_option(label="Home visit")
    page.get_by_role("group", name="Client or clients").get_by_label(
        re.compile(re.escape(cast.client.display_name))
    ).check()
    expect(page.get_by_label("With", exact=True)).to_have_value(str(cast.case_manager.pk))
    page.get_by_label("Date", exact=True).fill(first.isoformat())
    page.get_by_label("From", exact=True).fill(f"{START:%H:%M}")
    page.get_by_label("To", exact=True).fill(f"{END:%H:%M}")
    expect(page.get_by_label("Kind of place")).to_have_value("client_home")
    page.get_by_label("Purpose").fill("Weekly check-in at home")
    page.get_by_role("group", name="Repeats").get_by_label("Every week", exact=True).check()
    page.get_by_role("button", name="Book it").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Home visit {first:%A} {us(first)}, 10:00\u201311:00"
    )
    page.wait_for_url(re.compile(r"/schedule/\d+/$"))
    first_visit = Appointment.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert first_visit.staff_id == cast.case_manager.pk
    assert first_visit.start_at.astimezone(cast.agency.tzinfo).date() == first
    assert first_visit.series is not None
    assert first_visit.series.rule.startswith("FREQ=WEEKLY"), first_visit.series.rule
    return first_visit


def test_a_weekly_home_visit_missed_then_attended_reaches_my_day_the_note_and_the_team_board(
    page: Any, new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    today = cast.agency.today()
    first, second = today - datetime.timedelta(days=14), today - datetime.timedelta(days=7)
    sign_in(page, cast.case_manager.email, PASSWORD)

    first_visit = book_weekly_home_visit(page, cast, first)
    expect(page.get_by_text("Appointment booked.")).to_be_visible()
    occurrences = Appointment.objects.filter(series=first_visit.series)
    assert {first, second, today} <= {
        a.start_at.astimezone(cast.agency.tzinfo).date() for a in occurrences
    }

    # The first visit: the client was not there.
    page.get_by_role("region", name="What happened?").get_by_role("button", name="No-show").click()
    expect(
        page.get_by_text("Marked as a no-show; a follow-up task is on your day.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="No-show")).to_be_visible()
    follow_up = Task.objects.get(appointment=first_visit, kind=Task.Kind.FOLLOW_UP)
    assert follow_up.assignee_id == cast.case_manager.pk

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(cast.case_manager.first_name)
    work = page.get_by_role("region", name=re.compile(r"^What needs you"))
    item = work.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=follow_up.title, exact=True)
    )
    expect(item).to_have_count(1)
    expect(item).to_contain_text(
        f"Follow up with {cast.client.display_name} after the missed home visit"
    )
    expect(item.locator(".worklist__reason")).to_contain_text(
        f"No-show at the home visit on {spoken(first, START)}"
    )
    expect(item.get_by_role("button", name=re.compile(r"^Done"))).to_be_visible()

    # The second visit, found on last week's schedule: attended, then the note.
    page.goto(f"/schedule/?view=week&date={second.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("My schedule")
    day_card(page, second).get_by_role("link", name=re.compile(r"Home visit")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Home visit {second:%A}")
    page.get_by_role("region", name="What happened?").get_by_role("button", name="Attended").click()
    expect(page.get_by_text("Marked attended. Write the note while it is fresh.")).to_be_visible()
    now_the_note = page.get_by_role("region", name="Attended — now the note")
    now_the_note.get_by_role("link", name="Write the note").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Write the note for {cast.client.display_name}"
    )
    expect(page.get_by_text(f"{second:%a} {us(second)}, 10:00 to 11:00")).to_be_visible()
    page.get_by_role("button", name="Write the note").click()
    page.wait_for_url(re.compile(r"/notes/\d+/"))
    note = Note.objects.get(client=cast.client, contact_type="face_to_face")
    assert note.appointment is not None and note.appointment.series_id == first_visit.series_id
    assert note.status == Note.Status.DRAFT
    expect(page.get_by_label(re.compile(r"^Date of service"))).to_have_value(second.isoformat())
    expect(page.get_by_label(re.compile(r"^Start\b"))).to_have_value(f"{START:%H:%M}")
    expect(page.get_by_label(re.compile(r"^End\b"))).to_have_value(f"{END:%H:%M}")
    expect(
        page.get_by_role("group", name=re.compile(r"^Contact")).get_by_label(
            "Face-to-face", exact=True
        )
    ).to_be_checked()

    # The supervisor's board: the case manager's row, with the open follow-up.
    supervisor = new_page()
    sign_in(supervisor, cast.supervisor.email, PASSWORD)
    supervisor.get_by_role("link", name="Team board").click()
    expect(supervisor.get_by_role("heading", level=1, name="Team board")).to_be_visible()
    row = supervisor.get_by_role("row").filter(
        has=supervisor.get_by_role("rowheader", name=cast.case_manager.full_name, exact=True)
    )
    expect(row).to_have_count(1)
    cells = row.get_by_role("cell")
    expect(cells).to_have_count(6)
    expect(cells.nth(1)).to_have_text("1")  # open tasks: the follow-up
    expect(cells.nth(5)).to_contain_text("1 clients")


def _booked_and_missed(cast: Cast) -> Appointment:
    """Through the services: a weekly home visit from two weeks ago, the first one missed."""
    tz = cast.agency.tzinfo
    first = cast.agency.today() - datetime.timedelta(days=14)
    visit = appointment_create(
        data=AppointmentInput(
            kind="home_visit",
            staff=cast.case_manager,
            clients=[cast.client],
            start_at=datetime.datetime.combine(first, START, tzinfo=tz),
            end_at=datetime.datetime.combine(first, END, tzinfo=tz),
            place_type="client_home",
            purpose="Weekly check-in at home",
        ),
        by=cast.case_manager,
        rule="FREQ=WEEKLY",
    )
    appointment_outcome(appointment=visit, by=cast.case_manager, status="no_show")
    return visit


def test_my_day_the_week_and_the_appointment_form_have_no_serious_accessibility_problems(
    page: Any, sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    visit = _booked_and_missed(cast)
    problems: list[str] = []
    sign_in(page, cast.case_manager.email, PASSWORD)

    page.goto("/")
    expect(page.get_by_text("after the missed home visit").first).to_be_visible()
    expect(page.get_by_role("region", name="Today's appointments")).to_contain_text("Home visit")
    problems += audit(page, "My day with a follow-up and today's visit")

    page.goto(f"/schedule/?view=week&date={visit.start_at.date().isoformat()}")
    expect(page.get_by_role("link", name=re.compile("Home visit")).first).to_be_visible()
    problems += audit(page, "schedule week with a no-show")
    page.goto("/schedule/")
    problems += audit(page, "schedule this week")

    page.goto("/schedule/new/")
    expect(page.get_by_role("heading", level=1, name="New appointment")).to_be_visible()
    problems += audit(page, "new appointment form")
    page.get_by_role("button", name="Book it").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    problems += audit(page, "new appointment form, refused (nothing chosen)")

    page.goto(f"/schedule/{visit.pk}/")
    expect(page.get_by_role("heading", level=2, name="No-show")).to_be_visible()
    problems += audit(page, "a missed appointment")

    assert not problems, "\n".join(problems)


def test_my_day_and_the_week_fit_a_phone(
    new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    _booked_and_missed(cast)
    page = new_page(**PHONE)
    sign_in(page, cast.case_manager.email, PASSWORD)

    page.goto("/")
    expect(page.get_by_text("after the missed home visit").first).to_be_visible()
    assert_no_sideways_scroll(page, "My day")
    page.goto("/schedule/")
    expect(day_card(page, cast.agency.today())).to_contain_text("Home visit")
    assert_no_sideways_scroll(page, "the schedule's week")
    page.goto("/schedule/new/")
    expect(page.get_by_role("heading", level=1, name="New appointment")).to_be_visible()
    assert_no_sideways_scroll(page, "the new-appointment form")
