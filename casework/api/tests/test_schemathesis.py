"""Property-based fuzzing of every /api/v1/ operation against the schema the app itself serves.

Schemathesis loads /api/schema/ from the Django WSGI app, generates valid and invalid requests
from it and checks each answer: no server errors, documented status codes, bodies and headers
that match the schema. It runs with real personal tokens on the test database: as a case manager,
and as billing staff for the billing resources (charges, claim batches), which a case manager
may not use.

Two runs: each operation on its own (ids aimed at real rows by hand, `_aim_at_an_existing_row`),
and a stateful run that chains operations along the links schemathesis infers from the schema
(a list's `results[].id` or a new note's `id` into `/notes/{id}/…`, a note's `client_id` into
`/clients/{id}/`, a charge's `note_id` into `/notes/{id}/`…), so that reads and writes reach the
rows earlier answers named, in the order a client program would use them.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from casework.api.tests.conftest import make_token
from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.billing.services.claims import BatchRequest, claim_batch_create
from casework.coordination.models import Communication, Person, Referral
from casework.notes.services import Signed, note_sign
from casework.plans.services import plan_review_start
from casework.schedule.models import Appointment, AppointmentClient
from casework.testing.billing import Billable, billable_world, draft_note
from casework.testing.coordination import OrganizationFactory, document, release
from casework.testing.factories import ProgramFactory
from casework.testing.personas import Cast
from casework.testing.plans import signed_plan
from casework.worklist.services import task_create

MAX_EXAMPLES = 15
# Valid by the schema is not always valid for a chart: a birth date in the future or more than
# 120 years ago, an MBI of the wrong shape or a ProviderOne id already on another record are
# refused with a 400 that OpenAPI cannot describe. test_clients_api.py checks those messages.
EXCLUDED_CHECKS = [positive_data_acceptance]
# Resources only billing staff and admins may use; the others are fuzzed as a case manager.
BILLING_RESOURCES = {"charges", "claim-batches"}

# The stateful run: scenarios of at most STATEFUL_STEPS chained calls, about 15 s per database.
STATEFUL_SCENARIOS = 50
STATEFUL_STEPS = 8
# No server error; the status, content type and body each as the schema documents; and the
# stateful checks: a row just made can be read, a row just deleted cannot.
STATEFUL_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ensure_resource_availability,
    use_after_free,
]

# Loading the schema touches no database, so it can happen at collection time.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).include(
    path_regex=r"^/api/v1/"
)
APIWorkflow = schema.as_state_machine()


@dataclass
class Fuzzing:
    token: str
    billing_token: str
    # "resource" or "resource/action" ("notes", "notes/void" …) -> a row the caller sees
    existing_ids: dict[str, int | str]
    # body field ("client_id", "payer" …) -> a row it may name
    existing_refs: dict[str, int]
    # "action/field" ("parts/goal_id" …) -> a part of the plan the action is aimed at
    plan_refs: dict[str, int]
    ready_day: datetime.date  # the service date of a ready charge, for a new claim batch
    booking_start: datetime.datetime  # a free hour of the case manager, for a new appointment
    statuses: list[int]

    def token_for(self, case: schemathesis.Case) -> str:
        return self.billing_token if _resource(case) in BILLING_RESOURCES else self.token


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


def _appointment(cast: Cast, day: datetime.date) -> Appointment:
    start = datetime.datetime.combine(day, datetime.time(10), tzinfo=cast.agency.tzinfo)
    visit = Appointment.objects.create(
        agency=cast.agency,
        kind="home_visit",
        staff=cast.case_manager,
        start_at=start,
        end_at=start + datetime.timedelta(hours=1),
        place_type="client_home",
        created_by=cast.case_manager,
    )
    AppointmentClient.objects.create(agency=cast.agency, appointment=visit, client=cast.client)
    return visit


def _working_day_from(day: datetime.date) -> datetime.date:
    """The day, or the Monday after it if it falls on a weekend: an appointment on a day the
    case manager does not work asks to be confirmed (409), so a booking there never succeeds."""
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def _signed_note(cast: Cast, world: Billable, day: datetime.date) -> Signed:
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=day)
    return note_sign(note=note, by=cast.case_manager, attest=True, late_reason="Fuzzing.")


@pytest.fixture
def fuzzing(cast: Cast, test_transaction_kept_open: None) -> Iterator[Fuzzing]:
    program = ProgramFactory(agency=cast.agency, name="Intensive case management")
    _, raw = make_token(cast.case_manager)
    _, billing_raw = make_token(cast.billing)
    # Notes on different days, so that their minutes never overlap.
    world = billable_world(cast)
    today = cast.agency.today()
    billed = _signed_note(cast, world, today - datetime.timedelta(days=9))
    batch = claim_batch_create(
        agency=cast.agency,
        by=cast.billing,
        request=BatchRequest(
            payer=world.payer, service_from=billed.note.service_date, service_to=today
        ),
    )
    ready = _signed_note(cast, world, today - datetime.timedelta(days=8))
    # Yesterday's draft may be signed without a late-entry reason.
    draft = draft_note(
        author=cast.case_manager,
        client=cast.client,
        code=world.t1016,
        day=today - datetime.timedelta(days=1),
    )
    assert billed.charge is not None and ready.charge is not None
    # An assessment being given and one signed; a signed plan and the draft of its review.
    assessment = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=today,
        mode="in_person",
    )
    answered = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="gad7",
        administered_on=today,
        mode="phone",
    )
    answered, _ = assessment_save(
        assessment=answered,
        by=cast.case_manager,
        answers={f"q{n}": 1 for n in range(1, 8)},
        expected_version=answered.version,
    )
    signed_assessment = assessment_sign(assessment=answered, by=cast.case_manager)
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    review = plan_review_start(plan=plan, by=cast.case_manager, starts_on=today)
    # An appointment of the case manager with the client (yesterday, so an outcome may be
    # recorded), and a task.
    visit = _appointment(cast, today - datetime.timedelta(days=1))
    task = task_create(assignee=cast.case_manager, title="Fuzzing", by=cast.case_manager)
    clinic = OrganizationFactory(agency=cast.agency)
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    referral = Referral.objects.create(
        agency=cast.agency,
        client=cast.client,
        organization=clinic,
        reason="Fuzzing",
        created_by=cast.case_manager,
    )
    call = Communication.objects.create(
        agency=cast.agency,
        client=cast.client,
        organization=clinic,
        occurred_at=datetime.datetime.now(datetime.UTC),
        channel=Communication.Channel.CALL,
        with_role=Person.Role.OTHER,
        summary="Fuzzing",
        staff=cast.case_manager,
    )
    doc = document(client=cast.client, by=cast.case_manager)
    state = Fuzzing(
        token=raw,
        billing_token=billing_raw,
        existing_ids={
            "clients": cast.client.pk,
            "staff": cast.colleague.pk,
            "programs": program.pk,
            "notes": draft.pk,
            "notes/void": ready.note.pk,
            "notes/addenda": ready.note.pk,
            "notes/cosign": ready.note.pk,
            "charges": ready.charge.pk,
            "charges/corrections": billed.charge.pk,
            "claim-batches": batch.pk,
            "instruments": "phq9",
            "assessments": assessment.pk,
            "assessments/addenda": signed_assessment.pk,
            "plans": review.pk,
            "plans/review": plan.pk,
            "plans/signatures": plan.pk,
            "plans/objective-progress": plan.pk,
            "appointments": visit.pk,
            "tasks": task.pk,
            "organizations": clinic.pk,
            "consents": consent.pk,
            "referrals": referral.pk,
            "communications": call.pk,
            "documents": doc.pk,
        },
        existing_refs={
            "client_id": cast.client.pk,
            "service_code_id": world.t1016.pk,
            "payer": world.payer.pk,
        },
        plan_refs={
            "parts/need_id": review.needs.get().pk,
            "parts/goal_id": review.goals.get().pk,
            "parts/objective_id": review.objectives.get().pk,
            "objective-progress/objective_id": plan.objectives.get().pk,
        },
        ready_day=ready.note.service_date,
        booking_start=datetime.datetime.combine(
            _working_day_from(today + datetime.timedelta(days=2)),
            datetime.time(10),
            tzinfo=cast.agency.tzinfo,
        ),
        statuses=[],
    )
    yield state
    # Guard against a run that only ever met 401s or 404s and so tested nothing behind them.
    assert any(200 <= code < 300 for code in state.statuses), state.statuses


def _resource(case: schemathesis.Case) -> str:
    """ "/api/v1/notes/{id}/sign/" -> "notes"."""
    return case.path.split("/")[3]


def _target(case: schemathesis.Case, existing_ids: dict[str, int | str]) -> int | str:
    """The row for this operation: "/api/v1/notes/{id}/void/" wants a signed note, not a draft."""
    parts = case.path.strip("/").split("/")  # api, v1, notes, {id}, void
    action = f"{parts[2]}/{parts[4]}" if len(parts) > 4 else ""
    return existing_ids.get(action, existing_ids[parts[2]])


def _is_even(value: object) -> bool:
    """Half of the generated values, chosen by the value itself (reproducible under derandomize)."""
    if isinstance(value, int):
        return value % 2 == 0
    return sum(map(ord, str(value))) % 2 == 0


def _aim_at_an_existing_row(
    case: schemathesis.Case, fuzzing: Fuzzing, chosen: Callable[[object], bool] = _is_even
) -> None:
    """Random ids almost never exist; send the `chosen` valid cases (half, by default) to real
    rows so writes reach the services: the row in the path, and the rows a new note or claim
    batch names in its body."""
    if case.meta is None or case.meta.generation.mode != schemathesis.GenerationMode.POSITIVE:
        return
    params = case.path_parameters
    if params and "id" in params and chosen(params["id"]):
        params["id"] = _target(case, fuzzing.existing_ids)
    body = case.body
    if case.method == "POST" and isinstance(body, dict) and _resource(case) == "plans":
        # A part hangs under a need, goal or objective of the same version: name real ones.
        action = case.path.strip("/").split("/")[-1]
        for name in ("need_id", "goal_id", "objective_id"):
            if f"{action}/{name}" in fuzzing.plan_refs and chosen(body.get(name)):
                body[name] = fuzzing.plan_refs[f"{action}/{name}"]
    if case.method != "POST" or not isinstance(body, dict) or case.path_parameters:
        return
    if _resource(case) in ("assessments", "plans") and chosen(body.get("client_id")):
        body["client_id"] = fuzzing.existing_refs["client_id"]
    if _resource(case) == "notes" and chosen(body.get("client_id")):
        body["client_id"] = fuzzing.existing_refs["client_id"]
        if body.get("service_code_id") is not None:
            body["service_code_id"] = fuzzing.existing_refs["service_code_id"]
        # Left to chance, these almost never agree with each other (end after start, the
        # template's own section keys, one decimal of mileage); test_notes_api.py tries them.
        for name in ("end_at", "sections", "mileage"):
            body.pop(name, None)
    if _resource(case) == "communications" and chosen(body.get("client_id")):
        # A client the caller sees, an hour ago, with someone named; left to chance these
        # almost never agree (a time with its offset in the past, a name with its role).
        body["client_id"] = fuzzing.existing_refs["client_id"]
        body["occurred_at"] = (
            datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
        ).isoformat()
        body["with_name"], body["with_role"] = "Fuzzing Person", "other"
        for name in ("organization_id", "person_id"):
            body.pop(name, None)
        if not str(body.get("summary", "")).strip():
            body["summary"] = "Fuzzing"
    if _resource(case) == "claim-batches" and chosen(body.get("payer")):
        body["payer"] = fuzzing.existing_refs["payer"]
        body["service_from"] = body["service_to"] = fuzzing.ready_day.isoformat()
    if _resource(case) == "appointments" and chosen(body.get("kind")):
        # One client the caller sees, an hour inside the booking window; left to chance, the
        # rest almost never agree (the client's appointment inside the block, the legs' rules).
        body["client_ids"] = [fuzzing.existing_refs["client_id"]]
        body["start_at"] = fuzzing.booking_start.isoformat()
        body["end_at"] = (fuzzing.booking_start + datetime.timedelta(hours=1)).isoformat()
        for name in (
            "staff_id",
            "resource_id",
            "external_start_at",
            "external_end_at",
            "rule",
            "legs",
            "scope",  # for a change of a series, refused on a new appointment
        ):
            body.pop(name, None)
        if case.headers:  # a generated idempotency key is seldom one the API accepts
            case.headers.pop("Idempotency-Key", None)


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
    _aim_at_an_existing_row(case, fuzzing)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzzing.token_for(case)}"},
        excluded_checks=EXCLUDED_CHECKS,
    )
    fuzzing.statuses.append(response.status_code)


def test_api_answers_as_documented_along_the_links_between_operations(fuzzing: Fuzzing) -> None:
    """Chains of calls along the inferred links: lists and creations first (the fixture's rows
    are what the lists return), then what they name, read, changed, signed or deleted."""

    class Workflow(APIWorkflow):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            # Every scenario starts from the fixture's rows: what one scenario wrote is rolled
            # back before the next, so a scenario replays the same (Hypothesis shrinks and
            # replays them, and refuses data that depends on what an earlier one left behind).
            self.savepoint = transaction.savepoint()
            cache.clear()  # throttle counts

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def step(self, input: StepInput) -> StepOutput:
            if input.transition is None:
                # A scenario's first call has no earlier answer to take ids from: aim it at the
                # fixture's rows, as the other run does, so that what follows has data to use.
                _aim_at_an_existing_row(input.case, fuzzing, chosen=lambda _: True)
            return super().step(input)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": {"Authorization": f"Bearer {fuzzing.token_for(case)}"}}

        def validate_response(
            self,
            response: schemathesis.Response,
            case: schemathesis.Case,
            additional_checks: object = None,
            **kwargs: object,
        ) -> None:
            fuzzing.statuses.append(response.status_code)
            case.validate_response(
                response,
                checks=STATEFUL_CHECKS,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            phases=[Phase.generate],
            deadline=None,
            derandomize=bool(os.environ.get("CI")),
            suppress_health_check=list(HealthCheck),
        )
    )
