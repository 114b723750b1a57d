"""Claim batches: ready charges (and queued corrections) for one payer → one immutable 837P file."""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from casework.billing import x12
from casework.billing.models import (
    Charge,
    ClaimBatch,
    ClaimLine,
    ClaimSettings,
    Payer,
    claim_number,
)
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import Agency, User

BATCH_CREATE = "claim_batch_create"  # idempotency purpose
MAX_CONTROL_NUMBER = 999_999_999


class BatchError(Exception):
    """A batch that cannot be made, with what to fix."""


@dataclass(frozen=True)
class BatchRequest:
    payer: Payer
    service_from: datetime.date
    service_to: datetime.date


def _agency_address(agency: Agency) -> x12.Address:
    return x12.Address(
        line1=agency.address_line1,
        line2=agency.address_line2,
        city=agency.city,
        state=agency.state,
        postal_code=agency.postal_code,
    )


def setup_problems(agency: Agency, payer: Payer) -> list[str]:
    """What the agency or payer set-up lacks before any claim file can be written."""
    problems = []
    if not hasattr(agency, "claim_settings"):
        problems.append("Fill in the claim settings (submitter and receiver ids).")
    if not agency.npi:
        problems.append("Enter the agency's NPI in the agency settings.")
    if not agency.tax_id:
        problems.append("Enter the agency's federal tax id (EIN) in the agency settings.")
    digits = "".join(ch for ch in agency.postal_code if ch.isdigit())
    if not (agency.address_line1 and agency.city and agency.state) or len(digits) != 9:
        problems.append(
            "Enter the agency's street address with its 9-digit ZIP code (e.g. 98101-1234); "
            "claims require it for the billing provider."
        )
    if not payer.payer_id:
        problems.append(f"Enter the X12 payer id of {payer.name}.")
    if not payer.bills_electronically:
        problems.append(f"{payer.name} is not billed electronically.")
    return problems


# What a claim needs of a charge, read as plain rows: 100,000 model instances cost seconds.
CLAIM_FIELDS = (
    "id",
    "agency_id",
    "amount",
    "units",
    "service_date",
    "modifiers",
    "place_of_service",
    "diagnosis_codes",
    "service_code__code",
    "authorization__number",
    "coverage__member_id",
    "coverage__group_number",
    "coverage__priority",
    "payer__filing_indicator",
    "client_id",
    "client__legal_first_name",
    "client__legal_last_name",
    "client__date_of_birth",
    "client__sex_for_billing",
    "client__address_line1",
    "client__address_line2",
    "client__city",
    "client__state",
    "client__postal_code",
    "rendering_provider_id",
    "rendering_provider__first_name",
    "rendering_provider__last_name",
    "rendering_provider__npi",
)
Row = dict[str, Any]


def _subscriber(row: Row, agency_address: x12.Address) -> x12.Subscriber:
    has_address = all(
        row[f"client__{f}"] for f in ("address_line1", "city", "state", "postal_code")
    )
    # Clients without a home (shelter, street) are billed at the agency's address.
    address = (
        x12.Address(
            line1=row["client__address_line1"],
            line2=row["client__address_line2"],
            city=row["client__city"],
            state=row["client__state"],
            postal_code=row["client__postal_code"],
        )
        if has_address
        else agency_address
    )
    return x12.Subscriber(
        member_id=row["coverage__member_id"],
        last_name=row["client__legal_last_name"],
        first_name=row["client__legal_first_name"],
        birth_date=row["client__date_of_birth"],
        sex=row["client__sex_for_billing"],
        address=address,
        payer_responsibility={1: "P", 2: "S", 3: "T"}.get(row["coverage__priority"], "P"),
        claim_filing_indicator=row["payer__filing_indicator"],
        group_number=row["coverage__group_number"],
    )


class _ClaimBuilder:
    """Turns charge rows into claims, sharing one subscriber and provider object per person."""

    def __init__(self, agency_address: x12.Address) -> None:
        self.agency_address = agency_address
        self.subscribers: dict[tuple[int, str], x12.Subscriber] = {}
        self.providers: dict[int, x12.RenderingProvider] = {}

    def claim(self, row: Row, correction: ClaimLine | None = None) -> x12.Claim:
        key = (row["client_id"], row["coverage__member_id"])
        subscriber = self.subscribers.get(key) or self.subscribers.setdefault(
            key, _subscriber(row, self.agency_address)
        )
        provider = self.providers.get(row["rendering_provider_id"]) or self.providers.setdefault(
            row["rendering_provider_id"],
            x12.RenderingProvider(
                last_name=row["rendering_provider__last_name"],
                first_name=row["rendering_provider__first_name"],
                npi=row["rendering_provider__npi"],
            ),
        )
        diagnoses = tuple(row["diagnosis_codes"])
        line = x12.ServiceLine(
            procedure_code=row["service_code__code"],
            modifiers=tuple(row["modifiers"].split()),
            charge=row["amount"],
            units=row["units"],
            service_date=row["service_date"],
            diagnosis_pointers=tuple(range(1, min(len(diagnoses), 4) + 1)),
            line_control_number=str(row["id"]),
        )
        return x12.Claim(
            patient_control_number=claim_number(row["agency_id"], row["id"]),
            place_of_service=row["place_of_service"],
            diagnosis_codes=diagnoses,
            subscriber=subscriber,
            lines=(line,),
            frequency=correction.frequency if correction else ClaimLine.Frequency.ORIGINAL,
            original_reference=correction.original_reference if correction else "",
            rendering_provider=provider,
            prior_authorization=row["authorization__number"] or "",
        )


def _id_set(ids: list[int]) -> tuple[str, Any]:
    """SQL that matches a column against many ids with one parameter, on either database."""
    if connection.vendor == "postgresql":
        # unnest, not = ANY(array): PostgreSQL hashes a subquery but scans an array per row.
        return "IN (SELECT unnest(%s::bigint[]))", ids
    return "IN (SELECT value FROM json_each(%s))", json.dumps(ids)


def _bill_charges(batch: ClaimBatch, rows: list[Row], by: User) -> None:
    """One original claim line per charge, and the charges marked billed: two statements in
    all, because row-by-row writes cost most of the time of a 100,000-line batch."""
    if not rows:
        return
    match, ids = _id_set([row["id"] for row in rows])
    now = timezone.now()
    lines, charges = ClaimLine._meta.db_table, Charge._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {lines} (agency_id, batch_id, charge_id, frequency, "  # noqa: S608 - names from the models
            "original_reference, amount, requested_by_id, created_at) "
            f"SELECT agency_id, %s, id, %s, '', amount, %s, %s FROM {charges} WHERE id {match}",
            [batch.pk, ClaimLine.Frequency.ORIGINAL, by.pk, now, ids],
        )
        cursor.execute(
            f"UPDATE {charges} SET status = %s, updated_at = %s "  # noqa: S608
            f"WHERE status = %s AND id {match}",
            [Charge.Status.BILLED, now, Charge.Status.READY, ids],
        )
        if cursor.rowcount != len(rows):
            raise BatchError(
                "Some charges changed while the batch was being made (voided or held); "
                "nothing was billed. Build the batch again."
            )


def _next_control_number(agency: Agency) -> tuple[ClaimSettings, int]:
    settings = ClaimSettings.objects.select_for_update().get(agency=agency)
    number = settings.next_control_number
    if number > MAX_CONTROL_NUMBER:
        raise BatchError("The interchange control numbers are used up; ask your clearinghouse.")
    settings.next_control_number = number + 1
    settings.save(update_fields=["next_control_number"])
    return settings, number


def _render(
    agency: Agency, settings: ClaimSettings, payer: Payer, number: int, claims: list[x12.Claim]
) -> str:
    claim_file = x12.ClaimFile(
        envelope=x12.Envelope(
            sender_id=settings.interchange_sender_id,
            receiver_id=settings.interchange_receiver_id,
            interchange_control_number=number,
            group_control_number=number,
            created_at=timezone.now().astimezone(agency.tzinfo),
            usage="T" if settings.is_test else "P",
        ),
        submitter=x12.Submitter(
            name=agency.name,
            identifier=settings.submitter_id,
            contact_name=settings.submitter_contact,
            phone=settings.submitter_phone,
        ),
        receiver=x12.Receiver(name=settings.receiver_name, identifier=settings.receiver_id),
        billing_provider=x12.BillingProvider(
            name=agency.name,
            npi=agency.npi,
            tax_id=agency.tax_id,
            address=_agency_address(agency),
            taxonomy_code=settings.taxonomy_code,
        ),
        payer=x12.PayerParty(name=payer.name, payer_id=payer.payer_id),
        claims=tuple(claims),
        transaction_control_number=number,
    )
    try:
        return x12.render_837p(claim_file)
    except x12.ClaimFileError as error:
        raise BatchError(f"The claim file could not be written: {error}.") from error


def claim_batch_create(
    *, agency: Agency, by: User, request: BatchRequest, submission_key: str = ""
) -> ClaimBatch:
    """Claim every ready charge of the payer in the dates, plus queued corrections, in one file."""
    if request.service_from > request.service_to:
        raise BatchError("The first service date is after the last.")
    problems = setup_problems(agency, request.payer)
    if problems:
        raise BatchError(" ".join(problems))
    with transaction.atomic():
        submission = submission_claim(
            agency=agency, by=by, purpose=BATCH_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return ClaimBatch.objects.get(pk=submission.earlier_object_id, agency=agency)
        # Taking the control number first makes an agency's batches one at a time. The ready
        # charges are not row-locked (100,000 row locks cost seconds on PostgreSQL): marking
        # them billed checks they are all still ready, and anything changed meanwhile undoes
        # the whole batch.
        settings, number = _next_control_number(agency)
        ready, corrections = _claimable(agency, request)
        content, ready, corrections, held = _write_file(
            agency, settings, request.payer, number, ready, corrections, by
        )
        batch = None
        if content:
            batch = _record_batch(
                agency, request, settings, number, content, ready, corrections, by
            )
            submission_complete(submission, batch.pk)
    if batch is None:  # every claim was unwritable: the holds are kept, no file is made
        raise BatchError(
            f"No claim could be written: {held} charge(s) are now in billing holds with the reason."
        )
    return batch


def _claimable(agency: Agency, request: BatchRequest) -> tuple[list[Row], list[ClaimLine]]:
    """The payer's ready charges in the dates, and its queued replacements and voids."""
    ready = list(
        Charge.objects.filter(
            agency=agency,
            payer=request.payer,
            status=Charge.Status.READY,
            service_date__gte=request.service_from,
            service_date__lte=request.service_to,
        )
        .order_by("client_id", "service_date", "id")
        .values(*CLAIM_FIELDS)
    )
    corrections = list(
        ClaimLine.objects.select_for_update(of=("self",))
        .filter(agency=agency, batch__isnull=True, charge__payer=request.payer)
        .order_by("id")
    )
    if not ready and not corrections:
        raise BatchError(
            f"No charges for {request.payer.name} are ready to bill between "
            f"{request.service_from:%Y-%m-%d} and {request.service_to:%Y-%m-%d}."
        )
    return ready, corrections


def _write_file(
    agency: Agency,
    settings: ClaimSettings,
    payer: Payer,
    number: int,
    ready: list[Row],
    corrections: list[ClaimLine],
    by: User,
) -> tuple[str, list[Row], list[ClaimLine], int]:
    """The 837P text, and what went into it; charges whose claim cannot be written are held."""
    corrected = {
        row["id"]: row
        for row in Charge.objects.filter(pk__in=[line.charge_id for line in corrections]).values(
            *CLAIM_FIELDS
        )
    }
    builder = _ClaimBuilder(_agency_address(agency))
    claims = [builder.claim(row) for row in ready]
    claims += [builder.claim(corrected[line.charge_id], line) for line in corrections]
    try:
        return _render(agency, settings, payer, number, claims), ready, corrections, 0
    except BatchError:
        # One charge's bad data (a typo in a ZIP code…) must not stop everyone's claims:
        # hold the charges whose claim cannot be written, and bill the rest.
        bad = _hold_unwritable(agency, settings, payer, claims, by)
        ready = [row for row in ready if row["id"] not in bad]
        corrections = [line for line in corrections if line.charge_id not in bad]
        claims = [c for c in claims if _charge_id(c) not in bad]
        content = _render(agency, settings, payer, number, claims) if claims else ""
        return content, ready, corrections, len(bad)


def _record_batch(
    agency: Agency,
    request: BatchRequest,
    settings: ClaimSettings,
    number: int,
    content: str,
    ready: list[Row],
    corrections: list[ClaimLine],
    by: User,
) -> ClaimBatch:
    batch = ClaimBatch.objects.create(
        agency=agency,
        payer=request.payer,
        service_from=request.service_from,
        service_to=request.service_to,
        control_number=number,
        content=content,
        sha256=hashlib.sha256(content.encode("ascii")).hexdigest(),
        claim_count=len(ready) + len(corrections),
        total=sum((row["amount"] for row in ready), Decimal("0.00"))
        + sum((line.amount for line in corrections), Decimal("0.00")),
        is_test=settings.is_test,
        created_by=by,
    )
    _bill_charges(batch, ready, by)
    ClaimLine.objects.filter(pk__in=[line.pk for line in corrections]).update(batch=batch)
    _void_charges_of_void_claims(batch)
    audit_record(
        actor=by,
        action=Action.CREATE,
        obj=batch,
        detail={"claims": batch.claim_count, "payer": request.payer.pk, "control": number},
    )
    return batch


def _charge_id(claim: x12.Claim) -> int:
    return int(claim.lines[0].line_control_number)


def _hold_unwritable(
    agency: Agency, settings: ClaimSettings, payer: Payer, claims: list[x12.Claim], by: User
) -> set[int]:
    """Hold each charge whose claim alone cannot be written, with the writer's reason."""
    bad: dict[int, str] = {}
    for claim in claims:
        try:
            _render(agency, settings, payer, 1, [claim])
        except BatchError as error:
            bad[_charge_id(claim)] = str(error)
    for charge in Charge.objects.select_for_update().filter(pk__in=bad, status=Charge.Status.READY):
        charge.status = Charge.Status.HELD
        charge.hold_reasons = [{"code": "claim_data", "message": bad[charge.pk]}]
        charge.save(update_fields=["status", "hold_reasons", "updated_at"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=charge,
            client_id=charge.client_id,
            detail={"holds": charge.hold_reasons},
        )
    return set(bad)


def _void_charges_of_void_claims(batch: ClaimBatch) -> None:
    """A void claim sent to the payer ends the charge: it no longer counts anywhere."""
    Charge.objects.filter(
        claim_lines__batch=batch, claim_lines__frequency=ClaimLine.Frequency.VOID
    ).update(
        status=Charge.Status.VOID,
        void_reason=f"Void claim sent in batch {batch.control_number:09d}",
        updated_at=timezone.now(),
    )


def claim_batch_mark_submitted(*, batch: ClaimBatch, by: User) -> ClaimBatch:
    """Record that the file was sent to the payer or clearinghouse (once)."""
    with transaction.atomic():
        locked = ClaimBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.submitted_at is None:
            locked.submitted_at = timezone.now()
            locked.submitted_by = by
            locked.save(update_fields=["submitted_at", "submitted_by"])
            audit_record(actor=by, action=Action.UPDATE, obj=locked, detail={"submitted": True})
    return locked


def audit_batch_download(*, batch: ClaimBatch, by: User) -> None:
    """A claim file holds PHI of every client in it: each download is recorded."""
    audit_record(actor=by, action=Action.EXPORT, obj=batch, detail={"file": batch.filename})
