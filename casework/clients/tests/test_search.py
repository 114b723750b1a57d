"""Search: typo-tolerant on names, exact on identifiers and birth dates, and only what the user may see."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.clients import search
from casework.clients.models import Client, Identifier, NameKey
from casework.clients.selectors import client_search
from casework.clients.services import client_update
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast


def names(result: list[Client]) -> list[str]:
    return [c.legal_last_name for c in result]


@pytest.fixture
def smith(cast: Cast) -> Client:
    client = ClientFactory(
        agency=cast.agency,
        legal_first_name="Jonathan",
        legal_last_name="Smith",
        date_of_birth=datetime.date(1968, 3, 14),
    )
    assign(client, cast.case_manager)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "Smith",
        "smith",
        "Smtih",
        "Smyth",
        "Smiht",
        "Jonathan Smith",
        "jonathon smith",
        "Smi",
        "smith jonathan",
    ],
)
def test_name_search_forgives_typos_case_and_order(cast: Cast, smith: Client, query: str) -> None:
    assert smith in client_search(user=cast.case_manager, query=query).clients


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Jones", "Smithers-Wallace", "Xavier"])
def test_name_search_does_not_match_different_names(cast: Cast, smith: Client, query: str) -> None:
    assert smith not in client_search(user=cast.case_manager, query=query).clients


@pytest.mark.django_db
def test_accents_do_not_matter(cast: Cast) -> None:
    assert cast.client in client_search(user=cast.case_manager, query="maria oconnor nunez").clients
    assert cast.client in client_search(user=cast.case_manager, query="Núñez").clients


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["1968-03-14", "03/14/1968", "3/14/1968"])
def test_birth_date_search_is_exact(cast: Cast, smith: Client, query: str) -> None:
    result = client_search(user=cast.case_manager, query=query)
    assert result.matched_by == "date of birth" and result.clients == [smith]
    assert client_search(user=cast.case_manager, query="1968-03-15").clients == []


@pytest.mark.django_db
def test_medicaid_id_and_record_number_search_are_exact(cast: Cast, smith: Client) -> None:
    Identifier.objects.create(
        agency=cast.agency, client=smith, kind="providerone", value="111222333WA"
    )
    assert client_search(user=cast.case_manager, query="111222333wa").clients == [smith]
    assert client_search(user=cast.case_manager, query="111222334WA").clients == []
    assert client_search(user=cast.case_manager, query=smith.record_number).clients == [smith]


@pytest.mark.django_db
def test_search_never_returns_clients_outside_the_users_scope(cast: Cast) -> None:
    other = cast.other_client
    assert other not in client_search(user=cast.case_manager, query=other.legal_last_name).clients
    assert (
        cast.outsider_client
        not in client_search(user=cast.admin, query=cast.outsider_client.legal_last_name).clients
    )
    assert client_search(user=cast.auditor, query=cast.client.legal_last_name).clients == []


@pytest.mark.django_db
def test_inactive_clients_only_when_asked(cast: Cast, smith: Client) -> None:
    Client.objects.filter(pk=smith.pk).update(status=Client.Status.DISCHARGED)
    assert smith not in client_search(user=cast.case_manager, query="Smith").clients
    assert (
        smith in client_search(user=cast.case_manager, query="Smith", include_inactive=True).clients
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["", "   ", "%", "_", "' OR 1=1 --", "<b>", "x" * 500, "🙂", "\x00"]
)
def test_odd_queries_do_not_fail(cast: Cast, http_as, query: str) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.case_manager).get("/clients/", {"q": query})
    assert response.status_code == 200


@pytest.mark.django_db
def test_search_page_answers_htmx_with_the_results_fragment(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.case_manager).get("/clients/", {"q": "Oconnor"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and f"/clients/{cast.client.pk}/" in body


@given(st.text(alphabet=st.characters(categories=["Lu", "Ll"]), min_size=4, max_size=12), st.data())
@settings(max_examples=200, deadline=None)
def test_every_single_edit_shares_a_key_with_the_original(word: str, data: st.DataObject) -> None:
    token = search.tokens(word)
    if not token or len(token[0]) < 4:
        return
    original = token[0]
    position = data.draw(st.integers(0, len(original) - 1))
    edits = [
        original[:position] + original[position + 1 :],  # deletion
        original[:position] + "q" + original[position:],  # insertion
        original[:position] + "z" + original[position + 1 :],  # substitution
    ]
    if position < len(original) - 1:
        edits.append(
            original[:position]
            + original[position + 1]
            + original[position]
            + original[position + 2 :]
        )
    for typo in edits:
        if len(typo) >= 3:
            assert search.query_keys(typo) & search.name_keys([original]), (original, typo)


def _searched_after_namesakes(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, **namesakes: object
) -> Client:
    """Twelve Jonathan Smiths made as `namesakes` says, then the one searched for, on the case
    manager's caseload. Registered last, it comes last among equal candidates, and with
    CANDIDATE_LIMIT 10 and a page of two (eight names spelt as typed) only a search that leaves
    the namesakes out of its candidates finds it."""
    namesakes.setdefault("agency", cast.agency)
    for _ in range(12):
        ClientFactory(legal_first_name="Jonathan", legal_last_name="Smith", **namesakes)
    searched = ClientFactory(
        agency=cast.agency, legal_first_name="Jonathan", legal_last_name="Smith"
    )
    assign(searched, cast.case_manager)
    monkeypatch.setattr("casework.clients.selectors.CANDIDATE_LIMIT", 10)
    return searched


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Smith", "Smtih"])  # spelt as typed, and misspelt
def test_other_agencies_with_many_similar_names_do_not_crowd_out_ours(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    searched = _searched_after_namesakes(cast, monkeypatch, agency=cast.outsider_agency)
    assert searched in client_search(user=cast.case_manager, query=query, limit=2).clients
    assert searched in client_search(user=cast.admin, query=query, limit=2).clients


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Smith", "Smtih"])
def test_namesakes_outside_a_caseload_do_not_crowd_out_the_case_managers_own(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    searched = _searched_after_namesakes(cast, monkeypatch)
    assert searched in client_search(user=cast.case_manager, query=query, limit=2).clients


@pytest.mark.django_db
def test_a_whole_agency_search_reads_the_name_keys_without_listing_every_client(
    cast: Cast, smith: Client
) -> None:
    # Narrowing the keys to "visible clients" (a subquery) would read every client of the
    # agency (docs/PERFORMANCE.md); for an agency-wide role each key hit joins its own client.
    with CaptureQueriesContext(connection) as queries:
        found = client_search(user=cast.admin, query="Smtih").clients
    assert smith in found
    key_reads = [
        q["sql"].split('FROM "clients_namekey"', 1)[1]
        for q in queries
        if 'FROM "clients_namekey"' in q["sql"]
    ]
    assert key_reads
    assert all("clients_client" not in read for read in key_reads)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Client.Status.DISCHARGED, Client.Status.MERGED])
@pytest.mark.parametrize("query", ["Smith", "Smtih"])
def test_namesakes_no_longer_served_do_not_crowd_out_an_active_client_for_the_agency(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, status: str, query: str
) -> None:
    searched = _searched_after_namesakes(cast, monkeypatch, status=status)
    assert searched in client_search(user=cast.admin, query=query, limit=2).clients
    if status == Client.Status.MERGED:
        everyone = client_search(user=cast.admin, query=query, limit=2, include_inactive=True)
        assert searched in everyone.clients


@pytest.mark.django_db
def test_a_client_discharged_and_readmitted_is_found_by_the_whole_agency_again(
    cast: Cast, smith: Client
) -> None:
    # The keys carry a copy of the client's status; it must follow every change of status.
    client_update(client=smith, by=cast.admin, data={"status": Client.Status.DISCHARGED})
    assert smith not in client_search(user=cast.admin, query="Smith").clients
    assert smith in client_search(user=cast.admin, query="Smith", include_inactive=True).clients
    client_update(client=smith, by=cast.admin, data={"status": Client.Status.ACTIVE})
    assert smith in client_search(user=cast.admin, query="Smtih").clients


def _keys_say_active(client: Client) -> set[bool]:
    return set(NameKey.objects.filter(client=client).values_list("client_is_active", flat=True))


@pytest.mark.django_db
def test_a_discharged_client_renamed_keeps_keys_that_say_so(cast: Cast, smith: Client) -> None:
    client_update(client=smith, by=cast.admin, data={"status": Client.Status.DISCHARGED})
    assert _keys_say_active(smith) == {False}
    client_update(client=smith, by=cast.admin, data={"legal_last_name": "Smythe"})
    assert _keys_say_active(smith) == {False}
    assert smith in client_search(user=cast.admin, query="Smythe", include_inactive=True).clients
    client_update(client=smith, by=cast.admin, data={"status": Client.Status.ACTIVE})
    assert _keys_say_active(smith) == {True}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["Smith", "Smtih"])
def test_namesakes_discharged_through_the_chart_do_not_crowd_out_an_active_client(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    searched = _searched_after_namesakes(cast, monkeypatch)
    for namesake in Client.objects.filter(legal_last_name="Smith").exclude(pk=searched.pk):
        client_update(client=namesake, by=cast.admin, data={"status": Client.Status.DISCHARGED})
    assert searched in client_search(user=cast.admin, query=query, limit=2).clients


@pytest.mark.django_db
def test_keys_that_still_say_active_never_show_a_discharged_client(
    cast: Cast, smith: Client
) -> None:
    Client.objects.filter(pk=smith.pk).update(status=Client.Status.DISCHARGED)  # keys say active
    assert smith not in client_search(user=cast.admin, query="Smith").clients


@pytest.mark.django_db
def test_the_migration_copies_each_clients_status_to_its_keys(cast: Cast, smith: Client) -> None:
    migration = importlib.import_module("casework.clients.migrations.0007_namekey_client_is_active")
    gone = ClientFactory(agency=cast.agency, legal_last_name="Gone")
    Client.objects.filter(pk=gone.pk).update(status=Client.Status.DECEASED)
    merged = ClientFactory(agency=cast.agency, legal_last_name="Merged")
    Client.objects.filter(pk=merged.pk).update(status=Client.Status.MERGED)
    NameKey.objects.update(client_is_active=True)
    migration.copy_client_status(apps, None)
    assert not NameKey.objects.filter(client=merged).exists()
    assert set(NameKey.objects.filter(client=smith).values_list("client_is_active", flat=True)) == {
        True
    }
    assert set(NameKey.objects.filter(client=gone).values_list("client_is_active", flat=True)) == {
        False
    }


@pytest.mark.django_db
def test_a_full_name_finds_the_person_among_more_namesakes_than_candidates(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Among many Smiths, those that also match "Jon" come first: a common surname must not
    # push the person typed out of the candidates (namesakes registered earlier come first
    # among equals).
    for first in ["Peter", "Paul", "Mary", "Ann", "Rosa", "Omar"] * 5:
        ClientFactory(agency=cast.agency, legal_first_name=first, legal_last_name="Smith")
    jonathan = ClientFactory(
        agency=cast.agency, legal_first_name="Jonathan", legal_last_name="Smith"
    )
    monkeypatch.setattr("casework.clients.selectors.CANDIDATE_LIMIT", 5)
    assert client_search(user=cast.admin, query="Jon Smtih").clients[:1] == [jonathan]


@pytest.mark.django_db
def test_names_spelt_as_typed_that_fill_the_page_come_before_any_misspelling(
    cast: Cast, smith: Client
) -> None:
    for _ in range(3):
        ClientFactory(agency=cast.agency, legal_first_name="Jonathan", legal_last_name="Smith")
    smyth = ClientFactory(agency=cast.agency, legal_first_name="Jonathan", legal_last_name="Smyth")
    with CaptureQueriesContext(connection) as queries:
        found = client_search(user=cast.admin, query="Jonathan Smith", limit=4).clients
    assert len(found) == 4 and smith in found and smyth not in found
    assert _key_reads(queries) == 1  # the misspellings' many more keys were never read
    # With room left on the page, the close spelling follows the exact ones.
    with CaptureQueriesContext(connection) as queries:
        assert smyth in client_search(user=cast.admin, query="Jonathan Smith", limit=6).clients
    assert _key_reads(queries) == 2


def _key_reads(queries: CaptureQueriesContext) -> int:
    return sum('FROM "clients_namekey"' in q["sql"] for q in queries.captured_queries)
