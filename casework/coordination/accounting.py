"""The client's accounting of disclosures: everything shared about them in the prior 3 years.

HIPAA (45 CFR 164.528) and 42 CFR 2.24/2.25 let a client ask who received their records; the
list is read from the `Disclosure` rows, which are written once and never change. The PDF is
for the client, so it names the agency, the client and the period, and its export is audited.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from casework.clients.models import Client
from casework.coordination.disclosure import accounting_since
from casework.coordination.models import Consent, Disclosure
from casework.core.audit import Action, audit_record
from casework.core.models import User


@dataclass(frozen=True)
class AccountingRow:
    disclosure: Disclosure
    consents: tuple[Consent, ...]  # the release it relied on first, then any others


@dataclass(frozen=True)
class Accounting:
    client: Client
    since: datetime.date
    until: datetime.date
    rows: list[AccountingRow]


def disclosure_accounting(*, client: Client, today: datetime.date) -> Accounting:
    """Every disclosure of the client made since `accounting_since(today)`, newest first.

    Three queries whatever the number of disclosures: the disclosures with their maker and
    first release, and the further releases they relied on."""
    assert client.agency is not None
    since = accounting_since(today)
    start = datetime.datetime.combine(since, datetime.time.min, tzinfo=client.agency.tzinfo)
    disclosures = list(
        Disclosure.objects.filter(client=client, agency_id=client.agency_id, made_at__gte=start)
        .select_related("made_by", "consent__organization", "consent__person")
        .order_by("-made_at", "-id")
    )
    further_ids = {pk for d in disclosures for pk in d.also_under if isinstance(pk, int)}
    further = (
        {
            c.pk: c
            for c in Consent.objects.filter(pk__in=further_ids, client=client).select_related(
                "organization", "person"
            )
        }
        if further_ids
        else {}
    )
    rows = [
        AccountingRow(d, (d.consent, *(further[pk] for pk in d.also_under if pk in further)))
        for d in disclosures
    ]
    return Accounting(client=client, since=since, until=today, rows=rows)


def pdf_response(*, template: str, context: dict[str, Any], filename: str) -> HttpResponse:
    """An HTML template rendered to PDF by WeasyPrint (releases, letters, the accounting)."""
    try:
        from weasyprint import HTML  # imported here: it loads Pango, which only PDFs need
    except OSError:
        return HttpResponse(
            "PDFs need the Pango library on the server (Debian: apt-get install "
            "libpango-1.0-0 libpangoft2-1.0-0). The page prints from the browser meanwhile.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    pdf = HTML(string=render_to_string(template, context)).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def accounting_pdf(accounting: Accounting, *, user: User) -> HttpResponse:
    """The accounting as a PDF for the client; audited as an export."""
    client = accounting.client
    assert client.agency is not None
    response = pdf_response(
        template="coordination/accounting_pdf.html",
        context={
            "accounting": accounting,
            "client": client,
            "agency": client.agency,
            "generated": timezone.now(),
        },
        filename=f"disclosures-{client.record_number}-{accounting.until:%Y%m%d}.pdf",
    )
    if response.status_code == 200:
        audit_record(
            actor=user,
            action=Action.EXPORT,
            obj=client,
            client_id=client.pk,
            detail={"what": "accounting of disclosures", "rows": len(accounting.rows)},
        )
    return response
