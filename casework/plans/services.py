"""Every write to service plans: start, edit the draft, sign, sign again, review, progress.

A draft may be edited by anyone who writes notes for the client (plans are written together).
Every change raises `revision`; signing refuses a plan that changed since the signer read it,
and the plan's own fields refuse a save only when those fields changed meanwhile, so a colleague
adding a goal never costs anyone their typing. Signing locks the plan; a review copies it into
the next version with the same keys, so progress and the changes between versions can be seen.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.assessments.models import Assessment
from casework.billing.models import ServiceCode
from casework.clients.models import Client, TimelineEvent
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import Role, User
from casework.plans import needs
from casework.plans.models import (
    LONG_TEXT_LIMIT,
    TEXT_LIMIT,
    ObjectiveProgress,
    PlanGoal,
    PlanIntervention,
    PlanNeed,
    PlanObjective,
    PlanSignature,
    ServicePlan,
)

# A target further away than this is not a measurable step; it belongs to a later plan.
LONGEST_TARGET = datetime.timedelta(days=730)
PLAN_TEXT_FIELDS = ("strengths", "barriers", "participation", "review_summary")


class PlanError(Exception):
    """A plan change that cannot be made; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_writer(by: User, client: Client) -> None:
    if not access.may_write_notes(by) or client.agency_id != by.agency_id:
        raise PlanError("Your role does not write service plans for this client.")
    if client.status == Client.Status.MERGED:
        raise PlanError("This record was merged into another; write the plan on that record.")


def _text(value: Any, field: str, what: str, limit: int = TEXT_LIMIT, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise PlanError(f"Write the {what}.", field=field)
    if len(text) > limit:
        raise PlanError(f"The {what} is {len(text):,} characters; at most {limit:,}.", field=field)
    return text


def _draft_for_change(plan: ServicePlan, by: User, expected_revision: int | None) -> ServicePlan:
    """Lock the plan row; refuse a signed plan and a save from a page that is out of date."""
    _check_writer(by, plan.client)
    locked = ServicePlan.objects.select_for_update().select_related("client").get(pk=plan.pk)
    if locked.is_signed:
        raise PlanError("This plan is signed and cannot change; start a review instead.")
    if expected_revision is not None and locked.revision != expected_revision:
        raise PlanError(
            "This plan changed since you opened it (someone added or edited a part); "
            "read it again before signing."
        )
    locked.revision += 1
    locked.save(update_fields=["revision", "updated_at"])
    return locked


def _date_text(day: datetime.date) -> str:
    return f"{day:%m/%d/%Y}"


# A plan is written around the time it starts: backdated a little, or planned a little ahead.
EARLIEST_START = datetime.timedelta(days=365)
LATEST_START = datetime.timedelta(days=90)


def _check_start_window(client: Client, starts_on: datetime.date) -> None:
    today = client.agency.today()
    if not today - EARLIEST_START <= starts_on <= today + LATEST_START:
        raise PlanError(
            f"A plan starts at most a year before today and 90 days after; "
            f"{_date_text(starts_on)} is outside that. Check the year.",
            field="starts_on",
        )


# ---- Starting a plan, and a review ---------------------------------------------------------


def plan_start(*, client: Client, by: User, starts_on: datetime.date) -> ServicePlan:
    """A client's first plan, as a draft with the needs and strengths the assessment suggests."""
    _check_writer(by, client)
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        draft = ServicePlan.objects.filter(client=client, status=ServicePlan.Status.DRAFT).first()
        if draft is not None:
            return draft
        if ServicePlan.objects.filter(client=client).exists():
            raise PlanError("This client already has a signed plan; start a review of it instead.")
        _check_start_window(client, starts_on)
        assessment = _latest_needs_assessment(client)
        plan = ServicePlan.objects.create(
            agency_id=client.agency_id,
            client=client,
            number=1,
            starts_on=starts_on,
            author=by,
            strengths=needs.strengths_from(assessment) if assessment else "",
        )
        if assessment is not None:
            PlanNeed.objects.bulk_create(
                PlanNeed(
                    agency_id=client.agency_id,
                    plan=plan,
                    position=position,
                    area=need.area,
                    text=need.text,
                    source_assessment=need.assessment,
                )
                for position, need in enumerate(needs.needs_from(assessment), start=1)
            )
        audit_record(actor=by, action=Action.CREATE, obj=plan, client_id=client.pk)
    return plan


def _latest_needs_assessment(client: Client) -> Assessment | None:
    return (
        Assessment.objects.filter(
            client=client,
            status=Assessment.Status.SIGNED,
            instrument__in=needs.instruments_with_needs(),
        )
        .order_by("-administered_on", "-id")
        .first()
    )


def plan_review_start(*, plan: ServicePlan, by: User, starts_on: datetime.date) -> ServicePlan:
    """The next version of a signed plan as a draft: the same content, keys and order."""
    _check_writer(by, plan.client)
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=plan.client_id).first()
        draft = ServicePlan.objects.filter(
            client_id=plan.client_id, status=ServicePlan.Status.DRAFT
        ).first()
        if draft is not None:
            return draft
        latest = ServicePlan.objects.filter(client_id=plan.client_id).order_by("-number").first()
        if latest is None or latest.pk != plan.pk or not plan.is_signed:
            raise PlanError("Only the current signed plan can be reviewed.")
        _check_start_window(plan.client, starts_on)
        if starts_on < plan.starts_on:
            raise PlanError(
                f"The review cannot start ({_date_text(starts_on)}) before the plan it reviews "
                f"({_date_text(plan.starts_on)}).",
                field="starts_on",
            )
        review = ServicePlan.objects.create(
            agency_id=plan.agency_id,
            client_id=plan.client_id,
            number=plan.number + 1,
            previous=plan,
            starts_on=starts_on,
            author=by,
            strengths=plan.strengths,
            barriers=plan.barriers,
        )
        _copy_parts(plan, review)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=review,
            client_id=plan.client_id,
            detail={"reviews": plan.pk},
        )
    return review


def _copy_parts(source: ServicePlan, target: ServicePlan) -> None:
    """Copy needs → goals → objectives → interventions, keeping keys and positions."""
    need_ids: dict[int, PlanNeed] = {}
    for need in source.needs.all():
        need_ids[need.pk] = PlanNeed.objects.create(
            agency_id=target.agency_id,
            plan=target,
            key=need.key,
            position=need.position,
            area=need.area,
            text=need.text,
            source_assessment_id=need.source_assessment_id,
        )
    goal_ids: dict[int, PlanGoal] = {}
    for goal in source.goals.all():
        goal_ids[goal.pk] = PlanGoal.objects.create(
            agency_id=target.agency_id,
            plan=target,
            key=goal.key,
            position=goal.position,
            need=need_ids.get(goal.need_id) if goal.need_id else None,
            text=goal.text,
        )
    objective_ids: dict[int, PlanObjective] = {}
    for objective in source.objectives.all():
        objective_ids[objective.pk] = PlanObjective.objects.create(
            agency_id=target.agency_id,
            plan=target,
            key=objective.key,
            position=objective.position,
            goal=goal_ids[objective.goal_id],
            text=objective.text,
            measure=objective.measure,
            target_on=objective.target_on,
        )
    PlanIntervention.objects.bulk_create(
        PlanIntervention(
            agency_id=target.agency_id,
            plan=target,
            key=intervention.key,
            position=intervention.position,
            objective=objective_ids[intervention.objective_id],
            action=intervention.action,
            responsible=intervention.responsible,
            frequency=intervention.frequency,
            service_code=intervention.service_code,
        )
        for intervention in source.interventions.all()
    )


def plan_discard(*, plan: ServicePlan, by: User) -> None:
    """Throw a draft away (nothing signed is lost: a draft is not part of the record)."""
    with transaction.atomic():
        locked = _draft_for_change(plan, by, None)
        audit_record(
            actor=by,
            action=Action.DELETE,
            obj=locked,
            client_id=locked.client_id,
            detail={"draft_discarded": locked.number},
        )
        for model in (PlanIntervention, PlanObjective, PlanGoal, PlanNeed):
            model.objects.filter(plan=locked).delete()
        locked.delete()


# ---- Editing a draft -----------------------------------------------------------------------


def plan_update(
    *, plan: ServicePlan, by: User, expected_revision: int, starts_on: datetime.date, **texts: str
) -> ServicePlan:
    """The plan's own fields: start date, strengths, barriers, participation, review summary."""
    unknown = set(texts) - set(PLAN_TEXT_FIELDS)
    if unknown:
        raise PlanError(f"Unknown plan fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = _draft_for_change(plan, by, None)
        if locked.fields_revision > expected_revision:
            raise PlanError(
                "Someone changed these fields since you opened the plan; reload to see their "
                "version, then make your change again."
            )
        if starts_on != locked.starts_on:
            _check_start_window(locked.client, starts_on)
            _check_start(locked, starts_on)
        locked.starts_on = starts_on
        for name, value in texts.items():
            setattr(
                locked, name, _text(value, name, name.replace("_", " "), LONG_TEXT_LIMIT, False)
            )
        locked.fields_revision = locked.revision
        locked.save(update_fields=["starts_on", *texts, "fields_revision", "updated_at"])
        audit_record(actor=by, action=Action.UPDATE, obj=locked, client_id=locked.client_id)
    return locked


def _check_start(plan: ServicePlan, starts_on: datetime.date) -> None:
    if plan.previous_id is not None:
        previous = ServicePlan.objects.get(pk=plan.previous_id)
        if starts_on < previous.starts_on:
            raise PlanError(
                f"This version cannot start ({_date_text(starts_on)}) before the version it "
                f"reviews ({_date_text(previous.starts_on)}).",
                field="starts_on",
            )
    early = PlanObjective.objects.filter(plan=plan, target_on__lt=starts_on).order_by("target_on")
    first = early.first()
    if first is not None:
        raise PlanError(
            f"An objective's target date ({_date_text(first.target_on)}) would come before the "
            f"plan starts ({_date_text(starts_on)}); change the target first.",
            field="starts_on",
        )


def _part_to_save(model: type[Any], plan: ServicePlan, item_id: int | None) -> Any:
    """The part being edited, or a new one placed after the last of its kind."""
    if item_id is not None:
        return _part(model, plan, item_id)
    last = model.objects.filter(plan=plan).order_by("-position").values_list("position", flat=True)
    return model(agency_id=plan.agency_id, plan=plan, position=int(last.first() or 0) + 1)


def need_save(
    *, plan: ServicePlan, by: User, area: str, text: str, need_id: int | None = None
) -> PlanNeed:
    if area not in PlanNeed.Area.values:
        raise PlanError("Choose the area of need.", field="area")
    clean = _text(text, "text", "need")
    with transaction.atomic():
        locked = _draft_for_change(plan, by, None)
        need = _part_to_save(PlanNeed, locked, need_id)
        need.area, need.text = area, clean
        need.save()
        _audit_part(by, locked, need)
    return need


def goal_save(
    *, plan: ServicePlan, by: User, text: str, need_id: int | None, goal_id: int | None = None
) -> PlanGoal:
    clean = _text(text, "text", "goal")
    with transaction.atomic():
        locked = _draft_for_change(plan, by, None)
        need = _part(PlanNeed, locked, need_id) if need_id else None
        goal = _part_to_save(PlanGoal, locked, goal_id)
        goal.text, goal.need = clean, need
        goal.save()
        _audit_part(by, locked, goal)
    return goal


def objective_save(
    *,
    plan: ServicePlan,
    by: User,
    goal_id: int,
    text: str,
    measure: str,
    target_on: datetime.date,
    objective_id: int | None = None,
) -> PlanObjective:
    clean = _text(text, "text", "objective")
    how = _text(measure, "measure", "measure (how you will know it is done)", 500)
    with transaction.atomic():
        locked = _draft_for_change(plan, by, None)
        _check_target(locked, target_on)
        goal = _part(PlanGoal, locked, goal_id)
        objective = _part_to_save(PlanObjective, locked, objective_id)
        objective.goal = goal
        objective.text, objective.measure, objective.target_on = clean, how, target_on
        objective.save()
        _audit_part(by, locked, objective)
    return objective


def _check_target(plan: ServicePlan, target_on: datetime.date) -> None:
    if target_on < plan.starts_on:
        raise PlanError(
            f"The target date ({_date_text(target_on)}) is before the plan starts "
            f"({_date_text(plan.starts_on)}).",
            field="target_on",
        )
    if target_on > plan.starts_on + LONGEST_TARGET:
        raise PlanError(
            "A target more than two years after the plan starts is not a measurable step; "
            "choose a nearer date or split the objective.",
            field="target_on",
        )


def intervention_save(
    *,
    plan: ServicePlan,
    by: User,
    objective_id: int,
    action: str,
    responsible: str,
    frequency: str,
    service_code: str = "",
    intervention_id: int | None = None,
) -> PlanIntervention:
    what = _text(action, "action", "intervention")
    who = _text(responsible, "responsible", "person responsible", 200)
    how_often = _text(frequency, "frequency", "frequency", 100)
    code = str(service_code or "").strip().upper()
    with transaction.atomic():
        locked = _draft_for_change(plan, by, None)
        if code and not ServiceCode.objects.filter(agency_id=locked.agency_id, code=code).exists():
            raise PlanError(
                f"{code} is not in the agency's service catalogue.", field="service_code"
            )
        objective = _part(PlanObjective, locked, objective_id)
        intervention = _part_to_save(PlanIntervention, locked, intervention_id)
        intervention.objective = objective
        intervention.action, intervention.responsible = what, who
        intervention.frequency, intervention.service_code = how_often, code
        intervention.save()
        _audit_part(by, locked, intervention)
    return intervention


def part_save(
    *, plan: ServicePlan, by: User, kind: str, data: dict[str, Any], item_id: int | None = None
) -> Any:
    """Add or edit a part of any kind; `data` names the fields as the part's model does."""
    if kind == "need":
        return need_save(plan=plan, by=by, area=data["area"], text=data["text"], need_id=item_id)
    if kind == "goal":
        return goal_save(
            plan=plan, by=by, text=data["text"], need_id=data.get("need_id"), goal_id=item_id
        )
    if kind == "objective":
        return objective_save(
            plan=plan,
            by=by,
            goal_id=data["goal_id"],
            text=data["text"],
            measure=data["measure"],
            target_on=data["target_on"],
            objective_id=item_id,
        )
    if kind == "intervention":
        return intervention_save(
            plan=plan,
            by=by,
            objective_id=data["objective_id"],
            action=data["action"],
            responsible=data["responsible"],
            frequency=data["frequency"],
            service_code=data.get("service_code", ""),
            intervention_id=item_id,
        )
    raise PlanError("A plan has needs, goals, objectives and interventions.")


PARTS: dict[str, type[Any]] = {
    "need": PlanNeed,
    "goal": PlanGoal,
    "objective": PlanObjective,
    "intervention": PlanIntervention,
}


def part_remove(*, plan: ServicePlan, by: User, kind: str, item_id: int) -> None:
    """Remove a need, goal, objective or intervention (and what hangs under it) from a draft."""
    model = PARTS.get(kind)
    if model is None:
        raise PlanError("Nothing to remove.")
    with transaction.atomic():
        locked = _draft_for_change(plan, by, None)
        part = _part(model, locked, item_id)
        audit_record(
            actor=by,
            action=Action.DELETE,
            obj=part,
            client_id=locked.client_id,
            detail={"plan": locked.pk},
        )
        part.delete()


def _part(model: type[Any], plan: ServicePlan, item_id: int | None) -> Any:
    try:
        return model.objects.get(plan=plan, pk=item_id)
    except (model.DoesNotExist, ValueError, TypeError):
        raise PlanError("That part of the plan is no longer there; reload the plan.") from None


def _audit_part(by: User, plan: ServicePlan, part: Any) -> None:
    audit_record(
        actor=by,
        action=Action.UPDATE,
        obj=part,
        client_id=plan.client_id,
        detail={"plan": plan.pk},
    )


# ---- Signing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """A signature as entered: who, how (on screen, on paper, did not sign), when, and why not."""

    role: str
    method: str
    name: str
    signed_on: datetime.date
    reason: str = ""


def sign_problems(plan: ServicePlan) -> list[str]:
    """What still stands between this draft and a signature, in the order of the page."""
    problems = []
    if not plan.strengths.strip():
        problems.append("Write the client's strengths: the plan builds on them.")
    if not plan.participation.strip():
        problems.append("Say how the client took part in making the plan.")
    needs_ = list(plan.needs.all())
    goals = list(plan.goals.all())
    objectives = list(plan.objectives.all())
    interventions = list(plan.interventions.all())
    if not needs_:
        problems.append("Add at least one need.")
    if not goals:
        problems.append("Add at least one goal.")
    with_objectives = {o.goal_id for o in objectives}
    for number, goal in enumerate(goals, start=1):
        if goal.pk not in with_objectives:
            problems.append(f"Goal {number} needs at least one measurable objective.")
    with_interventions = {i.objective_id for i in interventions}
    for objective in objectives:
        if objective.pk not in with_interventions:
            problems.append(f"The objective “{objective.text[:60]}” needs an intervention.")
        if objective.target_on < plan.starts_on:
            problems.append(
                f"The objective “{objective.text[:60]}” has a target date before the plan starts."
            )
        elif objective.target_on > plan.starts_on + LONGEST_TARGET:
            problems.append(
                f"The objective “{objective.text[:60]}” has a target more than two years after "
                "the plan starts."
            )
    return problems


def _check_signature(plan: ServicePlan, signature: Signature, today: datetime.date) -> None:
    if signature.role not in PlanSignature.Role.values:
        raise PlanError("Choose whose signature this is.", field="role")
    if signature.method not in PlanSignature.Method.values:
        raise PlanError("Choose how the plan was signed.", field="method")
    if signature.method == PlanSignature.Method.DECLINED:
        if not signature.reason.strip():
            raise PlanError("Say why the plan was not signed.", field="reason")
    elif not signature.name.strip():
        raise PlanError("Write the name of the person who signed.", field="name")
    if signature.signed_on > today:
        raise PlanError("A signature cannot be dated in the future.", field="signed_on")
    drafted_on = timezone.localtime(plan.created_at, plan.agency.tzinfo).date()
    if signature.signed_on < drafted_on:
        raise PlanError(
            f"The signature date ({_date_text(signature.signed_on)}) is before the plan was "
            f"written ({_date_text(drafted_on)}).",
            field="signed_on",
        )


def plan_sign(
    *, plan: ServicePlan, by: User, client_signature: Signature, expected_revision: int
) -> ServicePlan:
    """The case manager signs with the client's signature (or refusal) recorded; the plan locks."""
    if client_signature.role not in (PlanSignature.Role.CLIENT, PlanSignature.Role.GUARDIAN):
        raise PlanError("Record the client's or the guardian's signature.", field="role")
    with transaction.atomic():
        locked = _draft_for_change(plan, by, expected_revision)
        today = locked.agency.today()
        problems = sign_problems(locked)
        if problems:
            raise PlanError(" ".join(problems))
        _check_signature(locked, client_signature, today)
        locked.status = ServicePlan.Status.SIGNED
        locked.signed_at = timezone.now()
        locked.signed_by = by
        locked.review_due_on = locked.starts_on + datetime.timedelta(
            days=locked.agency.plan_review_every_days
        )
        locked.save()
        _add_signature(locked, by, client_signature)
        _add_signature(
            locked,
            by,
            Signature(
                role=PlanSignature.Role.CASE_MANAGER,
                method=PlanSignature.Method.ON_SCREEN,
                name=by.full_name,
                signed_on=today,
            ),
            user=by,
        )
        TimelineEvent.objects.create(
            agency_id=locked.agency_id,
            client_id=locked.client_id,
            occurred_at=locked.signed_at,
            kind="plan_signed",
            summary=f"Service plan version {locked.number} signed",
            actor=by,
        )
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"signed": True},
        )
    return locked


def _add_signature(
    plan: ServicePlan, by: User, signature: Signature, user: User | None = None
) -> PlanSignature:
    try:
        with transaction.atomic():
            return PlanSignature.objects.create(
                agency_id=plan.agency_id,
                plan=plan,
                role=signature.role,
                method=signature.method,
                name=_text(signature.name or "(not signed)", "name", "name", 200),
                signed_on=signature.signed_on,
                reason=_text(signature.reason, "reason", "reason", 500, required=False),
                user=user,
                recorded_by=by,
            )
    except IntegrityError:
        role = PlanSignature.Role(signature.role).label.lower()
        raise PlanError(f"The {role}'s signature is already recorded.", field="role") from None


def may_sign_as_supervisor(user: User, plan: ServicePlan) -> bool:
    """A supervisor of the plan's signer signs as supervisor; an agency admin may too."""
    signer = plan.signed_by_id
    if plan.agency_id != user.agency_id or signer is None or signer == user.pk:
        return False
    if user.has_role(Role.AGENCY_ADMIN):
        return True
    return (
        user.has_role(Role.SUPERVISOR)
        and access.supervised_staff_ids(user).filter(user_id=signer).exists()
    )


def plan_signature_add(*, plan: ServicePlan, by: User, signature: Signature) -> PlanSignature:
    """A signature after signing: the supervisor's, or the client's on paper a few days later."""
    with transaction.atomic():
        locked = ServicePlan.objects.select_for_update().select_related("agency").get(pk=plan.pk)
        if not locked.is_signed:
            raise PlanError("Sign the plan first; other signatures follow.")
        if signature.role == PlanSignature.Role.CASE_MANAGER:
            raise PlanError("The case manager signed when the plan was signed.", field="role")
        staff_signature = signature.role == PlanSignature.Role.SUPERVISOR
        if staff_signature:
            if not may_sign_as_supervisor(by, locked):
                raise PlanError("Only a supervisor of the case manager signs as supervisor.")
            signature = Signature(
                role=signature.role,
                method=PlanSignature.Method.ON_SCREEN,
                name=by.full_name,
                signed_on=locked.agency.today(),
            )
        elif not access.may_write_notes(by) or locked.agency_id != by.agency_id:
            raise PlanError("Your role does not record signatures on plans.")
        _check_signature(locked, signature, locked.agency.today())
        added = _add_signature(locked, by, signature, user=by if staff_signature else None)
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"signature": added.role, "method": added.method},
        )
    return added


# ---- Progress on objectives ----------------------------------------------------------------


def objective_status_set(
    *,
    client: Client,
    by: User,
    objective_key: Any,
    status: str,
    comment: str = "",
) -> ObjectiveProgress:
    """Record where an objective of the client's current signed plan stands, on the plan."""
    _check_writer(by, client)
    if status not in PlanObjective.Status.values:
        raise PlanError("Choose the objective's status.", field="status")
    text = _text(comment, "comment", "comment", 500, required=False)
    try:
        key = uuid.UUID(str(objective_key))
    except ValueError:
        raise PlanError("That objective is not in this client's plan.", field="objective") from None
    if key not in _current_objective_keys(client.pk):
        raise PlanError(
            "That objective is not in this client's current signed plan.", field="objective"
        )
    with transaction.atomic():
        progress = ObjectiveProgress.objects.create(
            agency_id=client.agency_id,
            client=client,
            objective_key=key,
            status=status,
            comment=text,
            recorded_by=by,
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=progress,
            client_id=client.pk,
            detail={"status": status},
        )
    return progress


def _current_objective_keys(client_id: int) -> set[uuid.UUID]:
    """The objectives of the client's latest signed plan: the only ones progress is recorded on."""
    current = (
        ServicePlan.objects.filter(client_id=client_id, status=ServicePlan.Status.SIGNED)
        .order_by("-number")
        .values("pk")[:1]
    )
    return set(PlanObjective.objects.filter(plan__in=current).values_list("key", flat=True))


def progress_from_note(*, note: Any, by: User) -> list[ObjectiveProgress]:
    """Record the objective statuses a signed note gives (its `goals_addressed`), in its transaction.

    Entries that name no objective of the client's current signed plan are ignored: a note is
    never refused for what its plan section says.
    """
    wanted: dict[uuid.UUID, str] = {}
    for entry in note.goals_addressed or []:
        if not isinstance(entry, dict) or entry.get("status") not in PlanObjective.Status.values:
            continue
        try:
            wanted[uuid.UUID(str(entry.get("objective")))] = entry["status"]
        except ValueError:
            continue
    known = _current_objective_keys(note.client_id)
    progress = ObjectiveProgress.objects.bulk_create(
        ObjectiveProgress(
            agency_id=note.agency_id,
            client_id=note.client_id,
            objective_key=key,
            status=status,
            note_id=note.pk,
            recorded_by=by,
        )
        for key, status in wanted.items()
        if key in known
    )
    if progress:
        audit_record(
            actor=by,
            action=Action.CREATE,
            object_type="plans.objectiveprogress",
            client_id=note.client_id,
            detail={"note": note.pk, "objectives": len(progress)},
        )
    return progress
