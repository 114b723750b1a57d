"""Charges: what a signed billable note earns, made once, and held with reasons when it cannot be billed.

`charge_quote` works out the charge from facts (coverage, episode, diagnoses, credential,
payer rule, fee schedule, authorization) without writing anything, so the note form can show
it before signing. `charge_for_signed_note` writes it, inside the signing transaction.
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, Sum

from casework.billing.models import (
    Authorization,
    Charge,
    ClaimLine,
    Payer,
    PayerCodeRule,
    ServiceCode,
    UnitRule,
)
from casework.billing.selectors.catalogue import (
    WARNING_PERCENT,
    authorization_units_used,
    rate_on,
)
from casework.billing.units import units_for_minutes
from casework.clients.models import Coverage, Diagnosis, Episode
from casework.core.audit import Action, audit_record
from casework.core.catalogues import credential_types
from casework.core.models import Credential, User

if TYPE_CHECKING:
    from casework.notes.models import Note

CENT = Decimal("0.01")
MAX_DIAGNOSES = 12


class ChargeError(Exception):
    """A billing change that cannot be made, with a message for the person who asked."""


@dataclass(frozen=True)
class Hold:
    """Why a charge cannot be billed yet; the code lets reports group them."""

    code: str
    message: str


@dataclass(frozen=True)
class ChargeQuote:
    """The charge a note makes (or would make) and everything that stands in its way."""

    service_code: ServiceCode
    minutes: int
    units: int
    unit_rule: str
    rate: Decimal | None
    payer: Payer | None = None
    coverage: Coverage | None = None
    authorization: Authorization | None = None
    diagnosis_codes: tuple[str, ...] = ()
    holds: tuple[Hold, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def amount(self) -> Decimal:
        return ((self.rate or Decimal(0)) * self.units).quantize(CENT, rounding=ROUND_HALF_UP)


def _coverage_on(note: Note) -> Coverage | None:
    coverages = (
        Coverage.objects.filter(client_id=note.client_id, start_on__lte=note.service_date)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=note.service_date))
        .select_related("payer")
        .order_by("priority", "-start_on")
    )
    return coverages.first()


def _has_open_episode(note: Note) -> bool:
    return (
        Episode.objects.filter(client_id=note.client_id, admitted_on__lte=note.service_date)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=note.service_date))
        .exists()
    )


def _diagnoses_on(note: Note) -> tuple[str, ...]:
    """Active diagnoses on the service date, principal first (at most 12, as the 837P allows)."""
    rows = (
        Diagnosis.objects.filter(client_id=note.client_id)
        .filter(Q(onset_on__isnull=True) | Q(onset_on__lte=note.service_date))
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gte=note.service_date))
        .order_by("rank", "code")
        .values_list("code", flat=True)
    )
    return tuple(dict.fromkeys(rows))[:MAX_DIAGNOSES]


def credential_problem(*, author: User, code: ServiceCode, day: datetime.date) -> str | None:
    """Why the author may not render this code on this day, or None when they may."""
    credentials = list(Credential.objects.filter(user=author))
    current = [c for c in credentials if c.is_current_on(day) and not c.attestation_missing]
    if code.allowed_credentials:
        current = [c for c in current if c.kind in code.allowed_credentials]
    for credential in current:
        kind = credential_types().get(credential.kind)
        if kind is None:
            continue
        if kind.billable_from and day < kind.billable_from:
            continue
        if kind.billable_until and day > kind.billable_until:
            continue
        return None
    if not credentials:
        return f"{author.full_name} has no credential on file."
    if code.allowed_credentials:
        return (
            f"{author.full_name} holds no credential that may bill {code.label} "
            f"on {day:%Y-%m-%d} (current, attested, and billable on that date)."
        )
    return f"{author.full_name}'s credential is not current and attested on {day:%Y-%m-%d}."


def _unit_rule(payer: Payer | None, code: ServiceCode) -> str:
    if payer is None:
        return str(Payer._meta.get_field("unit_rule").get_default())
    override = (
        PayerCodeRule.objects.filter(payer=payer, service_code=code)
        .values_list("unit_rule", flat=True)
        .first()
    )
    return override or payer.unit_rule


def _authorization_check(
    note: Note, payer: Payer, code: ServiceCode, units: int, *, lock: bool
) -> tuple[Authorization | None, list[Hold], list[str]]:
    candidates = Authorization.objects.filter(
        client_id=note.client_id, payer=payer, service_codes=code
    ).order_by("end_on", "id")
    if lock:
        candidates = candidates.select_for_update()
    covering = [a for a in candidates if a.covers(note.service_date)]
    if not covering:
        if not payer.requires_authorization:
            return None, [], []
        ended = [a for a in candidates if a.end_on < note.service_date]
        if ended:
            return (
                None,
                [
                    Hold(
                        "authorization_expired",
                        f"Authorization {ended[-1].number} ended on {ended[-1].end_on:%Y-%m-%d}.",
                    )
                ],
                [],
            )
        return (
            None,
            [Hold("no_authorization", f"{payer.name} needs an authorization for {code.label}.")],
            [],
        )
    for authorization in covering:
        used = authorization_units_used(authorization, excluding_note_id=note.pk)
        if authorization.units - used >= units:
            return authorization, [], _authorization_warnings(authorization, used + units)
    last = covering[-1]
    left = max(last.units - authorization_units_used(last, excluding_note_id=note.pk), 0)
    hold = Hold(
        "authorization_exhausted",
        f"Authorization {last.number} has {left} units left; this service needs {units}.",
    )
    # Not linked: a charge waiting for a new authorization must not use up the old one.
    return None, [hold], []


def _authorization_warnings(authorization: Authorization, used: int) -> list[str]:
    percent = 100 * used // authorization.units
    if percent < WARNING_PERCENT:
        return []
    return [
        f"Authorization {authorization.number} is {percent} % used "
        f"({authorization.units - used} units left)."
    ]


def _signed_before(note: Note) -> Q:
    """Charges of notes signed before this one (all of them while it is a draft)."""
    if note.signed_at is None:
        return ~Q(note_id=note.pk)
    return Q(note__signed_at__lt=note.signed_at) | Q(
        note__signed_at=note.signed_at, note_id__lt=note.pk
    )


def _units(note: Note, code: ServiceCode, rule: str, minutes: int) -> int:
    """Units for this contact. Under the CMS rule the day's minutes for the client and code
    count together (DOMAIN.md): this contact gets what it adds to the day's total."""

    def units(total: int) -> int:
        return units_for_minutes(
            minutes=total, unit_type=code.unit_type, rule=rule, minimum_minutes=code.minimum_minutes
        )

    if rule != UnitRule.CMS_8_MINUTE:
        return units(minutes)
    earlier = (
        (
            Charge.objects.filter(
                client_id=note.client_id, service_code=code, service_date=note.service_date
            )
            .exclude(status=Charge.Status.VOID)
            .filter(_signed_before(note))
            .aggregate(total=Sum("minutes"))["total"]
        )
        or 0
    )
    return units(earlier + minutes) - units(earlier)


def charge_quote(*, note: Note, lock_authorization: bool = False) -> ChargeQuote | None:
    """The charge this note makes when signed, or None when it is not billable at all."""
    from casework.notes.models import NEVER_BILLABLE_CONTACTS

    code = note.service_code
    if code is None or not code.is_billable or note.contact_type in NEVER_BILLABLE_CONTACTS:
        return None
    minutes = note.duration_minutes or 0
    holds: list[Hold] = []
    warnings: list[str] = []

    coverage = _coverage_on(note)
    payer = coverage.payer if coverage else None
    if coverage is None:
        holds.append(Hold("no_coverage", f"No active coverage on {note.service_date:%Y-%m-%d}."))
    if not _has_open_episode(note):
        holds.append(
            Hold("no_episode", f"No open episode of care on {note.service_date:%Y-%m-%d}.")
        )
    diagnoses = _diagnoses_on(note)
    if not diagnoses:
        holds.append(Hold("no_diagnosis", "No active diagnosis to claim the service under."))
    problem = credential_problem(author=note.author, code=code, day=note.service_date)
    if problem:
        holds.append(Hold("credential", problem))
    if not note.author.npi:
        holds.append(Hold("no_npi", f"{note.author.full_name} has no NPI on file."))
    if code.allowed_places and note.place_of_service not in code.allowed_places:
        holds.append(
            Hold(
                "place",
                f"{code.label} is not billable at place of service {note.place_of_service}.",
            )
        )

    rule = _unit_rule(payer, code)
    units = _units(note, code, rule, minutes)
    if units == 0:
        later = (
            " (later contacts that day may add up to one)" if rule == UnitRule.CMS_8_MINUTE else ""
        )
        holds.append(
            Hold("zero_units", f"{minutes} minutes give no billable unit of {code.label}{later}.")
        )
    rate = rate_on(service_code=code, payer=payer, day=note.service_date)
    if rate is None or rate <= 0:
        holds.append(Hold("no_rate", f"No rate for {code.label} on {note.service_date:%Y-%m-%d}."))

    authorization = None
    if payer is not None and units > 0:
        authorization, auth_holds, auth_warnings = _authorization_check(
            note, payer, code, units, lock=lock_authorization
        )
        holds += auth_holds
        warnings += auth_warnings
    if note.cosign_required and note.cosigned_at is None:
        holds.append(Hold("cosign", "Waiting for a supervisor's co-signature."))
    return ChargeQuote(
        service_code=code,
        minutes=minutes,
        units=units,
        unit_rule=rule,
        rate=rate,
        payer=payer,
        coverage=coverage,
        authorization=authorization,
        diagnosis_codes=diagnoses,
        holds=tuple(holds),
        warnings=tuple(warnings),
    )


def _apply_quote(charge: Charge, quote: ChargeQuote) -> None:
    charge.payer = quote.payer
    charge.coverage = quote.coverage
    charge.authorization = quote.authorization
    charge.minutes = quote.minutes
    charge.units = quote.units
    charge.unit_rule = quote.unit_rule
    charge.rate = quote.rate or Decimal("0.00")
    charge.amount = quote.amount
    charge.diagnosis_codes = list(quote.diagnosis_codes)
    charge.hold_reasons = [{"code": h.code, "message": h.message} for h in quote.holds]
    charge.status = Charge.Status.HELD if quote.holds else Charge.Status.READY


def charge_for_signed_note(*, note: Note, by: User) -> Charge | None:
    """The note's one charge: created on first call, returned unchanged on every later call."""
    existing = Charge.objects.filter(note_id=note.pk).first()
    if existing is not None:
        return existing
    quote = charge_quote(note=note, lock_authorization=True)
    if quote is None:
        return None
    charge = Charge(
        agency_id=note.agency_id,
        note=note,
        client_id=note.client_id,
        service_code=quote.service_code,
        rendering_provider_id=note.author_id,
        service_date=note.service_date,
        place_of_service=note.place_of_service,
        modifiers=quote.service_code.modifiers,
    )
    _apply_quote(charge, quote)
    charge.save(force_insert=True)
    audit_record(
        actor=by,
        action=Action.CREATE,
        obj=charge,
        client_id=note.client_id,
        detail={"status": charge.status, "units": charge.units, "holds": charge.hold_reasons},
    )
    return charge


def charge_recheck(*, charge: Charge, by: User) -> Charge:
    """Work a held charge out again from today's facts; it is released when nothing holds it."""
    with transaction.atomic():
        locked = (
            Charge.objects.select_for_update(of=("self",))
            .select_related("note__author", "note__service_code")
            .get(pk=charge.pk)
        )
        if locked.status != Charge.Status.HELD:
            return locked
        quote = charge_quote(note=locked.note, lock_authorization=True)
        if quote is None:
            raise ChargeError("This note is no longer billable; void the charge instead.")
        before = locked.hold_reasons
        _apply_quote(locked, quote)
        locked.save()
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"recheck": True, "before": before, "after": locked.hold_reasons},
        )
    return locked


def charge_void(*, charge: Charge, by: User, reason: str) -> Charge:
    """Void an unbilled charge; a billed one needs a void claim to the payer instead."""
    reason = reason.strip()
    if not reason:
        raise ChargeError("Say why the charge is void.")
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.status == Charge.Status.VOID:
            return locked
        if locked.status == Charge.Status.BILLED:
            raise ChargeError(
                "This charge was already claimed: send a void claim to the payer instead."
            )
        locked.status = Charge.Status.VOID
        locked.void_reason = reason[:300]
        locked.save(update_fields=["status", "void_reason", "updated_at"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"status": "void"},
        )
    return locked


def claim_correction_request(
    *, charge: Charge, by: User, frequency: str, original_reference: str
) -> ClaimLine:
    """Queue a replacement (7) or void (8) of a claimed charge for the payer's next batch."""
    original_reference = original_reference.strip()
    if frequency not in (ClaimLine.Frequency.REPLACEMENT, ClaimLine.Frequency.VOID):
        raise ChargeError("Choose a replacement or a void claim.")
    if not original_reference:
        raise ChargeError(
            "Enter the payer's claim number of the original claim (from the remittance)."
        )
    with transaction.atomic():
        locked = Charge.objects.select_for_update().get(pk=charge.pk)
        if locked.status != Charge.Status.BILLED:
            raise ChargeError(
                "Only a charge that was claimed can be replaced or voided with the payer."
            )
        if ClaimLine.objects.filter(charge=locked, batch__isnull=True).exists():
            raise ChargeError("A correction for this charge is already waiting for the next batch.")
        line = ClaimLine.objects.create(
            agency_id=locked.agency_id,
            charge=locked,
            frequency=frequency,
            original_reference=original_reference[:50],
            amount=locked.amount,
            requested_by=by,
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=line,
            client_id=locked.client_id,
            detail={"frequency": frequency},
        )
    return line


def held_charges_recheck(
    *, by: User, client_id: int | None = None, author_id: int | None = None
) -> int:
    """Work out again the held charges a corrected fact may release (coverage, a diagnosis, an
    episode, an authorization for the client; a credential or NPI for the author). Returns how
    many were released."""
    held = Charge.objects.filter(status=Charge.Status.HELD)
    if client_id is not None:
        held = held.filter(client_id=client_id)
    if author_id is not None:
        held = held.filter(rendering_provider_id=author_id)
    released = 0
    for charge in held.order_by("service_date", "id")[:200]:
        with contextlib.suppress(ChargeError):  # no longer billable: it waits for billing
            released += charge_recheck(charge=charge, by=by).status == Charge.Status.READY
    return released
