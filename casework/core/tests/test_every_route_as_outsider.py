"""Walk every URL pattern and API route as an outsider and make sure no client's data comes back.

Outsiders: anonymous; an admin of another agency; a case manager of another agency; a case
manager of this agency who is not on the client's team. A route with a parameter this test does
not know fails the test, so whoever adds a route decides how it is walked (the parameters' values
are in `casework.testing.routes`).
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from casework.testing.personas import Cast, sign_in
from casework.testing.routes import PUBLIC, Route, all_routes, route_values, url_for


def _assert_processes_untouched(cast: Cast) -> None:
    from casework.processes.models import ProcessDefinition, ProcessInstance

    for instance in ProcessInstance.objects.filter(client=cast.client):
        assert instance.status == ProcessInstance.Status.RUNNING
        assert instance.owner == cast.case_manager
        assert instance.steps.get().status == "open"
    assert not ProcessDefinition.objects.filter(agency=cast.agency, is_active=False).exists()


WRITES = ("create", "update", "delete", "merge", "break_glass")


def _assert_coordination_untouched(cast: Cast) -> None:
    from casework.coordination.models import (
        Consent,
        Coverage,
        Disclosure,
        Document,
        Handoff,
        Letter,
        Referral,
    )

    assert not Consent.objects.filter(client=cast.client, revoked_at__isnull=False).exists()
    assert not Document.objects.filter(client=cast.client, removed_at__isnull=False).exists()
    assert Referral.objects.get(client=cast.client).status == Referral.Status.DRAFT
    assert Letter.objects.get(client=cast.client).issued_at is None
    assert not Disclosure.objects.exists()
    assert Coverage.objects.filter(absent=cast.case_manager).count() == 1
    assert Handoff.objects.get(from_staff=cast.case_manager).acknowledged_at is None


def _secrets(cast: Cast, route: Route, who: str) -> list[str]:
    client = cast.client
    names = [client.legal_last_name, client.legal_first_name]
    if who == "auditor" and route.name == "audit_log":
        return names  # the log names the record each event was about, never the person
    return [*names, client.record_number]


def _assert_nothing_leaks(body: str, cast: Cast, route: Route, who: str) -> None:
    for secret in _secrets(cast, route, who):
        assert secret not in body, f"{route.name} leaked client data to {who}"


@pytest.mark.django_db
def test_every_route_is_walked(cast: Cast) -> None:
    names = {r.name for r in all_routes()}
    assert {"client_chart", "client_list", "audit_log", "staff_list", "home"} <= names


@pytest.mark.django_db
def test_anonymous_visitors_get_the_sign_in_page_or_a_refusal(cast: Cast) -> None:
    known = route_values(cast)
    for route in all_routes():
        if route.name in PUBLIC:
            continue
        url = url_for(route, cast, known)
        for method in ("get", "post"):
            response = getattr(HttpClient(), method)(url)
            assert response.status_code in (302, 401, 403, 404, 405), (
                route.name,
                method,
                response.status_code,
            )
            if response.status_code == 302:
                assert response["Location"].startswith("/login/"), (
                    route.name,
                    response["Location"],
                )
            _assert_nothing_leaks(
                response.content.decode(errors="replace"), cast, route, "anonymous"
            )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["outsider_admin", "outsider_cm", "other_team_cm", "auditor"])
def test_outsiders_never_see_the_clients_data(cast: Cast, persona: str) -> None:
    user = getattr(cast, persona)
    known = route_values(cast)
    for route in all_routes():
        if route.name in PUBLIC:
            continue
        url = url_for(route, cast, known)
        http = sign_in(HttpClient(), user)  # afresh: some routes (sign out) end the session
        for method in ("get", "post"):
            response = getattr(http, method)(url)
            assert response.status_code < 500, (route.name, method, response.status_code)
            _assert_nothing_leaks(response.content.decode(errors="replace"), cast, route, persona)
        if route.params and "client" in route.pattern and persona != "other_team_cm":
            assert http.get(url).status_code in (403, 404, 405), (route.name, persona)
    from casework.clients.models import BreakGlassAccess, SafetyFlag
    from casework.core.models import ApiToken, AuditEvent

    # An admin of another agency may change their own agency's settings (e.g. add its standard
    # letters); what must never happen is a write touching this agency or any client.
    home_writes = AuditEvent.objects.filter(actor_id=user.pk, action__in=WRITES).exclude(
        agency_id=user.agency_id, client_id__isnull=True
    )
    assert not home_writes.exclude(agency_id=user.agency_id).exists(), persona
    assert not home_writes.filter(client_id__isnull=False).exists(), persona
    _assert_coordination_untouched(cast)
    _assert_processes_untouched(cast)
    assert SafetyFlag.objects.get(client=cast.client).is_active
    assert ApiToken.objects.get(user=cast.case_manager).revoked_at is None
    assert cast.client.care_team.get(staff=cast.colleague).end_on is None
    assert not BreakGlassAccess.objects.filter(reviewed_at__isnull=False).exists()
    from casework.assessments.models import AssessmentRule
    from casework.clients.models import FlagNotice

    assert not FlagNotice.objects.filter(acknowledged_at__isnull=False).exists()
    assert AssessmentRule.objects.filter(agency=cast.agency).exists()
    from casework.billing.models import Charge, ClaimBatch
    from casework.notes.models import Note

    if getattr(cast, "_walk_billing", None):
        ids = cast._walk_billing  # type: ignore[attr-defined]
        assert Note.objects.get(pk=ids["note"]).status == "signed"
        assert Charge.objects.get(pk=ids["charge"]).status == "billed"
        assert ClaimBatch.objects.get(pk=ids["batch"]).submitted_at is None
    from casework.schedule.models import Appointment, Holiday, Resource

    assert not Appointment.objects.exclude(status="scheduled").exists()
    assert not Resource.objects.filter(agency=cast.agency, is_active=False).exists()
    assert Holiday.objects.filter(agency=cast.agency, name="Walk day").exists()
    from casework.worklist.models import Snooze, Task

    assert not Task.objects.exclude(status="open", assignee=cast.case_manager).exists()
    assert not Snooze.objects.exclude(user=cast.case_manager, item_key="contact:walk").exists()
    assert not Snooze.objects.filter(until__lte=cast.agency.today()).exists()
