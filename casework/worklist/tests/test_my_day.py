"""My day: what needs the case manager, ranked, with the reasons and factors that placed it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.billing.models import Authorization
from casework.clients.models import Client
from casework.core.models import Program, User
from casework.notes.models import ContactType, Note
from casework.schedule.models import Appointment, AppointmentClient, AppointmentKind, PlaceType
from casework.testing.factories import ClientFactory, PayerFactory, assign
from casework.testing.personas import Cast
from casework.worklist import selectors, services
from casework.worklist.models import Snooze, Task, TaskEvent
from casework.worklist.priority import contact_factor, due_factor

pytestmark = pytest.mark.django_db


def _note(client: Client, author: User, days_ago: int, *, signed: bool = False) -> Note:
    today = client.agency.today()
    return Note.objects.create(
        agency=client.agency,
        client=client,
        author=author,
        service_date=today - datetime.timedelta(days=days_ago),
        contact_type=ContactType.FACE_TO_FACE,
        status=Note.Status.SIGNED if signed else Note.Status.DRAFT,
        signed_at=datetime.datetime.now(datetime.UTC) if signed else None,
    )


def _items(user: User) -> dict[str, Any]:
    return {item.key: item for item in selectors.my_day(user=user).items}


def test_an_unsigned_note_is_listed_with_its_reason_and_the_factors_that_placed_it(
    cast: Cast, http_as: Any
) -> None:
    note = _note(cast.client, cast.case_manager, days_ago=5)
    item = _items(cast.case_manager)[f"note:{note.pk}"]
    assert item.title == f"Sign your note for {cast.client.display_name}"
    assert "not signed yet" in item.reason
    assert item.factors[0].name == "due"
    assert item.factors[0].why == "2 days late"  # 3 days' grace by default
    assert item.score == round(
        sum(f.points * 3 if f.name in ("due", "risk") else f.points * 2 for f in item.factors)
    )
    body = http_as(cast.case_manager).get("/").content.decode()
    assert "Why here: score" in body and "2 days late" in body


def test_urgent_items_come_first_then_the_highest_score(cast: Cast) -> None:
    late = _note(cast.client, cast.case_manager, days_ago=20)
    fresh = _note(cast.client, cast.case_manager, days_ago=0)
    services.task_create(
        assignee=cast.case_manager, title="Call the pharmacy", by=cast.case_manager, urgent=True
    )
    keys = [item.key for item in selectors.my_day(user=cast.case_manager).items]
    assert keys[0].startswith("task:")
    assert keys.index(f"note:{late.pk}") < keys.index(f"note:{fresh.pk}")


def test_the_agency_weights_change_the_order(cast: Cast) -> None:
    billable_soon = services.task_create(
        assignee=cast.case_manager,
        title="Due in a week",
        by=cast.case_manager,
        due_on=cast.agency.today() + datetime.timedelta(days=2),
    )
    late = services.task_create(
        assignee=cast.case_manager,
        title="Late",
        by=cast.case_manager,
        due_on=cast.agency.today() - datetime.timedelta(days=4),
    )
    keys = [i.key for i in selectors.my_day(user=cast.case_manager).items]
    assert keys.index(f"task:{late.pk}") < keys.index(f"task:{billable_soon.pk}")
    cast.agency.priority_weights = {"due": 0}
    cast.agency.save()
    cast.case_manager.refresh_from_db()
    day = selectors.my_day(user=cast.case_manager)
    assert day.weights["due"] == 0
    assert all(item.score == 0 for item in day.items if item.task is not None)


def test_weights_out_of_range_fall_back_to_the_defaults(cast: Cast) -> None:
    cast.agency.priority_weights = {"due": 99, "risk": "high", "billing": 4}
    cast.agency.save()
    cast.case_manager.refresh_from_db()
    weights = selectors.my_day(user=cast.case_manager).weights
    assert weights == {"due": 3, "risk": 3, "billing": 4, "contact": 2}


def test_the_due_factor_counts_up_when_late_and_down_when_far_off() -> None:
    today = datetime.date(2026, 12, 3)
    assert due_factor(today, today).points == 6  # type: ignore[union-attr]
    assert due_factor(today - datetime.timedelta(days=4), today).points == 8  # type: ignore[union-attr]
    assert due_factor(today - datetime.timedelta(days=40), today).points == 10  # type: ignore[union-attr]
    assert due_factor(today + datetime.timedelta(days=2), today).points == 5  # type: ignore[union-attr]
    assert due_factor(today + datetime.timedelta(days=12), today) is None
    assert due_factor(None, today) is None


def test_the_contact_factor_starts_only_past_the_standard() -> None:
    assert contact_factor(7, 7) is None
    assert contact_factor(9, 7).points == 5  # type: ignore[union-attr]
    assert contact_factor(None, 7).why == "never seen"  # type: ignore[union-attr]


def test_a_client_not_seen_for_longer_than_the_programs_standard_is_listed(cast: Cast) -> None:
    program = Program.objects.create(agency=cast.agency, name="Intensive", contact_every_days=7)
    cast.client.episodes.create(
        agency=cast.agency,
        program=program,
        admitted_on=cast.agency.today() - datetime.timedelta(days=200),
    )
    _note(cast.client, cast.case_manager, days_ago=10, signed=True)
    item = _items(cast.case_manager)[f"contact:{cast.client.pk}"]
    assert "10 days ago; standard is every 7 days" in item.reason
    assert any(f.name == "contact" for f in item.factors)
    _note(cast.client, cast.case_manager, days_ago=1, signed=True)
    assert f"contact:{cast.client.pk}" not in _items(cast.case_manager)


def test_a_clients_own_standard_beats_the_agencys(cast: Cast) -> None:
    _note(cast.client, cast.case_manager, days_ago=20, signed=True)
    assert f"contact:{cast.client.pk}" not in _items(cast.case_manager)  # agency: 30 days
    Client.objects.filter(pk=cast.client.pk).update(contact_every_days=14)
    assert f"contact:{cast.client.pk}" in _items(cast.case_manager)


def test_an_authorization_running_out_is_listed_with_billing_at_stake(cast: Cast) -> None:
    today = cast.agency.today()
    payer = PayerFactory(agency=cast.agency)
    authorization = Authorization.objects.create(
        agency=cast.agency,
        client=cast.client,
        payer=payer,
        number="PA-1",
        units=100,
        start_on=today - datetime.timedelta(days=60),
        end_on=today + datetime.timedelta(days=10),
    )
    item = _items(cast.case_manager)[f"authorization:{authorization.pk}"]
    assert "ends" in item.reason
    assert any(f.name == "billing" for f in item.factors)


def test_snoozing_a_derived_item_hides_it_until_that_day_and_keeps_a_trace(
    cast: Cast, http_as: Any
) -> None:
    note = _note(cast.client, cast.case_manager, days_ago=1)
    until = cast.agency.today() + datetime.timedelta(days=2)
    response = http_as(cast.case_manager).post(
        "/my-day/snooze/", {"item_key": f"note:{note.pk}", "until": until.isoformat()}
    )
    assert response.status_code == 302
    assert f"note:{note.pk}" not in _items(cast.case_manager)
    assert (
        f"note:{note.pk}" in http_as(cast.case_manager).get("/my-day/put-aside/").content.decode()
    )
    Snooze.objects.filter(user=cast.case_manager).update(until=cast.agency.today())
    assert f"note:{note.pk}" in _items(cast.case_manager)


@pytest.mark.parametrize("days", [0, -1, 91])
def test_a_snooze_must_end_after_today_and_within_90_days(cast: Cast, days: int) -> None:
    until = cast.agency.today() + datetime.timedelta(days=days)
    with pytest.raises(services.TaskError):
        services.item_snooze(user=cast.case_manager, item_key="note:1", until=until)


def test_a_task_form_sent_twice_makes_one_task(cast: Cast, http_as: Any) -> None:
    http = http_as(cast.case_manager)
    data = {
        "title": "Bring the housing forms",
        "client": cast.client.pk,
        "assignee": cast.case_manager.pk,
        "submission_key": "k-1",
    }
    assert http.post("/my-day/tasks/new/", data).status_code == 302
    assert http.post("/my-day/tasks/new/", data).status_code == 302
    assert Task.objects.filter(title="Bring the housing forms").count() == 1


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_a_task_needs_a_title_of_sensible_length(cast: Cast, http_as: Any, title: str) -> None:
    response = http_as(cast.case_manager).post(
        "/my-day/tasks/new/", {"title": title, "assignee": cast.case_manager.pk}
    )
    assert response.status_code == 400
    assert not Task.objects.exists()


def test_a_task_for_a_client_outside_my_scope_is_refused(cast: Cast, http_as: Any) -> None:
    response = http_as(cast.case_manager).post(
        "/my-day/tasks/new/",
        {"title": "Visit", "client": cast.outsider_client.pk, "assignee": cast.case_manager.pk},
    )
    assert response.status_code == 400
    assert not Task.objects.exists()


def test_done_snooze_and_reassign_each_leave_a_step_in_the_history(
    cast: Cast, http_as: Any
) -> None:
    task = services.task_create(
        assignee=cast.case_manager, title="Call Dr. Lee", by=cast.supervisor
    )
    http = http_as(cast.case_manager)
    until = (cast.agency.today() + datetime.timedelta(days=1)).isoformat()
    http.post(f"/my-day/tasks/{task.pk}/snooze/", {"until": until})
    http.post(f"/my-day/tasks/{task.pk}/reassign/", {"to": cast.colleague.pk})
    http_as(cast.colleague).post(f"/my-day/tasks/{task.pk}/done/")
    actions = list(TaskEvent.objects.filter(task=task).values_list("action", flat=True))
    assert actions == ["created", "snoozed", "reassigned", "done"]
    page = http_as(cast.colleague).get(f"/my-day/tasks/{task.pk}/").content.decode()
    assert "Reassigned to" in page and cast.supervisor.full_name in page
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.assignee == cast.colleague


def test_a_task_cannot_be_given_to_someone_off_my_teams(cast: Cast, http_as: Any) -> None:
    task = services.task_create(assignee=cast.case_manager, title="Call", by=cast.case_manager)
    http_as(cast.case_manager).post(
        f"/my-day/tasks/{task.pk}/reassign/", {"to": cast.other_team_cm.pk}
    )
    task.refresh_from_db()
    assert task.assignee == cast.case_manager


@pytest.mark.parametrize("who", ["other_team_cm", "outsider_cm", "outsider_admin", "auditor"])
def test_others_cannot_see_or_change_my_task(cast: Cast, http_as: Any, who: str) -> None:
    task = services.task_create(assignee=cast.case_manager, title="Private", by=cast.case_manager)
    http = http_as(getattr(cast, who))
    assert http.get(f"/my-day/tasks/{task.pk}/").status_code in (403, 404)
    assert http.post(f"/my-day/tasks/{task.pk}/done/").status_code in (403, 404)
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_outside_working_hours_only_urgent_items_show(cast: Cast, http_as: Any) -> None:
    user = cast.case_manager
    user.work_days, user.work_starts, user.work_ends = (
        "MO,TU,WE,TH,FR",
        datetime.time(8),
        datetime.time(17),
    )
    user.save()
    _note(cast.client, user, days_ago=1)
    services.task_create(assignee=user, title="Crisis call back", by=user, urgent=True)
    # A Wednesday evening in the agency's zone.
    evening = datetime.datetime(2026, 12, 2, 20, 0, tzinfo=cast.agency.tzinfo)
    quiet = selectors.my_day(user=user, now=evening)
    assert quiet.quiet and [i.title for i in quiet.items] == ["Crisis call back"]
    assert quiet.held_back >= 1
    assert len(selectors.my_day(user=user, now=evening, everything=True).items) > 1
    morning = evening.replace(hour=9)
    assert not selectors.my_day(user=user, now=morning).quiet
    saturday = evening.replace(day=5, hour=10)
    assert selectors.my_day(user=user, now=saturday).quiet


def test_a_night_shift_counts_from_the_day_it_starts(cast: Cast) -> None:
    user = cast.case_manager
    user.work_days, user.work_starts, user.work_ends = "FR", datetime.time(22), datetime.time(6)
    tz = cast.agency.tzinfo
    assert selectors.is_working_time(user, datetime.datetime(2026, 12, 4, 23, tzinfo=tz))
    assert selectors.is_working_time(user, datetime.datetime(2026, 12, 5, 3, tzinfo=tz))
    assert not selectors.is_working_time(user, datetime.datetime(2026, 12, 4, 3, tzinfo=tz))


def _busy_caseload(cast: Cast, clients: int) -> None:
    for n in range(clients):
        client = ClientFactory(agency=cast.agency)
        assign(client, cast.case_manager)
        _note(client, cast.case_manager, days_ago=n % 5)
        _note(client, cast.case_manager, days_ago=40 + n, signed=True)
        services.task_create(
            assignee=cast.case_manager, title=f"Task {n}", by=cast.case_manager, client=client
        )
        _appointment_today(cast, client, hour=8 + n % 9)


def _appointment_today(cast: Cast, client: Client, hour: int) -> Appointment:
    start = datetime.datetime.combine(
        cast.agency.today(), datetime.time(hour), tzinfo=cast.agency.tzinfo
    )
    appointment = Appointment.objects.create(
        agency=cast.agency,
        kind=AppointmentKind.HOME_VISIT,
        staff=cast.case_manager,
        start_at=start,
        end_at=start + datetime.timedelta(hours=1),
        place_type=PlaceType.CLIENT_HOME,
        created_by=cast.case_manager,
    )
    AppointmentClient.objects.create(agency=cast.agency, appointment=appointment, client=client)
    return appointment


def _queries_for_my_day(http: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get("/").status_code == 200
    return len(queries)


def test_my_day_runs_the_same_queries_for_one_client_as_for_twelve(
    cast: Cast, http_as: Any
) -> None:
    http = http_as(cast.case_manager)
    _busy_caseload(cast, 1)
    _queries_for_my_day(http)  # the first request of a session does more
    small = _queries_for_my_day(http)
    _busy_caseload(cast, 11)
    assert _queries_for_my_day(http) == small
    assert "Today's appointments" in http.get("/").content.decode()


def test_the_supervisor_board_shows_each_member_and_is_closed_to_case_managers(
    cast: Cast, http_as: Any
) -> None:
    _busy_caseload(cast, 3)
    Client.objects.filter(pk=cast.client.pk).update(acuity=Client.Acuity.HIGH)
    body = http_as(cast.supervisor).get("/my-day/team/").content.decode()
    assert cast.case_manager.full_name in body and cast.colleague.full_name in body
    assert "heavy" in body  # four clients, one of them high-acuity, against a colleague with none
    assert http_as(cast.case_manager).get("/my-day/team/").status_code == 403
    assert (
        cast.case_manager.full_name
        not in http_as(cast.outsider_admin).get("/my-day/team/").content.decode()
    )


def test_the_supervisor_board_runs_the_same_queries_for_a_small_and_a_big_team(
    cast: Cast, http_as: Any
) -> None:
    http = http_as(cast.supervisor)
    _busy_caseload(cast, 1)
    http.get("/my-day/team/")  # the first request of a session does more
    with CaptureQueriesContext(connection) as small:
        http.get("/my-day/team/")
    _busy_caseload(cast, 8)
    with CaptureQueriesContext(connection) as big:
        http.get("/my-day/team/")
    assert len(big) == len(small)


def test_people_set_their_own_working_hours_on_their_account_page(cast: Cast, http_as: Any) -> None:
    http = http_as(cast.case_manager)
    saved = http.post("/account/", {"days": ["MO", "TU"], "starts": "08:30", "ends": "16:00"})
    assert saved.status_code == 302
    cast.case_manager.refresh_from_db()
    assert cast.case_manager.work_days == "MO,TU"
    assert cast.case_manager.work_starts == datetime.time(8, 30)
    refused = http.post("/account/", {"starts": "08:30", "ends": "16:00"})
    assert refused.status_code == 400
    cast.case_manager.refresh_from_db()
    assert cast.case_manager.work_days == "MO,TU"


@pytest.mark.parametrize(
    "link",
    [
        "/\\evil.example",
        "/\\/evil.example",
        "//evil.example/x",
        "https://evil.example/",
        "javascript:alert(1)",
        "schedule/new/",
        "/schedule/\\evil",
        "/schedule/new/\n",
    ],
)
def test_a_tasks_link_must_be_a_page_of_casework(cast: Cast, link: str) -> None:
    with pytest.raises(services.TaskError, match="must be a page of Casework"):
        services.task_create(assignee=cast.case_manager, title="Go", by=None, link=link)
    assert not Task.objects.exists()
    ok = "/schedule/new/?client=1&date=2026-12-09"
    task = services.task_create(assignee=cast.case_manager, title="Go", by=None, link=ok)
    assert task.link == ok
