"""The appointments API from every side: whose appointments each person sees (and which clients
are named), booking once or repeating, overlaps as 409 with the clashes unless confirmed,
warnings, Idempotency-Key, changes with If-Match (412 when stale, 409 once there is an outcome,
403 for someone who only sees it through a client), outcomes with the task and notes they make,
and what reads leave in the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.clients.models import Client
from casework.core.models import AuditEvent, User
from casework.notes.models import Note
from casework.schedule.models import Appointment, Holiday, Resource, Series
from casework.schedule.services import AppointmentInput, appointment_create
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast
from casework.worklist.models import Task

ApiAs = Callable[[User | None], APIClient]
LIST = "/api/v1/appointments/"


def detail(appointment: Appointment | int, action: str = "") -> str:
    pk = appointment if isinstance(appointment, int) else appointment.pk
    return f"{LIST}{pk}/" + (f"{action}/" if action else "")


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def local(cast: Cast, days: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment in the agency's time zone, `days` from today."""
    day = cast.agency.today() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=cast.agency.tzinfo)


def book(
    cast: Cast,
    *,
    by: User | None = None,
    staff: User | None = None,
    clients: list[Client] | None = None,
    days: int = 1,
    hour: int = 10,
    minutes: int = 60,
    rule: str = "",
    **extra: Any,
) -> Appointment:
    start = local(cast, days, hour)
    data = AppointmentInput(
        kind=extra.pop("kind", "home_visit"),
        staff=staff or cast.case_manager,
        clients=clients if clients is not None else [cast.client],
        start_at=start,
        end_at=start + datetime.timedelta(minutes=minutes),
        place_type=extra.pop("place_type", "client_home"),
        place=extra.pop("place", "12 Elm St"),
        **extra,
    )
    return appointment_create(
        data=data, by=by or staff or cast.case_manager, rule=rule, confirm_conflicts=True
    )


def body(cast: Cast, **extra: Any) -> dict[str, Any]:
    start = local(cast, 1, 10)
    return {
        "kind": "home_visit",
        "client_ids": [cast.client.pk],
        "start_at": start.isoformat(),
        "end_at": (start + datetime.timedelta(hours=1)).isoformat(),
        "place_type": "client_home",
        "place": "12 Elm St",
        **extra,
    }


def views_of(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor_id=user.pk, action="view").order_by("seq"))


# --- who may use it, and what each person sees -------------------------------------------------


def test_anonymous_gets_401(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast)
    http = api_as(None)
    assert http.get(LIST).status_code == 401
    assert http.get(detail(appointment)).status_code == 401
    assert http.post(LIST, body(cast), format="json").status_code == 401


@pytest.mark.parametrize("persona", ["billing", "auditor"])
def test_roles_that_keep_no_schedule_get_403(cast: Cast, api_as: ApiAs, persona: str) -> None:
    appointment = book(cast)
    http = api_as(getattr(cast, persona))
    response = http.get(LIST)
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role does not keep a schedule."
    assert http.get(detail(appointment)).status_code == 403


def test_each_person_sees_their_own_their_teams_and_their_clients_appointments(
    cast: Cast, api_as: ApiAs
) -> None:
    mine = book(cast)
    south = book(cast, staff=cast.other_team_cm, clients=[cast.other_client], days=2)
    assert ids(api_as(cast.case_manager).get(LIST)) == [mine.pk]
    # A teammate shares the client; the supervisor supervises the team; the admin sees all.
    assert ids(api_as(cast.colleague).get(LIST)) == [mine.pk]
    assert ids(api_as(cast.supervisor).get(LIST)) == [mine.pk]
    assert ids(api_as(cast.admin).get(LIST)) == [mine.pk, south.pk]
    assert ids(api_as(cast.other_team_cm).get(LIST)) == [south.pk]
    assert ids(api_as(cast.outsider_cm).get(LIST)) == []


@pytest.mark.parametrize("persona", ["other_team_cm", "outsider_cm", "outsider_admin"])
def test_an_appointment_out_of_scope_is_a_404_on_every_route(
    cast: Cast, api_as: ApiAs, persona: str
) -> None:
    appointment = book(cast)
    http = api_as(getattr(cast, persona))
    assert http.get(detail(appointment)).status_code == 404
    assert http.patch(detail(appointment), {"purpose": "x"}, format="json").status_code == 404
    outcome = http.post(detail(appointment, "outcome"), {"status": "cancelled"}, format="json")
    assert outcome.status_code == 404
    appointment.refresh_from_db()
    assert appointment.version == 1 and appointment.status == "scheduled"


@pytest.mark.parametrize("pk", ["abc", "1.5", "99999999999999999999", "0"])
def test_a_malformed_or_unknown_id_is_a_json_404(cast: Cast, api_as: ApiAs, pk: str) -> None:
    response = api_as(cast.case_manager).get(f"{LIST}{pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_group_names_only_the_clients_the_reader_may_see(cast: Cast, api_as: ApiAs) -> None:
    group = book(
        cast,
        staff=cast.other_team_cm,
        clients=[cast.client, cast.other_client],
        kind="group",
        by=cast.admin,
    )
    row = api_as(cast.case_manager).get(detail(group)).json()
    assert row["client_ids"] == [cast.client.pk]
    assert row["other_clients"] == 1
    assert [e.client_id for e in views_of(cast.case_manager)] == [cast.client.pk]


# --- list and retrieve -------------------------------------------------------------------------


def test_one_appointment_with_its_etag(cast: Cast, api_as: ApiAs) -> None:
    from decimal import Decimal

    appointment = book(cast, purpose="Groceries", legs=[("to_client", Decimal("4.5"))])
    response = api_as(cast.case_manager).get(detail(appointment))
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    row = response.json()
    assert row["kind"] == "home_visit"
    assert row["status"] == "scheduled"
    assert row["staff_id"] == cast.case_manager.pk
    assert row["client_ids"] == [cast.client.pk]
    assert row["other_clients"] == 0
    assert row["minutes"] == 60
    assert row["purpose"] == "Groceries"
    assert row["legs"] == [{"purpose": "to_client", "miles": 4.5}]
    assert row["start_at"] == local(cast, 1, 10).isoformat()
    assert row["cancelled_by"] == ""
    assert row["warnings"] == []


def test_filters_by_staff_client_dates_and_status(cast: Cast, api_as: ApiAs) -> None:
    mine = book(cast, days=1)
    later = book(cast, days=5)
    theirs = book(cast, staff=cast.colleague, days=3)
    mine_other = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    assign(mine_other, cast.case_manager)
    other = book(cast, clients=[mine_other], days=4)
    http = api_as(cast.supervisor)
    assert ids(http.get(LIST, {"staff": cast.colleague.pk})) == [theirs.pk]
    assert ids(http.get(LIST, {"client": mine_other.pk})) == [other.pk]
    today = cast.agency.today()
    window = {
        "start": (today + datetime.timedelta(days=3)).isoformat(),
        "end": (today + datetime.timedelta(days=4)).isoformat(),
    }
    assert ids(http.get(LIST, window)) == [theirs.pk, other.pk]
    assert ids(http.get(LIST, {"start": (today + datetime.timedelta(days=5)).isoformat()})) == [
        later.pk
    ]
    Appointment.objects.filter(pk=mine.pk).update(status="cancelled", cancelled_by="staff")
    assert ids(http.get(LIST, {"status": "cancelled"})) == [mine.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-13-01"},
        {"start": "tomorrow"},
        {"staff": "me"},
        {"client": ""},
        {"status": "booked"},
        {"start": "2026-12-05", "end": "2026-12-01"},
    ],
)
def test_bad_filters_are_refused(cast: Cast, api_as: ApiAs, params: dict[str, str]) -> None:
    response = api_as(cast.case_manager).get(LIST, params)
    assert response.status_code == 400
    assert set(response.json()) <= set(params)


def test_a_list_page_records_each_client_shown(cast: Cast, api_as: ApiAs) -> None:
    book(cast, days=1)
    book(cast, days=2)
    api_as(cast.case_manager).get(LIST)
    (read,) = views_of(cast.case_manager)
    assert read.client_id == cast.client.pk
    assert '"section":"api appointments"' in read.detail


def test_the_list_costs_the_same_number_of_queries_for_many_appointments(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    book(cast, days=1)
    http.get(LIST)  # warm up: the token's first use
    with CaptureQueriesContext(connection) as one:
        assert len(ids(http.get(LIST))) == 1
    for days in range(2, 7):
        book(cast, days=days, kind="group", clients=[cast.client])
    with CaptureQueriesContext(connection) as six:
        assert len(ids(http.get(LIST))) == 6
    assert len(six) == len(one)


# --- booking -----------------------------------------------------------------------------------


def test_a_case_manager_books_a_home_visit(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST,
        body(cast, purpose="Check-in", legs=[{"purpose": "to_client", "miles": 7.5}]),
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response["ETag"] == '"1"'
    row = response.json()
    appointment = Appointment.objects.get(pk=row["id"])
    assert appointment.staff_id == appointment.created_by_id == cast.case_manager.pk
    assert appointment.start_at == local(cast, 1, 10)
    assert [c.pk for c in appointment.clients.all()] == [cast.client.pk]
    assert row["legs"] == [{"purpose": "to_client", "miles": 7.5}]
    assert row["warnings"] == []


def test_warnings_come_back_with_the_booking(cast: Cast, api_as: ApiAs) -> None:
    day = cast.agency.today() + datetime.timedelta(days=1)
    Holiday.objects.create(agency=cast.agency, day=day, name="Founders' Day")
    response = api_as(cast.case_manager).post(LIST, body(cast, place=""), format="json")
    assert response.status_code == 201
    warnings = response.json()["warnings"]
    assert any("Founders' Day" in w for w in warnings)
    assert any("no address on file" in w for w in warnings)


def test_a_repeating_appointment_answers_its_first_occurrence(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST, body(cast, rule="FREQ=WEEKLY;COUNT=4"), format="json"
    )
    assert response.status_code == 201, response.content
    row = response.json()
    series = Series.objects.get()
    assert row["series_id"] == series.pk
    assert row["start_at"] == local(cast, 1, 10).isoformat()
    starts = list(
        Appointment.objects.filter(series=series)
        .order_by("start_at")
        .values_list("start_at", flat=True)
    )
    assert starts == [local(cast, 1 + 7 * n, 10) for n in range(4)]


def test_a_bad_rule_is_refused_with_its_field(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(LIST, body(cast, rule="FREQ=HOURLY"), format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "rule"
    assert not Appointment.objects.exists()


def test_an_overlap_answers_409_with_the_clash_until_confirmed(cast: Cast, api_as: ApiAs) -> None:
    first = book(cast)
    http = api_as(cast.case_manager)
    clash = http.post(LIST, body(cast), format="json")
    assert clash.status_code == 409
    refusal = clash.json()
    assert refusal["field"] == "start_at"
    assert refusal["detail"].startswith("This overlaps other appointments")
    (conflict,) = refusal["conflicts"]
    assert conflict["appointment_id"] == first.pk
    assert conflict["staff_id"] == cast.case_manager.pk
    assert conflict["kind"] == "staff"
    assert conflict["start_at"] == local(cast, 1, 10).isoformat()
    assert cast.client.legal_last_name not in clash.content.decode()
    assert Appointment.objects.count() == 1
    confirmed = http.post(LIST, body(cast, confirm_conflicts=True), format="json")
    assert confirmed.status_code == 201
    assert Appointment.objects.count() == 2


def test_a_booked_car_is_a_clash_too(cast: Cast, api_as: ApiAs) -> None:
    car = Resource.objects.create(agency=cast.agency, kind="vehicle", name="Blue van")
    book(cast, staff=cast.colleague, resource=car)
    response = api_as(cast.case_manager).post(LIST, body(cast, resource_id=car.pk), format="json")
    assert response.status_code == 409
    assert [c["kind"] for c in response.json()["conflicts"]] == ["resource"]


def test_the_same_idempotency_key_books_once(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    headers = {"Idempotency-Key": "visit-42"}
    first = http.post(LIST, body(cast), format="json", headers=headers)
    again = http.post(LIST, body(cast), format="json", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Appointment.objects.count() == 1
    bad = http.post(LIST, body(cast), format="json", headers={"Idempotency-Key": "a b"})
    assert bad.status_code == 400
    assert "Idempotency-Key" in bad.json()


def test_a_supervisor_books_for_the_team_but_a_case_manager_not_for_a_colleague(
    cast: Cast, api_as: ApiAs
) -> None:
    made = api_as(cast.supervisor).post(
        LIST, body(cast, staff_id=cast.case_manager.pk), format="json"
    )
    assert made.status_code == 201
    assert made.json()["staff_id"] == cast.case_manager.pk
    refused = api_as(cast.case_manager).post(
        LIST,
        body(
            cast,
            staff_id=cast.colleague.pk,
            start_at=local(cast, 2, 9).isoformat(),
            end_at=local(cast, 2, 10).isoformat(),
        ),
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["field"] == "staff_id"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"place_type": 3}, "place_type"),
        ({"start_at": "2026-12-04T10:00:00"}, "start_at"),
        ({"start_at": "next tuesday"}, "start_at"),
        ({"client_ids": "1"}, "client_ids"),
        ({"client_ids": [0]}, "client_ids"),
        ({"staff_id": 0}, "staff_id"),
        ({"resource_id": 99999999}, "resource_id"),
        ({"legs": [{"purpose": "joyride", "miles": 3}]}, "legs"),
        ({"legs": [{"purpose": "errand", "miles": "3"}]}, "legs"),
        ({"legs": [{"purpose": "errand", "miles": 3.25}]}, "legs"),
        ({"confirm_conflicts": "yes"}, "confirm_conflicts"),
        ({"purpose": "x" * 301}, "purpose"),
    ],
)
def test_input_of_the_wrong_shape_is_refused_by_field(
    cast: Cast, api_as: ApiAs, change: dict[str, Any], field: str
) -> None:
    response = api_as(cast.case_manager).post(LIST, body(cast, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Appointment.objects.exists()


def test_a_client_out_of_sight_is_refused(cast: Cast, api_as: ApiAs) -> None:
    for client in (cast.other_client, cast.outsider_client):
        response = api_as(cast.case_manager).post(
            LIST, body(cast, client_ids=[client.pk]), format="json"
        )
        assert response.status_code == 400
        assert "client_ids" in response.json()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_at": "2026-01-01T00:00:00Z"}, "end_at"),
        ({"client_ids": []}, "client_ids"),
        ({"start_at": "2031-01-01T10:00:00Z", "end_at": "2031-01-01T11:00:00Z"}, "start_at"),
    ],
)
def test_the_services_refusals_name_the_api_field(
    cast: Cast, api_as: ApiAs, change: dict[str, Any], field: str
) -> None:
    response = api_as(cast.case_manager).post(LIST, body(cast, **change), format="json")
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["detail"]


# --- changing ----------------------------------------------------------------------------------


def test_a_change_with_the_current_etag_saves_and_moves_the_etag_on(
    cast: Cast, api_as: ApiAs
) -> None:
    appointment = book(cast)
    response = api_as(cast.case_manager).patch(
        detail(appointment),
        {
            "purpose": "Bring the forms",
            "start_at": local(cast, 1, 11).isoformat(),
            "end_at": local(cast, 1, 12).isoformat(),
        },
        format="json",
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    row = response.json()
    assert row["purpose"] == "Bring the forms"
    assert row["start_at"] == local(cast, 1, 11).isoformat()
    assert row["place"] == "12 Elm St"  # not sent: kept
    assert row["client_ids"] == [cast.client.pk]
    assert isinstance(row["warnings"], list)


def test_a_stale_etag_answers_412_and_saves_nothing(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast)
    http = api_as(cast.case_manager)
    assert http.patch(detail(appointment), {"purpose": "a"}, format="json").status_code == 200
    for etag in ('"1"', '"7"', 'W/"1"', "garbage"):
        response = http.patch(
            detail(appointment), {"purpose": "b"}, format="json", headers={"If-Match": etag}
        )
        assert response.status_code == 412, etag
    appointment.refresh_from_db()
    assert appointment.purpose == "a" and appointment.version == 2


def test_a_move_onto_another_appointment_answers_409_until_confirmed(
    cast: Cast, api_as: ApiAs
) -> None:
    other = book(cast, hour=14)
    appointment = book(cast)
    http = api_as(cast.case_manager)
    move = {"start_at": local(cast, 1, 14).isoformat(), "end_at": local(cast, 1, 15).isoformat()}
    clash = http.patch(detail(appointment), move, format="json")
    assert clash.status_code == 409
    assert [c["appointment_id"] for c in clash.json()["conflicts"]] == [other.pk]
    confirmed = http.patch(detail(appointment), {**move, "confirm_conflicts": True}, format="json")
    assert confirmed.status_code == 200


def test_this_and_following_changes_the_rest_of_the_series(cast: Cast, api_as: ApiAs) -> None:
    first = book(cast, rule="FREQ=WEEKLY;COUNT=4")
    third = Appointment.objects.filter(series=first.series).order_by("start_at")[2]
    response = api_as(cast.case_manager).patch(
        detail(third),
        {"purpose": "New routine", "scope": "following"},
        format="json",
        headers={"If-Match": f'"{third.version}"'},
    )
    assert response.status_code == 200, response.content
    purposes = list(
        Appointment.objects.filter(clients=cast.client)
        .order_by("start_at")
        .values_list("purpose", flat=True)
    )
    assert purposes == ["", "", "New routine", "New routine"]


def test_this_only_leaves_the_rest_of_the_series(cast: Cast, api_as: ApiAs) -> None:
    first = book(cast, rule="FREQ=WEEKLY;COUNT=3")
    response = api_as(cast.case_manager).patch(
        detail(first), {"purpose": "Just this once"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_exception"] is True
    assert Appointment.objects.filter(purpose="Just this once").count() == 1


def test_a_rule_needs_the_following_scope(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast)
    response = api_as(cast.case_manager).patch(
        detail(appointment), {"rule": "FREQ=DAILY;COUNT=2"}, format="json"
    )
    assert response.status_code == 400
    assert "rule" in response.json()


def test_someone_who_sees_it_through_a_client_may_not_change_it(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast)
    http = api_as(cast.colleague)
    assert http.get(detail(appointment)).status_code == 200
    assert http.patch(detail(appointment), {"purpose": "x"}, format="json").status_code == 403
    outcome = http.post(
        detail(appointment, "outcome"),
        {"status": "cancelled", "cancelled_by": "staff"},
        format="json",
    )
    assert outcome.status_code == 403
    appointment.refresh_from_db()
    assert appointment.version == 1


def test_an_appointment_with_an_outcome_cannot_be_moved(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast, days=-1)
    http = api_as(cast.case_manager)
    attended = http.post(detail(appointment, "outcome"), {"status": "attended"}, format="json")
    assert attended.status_code == 200
    moved = http.patch(
        detail(appointment),
        {"start_at": local(cast, -1, 12).isoformat(), "end_at": local(cast, -1, 13).isoformat()},
        format="json",
    )
    assert moved.status_code == 409
    assert moved.json()["conflicts"] == []
    assert "attended" in moved.json()["detail"]
    assert http.patch(detail(appointment), {"purpose": "Notes"}, format="json").status_code == 200


# --- outcomes ----------------------------------------------------------------------------------


def test_a_no_show_makes_a_follow_up_task_and_a_note(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast, days=-1)
    response = api_as(cast.case_manager).post(
        detail(appointment, "outcome"), {"status": "no_show"}, format="json"
    )
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["appointment"]["status"] == "no_show"
    assert response["ETag"] == f'"{result["appointment"]["version"]}"'
    task = Task.objects.get(pk=result["task_id"])
    assert task.appointment_id == appointment.pk and task.kind == "follow_up"
    assert [n.client_id for n in Note.objects.filter(pk__in=result["note_ids"])] == [cast.client.pk]
    again = api_as(cast.case_manager).post(
        detail(appointment, "outcome"), {"status": "no_show"}, format="json"
    )
    assert again.json()["task_id"] == result["task_id"]
    assert Task.objects.count() == 1


def test_attended_makes_nothing_else(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast, days=-1)
    response = api_as(cast.case_manager).post(
        detail(appointment, "outcome"), {"status": "attended"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["task_id"] is None
    assert response.json()["note_ids"] == []


def test_a_cancellation_says_by_whom(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast)
    http = api_as(cast.case_manager)
    missing = http.post(detail(appointment, "outcome"), {"status": "cancelled"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["field"] == "cancelled_by"
    done = http.post(
        detail(appointment, "outcome"),
        {"status": "cancelled", "cancelled_by": "staff", "reason": "Car broke down"},
        format="json",
    )
    assert done.status_code == 200
    assert done.json()["appointment"]["cancelled_by"] == "staff"
    assert done.json()["task_id"] is None


def test_a_future_appointment_cannot_be_marked_attended(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast)
    response = api_as(cast.case_manager).post(
        detail(appointment, "outcome"), {"status": "attended"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "status"


def test_a_cancelled_appointment_stays_cancelled(cast: Cast, api_as: ApiAs) -> None:
    appointment = book(cast, days=-1)
    http = api_as(cast.case_manager)
    http.post(
        detail(appointment, "outcome"),
        {"status": "cancelled", "cancelled_by": "staff"},
        format="json",
    )
    response = http.post(detail(appointment, "outcome"), {"status": "attended"}, format="json")
    assert response.status_code == 409
    assert response.json()["conflicts"] == []


@pytest.mark.parametrize(
    "sent", [{}, {"status": "scheduled"}, {"status": "no_show", "reason": "x" * 301}]
)
def test_an_outcome_of_the_wrong_shape_is_refused(
    cast: Cast, api_as: ApiAs, sent: dict[str, Any]
) -> None:
    appointment = book(cast, days=-1)
    response = api_as(cast.case_manager).post(detail(appointment, "outcome"), sent, format="json")
    assert response.status_code == 400
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"


def test_errors_inside_lists_come_back_flat(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST,
        body(cast, client_ids=[cast.client.pk, "x"], legs=[{"purpose": "errand", "miles": -1}]),
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors["client_ids"] == ["Client 2: A valid integer is required."]
    assert len(errors["legs"]) == 1 and errors["legs"][0].startswith("Leg 1: miles: ")


def test_a_booking_is_audited_as_a_write_not_as_a_read(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(LIST, body(cast), format="json")
    assert response.status_code == 201
    assert AuditEvent.objects.filter(
        actor_id=cast.case_manager.pk, action="create", client_id=cast.client.pk
    ).exists()
    assert views_of(cast.case_manager) == []
