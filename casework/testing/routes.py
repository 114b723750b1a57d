"""The application's routes and, for each URL parameter, a real row of the home agency.

Shared by the tests that walk every route (the outsider walk and the access matrix): a route with
a parameter `url_for` does not know fails the test, so whoever adds a route decides how it is
walked. The rows are made on first use and kept for the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from casework.clients.models import SafetyFlag
from casework.testing.personas import Cast

PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "session_status",
    "api_schema",
    "api_docs",
    "api_redoc",
    "api-root",
}
SKIPPED_PREFIXES = ("django-admin/", "static/")


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    params: tuple[str, ...]


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            params = tuple(entry.pattern.regex.groupindex)
            yield Route(entry.name or pattern, pattern, params)


def all_routes() -> list[Route]:
    return [
        r for r in _walk(get_resolver().url_patterns) if not r.pattern.startswith(SKIPPED_PREFIXES)
    ]


def _value_for(param: str, cast: Cast, route: Route, known: dict[str, Any] | None = None) -> str:
    if known is None:
        values = _values(cast, route)
    else:  # made once by route_values(); only an API route's pk depends on the route
        values = {**known, "pk": _api_pk(route, cast)} if param == "pk" else known
    if param not in values:
        pytest.fail(
            f"Route {route.name} ({route.pattern}) has a parameter {param!r} this walk does not know; add it."
        )
    return str(values[param])


def route_values(cast: Cast) -> dict[str, Any]:
    """Every parameter's value but an API route's pk, made once for a walk of many routes."""
    return _values(cast, None)


def _values(cast: Cast, route: Route | None) -> dict[str, Any]:
    flag = SafetyFlag.objects.get_or_create(
        agency=cast.agency,
        client=cast.client,
        kind="dog",
        defaults={"created_by": cast.case_manager},
    )[0]
    values: dict[str, Any] = {
        "client_id": cast.client.pk,
        "pk": _api_pk(route, cast) if route is not None else None,
        "user_id": cast.case_manager.pk,
        "flag_id": flag.pk,
        "section": "phone",
        "team_id": cast.team.pk,
        "program_id": _home_objects(cast)["program"],
        "credential_id": _home_objects(cast)["credential"],
        "token_id": _home_objects(cast)["token"],
        "member_id": _home_objects(cast)["member"],
        "grant_id": _home_objects(cast)["grant"],
        "note_id": _billing_objects(cast)["note"],
        "charge_id": _billing_objects(cast)["charge"],
        "batch_id": _billing_objects(cast)["batch"],
        "phrase_id": _billing_objects(cast)["phrase"],
        "session_id": _billing_objects(cast)["session"],
        "payer_id": _billing_objects(cast)["payer"],
        "code_id": _billing_objects(cast)["code"],
        "authorization_id": _billing_objects(cast)["authorization"],
        "assessment_id": _assessment(cast),
        "plan_id": _plan(cast).pk,
        "kind": "goal",
        "item_id": _plan(cast).goals.get().pk,
        "key": _plan(cast).objectives.get().key,
        "instrument": "phq9",
        "notice_id": _assessment_objects(cast, flag)["notice"],
        "rule_id": _assessment_objects(cast, flag)["rule"],
        "warning_id": _warning(cast),
        "task_id": _api_task(cast),
        "snooze_id": _snooze(cast),
        "appointment_id": _schedule_objects(cast)["appointment"],
        "resource_id": _schedule_objects(cast)["resource"],
        "holiday_id": _schedule_objects(cast)["holiday"],
        "organization_id": _coordination_objects(cast)["organization"],
        "person_id": _coordination_objects(cast)["person"],
        "consent_id": _coordination_objects(cast)["consent"],
        "document_id": _coordination_objects(cast)["document"],
        "referral_id": _coordination_objects(cast)["referral"],
        "prior_auth_id": _coordination_objects(cast)["prior_auth"],
        "communication_id": _coordination_objects(cast)["communication"],
        "letter_id": _coordination_objects(cast)["letter"],
        "template_id": _coordination_objects(cast)["template"],
        "coverage_id": _coordination_objects(cast)["coverage"],
        "handoff_id": _coordination_objects(cast)["handoff"],
        "instance_id": _process_objects(cast)["instance"],
        "step_id": _process_objects(cast)["step"],
        "definition_id": _process_objects(cast)["definition"],
        "automation_rule_id": _automation_objects(cast)["rule"],
        "format": "json",
        "uidb64": "MQ",
        "token": "set-password",
    }
    return values


def _home_objects(cast: Cast) -> dict[str, int]:
    """Real rows of the home agency, so that a refusal means refusal and not "no such row"."""
    import datetime

    from casework.api.authentication import token_generate
    from casework.core.models import ApiToken, Credential, Program

    program = Program.objects.get_or_create(agency=cast.agency, name="Walk program")[0]
    credential = Credential.objects.get_or_create(
        agency=cast.agency, user=cast.case_manager, kind="aac_registered", number="CO60000001"
    )[0]
    token = ApiToken.objects.filter(user=cast.case_manager).first()
    if token is None:
        _, prefix, digest = token_generate()
        token = ApiToken.objects.create(
            agency=cast.agency,
            user=cast.case_manager,
            name="walk",
            prefix=prefix,
            digest=digest,
            expires_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC),
        )
    from casework.clients.models import CareTeamMember

    peer = CareTeamMember.objects.get_or_create(
        agency=cast.agency,
        client=cast.client,
        staff=cast.colleague,
        role="peer",
        defaults={"start_on": cast.agency.today()},
    )[0]
    return {
        "program": program.pk,
        "credential": credential.pk,
        "token": token.pk,
        "member": peer.pk,
        "grant": _emergency_opening(cast),
    }


def _api_pk(route: Route, cast: Cast) -> int | str:
    """The row an API detail route names: a real one of the home agency."""
    pattern = route.pattern.replace("^", "")  # router routes read "api/v1/^notes/(?P<pk>…"
    for prefix, key in (("notes", "note"), ("charges", "charge"), ("claim-batches", "batch")):
        if f"v1/{prefix}/" in pattern:
            return _billing_objects(cast)[key]
    if "v1/instruments/" in pattern:
        return "phq9"
    if "v1/programs/" in pattern:
        return _home_objects(cast)["program"]
    if "v1/assessments/" in pattern or "fhir/r4/QuestionnaireResponse/" in pattern:
        return _assessment(cast)
    if "v1/plans/" in pattern or "fhir/r4/CarePlan/" in pattern:
        return _plan(cast).pk
    if "fhir/r4/Goal/" in pattern:
        return str(_plan(cast).objectives.get().key)
    if "v1/appointments/" in pattern or "fhir/r4/Appointment/" in pattern:
        return _schedule_objects(cast)["appointment"]
    if "v1/tasks/" in pattern:
        return _api_task(cast)
    for prefix, key in (
        ("v1/organizations/", "organization"),
        ("fhir/r4/Organization/", "organization"),
        ("v1/consents/", "consent"),
        ("fhir/r4/Consent/", "consent"),
        ("v1/referrals/", "referral"),
        ("fhir/r4/ServiceRequest/", "referral"),
        ("v1/communications/", "communication"),
        ("fhir/r4/Communication/", "communication"),
        ("v1/documents/", "document"),
    ):
        if prefix in pattern:
            return _coordination_objects(cast)[key]
    return cast.client.pk if "client" in route.pattern else cast.case_manager.pk


def _snooze(cast: Cast) -> int:
    """The case manager's snooze of a derived My day item (made once)."""
    import datetime

    from casework.worklist.models import Snooze

    return Snooze.objects.get_or_create(
        agency=cast.agency,
        user=cast.case_manager,
        item_key="contact:walk",
        defaults={"until": cast.agency.today() + datetime.timedelta(days=5)},
    )[0].pk


def _api_task(cast: Cast) -> int:
    """A task of the case manager about the client (made once)."""
    from casework.worklist.models import Task
    from casework.worklist.services import task_create

    existing = Task.objects.filter(assignee=cast.case_manager, title="Walk task").first()
    return (
        existing
        or task_create(
            assignee=cast.case_manager, title="Walk task", by=cast.case_manager, client=cast.client
        )
    ).pk


def _billing_objects(cast: Cast) -> dict[str, int]:
    """A signed note with its charge in a claim batch, and the set-up rows behind it (made once)."""
    cached: dict[str, int] | None = getattr(cast, "_walk_billing", None)
    if cached is not None:
        return cached
    import datetime

    from casework.billing.models import Authorization
    from casework.billing.services.claims import BatchRequest, claim_batch_create
    from casework.notes.models import GroupSession, QuickPhrase
    from casework.notes.services import note_sign
    from casework.testing.billing import billable_world, draft_note

    world = billable_world(cast)
    day = cast.agency.today() - datetime.timedelta(days=1)
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=day)
    charge = note_sign(note=note, by=cast.case_manager, attest=True).charge
    assert charge is not None and charge.status == "ready", charge and charge.hold_reasons
    batch = claim_batch_create(
        agency=cast.agency, by=cast.billing, request=BatchRequest(world.payer, day, day)
    )
    authorization = Authorization.objects.create(
        agency=cast.agency,
        client=cast.client,
        payer=world.payer,
        number="WALK-1",
        units=10,
        start_on=day,
        end_on=day,
    )
    cached = {
        "note": note.pk,
        "charge": charge.pk,
        "batch": batch.pk,
        "phrase": QuickPhrase.objects.create(
            agency=cast.agency, owner=cast.case_manager, label="walk", text="walk"
        ).pk,
        "session": GroupSession.objects.create(
            agency=cast.agency, author=cast.case_manager, topic="walk"
        ).pk,
        "payer": world.payer.pk,
        "code": world.t1016.pk,
        "authorization": authorization.pk,
    }
    cast._walk_billing = cached  # type: ignore[attr-defined]
    return cached


def _plan(cast: Cast) -> Any:
    """A signed service plan of the home client (made once)."""
    from casework.plans.models import ServicePlan
    from casework.testing.plans import signed_plan

    existing = ServicePlan.objects.filter(client=cast.client).first()
    return existing or signed_plan(client=cast.client, by=cast.case_manager)


def _assessment(cast: Cast) -> int:
    """A signed PHQ-9 of the home client (made once)."""
    import datetime

    from casework.assessments.models import Assessment
    from casework.assessments.services import assessment_save, assessment_sign, assessment_start

    existing = Assessment.objects.filter(client=cast.client).first()
    if existing is not None:
        return existing.pk
    assessment = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=datetime.date(2026, 11, 2),
        mode="in_person",
    )
    assessment, _ = assessment_save(
        assessment=assessment,
        by=cast.case_manager,
        answers={f"q{n}": 1 for n in range(1, 9)} | {"q9": 0},
        expected_version=assessment.version,
    )
    return assessment_sign(assessment=assessment, by=cast.case_manager).pk


def _assessment_objects(cast: Cast, flag: SafetyFlag) -> dict[str, int]:
    """The case manager's notice of the chart's flag and an agency rule for the PHQ-9."""
    from casework.assessments.models import AssessmentRule
    from casework.clients.models import FlagNotice

    notice = FlagNotice.objects.get_or_create(
        agency=cast.agency,
        flag=flag,
        recipient=cast.case_manager,
        defaults={"raised_by": cast.case_manager, "reason": "walk"},
    )[0]
    rule = AssessmentRule.objects.get_or_create(
        agency=cast.agency, instrument="phq9", program=None, defaults={"repeat_every_days": 30}
    )[0]
    return {"notice": notice.pk, "rule": rule.pk}


def _warning(cast: Cast) -> int:
    """An open early warning about the client (its evidence names no secret the walk checks)."""
    from casework.worklist.models import ClientWarning

    return ClientWarning.objects.get_or_create(
        agency=cast.agency,
        client=cast.client,
        kind="no_contact",
        evidence_key="contact:walk",
        defaults={"evidence": "No contact for 40 days"},
    )[0].pk


def _schedule_objects(cast: Cast) -> dict[str, int]:
    """The case manager's appointment with the client, using a pool car; a holiday (made once)."""
    import datetime

    from casework.schedule.models import Appointment, AppointmentClient, Holiday, Resource

    car = Resource.objects.get_or_create(agency=cast.agency, kind="vehicle", name="Walk car")[0]
    holiday = Holiday.objects.get_or_create(
        agency=cast.agency, day=datetime.date(2027, 1, 1), defaults={"name": "Walk day"}
    )[0]
    appointment = Appointment.objects.filter(agency=cast.agency, resource=car).first()
    if appointment is None:
        start = datetime.datetime(2027, 1, 4, 18, 0, tzinfo=datetime.UTC)
        appointment = Appointment.objects.create(
            agency=cast.agency,
            kind="home_visit",
            staff=cast.case_manager,
            start_at=start,
            end_at=start + datetime.timedelta(hours=1),
            place_type="client_home",
            place="12 Walk Street",
            resource=car,
            created_by=cast.case_manager,
        )
        AppointmentClient.objects.create(
            agency=cast.agency, appointment=appointment, client=cast.client
        )
    return {"appointment": appointment.pk, "resource": car.pk, "holiday": holiday.pk}


def _coordination_objects(cast: Cast) -> dict[str, int]:
    """A directory entry, and the client's release, document, referral, prior-auth request,
    communication and letter; a coverage and a hand-off of the case manager (made once)."""
    import datetime

    from django.utils import timezone

    from casework.coordination.models import (
        Communication,
        Coverage,
        Handoff,
        HandoffClient,
        Letter,
        LetterTemplate,
        Organization,
        Person,
        PriorAuthRequest,
        Referral,
    )
    from casework.testing.coordination import document, release

    clinic = Organization.objects.filter(agency=cast.agency, name="Walk clinic").first()
    if clinic is None:
        clinic = Organization.objects.create(agency=cast.agency, name="Walk clinic")
        person = Person.objects.create(agency=cast.agency, name="Walk doctor", role="physician")
        release(client=cast.client, by=cast.case_manager, organization=clinic)
        document(client=cast.client, by=cast.case_manager)
        Referral.objects.create(
            agency=cast.agency,
            client=cast.client,
            organization=clinic,
            reason="Walk",
            created_by=cast.case_manager,
        )
        today = cast.agency.today()
        PriorAuthRequest.objects.create(
            agency=cast.agency,
            client=cast.client,
            payer_id=_billing_objects(cast)["payer"],
            service_code_id=_billing_objects(cast)["code"],
            units_requested=10,
            start_on=today,
            end_on=today,
            created_by=cast.case_manager,
        )
        communication = Communication.objects.create(
            agency=cast.agency,
            client=cast.client,
            organization=clinic,
            occurred_at=timezone.now(),
            channel="call",
            with_role="physician",
            summary="Walk",
            staff=cast.case_manager,
        )
        template = LetterTemplate.objects.create(agency=cast.agency, name="Walk", body="Walk")
        Letter.objects.create(
            agency=cast.agency,
            client=cast.client,
            template=template,
            organization=clinic,
            subject="Walk",
            body="Walk",
            written_by=cast.case_manager,
            communication=communication,
        )
        now = timezone.now()
        Coverage.objects.create(
            agency=cast.agency,
            absent=cast.case_manager,
            covering=cast.colleague,
            starts_at=now + datetime.timedelta(days=1),
            ends_at=now + datetime.timedelta(days=2),
            created_by=cast.case_manager,
        )
        handoff = Handoff.objects.create(
            agency=cast.agency,
            from_staff=cast.case_manager,
            to_staff=cast.colleague,
            effective_on=today,
            created_by=cast.case_manager,
        )
        HandoffClient.objects.create(agency=cast.agency, handoff=handoff, client=cast.client)
        assert person.pk
    return {
        "organization": clinic.pk,
        "person": Person.objects.get(agency=cast.agency, name="Walk doctor").pk,
        "consent": _only(cast, "consents"),
        "document": _only(cast, "documents"),
        "referral": _only(cast, "referrals"),
        "prior_auth": _only(cast, "prior_auths"),
        "communication": _only(cast, "communications"),
        "letter": _only(cast, "letters"),
        "template": LetterTemplate.objects.get(agency=cast.agency, name="Walk").pk,
        "coverage": Coverage.objects.get(agency=cast.agency, absent=cast.case_manager).pk,
        "handoff": Handoff.objects.get(agency=cast.agency, from_staff=cast.case_manager).pk,
    }


def _process_objects(cast: Cast) -> dict[str, int]:
    """The standard processes, and an involuntary-treatment referral running for the client
    with its first step open (made once)."""
    from casework.processes import services
    from casework.processes.models import ProcessInstance

    instance = ProcessInstance.objects.filter(client=cast.client).first()
    if instance is None:
        services.standard_definitions_install(by=cast.admin)
        instance = services.process_start(
            client=cast.client, key="involuntary_treatment_referral", by=cast.case_manager
        )
    return {
        "instance": instance.pk,
        "step": instance.steps.get().pk,
        "definition": instance.definition_id,
    }


def _automation_objects(cast: Cast) -> dict[str, int]:
    """An automation rule of the agency, and the client's reminder preference (made once)."""
    from casework.automation.models import AutomationRule, ReminderPreference

    rule = AutomationRule.objects.get_or_create(
        agency=cast.agency,
        name="Walk no-show follow-up",
        defaults={"trigger": "no_show", "action": "create_task", "created_by": cast.admin},
    )[0]
    ReminderPreference.objects.get_or_create(
        agency=cast.agency,
        client=cast.client,
        defaults={
            "channel": "email",
            "email": "maria@example.org",
            "updated_by": cast.case_manager,
        },
    )
    return {"rule": rule.pk}


def _only(cast: Cast, related: str) -> int:
    """The id of the client's one row of this kind (made by _coordination_objects)."""
    return int(getattr(cast.client, related).values_list("pk", flat=True).get())


def _emergency_opening(cast: Cast) -> int:
    from casework.clients.models import BreakGlassAccess

    return BreakGlassAccess.objects.get_or_create(
        agency=cast.agency,
        client=cast.client,
        user=cast.colleague,
        reason="walk",
        defaults={"granted_at": cast.client.created_at, "expires_at": cast.client.created_at},
    )[0].pk


def url_for(route: Route, cast: Cast, known: dict[str, Any] | None = None) -> str:
    """The route's URL naming real rows of the home agency (`known`: from route_values())."""
    path = route.pattern
    for param in route.params:
        value = _value_for(param, cast, route, known)
        path = re.sub(rf"\(\?P<{param}>[^)]*\)|<(?:\w+:)?{param}>", value, path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("\\Z", "")
    return "/" + path.lstrip("/")
