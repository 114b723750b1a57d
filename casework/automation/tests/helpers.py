"""Rules and records for the automation tests, made through the services where one exists."""

from __future__ import annotations

import datetime
from typing import Any

from casework.assessments.instruments import instruments
from casework.assessments.models import Assessment
from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.automation.models import AutomationRule, ReminderPreference
from casework.automation.services import (
    RuleInput,
    automation_rule_create,
    reminder_preference_save,
)
from casework.billing.models import Authorization, Charge, ServiceCode
from casework.clients.models import Client, Phone
from casework.core.models import User
from casework.notes.models import Note
from casework.testing.factories import PayerFactory
from casework.testing.personas import Cast


def rule(cast: Cast, trigger: str, action: str = "create_task", **fields: Any) -> AutomationRule:
    fields.setdefault("name", f"{trigger} → {action}")
    if trigger in ("release_expiring", "plan_review_due"):
        fields.setdefault("days_before", 14)
    return automation_rule_create(
        agency=cast.agency,
        by=fields.pop("by", cast.admin),
        data=RuleInput(trigger=trigger, action=action, **fields),
    )


def phone(cast: Cast, number: str = "(206) 555-0142", **fields: Any) -> Phone:
    """A phone on the client's contact details, marked safe to text unless told otherwise."""
    fields.setdefault("safe_to_text", True)
    return Phone.objects.create(
        agency=cast.agency, client=fields.pop("client", cast.client), number=number, **fields
    )


def texts(cast: Cast, number: str = "(206) 555-0142") -> ReminderPreference:
    """The client asks for reminders by text, to a mobile number marked safe to text."""
    return reminder_preference_save(
        client=cast.client, by=cast.case_manager, channel="sms", phone=phone(cast, number)
    )


def signed_assessment(
    cast: Cast, *, item9: int = 0, client: Client | None = None, by: User | None = None
) -> Assessment:
    """A signed PHQ-9; item 9 above 0 raises its (urgent) flag."""
    author = by or cast.case_manager
    phq9 = instruments()["phq9"]
    assessment = assessment_start(
        client=client or cast.client,
        author=author,
        instrument_key="phq9",
        administered_on=cast.agency.today(),
        mode="in_person",
    )
    answers = {item["key"]: 0 for item in phq9.items if item["type"] == "choice"} | {"q9": item9}
    assessment, _ = assessment_save(
        assessment=assessment, by=author, answers=answers, expected_version=assessment.version
    )
    return assessment_sign(assessment=assessment, by=author)


def authorization_used(cast: Cast, *, units: int, used: int) -> Authorization:
    """An authorization in force for the cast's client with `used` of its `units` charged."""
    today = cast.agency.today()
    code = ServiceCode.objects.create(
        agency=cast.agency, code="T1016", description="Case management", unit_type="15min"
    )
    authorization = Authorization.objects.create(
        agency=cast.agency,
        client=cast.client,
        payer=PayerFactory(agency=cast.agency),
        number="PA-1",
        units=units,
        start_on=today - datetime.timedelta(days=30),
        end_on=today + datetime.timedelta(days=60),
    )
    authorization.service_codes.add(code)
    note = Note.objects.create(
        agency=cast.agency,
        client=cast.client,
        author=cast.case_manager,
        service_date=today,
        service_code=code,
    )
    Charge.objects.create(
        agency=cast.agency,
        note=note,
        client=cast.client,
        service_code=code,
        rendering_provider=cast.case_manager,
        payer=authorization.payer,
        authorization=authorization,
        service_date=today,
        minutes=used * 15,
        units=used,
        unit_rule="cms_8_minute",
        place_of_service="12",
        status=Charge.Status.READY,
    )
    return authorization
