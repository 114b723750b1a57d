"""The tasks API from every side: mine by default, a supervisor's view of the team, made once per
Idempotency-Key, done / reopen / snooze / reassign through the services (refusals with the
field), other people's and other agencies' tasks as 404, and what reads leave in the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.core.models import AuditEvent, Role, User
from casework.testing.factories import UserFactory, add_to_team
from casework.testing.personas import Cast
from casework.worklist.models import Task, TaskEvent
from casework.worklist.services import task_create

ApiAs = Callable[[User | None], APIClient]
LIST = "/api/v1/tasks/"


def detail(task: Task | int, action: str = "") -> str:
    pk = task if isinstance(task, int) else task.pk
    return f"{LIST}{pk}/" + (f"{action}/" if action else "")


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def a_task(for_: User, by: User | None = None, **extra: Any) -> Task:
    return task_create(assignee=for_, title="Call the landlord", by=by or for_, **extra)


def views_of(user: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor_id=user.pk, action="view").order_by("seq"))


# --- who sees what -----------------------------------------------------------------------------


def test_anonymous_gets_401(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    http = api_as(None)
    assert http.get(LIST).status_code == 401
    assert http.get(detail(task)).status_code == 401
    assert http.post(detail(task, "done")).status_code == 401


def test_auditors_get_403(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.auditor).get(LIST)
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role does not include tasks."


def test_the_list_is_mine_by_default(cast: Cast, api_as: ApiAs) -> None:
    mine = a_task(cast.case_manager)
    a_task(cast.colleague)
    assert ids(api_as(cast.case_manager).get(LIST)) == [mine.pk]


def test_a_supervisor_lists_a_team_members_tasks(cast: Cast, api_as: ApiAs) -> None:
    theirs = a_task(cast.case_manager)
    assert ids(api_as(cast.supervisor).get(LIST, {"assignee": cast.case_manager.pk})) == [theirs.pk]
    assert ids(api_as(cast.supervisor).get(LIST)) == []


def test_of_someone_you_do_not_supervise_you_see_only_what_you_gave_them(
    cast: Cast, api_as: ApiAs
) -> None:
    a_task(cast.colleague)
    given = a_task(cast.colleague, by=cast.case_manager)
    listed = ids(api_as(cast.case_manager).get(LIST, {"assignee": cast.colleague.pk}))
    assert listed == [given.pk]
    assert ids(api_as(cast.other_team_cm).get(LIST, {"assignee": cast.colleague.pk})) == []


@pytest.mark.parametrize("persona", ["colleague", "other_team_cm", "outsider_cm", "outsider_admin"])
def test_someone_elses_task_is_a_404_on_every_route(
    cast: Cast, api_as: ApiAs, persona: str
) -> None:
    task = a_task(cast.case_manager, client=cast.client)
    http = api_as(getattr(cast, persona))
    assert http.get(detail(task)).status_code == 404
    for action, body in (
        ("done", {}),
        ("reopen", {}),
        ("snooze", {"until": "2099-01-01"}),
        ("reassign", {"to": cast.colleague.pk}),
    ):
        assert http.post(detail(task, action), body, format="json").status_code == 404, action
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and task.assignee_id == cast.case_manager.pk
    assert task.version == 1


def test_an_admin_sees_any_task_of_the_agency_but_not_of_another(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    outsider_task = a_task(cast.outsider_cm)
    assert api_as(cast.admin).get(detail(task)).status_code == 200
    assert api_as(cast.admin).get(detail(outsider_task)).status_code == 404
    assert api_as(cast.outsider_admin).get(detail(task)).status_code == 404


@pytest.mark.parametrize("pk", ["abc", "1.5", "99999999999999999999", "0"])
def test_a_malformed_or_unknown_id_is_a_json_404(cast: Cast, api_as: ApiAs, pk: str) -> None:
    response = api_as(cast.case_manager).get(f"{LIST}{pk}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


# --- list and retrieve -------------------------------------------------------------------------


def test_one_task_with_its_history(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager, by=cast.supervisor, client=cast.client, urgent=True)
    response = api_as(cast.case_manager).get(detail(task))
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Call the landlord"
    assert body["kind"] == "manual"
    assert body["status"] == "open"
    assert body["urgent"] is True
    assert body["client_id"] == cast.client.pk
    assert body["assignee_id"] == cast.case_manager.pk
    assert body["created_by_id"] == cast.supervisor.pk
    assert body["created_at"].endswith(("-08:00", "-07:00"))  # the agency's time zone
    assert [e["action"] for e in body["events"]] == ["created"]
    assert body["events"][0]["by_id"] == cast.supervisor.pk


def test_filters_by_status_and_client_and_orders_by_due_date(cast: Cast, api_as: ApiAs) -> None:
    today = cast.agency.today()
    later = a_task(cast.case_manager, due_on=today + datetime.timedelta(days=5))
    undated = a_task(cast.case_manager, client=cast.client)
    sooner = a_task(cast.case_manager, due_on=today)
    done = a_task(cast.case_manager)
    http = api_as(cast.case_manager)
    http.post(detail(done, "done"))
    assert ids(http.get(LIST)) == [sooner.pk, later.pk, undated.pk, done.pk]
    assert ids(http.get(LIST, {"status": "open"})) == [sooner.pk, later.pk, undated.pk]
    assert ids(http.get(LIST, {"status": "done"})) == [done.pk]
    assert ids(http.get(LIST, {"client": cast.client.pk})) == [undated.pk]


@pytest.mark.parametrize(
    "params",
    [{"status": "snoozed"}, {"assignee": "me"}, {"assignee": ""}, {"client": "1.5"}],
)
def test_bad_filters_are_refused(cast: Cast, api_as: ApiAs, params: dict[str, str]) -> None:
    response = api_as(cast.case_manager).get(LIST, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_a_list_page_records_each_client_once_and_a_read_records_the_client(
    cast: Cast, api_as: ApiAs
) -> None:
    first = a_task(cast.case_manager, client=cast.client)
    a_task(cast.case_manager, client=cast.client)
    a_task(cast.case_manager)
    http = api_as(cast.case_manager)
    http.get(LIST)
    (listed,) = views_of(cast.case_manager)
    assert listed.client_id == cast.client.pk
    assert '"section":"api tasks"' in listed.detail
    http.get(detail(first))
    assert [e.client_id for e in views_of(cast.case_manager)] == [cast.client.pk] * 2


def test_a_task_without_a_client_leaves_no_chart_read(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    http = api_as(cast.case_manager)
    http.get(LIST)
    http.get(detail(task))
    assert views_of(cast.case_manager) == []


def test_the_list_costs_the_same_number_of_queries_for_many_tasks(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    a_task(cast.case_manager, client=cast.client)
    http.get(LIST)  # warm up: the token's first use
    with CaptureQueriesContext(connection) as one:
        assert http.get(LIST).status_code == 200
    for _ in range(5):
        task = a_task(cast.case_manager, client=cast.client)
        http.post(detail(task, "done"))
    with CaptureQueriesContext(connection) as six:
        assert len(ids(http.get(LIST))) == 6
    assert len(six) == len(one)


# --- create ------------------------------------------------------------------------------------


def test_a_case_manager_gives_themselves_a_task(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST,
        {
            "title": "  Bring the  bus pass ",
            "client_id": cast.client.pk,
            "due_on": "2026-12-01",
            "urgent": True,
            "reason": "Ran out",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    task = Task.objects.get(pk=response.json()["id"])
    assert task.title == "Bring the bus pass"
    assert task.assignee_id == task.created_by_id == cast.case_manager.pk
    assert task.client_id == cast.client.pk
    assert task.due_on == datetime.date(2026, 12, 1)
    assert task.urgent and task.reason == "Ran out"
    assert AuditEvent.objects.filter(
        actor_id=cast.case_manager.pk, action="create", object_id=str(task.pk)
    ).exists()


def test_a_teammate_may_be_given_a_task_but_not_someone_on_another_team(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    given = http.post(LIST, {"title": "Cover", "assignee_id": cast.colleague.pk}, format="json")
    assert given.status_code == 201
    assert given.json()["assignee_id"] == cast.colleague.pk
    refused = http.post(
        LIST, {"title": "Cover", "assignee_id": cast.other_team_cm.pk}, format="json"
    )
    assert refused.status_code == 400
    assert "assignee_id" in refused.json()
    outsider = http.post(
        LIST, {"title": "Cover", "assignee_id": cast.outsider_cm.pk}, format="json"
    )
    assert outsider.status_code == 400
    assert Task.objects.count() == 1


def test_an_admin_gives_a_task_to_anyone_on_the_client_staff(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.admin).post(
        LIST, {"title": "Audit prep", "assignee_id": cast.other_team_cm.pk}, format="json"
    )
    assert response.status_code == 201


def test_a_client_out_of_sight_is_refused(cast: Cast, api_as: ApiAs) -> None:
    for client in (cast.other_client, cast.outsider_client):
        response = api_as(cast.case_manager).post(
            LIST, {"title": "Visit", "client_id": client.pk}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {"client_id": ["No client you may see has this id."]}
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": 12}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "urgent": "yes"}, "urgent"),
        ({"title": "ok", "due_on": "12/01/2026"}, "due_on"),
        ({"title": "ok", "due_on": "2206-01-01"}, "due_on"),
        ({"title": "ok", "reason": "x" * 1001}, "reason"),
        ({"title": "ok", "assignee_id": "3"}, "assignee_id"),
    ],
)
def test_input_of_the_wrong_shape_is_refused_by_field(
    cast: Cast, api_as: ApiAs, body: dict[str, Any], field: str
) -> None:
    response = api_as(cast.case_manager).post(LIST, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_title_of_only_spaces_is_refused(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(LIST, {"title": "   "}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"title"}


def test_the_same_idempotency_key_makes_one_task(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    headers = {"Idempotency-Key": "task-1"}
    first = http.post(LIST, {"title": "Once"}, format="json", headers=headers)
    again = http.post(LIST, {"title": "Once"}, format="json", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Task.objects.count() == 1
    other = api_as(cast.colleague).post(LIST, {"title": "Once"}, format="json", headers=headers)
    assert other.status_code == 201  # keys belong to the person who sent them


def test_a_malformed_idempotency_key_is_refused(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST, {"title": "x"}, format="json", headers={"Idempotency-Key": "not a key!"}
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()


# --- actions -----------------------------------------------------------------------------------


def test_done_then_reopen_keeps_each_step(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    http = api_as(cast.case_manager)
    done = http.post(detail(task, "done"))
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    assert done.json()["done_by_id"] == cast.case_manager.pk
    assert http.post(detail(task, "done")).json()["version"] == done.json()["version"]
    reopened = http.post(detail(task, "reopen"))
    assert reopened.json()["status"] == "open"
    assert reopened.json()["done_at"] is None
    assert [e["action"] for e in reopened.json()["events"]] == ["created", "done", "reopened"]


def test_a_supervisor_marks_a_team_members_task_done(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    response = api_as(cast.supervisor).post(detail(task, "done"))
    assert response.status_code == 200
    assert response.json()["done_by_id"] == cast.supervisor.pk


def test_who_gave_a_task_sees_it_but_may_not_change_it(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.colleague, by=cast.case_manager)
    http = api_as(cast.case_manager)
    assert http.get(detail(task)).status_code == 200
    response = http.post(detail(task, "done"))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Only the person it is for, or their supervisor, can change this task.",
        "field": None,
    }


def test_snooze_until_a_later_day(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    until = cast.agency.today() + datetime.timedelta(days=3)
    response = api_as(cast.case_manager).post(
        detail(task, "snooze"), {"until": until.isoformat()}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["snoozed_until"] == until.isoformat()
    assert response.json()["status"] == "open"
    assert response.json()["events"][-1]["detail"] == f"until {until.isoformat()}"


@pytest.mark.parametrize("days", [0, -1, 91])
def test_snoozing_to_today_the_past_or_too_far_is_refused_with_the_field(
    cast: Cast, api_as: ApiAs, days: int
) -> None:
    task = a_task(cast.case_manager)
    until = cast.agency.today() + datetime.timedelta(days=days)
    response = api_as(cast.case_manager).post(
        detail(task, "snooze"), {"until": until.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "until"
    task.refresh_from_db()
    assert task.snoozed_until is None


def test_a_done_task_cannot_be_snoozed(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    http = api_as(cast.case_manager)
    http.post(detail(task, "done"))
    until = cast.agency.today() + datetime.timedelta(days=2)
    response = http.post(detail(task, "snooze"), {"until": until.isoformat()}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "This task is already done.", "field": None}


def test_snooze_needs_a_date(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    response = api_as(cast.case_manager).post(detail(task, "snooze"), {}, format="json")
    assert response.status_code == 400
    assert "until" in response.json()


def test_reassign_to_a_teammate(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    until = cast.agency.today() + datetime.timedelta(days=2)
    http = api_as(cast.case_manager)
    http.post(detail(task, "snooze"), {"until": until.isoformat()}, format="json")
    response = http.post(detail(task, "reassign"), {"to": cast.colleague.pk}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["assignee_id"] == cast.colleague.pk
    assert body["snoozed_until"] is None
    assert body["events"][-1]["action"] == "reassigned"
    assert TaskEvent.objects.filter(task=task, action="reassigned").count() == 1


def test_reassign_to_someone_out_of_reach_is_refused(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.case_manager)
    http = api_as(cast.case_manager)
    for to in (cast.other_team_cm.pk, cast.outsider_cm.pk, 0, "x"):
        response = http.post(detail(task, "reassign"), {"to": to}, format="json")
        assert response.status_code == 400
        assert "to" in response.json()
    task.refresh_from_db()
    assert task.assignee_id == cast.case_manager.pk


def test_reassign_to_someone_no_longer_active_is_refused(cast: Cast, api_as: ApiAs) -> None:
    task = a_task(cast.admin, by=cast.admin)
    gone = UserFactory(agency=cast.agency, roles=[Role.CASE_MANAGER])
    add_to_team(gone, cast.team)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    response = api_as(cast.admin).post(detail(task, "reassign"), {"to": gone.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"to"}
