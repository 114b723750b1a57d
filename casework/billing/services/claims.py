"""Claim batches: ready charges (and queued corrections) for one payer → one immutable 837P file."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from casework.billing import x12
from casework.billing.models import Charge, ClaimBatch, ClaimLine, ClaimSettings, Payer
from casework.clients.models import Client
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


def _subscriber(charge: Charge, agency_address: x12.Address) -> x12.Subscriber:
    client: Client = charge.client
    has_address = client.address_line1 and client.city and client.state and client.postal_code
    # Clients without a home (shelter, street) are billed at the agency's address.
    address = (
        x12.Address(
            line1=client.address_line1,
            line2=client.address_line2,
            city=client.city,
            state=client.state,
            postal_code=client.postal_code,
        )
        if has_address
        else agency_address
    )
    coverage = charge.coverage
    assert coverage is not None and charge.payer is not None
    return x12.Subscriber(
        member_id=coverage.member_id,
        last_name=client.legal_last_name,
        first_name=client.legal_first_name,
        birth_date=client.date_of_birth,
        sex=client.sex_for_billing,
        address=address,
        payer_responsibility={1: "P", 2: "S", 3: "T"}.get(coverage.priority, "P"),
        claim_filing_indicator=charge.payer.filing_indicator,
        group_number=coverage.group_number,
    )


def _claim(charge: Charge, line: ClaimLine | None, agency_address: x12.Address) -> x12.Claim:
    pointers = tuple(range(1, min(len(charge.diagnosis_codes), 4) + 1))
    provider = charge.rendering_provider
    service_line = x12.ServiceLine(
        procedure_code=charge.service_code.code,
        modifiers=tuple(charge.modifiers.split()),
        charge=charge.amount,
        units=charge.units,
        service_date=charge.service_date,
        diagnosis_pointers=pointers,
        line_control_number=str(charge.pk),
    )
    return x12.Claim(
        patient_control_number=charge.claim_number,
        place_of_service=charge.place_of_service,
        diagnosis_codes=tuple(charge.diagnosis_codes),
        subscriber=_subscriber(charge, agency_address),
        lines=(service_line,),
        frequency=line.frequency if line else ClaimLine.Frequency.ORIGINAL,
        original_reference=line.original_reference if line else "",
        rendering_provider=x12.RenderingProvider(
            last_name=provider.last_name, first_name=provider.first_name, npi=provider.npi
        ),
        prior_authorization=charge.authorization.number if charge.authorization else "",
    )


def _charges_for_claims() -> QuerySet[Charge]:
    return Charge.objects.select_related(
        "client", "coverage", "payer", "rendering_provider", "service_code", "authorization"
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
        ready = list(
            _charges_for_claims()
            .select_for_update(of=("self",))
            .filter(
                agency=agency,
                payer=request.payer,
                status=Charge.Status.READY,
                service_date__gte=request.service_from,
                service_date__lte=request.service_to,
            )
            .order_by("client_id", "service_date", "id")
        )
        corrections = list(
            ClaimLine.objects.select_for_update(of=("self",))
            .filter(agency=agency, batch__isnull=True, charge__payer=request.payer)
            .order_by("id")
        )
        corrected = {
            c.pk: c
            for c in _charges_for_claims().filter(pk__in=[line.charge_id for line in corrections])
        }
        if not ready and not corrections:
            raise BatchError(
                f"No charges for {request.payer.name} are ready to bill between "
                f"{request.service_from:%Y-%m-%d} and {request.service_to:%Y-%m-%d}."
            )
        agency_address = _agency_address(agency)
        claims = [_claim(charge, None, agency_address) for charge in ready]
        claims += [_claim(corrected[line.charge_id], line, agency_address) for line in corrections]
        settings, number = _next_control_number(agency)
        content = _render(agency, settings, request.payer, number, claims)
        batch = ClaimBatch.objects.create(
            agency=agency,
            payer=request.payer,
            service_from=request.service_from,
            service_to=request.service_to,
            control_number=number,
            content=content,
            sha256=hashlib.sha256(content.encode("ascii")).hexdigest(),
            claim_count=len(claims),
            total=sum((c.amount for c in ready), Decimal("0.00"))
            + sum((line.amount for line in corrections), Decimal("0.00")),
            is_test=settings.is_test,
            created_by=by,
        )
        ClaimLine.objects.bulk_create(
            [
                ClaimLine(
                    agency=agency,
                    batch=batch,
                    charge=charge,
                    frequency=ClaimLine.Frequency.ORIGINAL,
                    amount=charge.amount,
                    requested_by=by,
                )
                for charge in ready
            ],
            batch_size=2000,
        )
        ClaimLine.objects.filter(pk__in=[line.pk for line in corrections]).update(batch=batch)
        Charge.objects.filter(
            claim_lines__batch=batch, claim_lines__frequency=ClaimLine.Frequency.ORIGINAL
        ).update(status=Charge.Status.BILLED, updated_at=timezone.now())
        submission_complete(submission, batch.pk)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=batch,
            detail={"claims": len(claims), "payer": request.payer.pk, "control": number},
        )
    return batch


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
