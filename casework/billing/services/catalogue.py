"""Writes about the agency's billing set-up: payers and their unit rules, the service catalogue,
fee schedules, authorizations and claim settings. Each one transactional and audited.

Only agency admins and billing staff make these changes (`access.may_configure_billing`).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from casework.billing.models import (
    PLACES_OF_SERVICE,
    Authorization,
    Charge,
    ClaimSettings,
    FeeRate,
    Payer,
    PayerCodeRule,
    ServiceCode,
    UnitRule,
)
from casework.billing.selectors.catalogue import authorization_units_used
from casework.billing.services.charges import held_charges_recheck
from casework.clients.models import Client
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.catalogues import credential_types
from casework.core.models import Agency, User
from casework.notes.models import Note

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "service_codes.json"

_PROCEDURE_CODE = re.compile(r"[A-Z][0-9]{4}|[0-9]{5}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_MODIFIER_SEPARATORS = re.compile(r"[\s,]+")
MAX_MODIFIERS = 4
# What an X12 identifier may hold: the 5010 extended character set less the delimiters * : ~ ^.
_X12_IDENTIFIER = re.compile(r"""[A-Za-z0-9!"&'()+,\-./;?= %@\[\]_{}\\|<>`#$]*""")


class BillingSetupError(Exception):
    """A billing set-up change that cannot be made, with a message for the person who asked.

    `field` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def require_billing_admin_of(agency_id: int | None, by: User) -> None:
    """Defence in depth: views already check this, but a service is never called with less."""
    if agency_id != access.agency_id_of(by):
        raise PermissionDenied("That belongs to another agency.")
    if not access.may_configure_billing(by):
        raise PermissionDenied("Only agency admins and billing staff change the billing set-up.")


def _same_agency(obj: Model | None, agency_id: int, what: str) -> None:
    if obj is not None and getattr(obj, "agency_id", None) != agency_id:
        raise PermissionDenied(f"That {what} belongs to another agency.")


def _save_changes(obj: Model, wanted: Mapping[str, Any], *, by: User) -> list[str]:
    """Save only the fields that differ, validated, with one audit entry naming them."""
    changed = [field for field, value in wanted.items() if getattr(obj, field) != value]
    for field in changed:
        setattr(obj, field, wanted[field])
    if changed:
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save(update_fields=changed)
        audit_record(actor=by, action=Action.UPDATE, obj=obj, detail={"fields": changed})
    return changed


def _insert(obj: Model, *, taken: str, field: str) -> None:
    """Save a new row; if a concurrent request just took its unique slot, say so plainly."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise BillingSetupError(taken, field=field) from None


# ---------------------------------------------------------------------------- shapes


def clean_procedure_code(text: str) -> str:
    """A HCPCS level II or CPT code: a letter and four digits (T1017) or five digits (90837)."""
    code = text.strip().upper()
    if not _PROCEDURE_CODE.fullmatch(code):
        raise ValidationError(
            "A procedure code is 5 characters: a letter and 4 digits (T1017) or 5 digits (90837).",
            code="procedure_code",
        )
    return code


def clean_modifiers(text: str) -> str:
    """Up to four two-character modifiers, upper case, one space apart (“hf, u1” → “HF U1”)."""
    modifiers = [m for m in _MODIFIER_SEPARATORS.split(text.strip().upper()) if m]
    for modifier in modifiers:
        if not _MODIFIER.fullmatch(modifier):
            raise ValidationError(
                f"Each modifier is 2 letters or digits, e.g. HF; “{modifier}” is not.",
                code="modifier",
            )
    if len(modifiers) > MAX_MODIFIERS:
        raise ValidationError(
            f"A claim line carries at most {MAX_MODIFIERS} modifiers; you gave {len(modifiers)}.",
            code="modifier_count",
        )
    repeated = sorted({m for m in modifiers if modifiers.count(m) > 1})
    if repeated:
        raise ValidationError(
            f"Give each modifier once; repeated: {', '.join(repeated)}.", code="modifier_repeated"
        )
    return " ".join(modifiers)


def clean_x12_identifier(text: str, *, label: str, min_length: int = 2, max_length: int) -> str:
    """An identifier that goes into a claim file as typed: no X12 delimiters, ASCII only."""
    value = text.strip()
    if not value.isascii() or not _X12_IDENTIFIER.fullmatch(value):
        raise ValidationError(
            f"The {label} can hold letters, digits and simple punctuation only "
            "(not * : ~ ^, which separate the parts of a claim file, nor accented letters).",
            code="x12_identifier",
        )
    if not min_length <= len(value) <= max_length:
        raise ValidationError(
            f"The {label} is {min_length} to {max_length} characters long.",
            code="x12_identifier_length",
        )
    return value


def _checked_choices(values: Iterable[str], allowed: Iterable[str], what: str) -> list[str]:
    known = list(allowed)
    chosen = set(values)
    unknown = sorted(chosen - set(known))
    if unknown:
        raise BillingSetupError(f"Unknown {what}: {', '.join(unknown)}.")
    return [value for value in known if value in chosen]


# ---------------------------------------------------------------------------- payers


@dataclass(frozen=True)
class PayerDetails:
    """What an admin types about a payer (create and edit take the same)."""

    name: str
    kind: str
    payer_id: str = ""
    filing_indicator: str = Payer.FilingIndicator.MEDICAID
    unit_rule: str = UnitRule.CMS_8_MINUTE
    requires_authorization: bool = False
    bills_electronically: bool = True
    is_active: bool = True

    def as_fields(self) -> dict[str, Any]:
        return {
            "name": self.name.strip(),
            "kind": self.kind,
            "payer_id": self.payer_id.strip(),
            "filing_indicator": self.filing_indicator,
            "unit_rule": self.unit_rule,
            "requires_authorization": self.requires_authorization,
            "bills_electronically": self.bills_electronically,
            "is_active": self.is_active,
        }


def _check_payer_name(agency_id: int, name: str, *, exclude_pk: int | None) -> None:
    if not name:
        raise BillingSetupError("Give the payer a name.", field="name")
    taken = (
        Payer.objects.filter(agency_id=agency_id, name__iexact=name)
        .exclude(pk=exclude_pk or 0)
        .exists()
    )
    if taken:
        raise BillingSetupError(f"There is already a payer called “{name}”.", field="name")


def _check_payer_electronic(fields: Mapping[str, Any]) -> None:
    if fields["bills_electronically"] and not fields["payer_id"]:
        raise BillingSetupError(
            "Give the payer id the clearinghouse uses, or untick “bills electronically”.",
            field="payer_id",
        )


def payer_create(*, agency: Agency, by: User, details: PayerDetails) -> Payer:
    """Add a payer: a Medicaid plan, an administrative services organization, a grant…"""
    require_billing_admin_of(agency.pk, by)
    fields = details.as_fields()
    _check_payer_electronic(fields)
    with transaction.atomic():
        _check_payer_name(agency.pk, fields["name"], exclude_pk=None)
        payer = Payer(agency=agency, **fields)
        payer.full_clean(validate_unique=False, validate_constraints=False)
        _insert(payer, taken=f"There is already a payer called “{payer.name}”.", field="name")
        audit_record(actor=by, action=Action.CREATE, obj=payer, detail={"name": payer.name})
    return payer


def payer_update(*, payer: Payer, by: User, details: PayerDetails) -> Payer:
    """Change a payer's details, default unit rule or flags (deactivating keeps its history)."""
    require_billing_admin_of(payer.agency_id, by)
    fields = details.as_fields()
    _check_payer_electronic(fields)
    with transaction.atomic():
        payer = Payer.objects.select_for_update().get(pk=payer.pk)
        _check_payer_name(payer.agency_id, fields["name"], exclude_pk=payer.pk)
        _save_changes(payer, fields, by=by)
    return payer


def payer_code_rules_set(*, payer: Payer, by: User, rules: Mapping[ServiceCode, str]) -> list[str]:
    """Set the payer's own unit rule for each code given; an empty rule means the payer's default.

    Returns the labels of the codes whose rule changed.
    """
    require_billing_admin_of(payer.agency_id, by)
    for code in rules:
        _same_agency(code, payer.agency_id, "service code")
    known = set(UnitRule.values)
    for code, rule in rules.items():
        if rule and rule not in known:
            raise BillingSetupError(f"“{rule}” is not a unit rule (for {code.label}).")
    changed: dict[str, str] = {}
    with transaction.atomic():
        Payer.objects.select_for_update().filter(pk=payer.pk).first()
        current = {
            rule.service_code_id: rule
            for rule in PayerCodeRule.objects.filter(payer=payer, service_code__in=list(rules))
        }
        for code, wanted in rules.items():
            existing = current.get(code.pk)
            if existing is not None and not wanted:
                existing.delete()
            elif existing is not None and existing.unit_rule != wanted:
                existing.unit_rule = wanted
                existing.save(update_fields=["unit_rule"])
            elif existing is None and wanted:
                PayerCodeRule.objects.create(
                    agency_id=payer.agency_id, payer=payer, service_code=code, unit_rule=wanted
                )
            else:
                continue
            changed[code.label] = wanted or "payer default"
        if changed:
            audit_record(actor=by, action=Action.UPDATE, obj=payer, detail={"unit_rules": changed})
    return sorted(changed)


# ---------------------------------------------------------------------------- service codes


@dataclass(frozen=True)
class ServiceCodeDetails:
    """What an admin types about a code in the catalogue (create and edit take the same)."""

    code: str
    description: str
    unit_type: str
    modifiers: str = ""
    minimum_minutes: int = 1
    is_billable: bool = True
    allowed_credentials: tuple[str, ...] = ()
    allowed_places: tuple[str, ...] = ()
    is_active: bool = True

    def as_fields(self) -> dict[str, Any]:
        """The model's field values, normalised and checked; BillingSetupError names the field."""
        try:
            code = clean_procedure_code(self.code)
        except ValidationError as error:
            raise BillingSetupError(error.messages[0], field="code") from None
        try:
            modifiers = clean_modifiers(self.modifiers)
        except ValidationError as error:
            raise BillingSetupError(error.messages[0], field="modifiers") from None
        description = self.description.strip()
        if not description:
            raise BillingSetupError(
                "Describe the service, e.g. “Case management”.", field="description"
            )
        return {
            "code": code,
            "modifiers": modifiers,
            "description": description,
            "unit_type": self.unit_type,
            "minimum_minutes": self.minimum_minutes,
            "is_billable": self.is_billable,
            "allowed_credentials": _checked_choices(
                self.allowed_credentials, credential_types(), "credential types"
            ),
            "allowed_places": _checked_choices(
                self.allowed_places, PLACES_OF_SERVICE, "places of service"
            ),
            "is_active": self.is_active,
        }


def _check_code_free(agency_id: int, code: str, modifiers: str, *, exclude_pk: int | None) -> None:
    taken = (
        ServiceCode.objects.filter(agency_id=agency_id, code=code, modifiers=modifiers)
        .exclude(pk=exclude_pk or 0)
        .exists()
    )
    if taken:
        label = f"{code} {modifiers}".strip()
        raise BillingSetupError(f"{label} is already in the catalogue.", field="code")


def service_code_create(*, agency: Agency, by: User, details: ServiceCodeDetails) -> ServiceCode:
    """Add a code to the agency's catalogue (its fee schedule starts empty)."""
    require_billing_admin_of(agency.pk, by)
    fields = details.as_fields()
    with transaction.atomic():
        _check_code_free(agency.pk, fields["code"], fields["modifiers"], exclude_pk=None)
        service_code = ServiceCode(agency=agency, **fields)
        service_code.full_clean(validate_unique=False, validate_constraints=False)
        _insert(
            service_code,
            taken=f"{service_code.label} is already in the catalogue.",
            field="code",
        )
        audit_record(
            actor=by, action=Action.CREATE, obj=service_code, detail={"code": service_code.label}
        )
    return service_code


def service_code_update(
    *, service_code: ServiceCode, by: User, details: ServiceCodeDetails
) -> ServiceCode:
    """Change a code's description, units, rules or status.

    The code and modifiers stay once signed notes use them: signed records and claims name them.
    """
    require_billing_admin_of(service_code.agency_id, by)
    fields = details.as_fields()
    with transaction.atomic():
        service_code = ServiceCode.objects.select_for_update().get(pk=service_code.pk)
        renamed = (fields["code"], fields["modifiers"]) != (
            service_code.code,
            service_code.modifiers,
        )
        signed_notes = Note.objects.filter(service_code=service_code, signed_at__isnull=False)
        if renamed and (
            Charge.objects.filter(service_code=service_code).exists() or signed_notes.exists()
        ):
            raise BillingSetupError(
                f"Signed notes already use {service_code.label}, so its code and modifiers stay. "
                "Add the new code instead and mark this one inactive.",
                field="code",
            )
        if renamed:
            _check_code_free(
                service_code.agency_id,
                fields["code"],
                fields["modifiers"],
                exclude_pk=service_code.pk,
            )
        _save_changes(service_code, fields, by=by)
    return service_code


# ---------------------------------------------------------------------------- fee schedule


def fee_rate_add(
    *,
    service_code: ServiceCode,
    by: User,
    payer: Payer | None,
    effective_from: datetime.date,
    rate: Decimal,
) -> FeeRate:
    """Add a rate for a code from a date on (a payer's own, or the agency default with no payer).

    Rates are never changed: a later rate supersedes an earlier one from its effective date.
    """
    require_billing_admin_of(service_code.agency_id, by)
    _same_agency(payer, service_code.agency_id, "payer")
    if rate < 0:
        raise BillingSetupError("A rate cannot be negative.", field="rate")
    whose = payer.name if payer is not None else "the agency default"
    with transaction.atomic():
        ServiceCode.objects.select_for_update().filter(pk=service_code.pk).first()
        same_day = FeeRate.objects.filter(
            service_code=service_code, payer=payer, effective_from=effective_from
        ).first()
        if same_day is not None:
            raise BillingSetupError(
                f"There is already a rate for {whose} from {effective_from:%m/%d/%Y} "
                f"(${same_day.rate}). Rates are never changed; choose another date.",
                field="effective_from",
            )
        fee_rate = FeeRate(
            agency_id=service_code.agency_id,
            service_code=service_code,
            payer=payer,
            effective_from=effective_from,
            rate=rate,
        )
        fee_rate.full_clean(validate_unique=False, validate_constraints=False)
        _insert(
            fee_rate,
            taken=f"There is already a rate for {whose} from {effective_from:%m/%d/%Y}.",
            field="effective_from",
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=fee_rate,
            detail={
                "code": service_code.label,
                "payer": payer.pk if payer is not None else None,
                "effective_from": effective_from.isoformat(),
                "rate": str(rate),
            },
        )
    return fee_rate


# ---------------------------------------------------------------------------- authorizations


@dataclass(frozen=True)
class AuthorizationDetails:
    """What an admin types from a payer's authorization letter."""

    client: Client
    payer: Payer
    number: str
    service_codes: tuple[ServiceCode, ...]
    units: int
    start_on: datetime.date
    end_on: datetime.date
    note: str = ""


def _checked_authorization(details: AuthorizationDetails, *, agency_id: int, by: User) -> str:
    """Check the details; return the trimmed number."""
    _same_agency(details.payer, agency_id, "payer")
    for code in details.service_codes:
        _same_agency(code, agency_id, "service code")
    if not access.visible_clients(by).filter(pk=details.client.pk).exists():
        raise PermissionDenied("You may not see that client.")
    number = details.number.strip()
    if not number:
        raise BillingSetupError("Give the authorization number from the payer.", field="number")
    if not details.service_codes:
        raise BillingSetupError(
            "Choose at least one service code it covers.", field="service_codes"
        )
    if details.units < 1:
        raise BillingSetupError("Authorize at least 1 unit.", field="units")
    if details.end_on < details.start_on:
        raise BillingSetupError("The end date cannot be before the start date.", field="end_on")
    return number


def _check_number_free(
    agency_id: int, payer: Payer, number: str, *, exclude_pk: int | None
) -> None:
    taken = (
        Authorization.objects.filter(agency_id=agency_id, payer=payer, number__iexact=number)
        .exclude(pk=exclude_pk or 0)
        .exists()
    )
    if taken:
        raise BillingSetupError(
            f"{payer.name} already has an authorization numbered “{number}”.", field="number"
        )


def units_used(authorization: Authorization) -> int:
    """Units of the authorization taken by charges that are not void."""
    return authorization_units_used(authorization)


def authorization_create(
    *, agency: Agency, by: User, details: AuthorizationDetails
) -> Authorization:
    """Record units a payer authorised for a client and codes between two dates."""
    require_billing_admin_of(agency.pk, by)
    number = _checked_authorization(details, agency_id=agency.pk, by=by)
    with transaction.atomic():
        _check_number_free(agency.pk, details.payer, number, exclude_pk=None)
        authorization = Authorization(
            agency=agency,
            client=details.client,
            payer=details.payer,
            number=number,
            units=details.units,
            start_on=details.start_on,
            end_on=details.end_on,
            note=details.note.strip(),
        )
        authorization.full_clean(validate_unique=False, validate_constraints=False)
        authorization.save()
        authorization.service_codes.set(details.service_codes)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=authorization,
            client_id=details.client.pk,
            detail={
                "number": number,
                "payer": details.payer.pk,
                "codes": sorted(code.label for code in details.service_codes),
                "units": details.units,
            },
        )
        held_charges_recheck(by=by, client_id=details.client.pk)
    return authorization


def authorization_update(
    *, authorization: Authorization, by: User, details: AuthorizationDetails
) -> Authorization:
    """Correct or extend an authorization. Its client and payer stay once charges use it, and
    its units cannot drop below what is already used."""
    require_billing_admin_of(authorization.agency_id, by)
    number = _checked_authorization(details, agency_id=authorization.agency_id, by=by)
    with transaction.atomic():
        authorization = Authorization.objects.select_for_update().get(pk=authorization.pk)
        used = units_used(authorization)
        moved = (details.client.pk, details.payer.pk) != (
            authorization.client_id,
            authorization.payer_id,
        )
        if moved and Charge.objects.filter(authorization=authorization).exists():
            raise BillingSetupError(
                "Charges already use this authorization, so its client and payer stay. "
                "Record a new authorization instead.",
                field="client" if details.client.pk != authorization.client_id else "payer",
            )
        if details.units < used:
            raise BillingSetupError(
                f"{used} units are already used; the authorization cannot be for fewer.",
                field="units",
            )
        _check_number_free(
            authorization.agency_id, details.payer, number, exclude_pk=authorization.pk
        )
        wanted = {
            "client": details.client,
            "payer": details.payer,
            "number": number,
            "units": details.units,
            "start_on": details.start_on,
            "end_on": details.end_on,
            "note": details.note.strip(),
        }
        changed = [
            field for field, value in wanted.items() if getattr(authorization, field) != value
        ]
        for field in changed:
            setattr(authorization, field, wanted[field])
        if changed:
            authorization.full_clean(validate_unique=False, validate_constraints=False)
            authorization.save(update_fields=changed)
        old_codes = set(authorization.service_codes.values_list("pk", flat=True))
        if old_codes != {code.pk for code in details.service_codes}:
            authorization.service_codes.set(details.service_codes)
            changed.append("service_codes")
        if changed:
            audit_record(
                actor=by,
                action=Action.UPDATE,
                obj=authorization,
                client_id=authorization.client_id,
                detail={"fields": changed},
            )
            held_charges_recheck(by=by, client_id=authorization.client_id)
    return authorization


# ---------------------------------------------------------------------------- claim settings


CLAIM_SETTINGS_FIELDS = (
    "submitter_id",
    "submitter_contact",
    "submitter_phone",
    "receiver_name",
    "receiver_id",
    "interchange_sender_id",
    "interchange_receiver_id",
    "taxonomy_code",
    "is_test",
)


def claim_settings_save(*, agency: Agency, by: User, **fields: Any) -> ClaimSettings:
    """Create or change the agency's electronic-claims identity (one set per agency).

    The control number is not set here: claim batches move it on.
    """
    require_billing_admin_of(agency.pk, by)
    unknown = set(fields) - set(CLAIM_SETTINGS_FIELDS)
    if unknown:
        raise BillingSetupError(
            f"These settings cannot be changed here: {', '.join(sorted(unknown))}."
        )
    with transaction.atomic():
        settings = ClaimSettings.objects.select_for_update().filter(agency=agency).first()
        if settings is None:
            settings = ClaimSettings(agency=agency, **fields)
            settings.full_clean(validate_unique=False, validate_constraints=False)
            settings.save()
            audit_record(
                actor=by, action=Action.CREATE, obj=settings, detail={"fields": sorted(fields)}
            )
        else:
            _save_changes(settings, fields, by=by)
    return settings


# ---------------------------------------------------------------------------- the standard codes


@cache
def standard_codes() -> list[dict[str, Any]]:
    """The standard codes to seed a catalogue with (data/service_codes.json)."""
    raw = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    codes: list[dict[str, Any]] = raw["codes"]
    return codes


def catalogue_seed(*, agency: Agency, by: User) -> int:
    """Add the standard codes the catalogue lacks, each with an illustrative default rate.

    Codes already there (by code and modifiers) are left as they are; returns how many were added.
    """
    require_billing_admin_of(agency.pk, by)
    added = 0
    with transaction.atomic():
        Agency.objects.select_for_update().filter(pk=agency.pk).first()
        existing = set(ServiceCode.objects.filter(agency=agency).values_list("code", "modifiers"))
        for item in standard_codes():
            details = ServiceCodeDetails(
                code=item["code"],
                modifiers=item.get("modifiers", ""),
                description=item["description"],
                unit_type=item["unit_type"],
                minimum_minutes=item.get("minimum_minutes", 1),
                allowed_credentials=tuple(item.get("allowed_credentials", [])),
                allowed_places=tuple(item.get("allowed_places", [])),
            )
            fields = details.as_fields()
            if (fields["code"], fields["modifiers"]) in existing:
                continue
            service_code = ServiceCode(agency=agency, **fields)
            service_code.full_clean(validate_unique=False, validate_constraints=False)
            service_code.save()
            rate = FeeRate.objects.create(
                agency=agency,
                service_code=service_code,
                payer=None,
                effective_from=datetime.date.fromisoformat(item["rate_effective_from"]),
                rate=Decimal(item["default_rate"]),
            )
            audit_record(
                actor=by,
                action=Action.CREATE,
                obj=service_code,
                detail={
                    "code": service_code.label,
                    "source": "standard codes",
                    "default_rate": str(rate.rate),
                },
            )
            existing.add((fields["code"], fields["modifiers"]))
            added += 1
    return added
