"""The clients API from every side: who sees what, writes through the services, bad input."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.clients.models import Client, Identifier, TimelineEvent
from casework.core.models import AuditEvent, User
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast

ApiAs = Callable[[User | None], APIClient]
LIST = "/api/v1/clients/"


def detail(client: Client) -> str:
    return f"/api/v1/clients/{client.pk}/"


def new_client(**extra: object) -> dict[str, object]:
    return {
        "legal_first_name": "Dana",
        "legal_last_name": "Whitfield",
        "date_of_birth": "1984-02-29",
        **extra,
    }


def ids(response: object) -> set[int]:
    return {row["id"] for row in response.json()["results"]}  # type: ignore[attr-defined]


# --- who may see and change what -------------------------------------------------------------


def test_anonymous_gets_401_with_a_bearer_challenge_on_every_client_route(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(None)
    responses = [
        http.get(LIST),
        http.post(LIST, new_client(), format="json"),
        http.get(detail(cast.client)),
        http.patch(detail(cast.client), {"city": "Tacoma"}, format="json"),
        http.put(detail(cast.client), new_client(), format="json"),
    ]
    assert [r.status_code for r in responses] == [401] * 5
    assert responses[0]["WWW-Authenticate"] == 'Bearer realm="api"'


def test_case_manager_lists_own_team_clients_only(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).get(LIST)
    assert response.status_code == 200
    assert ids(response) == {cast.client.pk}


def test_colleague_on_the_same_team_sees_the_client_too(cast: Cast, api_as: ApiAs) -> None:
    assert ids(api_as(cast.colleague).get(LIST)) == {cast.client.pk}
    assert api_as(cast.colleague).get(detail(cast.client)).status_code == 200


def test_case_manager_gets_404_for_another_team_and_another_agency(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    assert http.get(detail(cast.other_client)).status_code == 404
    assert http.get(detail(cast.outsider_client)).status_code == 404
    assert http.patch(detail(cast.other_client), {"city": "X"}, format="json").status_code == 404
    assert http.get("/api/v1/clients/999999999/").status_code == 404


def test_outsider_sees_nothing_of_this_agency(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.outsider_cm)
    assert ids(http.get(LIST)) == {cast.outsider_client.pk}
    assert ids(http.get(LIST, {"q": "María"})) == set()
    for client in (cast.client, cast.other_client):
        assert http.get(detail(client)).status_code == 404
        assert http.patch(detail(client), {"city": "X"}, format="json").status_code == 404
        assert http.put(detail(client), new_client(), format="json").status_code == 404
    cast.client.refresh_from_db()
    assert cast.client.city != "X"


def test_admin_and_billing_see_every_client_of_the_agency(cast: Cast, api_as: ApiAs) -> None:
    both = {cast.client.pk, cast.other_client.pk}
    assert ids(api_as(cast.admin).get(LIST)) == both
    assert ids(api_as(cast.billing).get(LIST)) == both


def test_billing_reads_but_cannot_write(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.billing)
    assert http.get(detail(cast.client)).status_code == 200
    created = http.post(LIST, new_client(), format="json")
    patched = http.patch(detail(cast.client), {"city": "Tacoma"}, format="json")
    put = http.put(detail(cast.client), new_client(), format="json")
    assert (created.status_code, patched.status_code, put.status_code) == (403, 403, 403)
    assert patched.json()["detail"] == "Your role can read charts but not change them."
    assert not Client.objects.filter(legal_last_name="Whitfield").exists()


def test_auditors_are_refused_client_records_with_403(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.auditor)
    assert http.get(LIST).status_code == 403
    assert http.get(detail(cast.client)).status_code == 403
    assert http.post(LIST, new_client(), format="json").status_code == 403


def test_there_is_no_delete(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.admin).delete(detail(cast.client))
    assert response.status_code == 405
    assert Client.objects.filter(pk=cast.client.pk).exists()


def test_reading_a_chart_is_audited(cast: Cast, api_as: ApiAs) -> None:
    api_as(cast.case_manager).get(detail(cast.client))
    event = AuditEvent.objects.filter(action="view", client_id=cast.client.pk).first()
    assert event is not None
    assert event.actor_id == cast.case_manager.pk


# --- what a client looks like ----------------------------------------------------------------


def test_a_client_shows_demographics_identifiers_and_primary_case_manager(
    cast: Cast, api_as: ApiAs
) -> None:
    Identifier.objects.create(
        agency=cast.agency, client=cast.client, kind="providerone", value="123456789WA"
    )
    body = api_as(cast.case_manager).get(detail(cast.client)).json()
    assert body["legal_first_name"] == "María"
    assert body["legal_last_name"] == "O'Connor-Núñez"
    assert body["record_number"] == cast.client.record_number
    assert body["date_of_birth"] == "1970-05-17"
    assert body["status"] == "active"
    assert body["identifiers"] == [{"kind": "providerone", "value": "123456789WA", "label": ""}]
    assert body["primary_case_manager_id"] == cast.case_manager.pk


def test_read_only_fields_are_ignored_on_write(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).patch(
        detail(cast.client),
        {"record_number": "HACK-1", "primary_case_manager_id": cast.admin.pk, "identifiers": []},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["record_number"] == cast.client.record_number
    assert response.json()["primary_case_manager_id"] == cast.case_manager.pk


# --- create ----------------------------------------------------------------------------------


def test_case_manager_registers_a_client_and_becomes_primary(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    response = http.post(LIST, new_client(providerone_id="123 456 789 wa"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["record_number"].startswith("C-")
    assert body["identifiers"] == [{"kind": "providerone", "value": "123456789WA", "label": ""}]
    assert body["primary_case_manager_id"] == cast.case_manager.pk
    assert body["id"] in ids(http.get(LIST))
    assert TimelineEvent.objects.filter(client_id=body["id"], kind="registered").exists()
    assert AuditEvent.objects.filter(action="create", client_id=body["id"]).exists()


def test_the_same_idempotency_key_twice_creates_one_client(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    headers = {"Idempotency-Key": "3f1c2a4e-retry-me"}
    first = http.post(LIST, new_client(), format="json", headers=headers)
    second = http.post(LIST, new_client(), format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Client.objects.filter(legal_last_name="Whitfield").count() == 1


def test_without_a_key_two_posts_make_two_clients(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    assert http.post(LIST, new_client(), format="json").status_code == 201
    assert http.post(LIST, new_client(), format="json").status_code == 201
    assert Client.objects.filter(legal_last_name="Whitfield").count() == 2


def test_the_same_key_from_someone_else_never_returns_the_first_persons_client(
    cast: Cast, api_as: ApiAs
) -> None:
    headers = {"Idempotency-Key": "shared-key-1"}
    first = api_as(cast.case_manager).post(LIST, new_client(), format="json", headers=headers)
    second = api_as(cast.other_team_cm).post(LIST, new_client(), format="json", headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_a_supervisor_registers_through_the_api_by_naming_the_primary_case_manager(
    cast: Cast, api_as: ApiAs
) -> None:
    missing = api_as(cast.supervisor).post(LIST, new_client(), format="json")
    assert missing.status_code == 400 and "primary_case_manager" in missing.json()
    foreign = api_as(cast.supervisor).post(
        LIST, {**new_client(), "primary_case_manager_id": cast.outsider_cm.pk}, format="json"
    )
    assert foreign.status_code == 400
    done = api_as(cast.supervisor).post(
        LIST, {**new_client(), "primary_case_manager_id": cast.case_manager.pk}, format="json"
    )
    assert done.status_code == 201


def test_a_malformed_idempotency_key_is_refused(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST, new_client(), format="json", headers={"Idempotency-Key": "x" * 65}
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()


# --- bad input gets a clear message ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "2999-01-01", "The date of birth is in the future."),
        ("date_of_birth", "1850-06-01", "more than 120 years ago"),
        ("date_of_birth", "17/05/1970", "Date has wrong format"),
        ("providerone_id", "12345WA", "9 digits followed by WA"),
        ("medicare_mbi", "1EG4-TE5-MK7S", "11 characters"),
        ("legal_first_name", "x" * 101, "no more than 100 characters"),
        ("address_notes", "x" * 301, "no more than 300 characters"),
        ("legal_last_name", "   ", "may not be blank"),
        ("state", "Washington", "no more than 2 characters"),
        ("state", "W1", "two-letter state code"),
        ("sex_for_billing", "Q", "is not a valid choice"),
        ("legal_first_name", "nul\x00byte", "Null characters are not allowed"),
    ],
)
def test_bad_client_input_is_a_400_naming_the_field(
    cast: Cast, api_as: ApiAs, field: str, value: str, message: str
) -> None:
    response = api_as(cast.case_manager).post(LIST, new_client(**{field: value}), format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not Client.objects.filter(legal_last_name="Whitfield").exists()


def test_missing_required_fields_are_named(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(LIST, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"legal_first_name", "legal_last_name", "date_of_birth"}


def test_a_body_that_is_not_json_is_a_400(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).generic(
        "POST", LIST, "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_providerone_id_already_on_another_record_is_refused(cast: Cast, api_as: ApiAs) -> None:
    Identifier.objects.create(
        agency=cast.agency, client=cast.other_client, kind="providerone", value="123456789WA"
    )
    response = api_as(cast.case_manager).post(
        LIST, new_client(providerone_id="123456789WA"), format="json"
    )
    assert response.status_code == 400
    assert "already belongs to record" in response.json()["non_field_errors"][0]


def test_the_api_cannot_mark_a_client_merged(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.admin).patch(detail(cast.client), {"status": "merged"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_a_future_birth_date_is_refused_on_update_too(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).patch(
        detail(cast.client), {"date_of_birth": "2999-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["date_of_birth"] == ["The date of birth is in the future."]


# --- ugly but legitimate input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("José", "Núñez-O'Brien"),
        ("Nguyễn Thị", "Minh Khai"),
        ("李", "小龍"),
        ("Zoë", "Ångström 🌈"),
        ("Aroha", "Te Whāiti"),
    ],
)
def test_unicode_names_round_trip(cast: Cast, api_as: ApiAs, first: str, last: str) -> None:
    http = api_as(cast.case_manager)
    created = http.post(
        LIST, new_client(legal_first_name=first, legal_last_name=last), format="json"
    )
    assert created.status_code == 201
    body = http.get(f"{LIST}{created.json()['id']}/").json()
    assert (body["legal_first_name"], body["legal_last_name"]) == (first, last)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script>",
        "Robert'); DROP TABLE clients_client;--",
        '" OR 1=1 --',
        "<img src=x onerror=alert(1)>",
        "{{ 7*7 }} ${7*7}",
    ],
)
def test_html_and_sql_are_stored_verbatim_and_returned_as_data(
    cast: Cast, api_as: ApiAs, text: str
) -> None:
    http = api_as(cast.case_manager)
    created = http.post(
        LIST, new_client(legal_last_name=text[:100], address_notes=text), format="json"
    )
    assert created.status_code == 201
    assert created["Content-Type"] == "application/json"
    body = http.get(f"{LIST}{created.json()['id']}/").json()
    assert body["legal_last_name"] == text[:100]
    assert body["address_notes"] == text
    assert Client.objects.filter(address_notes=text).count() == 1


# --- update ----------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_keeps_the_timeline(
    cast: Cast, api_as: ApiAs
) -> None:
    response = api_as(cast.case_manager).patch(
        detail(cast.client), {"preferred_name": "Mari", "status": "inactive"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["preferred_name"], body["status"]) == ("Mari", "inactive")
    assert body["legal_first_name"] == "María"
    assert body["status_changed_on"] is not None
    assert TimelineEvent.objects.filter(client=cast.client, kind="updated").exists()
    assert AuditEvent.objects.filter(action="update", client_id=cast.client.pk).exists()


def test_put_replaces_the_demographics(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).put(
        detail(cast.client), new_client(city="Spokane", state="wa"), format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["legal_last_name"], body["city"], body["state"]) == ("Whitfield", "Spokane", "WA")


def test_put_without_the_required_fields_is_a_400(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).put(detail(cast.client), {"city": "X"}, format="json")
    assert response.status_code == 400
    assert "legal_first_name" in response.json()


def test_renaming_a_client_makes_them_findable_by_the_new_name(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    http.patch(detail(cast.client), {"legal_last_name": "Castellanos"}, format="json")
    assert ids(http.get(LIST, {"q": "Castelanos"})) == {cast.client.pk}


# --- list and search -------------------------------------------------------------------------


def test_search_is_typo_tolerant_on_names(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    assert ids(http.get(LIST, {"q": "Mraia Oconnor"})) == {cast.client.pk}
    assert ids(http.get(LIST, {"q": "nunez"})) == {cast.client.pk}


def test_search_is_exact_on_birth_date_record_number_and_identifier(
    cast: Cast, api_as: ApiAs
) -> None:
    Identifier.objects.create(
        agency=cast.agency, client=cast.client, kind="providerone", value="987654321WA"
    )
    http = api_as(cast.case_manager)
    assert ids(http.get(LIST, {"q": "1970-05-17"})) == {cast.client.pk}
    assert ids(http.get(LIST, {"q": "05/17/1970"})) == {cast.client.pk}
    assert ids(http.get(LIST, {"q": "1970-05-18"})) == set()
    assert ids(http.get(LIST, {"q": cast.client.record_number})) == {cast.client.pk}
    assert ids(http.get(LIST, {"q": "987654321WA"})) == {cast.client.pk}
    assert ids(http.get(LIST, {"q": "987654320WA"})) == set()


def test_search_never_reaches_outside_the_callers_scope(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    assert ids(http.get(LIST, {"q": "Teamclient"})) == set()
    assert ids(http.get(LIST, {"q": cast.other_client.record_number})) == set()


def test_searching_is_audited(cast: Cast, api_as: ApiAs) -> None:
    api_as(cast.case_manager).get(LIST, {"q": "maria"})
    assert AuditEvent.objects.filter(action="search", actor_id=cast.case_manager.pk).exists()


def test_inactive_clients_are_listed_only_when_asked(cast: Cast, api_as: ApiAs) -> None:
    Client.objects.filter(pk=cast.client.pk).update(status=Client.Status.DISCHARGED)
    http = api_as(cast.case_manager)
    assert ids(http.get(LIST)) == set()
    assert ids(http.get(LIST, {"include_inactive": "1"})) == {cast.client.pk}
    assert ids(http.get(LIST, {"q": "maria", "include_inactive": "true"})) == {cast.client.pk}
    assert http.get(LIST, {"include_inactive": "perhaps"}).status_code == 400


def test_the_list_is_paginated(cast: Cast, api_as: ApiAs) -> None:
    for _ in range(3):
        assign(ClientFactory(agency=cast.agency, created_by=cast.case_manager), cast.case_manager)
    body = api_as(cast.case_manager).get(LIST, {"limit": 2}).json()
    assert body["count"] == 4
    assert len(body["results"]) == 2
    assert "offset=2" in body["next"]


def _list_queries(http: APIClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(LIST)
    assert response.status_code == 200
    return len(queries)


def _add_clients(cast: Cast, count: int) -> None:
    for n in range(count):
        client = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
        assign(client, cast.case_manager)
        Identifier.objects.create(
            agency=cast.agency, client=client, kind="other", value=f"X{client.pk}-{n}"
        )


def test_the_list_runs_the_same_number_of_queries_for_5_and_30_clients(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    http.get(LIST)  # first use of the token records last_used_at
    _add_clients(cast, 5)
    with_5 = _list_queries(http)
    _add_clients(cast, 25)
    with_30 = _list_queries(http)
    assert with_5 == with_30
    assert len(http.get(LIST).json()["results"]) == 31


def test_a_search_runs_the_same_number_of_queries_for_5_and_30_matches(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    http.get(LIST)

    def search_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = http.get(LIST, {"q": "1970-05-17"})
        assert response.status_code == 200
        return len(queries)

    _add_clients(cast, 5)
    with_5 = search_queries()
    _add_clients(cast, 25)
    assert search_queries() == with_5


def test_dates_are_iso_dates(cast: Cast, api_as: ApiAs) -> None:
    body = api_as(cast.case_manager).get(detail(cast.client)).json()
    assert datetime.date.fromisoformat(body["date_of_birth"]) == cast.client.date_of_birth


def test_if_match_refuses_to_overwrite_a_newer_save(cast: Cast, api_as: ApiAs) -> None:
    url = f"{LIST}{cast.client.pk}/"
    read = api_as(cast.case_manager).get(url)
    etag = read["ETag"]
    assert api_as(cast.colleague).patch(url, {"city": "Tacoma"}, format="json").status_code == 200
    stale = api_as(cast.case_manager).patch(
        url, {"city": "Spokane"}, format="json", headers={"If-Match": etag}
    )
    assert stale.status_code == 412 and "Someone else saved" in stale.json()["detail"]
    fresh = api_as(cast.case_manager).get(url)["ETag"]
    done = api_as(cast.case_manager).patch(
        url, {"city": "Spokane"}, format="json", headers={"If-Match": fresh}
    )
    assert done.status_code == 200 and done.json()["city"] == "Spokane"
