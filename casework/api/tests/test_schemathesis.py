"""Property-based fuzzing of every /api/v1/ operation against the schema the app itself serves.

Schemathesis loads /api/schema/ from the Django WSGI app, generates valid and invalid requests
from it and checks each answer: no server errors, documented status codes, bodies and headers
that match the schema. It runs as a case manager with a real personal token, on the test database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from casework.api.tests.conftest import make_token
from casework.testing.factories import ProgramFactory
from casework.testing.personas import Cast

MAX_EXAMPLES = 15
# Valid by the schema is not always valid for a chart: a birth date in the future or more than
# 120 years ago, an MBI of the wrong shape or a ProviderOne id already on another record are
# refused with a 400 that OpenAPI cannot describe. test_clients_api.py checks those messages.
EXCLUDED_CHECKS = [positive_data_acceptance]

# Loading the schema touches no database, so it can happen at collection time.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).include(
    path_regex=r"^/api/v1/"
)


@dataclass
class Fuzzing:
    token: str
    existing_ids: dict[
        str, int
    ]  # resource ("clients", "staff", "programs") -> a row the caller sees
    statuses: list[int]


@pytest.fixture
def test_transaction_kept_open() -> Iterator[None]:
    """Requests go straight to the WSGI app, not through Django's test client, so do what it does:
    stop the end of a request from closing the connection (and with it the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzing(cast: Cast, test_transaction_kept_open: None) -> Iterator[Fuzzing]:
    program = ProgramFactory(agency=cast.agency, name="Intensive case management")
    _, raw = make_token(cast.case_manager)
    state = Fuzzing(
        token=raw,
        existing_ids={
            "clients": cast.client.pk,
            "staff": cast.colleague.pk,
            "programs": program.pk,
        },
        statuses=[],
    )
    yield state
    # Guard against a run that only ever met 401s or 404s and so tested nothing behind them.
    assert any(200 <= code < 300 for code in state.statuses), state.statuses


def _aim_at_an_existing_row(case: schemathesis.Case, existing_ids: dict[str, int]) -> None:
    """Random ids almost never exist; send half the valid cases to a real row so writes reach the services."""
    params = case.path_parameters
    if not params or "id" not in params or case.meta is None:
        return
    if case.meta.generation.mode != schemathesis.GenerationMode.POSITIVE:
        return
    try:
        number = int(params["id"])
    except (TypeError, ValueError):
        return
    if number % 2 == 0:
        params["id"] = existing_ids[case.path.split("/")[3]]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # CI replays the same examples every run (a failure there is reproducible); locally they vary.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_api_answers_every_generated_request_as_documented(
    case: schemathesis.Case, fuzzing: Fuzzing
) -> None:
    _aim_at_an_existing_row(case, fuzzing.existing_ids)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzzing.token}"}, excluded_checks=EXCLUDED_CHECKS
    )
    fuzzing.statuses.append(response.status_code)
