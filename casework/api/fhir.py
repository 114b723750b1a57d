"""FHIR R4 resources built from our records, with the fhir.resources R4B models (so each one is
validated as it is built). Read-only: the views in views_fhir.py scope, audit and serve them.

Ids (FHIR ids allow letters, digits, "-" and "."):
- Questionnaire: the instrument key, "_" written as "-" (phq9, gad7 …).
- QuestionnaireResponse: the assessment's id.
- CarePlan: the id of the service plan version (each signed version is one CarePlan; a review
  `replaces` the version it reviews).
- Goal: the objective's key, a UUID that stays the same from plan version to plan version, so
  a Goal keeps its identity (and its progress) across reviews. The Goal shows the objective as
  worded in the latest signed version that has it.
- Patient references use the client's id (Patient/{client_id}).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.resource import Resource

from casework.assessments.instruments import Instrument, Result
from casework.assessments.models import Assessment
from casework.clients.models import Client
from casework.plans.models import ObjectiveProgress, PlanGoal, PlanObjective, ServicePlan

FHIR_JSON = "application/fhir+json"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
TOTAL_ITEM = "score.total"  # "." is never in an item key, so these cannot clash with one
BAND_ITEM = "score.band"

# Objective status -> Goal.lifecycleStatus. Objectives are only published from signed plans,
# which the client agreed to: one not started yet is "accepted" (not merely "proposed").
GOAL_LIFECYCLE = {
    PlanObjective.Status.NOT_STARTED: "accepted",
    PlanObjective.Status.PROGRESSING: "active",
    PlanObjective.Status.MET: "completed",
    PlanObjective.Status.DISCONTINUED: "cancelled",
}
# Objective status -> Goal.achievementStatus (code, display).
GOAL_ACHIEVEMENT_STATUS = {
    PlanObjective.Status.NOT_STARTED: ("in-progress", "In Progress"),
    PlanObjective.Status.PROGRESSING: ("improving", "Improving"),
    PlanObjective.Status.MET: ("achieved", "Achieved"),
    PlanObjective.Status.DISCONTINUED: ("not-achieved", "Not Achieved"),
}
# Objective status -> CarePlan.activity.detail.status of its interventions.
ACTIVITY_STATUS = {
    PlanObjective.Status.NOT_STARTED: "not-started",
    PlanObjective.Status.PROGRESSING: "in-progress",
    PlanObjective.Status.MET: "completed",
    PlanObjective.Status.DISCONTINUED: "cancelled",
}
CLIENT_GONE = (Client.Status.DISCHARGED, Client.Status.DECEASED)


def questionnaire_id(instrument_key: str) -> str:
    return instrument_key.replace("_", "-")


def instrument_key(questionnaire_id: str) -> str:
    return questionnaire_id.replace("-", "_")


def _patient(client_id: int) -> dict[str, str]:
    return {"reference": f"Patient/{client_id}"}


def _day(moment: datetime.datetime, tz: Any) -> str:
    return timezone.localtime(moment, tz).date().isoformat()


def _has_total(instrument: Instrument) -> bool:
    scored = [i for i in instrument.items if i["type"] == "choice" and i.get("scored", True)]
    return bool(instrument.raw.get("total", True)) and bool(scored)


def _has_bands(instrument: Instrument) -> bool:
    return bool(instrument.raw.get("bands") or instrument.raw.get("bands_by_sex"))


# --- Questionnaire -------------------------------------------------------------------------------


def questionnaire(instrument: Instrument, *, base: str) -> Questionnaire:
    """The instrument as a Questionnaire: one item per question (linkId = item key), choices
    with their score as ordinalValue, and read-only items for the computed total and band."""
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        entry: dict[str, Any] = {
            "linkId": item["key"],
            "text": item["text"],
            "type": "choice" if item["type"] == "choice" else "text",
            # An item asked of one sex only cannot be required of everyone.
            "required": bool(item.get("required", True)) and "sex" not in item,
        }
        if item.get("section"):
            entry["prefix"] = item["section"]
        if item["type"] == "choice":
            scored = item.get("scored", True)
            entry["answerOption"] = [
                {
                    "valueCoding": {"code": str(option["value"]), "display": option["label"]},
                    **(
                        {
                            "extension": [
                                {
                                    "url": ORDINAL_VALUE,
                                    "valueDecimal": instrument.item_score(item, option["value"]),
                                }
                            ]
                        }
                        if scored
                        else {}
                    ),
                }
                for option in instrument.options(item)
            ]
        items.append(entry)
    if _has_total(instrument):
        items.append(
            {"linkId": TOTAL_ITEM, "text": "Total score", "type": "integer", "readOnly": True}
        )
        if _has_bands(instrument):
            items.append({"linkId": BAND_ITEM, "text": "Band", "type": "string", "readOnly": True})
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.key),
        "url": questionnaire_url(instrument, base=base),
        "version": instrument.version,
        "name": instrument.key.upper(),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": instrument.raw["licence"],
        "item": items,
    }
    if instrument.raw.get("instructions"):
        data["description"] = instrument.raw["instructions"]
    return Questionnaire.model_validate(data)


def questionnaire_url(instrument: Instrument, *, base: str) -> str:
    return f"{base}/Questionnaire/{questionnaire_id(instrument.key)}"


# --- QuestionnaireResponse -------------------------------------------------------------------------


def questionnaire_response(
    assessment: Assessment, instrument: Instrument, *, base: str, result: Result | None
) -> QuestionnaireResponse:
    """An assessment as a QuestionnaireResponse: completed once signed, in-progress as a draft.

    `result` is the draft's score as computed now (None for a signed one: its score is stored).
    """
    answers = assessment.answers
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        value = answers.get(item["key"])
        if value is None or value == "":
            continue
        if item["type"] == "choice":
            label = next(
                (o["label"] for o in instrument.options(item) if o["value"] == value), str(value)
            )
            answer: dict[str, Any] = {"valueCoding": {"code": str(value), "display": label}}
        else:
            answer = {"valueString": str(value)}
        items.append({"linkId": item["key"], "text": item["text"], "answer": [answer]})
    signed = assessment.status == Assessment.Status.SIGNED
    total = assessment.total if signed else (result.total if result else None)
    band = assessment.band if signed else (result.band.label if result and result.band else "")
    if total is not None and _has_total(instrument):
        items.append(
            {"linkId": TOTAL_ITEM, "text": "Total score", "answer": [{"valueInteger": total}]}
        )
        if band and _has_bands(instrument):
            items.append({"linkId": BAND_ITEM, "text": "Band", "answer": [{"valueString": band}]})
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(assessment.pk),
        "meta": {"lastUpdated": assessment.updated_at.isoformat()},
        "questionnaire": f"{questionnaire_url(instrument, base=base)}|{assessment.instrument_version}",
        "status": "completed" if signed else "in-progress",
        "subject": _patient(assessment.client_id),
        "authored": (assessment.signed_at or assessment.updated_at).isoformat(),
        "author": {"display": assessment.author.full_name},
    }
    if items:
        data["item"] = items
    return QuestionnaireResponse.model_validate(data)


# --- CarePlan and Goal ------------------------------------------------------------------------


def care_plan_status(plan: ServicePlan, *, superseded: bool) -> str:
    """active: the client's current signed plan; revoked: replaced by a later signed version
    (FHIR: "terminated prior to reaching completion, though it may have been replaced by a new
    plan"); completed: the current plan of a client who was discharged (or died)."""
    if superseded:
        return "revoked"
    if plan.client.status in CLIENT_GONE:
        return "completed"
    return "active"


def objective_status(objective: PlanObjective, progress: Mapping[Any, ObjectiveProgress]) -> str:
    latest = progress.get(objective.key)
    return latest.status if latest else PlanObjective.Status.NOT_STARTED.value


def care_plan(
    plan: ServicePlan,
    *,
    base: str,
    progress: Mapping[Any, ObjectiveProgress],
    next_starts_on: datetime.date | None,
) -> CarePlan:
    """A signed plan version as a CarePlan (intent "plan"): its needs as what it addresses,
    one Goal reference per objective, one activity per intervention.

    `plan` comes with its needs, goals → objectives → interventions, client and signer;
    `next_starts_on` is when the signed version that replaced it starts (None if current).
    The period runs from the plan's start to that day, or for the current plan to its review
    date. Strengths, barriers and participation go in `note`; each activity's status follows
    its objective's status now.
    """
    objectives = [o for goal in plan.goals.all() for o in goal.objectives.all()]
    activities = []
    for objective in objectives:
        status = ACTIVITY_STATUS[PlanObjective.Status(objective_status(objective, progress))]
        for intervention in objective.interventions.all():
            detail: dict[str, Any] = {
                "status": status,
                "description": intervention.action,
                "scheduledString": intervention.frequency,
                "performer": [{"display": intervention.responsible}],
                "goal": [{"reference": f"Goal/{objective.key}"}],
            }
            if intervention.service_code:
                detail["code"] = {
                    "coding": [{"system": HCPCS, "code": intervention.service_code}],
                    "text": intervention.service_code,
                }
            activities.append({"detail": detail})
    period: dict[str, str] = {"start": plan.starts_on.isoformat()}
    end = next_starts_on or plan.review_due_on
    if end is not None:
        period["end"] = end.isoformat()
    notes = [
        f"{label}: {text}"
        for label, text in (
            ("Strengths", plan.strengths),
            ("Barriers", plan.barriers),
            ("How the client took part", plan.participation),
            ("Progress since the last version", plan.review_summary),
        )
        if text.strip()
    ]
    data: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": {"lastUpdated": plan.updated_at.isoformat()},
        "status": care_plan_status(plan, superseded=next_starts_on is not None),
        "intent": "plan",
        "title": f"Individual service plan, version {plan.number}",
        "subject": _patient(plan.client_id),
        "period": period,
        "created": plan.created_at.isoformat(),
    }
    if plan.signed_by is not None:
        data["author"] = {"display": plan.signed_by.full_name}
    if plan.previous_id is not None:
        data["replaces"] = [{"reference": f"CarePlan/{plan.previous_id}"}]
    addresses = [
        {"display": f"{need.get_area_display()}: {need.text}"} for need in plan.needs.all()
    ]
    if addresses:
        data["addresses"] = addresses
    if objectives:
        data["goal"] = [{"reference": f"Goal/{o.key}"} for o in objectives]
    if activities:
        data["activity"] = activities
    if notes:
        data["note"] = [{"text": text} for text in notes]
    return CarePlan.model_validate(data)


def goal(
    objective: PlanObjective,
    parent: PlanGoal,
    *,
    client_id: int,
    latest: ObjectiveProgress | None,
    tz: Any,
) -> Goal:
    """An objective as a Goal: what is to be achieved, its measure and target date, and where
    it stands (lifecycle and achievement status from the latest progress recorded)."""
    status = PlanObjective.Status(latest.status if latest else PlanObjective.Status.NOT_STARTED)
    code, display = GOAL_ACHIEVEMENT_STATUS[status]
    data: dict[str, Any] = {
        "resourceType": "Goal",
        "id": str(objective.key),
        "lifecycleStatus": GOAL_LIFECYCLE[status],
        "achievementStatus": {
            "coding": [{"system": GOAL_ACHIEVEMENT, "code": code, "display": display}],
            "text": status.label,
        },
        "description": {"text": objective.text},
        "subject": _patient(client_id),
        "target": [{"detailString": objective.measure, "dueDate": objective.target_on.isoformat()}],
        "note": [{"text": f"Goal: {parent.text}"}],
    }
    if latest is not None:
        data["statusDate"] = _day(latest.recorded_at, tz)
        if latest.comment:
            data["statusReason"] = latest.comment
    return Goal.model_validate(data)


# --- Bundle and OperationOutcome ----------------------------------------------------------------


def searchset(resources: Iterable[Resource], *, base: str, self_url: str) -> Bundle:
    """A search result: every match, each with its full URL."""
    entries = [
        {
            "fullUrl": f"{base}/{resource.get_resource_type()}/{resource.id}",
            "resource": resource,
            "search": {"mode": "match"},
        }
        for resource in resources
    ]
    data: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": self_url}],
    }
    if entries:
        data["entry"] = entries
    return Bundle.model_validate(data)


# HTTP status -> OperationOutcome.issue.code
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    429: "throttled",
}


def operation_outcome(status_code: int, message: str) -> OperationOutcome:
    return OperationOutcome.model_validate(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": ISSUE_CODES.get(status_code, "exception"),
                    "diagnostics": message,
                }
            ],
        }
    )
