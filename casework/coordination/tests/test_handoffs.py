"""Hand-offs: clients move to another case manager with their tasks and a summary to acknowledge."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.http import Http404

from casework.clients.models import CareTeamMember, Client, EmergencyContact, Phone, SafetyFlag
from casework.coordination import services_collaboration as services
from casework.coordination.errors import CoordinationError
from casework.coordination.models import Handoff, HandoffClient
from casework.core import access
from casework.core.models import Role
from casework.testing.coordination import PersonFactory, release
from casework.testing.factories import ClientFactory, UserFactory, assign
from casework.testing.personas import Cast
from casework.testing.plans import signed_plan
from casework.testing.schedule import appointment_for, days_from_today
from casework.worklist import selectors as worklist
from casework.worklist import services as tasks
from casework.worklist.models import ClientWarning, Task, TaskEvent, WarningKind

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _handoff(cast: Cast, **kwargs: Any) -> Handoff:
    fields: dict[str, Any] = {
        "from_staff": cast.case_manager,
        "to_staff": cast.colleague,
        "clients": [cast.client],
        "effective_on": cast.agency.today(),
        "by": cast.case_manager,
        "message": "She prefers afternoon visits.",
    }
    fields.update(kwargs)
    return services.handoff_create(**fields)


def _primary(client: Client) -> Any:
    return CareTeamMember.objects.get(
        client=client, role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
    ).staff


def _post(cast: Cast, http: Any, **data: Any) -> Any:
    form = {
        "from": cast.case_manager.pk,
        "clients": [cast.client.pk],
        "to_staff": cast.colleague.pk,
        "effective_on": cast.agency.today().isoformat(),
        "message": "Notes",
    }
    form.update(data)
    return http.post("/team/handoffs/new/", form)


def test_a_handoff_to_a_deactivated_staff_member_is_refused(cast: Cast, http_as: Any) -> None:
    cast.colleague.is_active = False
    cast.colleague.save()
    response = _post(cast, http_as(cast.case_manager), message="Keep this text ñ")
    assert response.status_code == 400
    page = response.content.decode()
    assert "has been deactivated" in page and "Keep this text ñ" in page
    assert not Handoff.objects.exists()
    assert _primary(cast.client) == cast.case_manager
    with pytest.raises(CoordinationError, match="has been deactivated"):
        _handoff(cast)


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("outsider_cm", "not on your agency's staff"),
        ("billing", "does not hold a caseload"),
        ("case_manager", "Choose someone other than"),
    ],
)
def test_a_handoff_needs_an_active_colleague_with_a_caseload(
    cast: Cast, to: str, message: str
) -> None:
    with pytest.raises(CoordinationError, match=message):
        _handoff(cast, to_staff=getattr(cast, to))
    assert not Handoff.objects.exists()


def test_another_agencys_user_is_not_named_in_the_refusal(cast: Cast) -> None:
    with pytest.raises(CoordinationError) as refused:
        _handoff(cast, to_staff=cast.outsider_cm)
    assert cast.outsider_cm.full_name not in str(refused.value)


def test_a_handoff_needs_at_least_one_client(cast: Cast, http_as: Any) -> None:
    with pytest.raises(CoordinationError, match="at least one client"):
        _handoff(cast, clients=[])
    response = _post(cast, http_as(cast.case_manager), clients=[])
    assert response.status_code == 400
    assert "Choose at least one client" in response.content.decode()


def test_only_the_givers_own_clients_can_be_handed_off(cast: Cast) -> None:
    with pytest.raises(CoordinationError, match="own clients"):
        _handoff(cast, clients=[cast.client, cast.other_client], by=cast.admin)
    assert _primary(cast.client) == cast.case_manager


def test_a_case_manager_cannot_hand_off_a_colleagues_caseload(cast: Cast, http_as: Any) -> None:
    with pytest.raises(CoordinationError, match="your team's"):
        _handoff(cast, by=cast.colleague)
    response = http_as(cast.colleague).get(f"/team/handoffs/new/?from={cast.case_manager.pk}")
    assert response.status_code == 403


def _busy_client(cast: Cast) -> dict[str, Any]:
    client = cast.client
    open_task = tasks.task_create(
        assignee=cast.case_manager, title="Renew SNAP", by=cast.case_manager, client=client
    )
    done = tasks.task_create(
        assignee=cast.case_manager, title="Old errand", by=cast.case_manager, client=client
    )
    tasks.task_done(task=done, by=cast.case_manager)
    appointment_for(cast, start=days_from_today(cast.agency, 10))
    appointment_for(cast, start=days_from_today(cast.agency, 40))
    signed_plan(client=client, by=cast.case_manager)
    SafetyFlag.objects.create(
        agency=cast.agency, client=client, kind=SafetyFlag.Kind.DOG, created_by=cast.case_manager
    )
    ClientWarning.objects.create(
        agency=cast.agency,
        client=client,
        kind=WarningKind.HOUSING_LOST,
        evidence="Lost her room on 3rd St",
        evidence_key="note:1",
    )
    Phone.objects.create(agency=cast.agency, client=client, number="253-555-0188", is_primary=True)
    EmergencyContact.objects.create(
        agency=cast.agency,
        client=client,
        name="Rosa Núñez",
        relationship="sister",
        phone="253-555-0101",
    )
    psychiatrist = PersonFactory(agency=cast.agency, name="Dr. Avery Lin", phone="253-555-0199")
    release(client=client, by=cast.case_manager, person=psychiatrist)
    return {"task": open_task, "done": done}


def test_a_handoff_moves_the_primary_and_the_open_tasks_and_keeps_a_summary(cast: Cast) -> None:
    made = _busy_client(cast)
    handoff = _handoff(cast)

    assert _primary(cast.client) == cast.colleague
    ended = CareTeamMember.objects.get(client=cast.client, staff=cast.case_manager)
    assert ended.end_on == cast.agency.today()  # the history keeps who had them when

    task = Task.objects.get(pk=made["task"].pk)
    assert task.assignee == cast.colleague
    assert TaskEvent.objects.filter(task=task, action=TaskEvent.Action.REASSIGNED).exists()
    assert Task.objects.get(pk=made["done"].pk).assignee == cast.case_manager

    summary = HandoffClient.objects.get(handoff=handoff, client=cast.client).summary
    assert [t["title"] for t in summary["open_tasks"]] == ["Renew SNAP"]
    assert summary["open_tasks"][0]["moved"] is True
    assert len(summary["appointments"]) == 1  # the one in 40 days is past the 30 shown
    assert summary["goals"][0]["objectives"][0]["target_on"]
    assert [f["kind"] for f in summary["safety_flags"]] == ["Dog on premises"]
    assert summary["warnings"][0]["evidence"] == "Lost her room on 3rd St"
    calls = summary["who_to_call"]
    assert {m["name"] for m in calls["care_team"]} == {cast.colleague.full_name}
    assert calls["client_phones"][0]["number"] == "253-555-0188"
    assert calls["emergency_contacts"][0] == {
        "name": "Rosa Núñez",
        "relationship": "sister",
        "phone": "253-555-0101",
    }
    assert calls["releases"][0]["name"] == "Dr. Avery Lin"
    assert calls["releases"][0]["phone"] == "253-555-0199"


def test_a_future_handoff_across_teams_lets_the_receiver_in_now_and_changes_primary_on_the_day(
    cast: Cast,
) -> None:
    made = _busy_client(cast)
    effective = cast.agency.today() + 7 * DAY
    _handoff(cast, to_staff=cast.other_team_cm, effective_on=effective, by=cast.supervisor)

    today = cast.agency.today()
    primary_now = CareTeamMember.objects.get(
        CareTeamMember.active_on(today), client=cast.client, role=CareTeamMember.Role.PRIMARY
    )
    assert primary_now.staff == cast.case_manager and primary_now.end_on == effective
    primary_then = CareTeamMember.objects.get(
        CareTeamMember.active_on(effective), client=cast.client, role=CareTeamMember.Role.PRIMARY
    )
    assert primary_then.staff == cast.other_team_cm
    access.client_or_404(cast.other_team_cm, cast.client.pk)  # may read the chart already
    assert Task.objects.get(pk=made["task"].pk).assignee == cast.other_team_cm
    with pytest.raises(CoordinationError, match="own clients"):
        _handoff(cast, to_staff=cast.colleague)  # already being handed off


def test_the_receiver_acknowledges_once_and_a_second_time_is_harmless(
    cast: Cast, http_as: Any
) -> None:
    handoff = _handoff(cast)
    key = f"handoff:{handoff.pk}"
    assert key in {item.key for item in worklist.my_day(user=cast.colleague).items}

    http = http_as(cast.colleague)
    page = http.get(f"/team/handoffs/{handoff.pk}/").content.decode()
    assert "Acknowledge" in page and "She prefers afternoon visits." in page
    assert http.post(f"/team/handoffs/{handoff.pk}/acknowledge/").status_code == 302
    handoff.refresh_from_db()
    first = handoff.acknowledged_at
    assert first is not None
    assert http.post(f"/team/handoffs/{handoff.pk}/acknowledge/").status_code == 302
    handoff.refresh_from_db()
    assert handoff.acknowledged_at == first
    assert key not in {item.key for item in worklist.my_day(user=cast.colleague).items}


def test_someone_other_than_the_receiver_cannot_acknowledge(cast: Cast, http_as: Any) -> None:
    handoff = _handoff(cast)
    for who in (cast.case_manager, cast.supervisor):
        http_as(who).post(f"/team/handoffs/{handoff.pk}/acknowledge/")
    handoff.refresh_from_db()
    assert handoff.acknowledged_at is None
    with pytest.raises(CoordinationError, match="Only the person receiving"):
        services.handoff_acknowledge(handoff=handoff, by=cast.supervisor)


def test_the_handoff_page_is_printable(cast: Cast, http_as: Any) -> None:
    _busy_client(cast)
    handoff = _handoff(cast)
    page = http_as(cast.colleague).get(f"/team/handoffs/{handoff.pk}/print/").content.decode()
    assert "Renew SNAP" in page and "Dr. Avery Lin" in page
    # Its print rules are in a stylesheet of its own (the CSP refuses inline styles).
    assert 'href="/static/casework/handoff-print.css"' in page
    css = Path(settings.BASE_DIR, "web/static/casework/handoff-print.css").read_text()
    assert "@media print" in css


def test_a_handoff_form_sent_twice_hands_off_once(cast: Cast, http_as: Any) -> None:
    http = http_as(cast.case_manager)
    assert _post(cast, http, submission_key="once").status_code == 302
    assert _post(cast, http, submission_key="once").status_code == 302
    assert Handoff.objects.count() == 1


def test_the_form_lists_the_givers_own_clients(cast: Cast, http_as: Any) -> None:
    second = ClientFactory(
        agency=cast.agency, legal_first_name="Second", created_by=cast.case_manager
    )
    assign(second, cast.case_manager)
    page = http_as(cast.supervisor).get(f"/team/handoffs/new/?from={cast.case_manager.pk}")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Second" in body and cast.other_client.record_number not in body


@pytest.mark.parametrize("who", ["outsider_admin", "outsider_cm", "other_team_cm"])
def test_others_cannot_see_a_handoff(cast: Cast, http_as: Any, who: str) -> None:
    handoff = _handoff(cast)
    http = http_as(getattr(cast, who))
    assert http.get(f"/team/handoffs/{handoff.pk}/").status_code == 404
    assert http.post(f"/team/handoffs/{handoff.pk}/acknowledge/").status_code == 404
    assert cast.colleague.full_name not in http.get("/team/handoffs/").content.decode()


def test_an_outsider_cannot_hand_off_from_another_agency(cast: Cast, http_as: Any) -> None:
    http = http_as(cast.outsider_admin)
    assert http.get(f"/team/handoffs/new/?from={cast.case_manager.pk}").status_code == 404
    with pytest.raises((CoordinationError, Http404)):
        _handoff(cast, by=cast.outsider_admin)


def test_an_admin_hands_off_anyones_caseload(cast: Cast) -> None:
    receiver = UserFactory(agency=cast.agency, roles=[Role.CASE_MANAGER])
    _handoff(cast, to_staff=receiver, by=cast.admin)
    assert _primary(cast.client) == receiver


def test_the_list_shows_the_handoffs_of_the_people_involved(cast: Cast, http_as: Any) -> None:
    _handoff(cast)
    for who in (cast.case_manager, cast.colleague, cast.supervisor, cast.admin):
        page = http_as(who).get("/team/handoffs/")
        assert page.status_code == 200
        assert cast.colleague.full_name in page.content.decode()


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.django_db(transaction=True)
def test_two_handoffs_of_the_same_client_at_once_make_one(cast: Cast) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def hand_to(receiver: Any) -> None:
        try:
            barrier.wait()
            _handoff(cast, to_staff=receiver, by=cast.supervisor)
            outcomes.append("made")
        except CoordinationError:
            outcomes.append("refused")
        except Exception as error:
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=hand_to, args=(who,)) for who in (cast.colleague, cast.supervisor)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["made", "refused"]
    assert Handoff.objects.count() == 1
    assert _primary(cast.client) == Handoff.objects.get().to_staff
