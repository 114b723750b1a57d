"""Prior-authorization requests to payers, from the draft to the payer's decision.

An approval (or a partial approval) becomes the billing `Authorization` that charges draw
units from, numbered with the payer's reference, so nobody types it twice. Case managers,
supervisors, admins and billing staff record them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from casework.billing.models import Authorization, Payer, ServiceCode
from casework.billing.services.charges import held_charges_recheck
from casework.clients.models import Client
from casework.coordination.errors import CoordinationError, earlier_submission
from casework.coordination.models import PriorAuthRequest
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User

PRIOR_AUTH_CREATE = "prior_auth_create"
MAX_UNITS = 99_999
NOTE_LIMIT = 300
REFERENCE_LIMIT = 50
Status = PriorAuthRequest.Status
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.SUBMITTED, Status.WITHDRAWN),
    Status.SUBMITTED: (
        Status.PENDED,
        Status.APPROVED,
        Status.PARTIAL,
        Status.DENIED,
        Status.WITHDRAWN,
    ),
    Status.PENDED: (
        Status.SUBMITTED,
        Status.APPROVED,
        Status.PARTIAL,
        Status.DENIED,
        Status.WITHDRAWN,
    ),
    Status.PARTIAL: (Status.APPEALED,),
    Status.DENIED: (Status.APPEALED,),
    Status.APPEALED: (Status.APPROVED, Status.PARTIAL, Status.DENIED, Status.WITHDRAWN),
}
# The request itself may change while it is prepared, or when the payer asks for more.
EDITABLE = frozenset({Status.DRAFT, Status.PENDED})
DECISIONS = frozenset({Status.APPROVED, Status.PARTIAL, Status.DENIED})


class PriorAuthError(CoordinationError):
    """A prior-authorization change that cannot be made; `field` names the form field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PriorAuthDetails:
    payer: Payer
    service_code: ServiceCode
    units_requested: int
    start_on: datetime.date
    end_on: datetime.date
    reference: str = ""


@dataclass(frozen=True)
class PriorAuthStep:
    """The next step: submitted, pended, a decision, an appeal, withdrawn."""

    status: str
    on: datetime.date
    reference: str = ""
    units_approved: int | None = None
    note: str = ""


def may_record_prior_auths(user: object) -> bool:
    return access.may_coordinate(user) or access.may_bill(user)


def _require_recorder(by: User, client: Client) -> None:
    if not may_record_prior_auths(by):
        raise PermissionDenied("Your role does not record prior authorizations.")
    if not access.visible_clients(by).filter(pk=client.pk).exists():
        raise PermissionDenied("You may not see that client.")


def _checked(details: PriorAuthDetails, agency_id: int) -> str:
    """Check the request; return the payer reference, trimmed."""
    if details.payer.agency_id != agency_id:
        raise PermissionDenied("That payer belongs to another agency.")
    if details.service_code.agency_id != agency_id:
        raise PermissionDenied("That service code belongs to another agency.")
    if not 1 <= details.units_requested <= MAX_UNITS:
        raise PriorAuthError(f"Ask for 1 to {MAX_UNITS:,} units.", field="units_requested")
    if details.end_on < details.start_on:
        raise PriorAuthError("The end date cannot be before the start date.", field="end_on")
    reference = details.reference.strip()
    if len(reference) > REFERENCE_LIMIT:
        raise PriorAuthError(
            f"Keep the reference to {REFERENCE_LIMIT} characters.", field="reference"
        )
    return reference


def _locked(request: PriorAuthRequest, expected_version: int) -> PriorAuthRequest:
    locked = PriorAuthRequest.objects.select_for_update().get(pk=request.pk)
    if locked.version != expected_version:
        raise PriorAuthError(
            "Someone changed this request after you opened it. What you typed is kept below: "
            "check it against the request as it is now and save again.",
            field="version",
        )
    return locked


def prior_auth_create(
    *, client: Client, by: User, details: PriorAuthDetails, submission_key: str = ""
) -> PriorAuthRequest:
    """Start a request to a payer (a draft until it is submitted); a double submit makes one."""
    _require_recorder(by, client)
    reference = _checked(details, client.agency_id)
    if not details.payer.is_active or not details.service_code.is_active:
        raise PriorAuthError("Choose a payer and service code that are in use.", field="payer")
    assert by.agency is not None
    with transaction.atomic():
        submission = submission_claim(
            agency=by.agency, by=by, purpose=PRIOR_AUTH_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return earlier_submission(PriorAuthRequest, submission.earlier_object_id, client=client)
        request = PriorAuthRequest.objects.create(
            agency_id=client.agency_id,
            client=client,
            payer=details.payer,
            service_code=details.service_code,
            units_requested=details.units_requested,
            start_on=details.start_on,
            end_on=details.end_on,
            reference=reference,
            created_by=by,
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=request,
            client_id=client.pk,
            detail={"payer": details.payer.pk, "code": details.service_code.pk},
        )
        submission_complete(submission, request.pk)
    return request


def prior_auth_update(
    *, request: PriorAuthRequest, by: User, expected_version: int, details: PriorAuthDetails
) -> PriorAuthRequest:
    """Correct the request while it is a draft or pended."""
    _require_recorder(by, request.client)
    reference = _checked(details, request.agency_id)
    with transaction.atomic():
        locked = _locked(request, expected_version)
        if locked.status not in EDITABLE:
            raise PriorAuthError(
                f"A request that is {locked.get_status_display().lower()} cannot be changed."
            )
        wanted = {
            "payer": details.payer,
            "service_code": details.service_code,
            "units_requested": details.units_requested,
            "start_on": details.start_on,
            "end_on": details.end_on,
            "reference": reference,
        }
        changed = [name for name, value in wanted.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, wanted[name])
        locked.version += 1
        locked.save(update_fields=[*changed, "version"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"fields": changed},
        )
    return locked


def next_statuses(request: PriorAuthRequest) -> tuple[str, ...]:
    return NEXT_STATUSES.get(request.status, ())


def _approved_units(request: PriorAuthRequest, step: PriorAuthStep) -> int:
    units = step.units_approved
    if step.status == Status.APPROVED:
        if units is not None and not 1 <= units <= MAX_UNITS:
            raise PriorAuthError(f"Give 1 to {MAX_UNITS:,} units.", field="units_approved")
        return units or request.units_requested
    if units is None:
        raise PriorAuthError("Give the number of units the payer approved.", field="units_approved")
    if not 1 <= units < request.units_requested:
        raise PriorAuthError(
            f"A partial approval is for 1 to {request.units_requested - 1} units; if they "
            "approved everything, record it as approved.",
            field="units_approved",
        )
    return units


def _authorization_save(
    request: PriorAuthRequest, *, number: str, units: int, note: str, by: User
) -> Authorization:
    """Create the billing authorization the approval stands for, or bring it up to date."""
    taken = (
        Authorization.objects.filter(
            agency_id=request.agency_id, payer_id=request.payer_id, number__iexact=number
        )
        .exclude(pk=request.authorization_id or 0)
        .exists()
    )
    if taken:
        raise PriorAuthError(
            f"{request.payer.name} already has an authorization numbered “{number}”.",
            field="reference",
        )
    if request.authorization_id is not None:
        authorization = Authorization.objects.select_for_update().get(pk=request.authorization_id)
        authorization.number, authorization.units = number, units
        authorization.note = note or authorization.note
        authorization.save(update_fields=["number", "units", "note"])
        action = Action.UPDATE
    else:
        authorization = Authorization.objects.create(
            agency_id=request.agency_id,
            client_id=request.client_id,
            payer_id=request.payer_id,
            number=number,
            units=units,
            start_on=request.start_on,
            end_on=request.end_on,
            note=note,
        )
        authorization.service_codes.set([request.service_code_id])
        action = Action.CREATE
    audit_record(
        actor=by,
        action=action,
        obj=authorization,
        client_id=request.client_id,
        detail={"number": number, "units": units, "prior_auth_request": request.pk},
    )
    return authorization


def prior_auth_status_change(
    *, request: PriorAuthRequest, by: User, expected_version: int, step: PriorAuthStep
) -> PriorAuthRequest:
    """Record the next step; an approval creates (or updates) the billing authorization."""
    _require_recorder(by, request.client)
    reference = step.reference.strip()
    note = step.note.strip()
    if len(reference) > REFERENCE_LIMIT:
        raise PriorAuthError(
            f"Keep the reference to {REFERENCE_LIMIT} characters.", field="reference"
        )
    if len(note) > NOTE_LIMIT:
        raise PriorAuthError(f"Keep the note under {NOTE_LIMIT} characters.", field="note")
    today = request.client.agency.today()
    if step.on > today:
        raise PriorAuthError("The date cannot be in the future.", field="on")
    with transaction.atomic():
        locked = _locked(request, expected_version)
        if step.status not in next_statuses(locked):
            raise PriorAuthError(
                f"A request that is {locked.get_status_display().lower()} cannot become that.",
                field="status",
            )
        reference = reference or locked.reference
        fields = ["status", "version"]
        locked.status = step.status
        if reference != locked.reference:
            locked.reference = reference
            fields.append("reference")
        if step.status == Status.SUBMITTED:
            locked.submitted_on = step.on
            fields.append("submitted_on")
        if step.status in DECISIONS:
            locked.decided_on = step.on
            locked.decision_note = note
            fields += ["decided_on", "decision_note"]
        elif note:
            locked.decision_note = note
            fields.append("decision_note")
        if step.status in (Status.APPROVED, Status.PARTIAL):
            if not reference:
                raise PriorAuthError(
                    "Give the payer's authorization number: billing uses it on claims.",
                    field="reference",
                )
            units = _approved_units(locked, step)
            locked.authorization = _authorization_save(
                locked, number=reference, units=units, note=note, by=by
            )
            fields.append("authorization")
        locked.version += 1
        locked.save(update_fields=fields)
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"status": step.status},
        )
        if locked.authorization_id is not None and step.status in (
            Status.APPROVED,
            Status.PARTIAL,
        ):
            held_charges_recheck(by=by, client_id=locked.client_id)
    return locked
