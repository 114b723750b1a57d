"""Reads for the billing work: charges by status, held charges with reasons, claim batches."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Count, QuerySet, Sum

from casework.billing.models import Charge, ClaimBatch, ClaimLine, Payer
from casework.core import access
from casework.core.models import User


def charges_in_agency(user: User) -> QuerySet[Charge]:
    return Charge.objects.filter(agency_id=access.agency_id_of(user))


def charge_list(
    *,
    user: User,
    status: str = "",
    payer_id: int | None = None,
    service_from: datetime.date | None = None,
    service_to: datetime.date | None = None,
) -> QuerySet[Charge]:
    charges = charges_in_agency(user).select_related(
        "client", "service_code", "payer", "rendering_provider"
    )
    if status:
        charges = charges.filter(status=status)
    if payer_id:
        charges = charges.filter(payer_id=payer_id)
    if service_from:
        charges = charges.filter(service_date__gte=service_from)
    if service_to:
        charges = charges.filter(service_date__lte=service_to)
    return charges.order_by("-service_date", "-id")


def ready_summary(*, user: User) -> list[dict[str, Any]]:
    """Per payer: how many charges are ready to bill, their total and date span."""
    return list(
        charges_in_agency(user)
        .filter(status=Charge.Status.READY)
        .values("payer_id", "payer__name")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("payer__name")
    )


def payers_for_batches(user: User) -> QuerySet[Payer]:
    return Payer.objects.filter(
        agency_id=access.agency_id_of(user), is_active=True, bills_electronically=True
    ).order_by("name")


def batches(*, user: User) -> QuerySet[ClaimBatch]:
    return (
        ClaimBatch.objects.filter(agency_id=access.agency_id_of(user))
        .select_related("payer", "created_by", "submitted_by")
        .defer("content")
        .order_by("-created_at", "-id")
    )


def batch_or_404(user: User, batch_id: int) -> ClaimBatch:
    from django.shortcuts import get_object_or_404

    batch: ClaimBatch = get_object_or_404(
        ClaimBatch.objects.filter(agency_id=access.agency_id_of(user)).select_related("payer"),
        pk=batch_id,
    )
    return batch


def batch_lines(batch: ClaimBatch) -> QuerySet[ClaimLine]:
    return batch.lines.select_related("charge__client", "charge__service_code").order_by("id")


def pending_corrections(*, user: User) -> QuerySet[ClaimLine]:
    return (
        ClaimLine.objects.filter(agency_id=access.agency_id_of(user), batch__isnull=True)
        .select_related("charge__client", "charge__payer", "charge__service_code")
        .order_by("id")
    )
