"""A plan as a PDF the client can take home, and the goals of a caseload as CSV; both audited."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string

from casework.core.audit import Action, audit_record
from casework.core.models import User
from casework.plans.models import ServicePlan
from casework.plans.selectors import GoalRow
from casework.reports.exports import csv_safe

GOALS_HEADER = [
    "client",
    "record number",
    "plan version",
    "plan starts",
    "review due",
    "need area",
    "goal",
    "objective",
    "how we will know",
    "target date",
    "status",
]


def goals_csv(rows: list[GoalRow], *, user: User, scope: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(GOALS_HEADER)
    for row in rows:
        need = row.goal.need
        writer.writerow(
            csv_safe(cell)
            for cell in (
                row.client.display_name,
                row.client.record_number,
                row.plan.number,
                row.plan.starts_on.isoformat(),
                row.plan.review_due_on.isoformat() if row.plan.review_due_on else "",
                need.get_area_display() if need else "",
                row.goal.text,
                row.objective.text,
                row.objective.measure,
                row.objective.target_on.isoformat(),
                row.status,
            )
        )
    audit_record(
        actor=user,
        action=Action.EXPORT,
        object_type="plans.goals",
        detail={
            "scope": scope,
            "rows": len(rows),
            "client_ids": sorted({row.client.pk for row in rows}),  # ids only, never names
        },
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="casework-plan-goals.csv"'
    return response


def plan_pdf(plan: ServicePlan, *, user: User, context: dict[str, Any]) -> HttpResponse:
    """The plan in plain language, rendered by WeasyPrint from an HTML template."""
    try:
        from weasyprint import HTML  # imported here: it loads Pango, which only this needs
    except OSError:
        return HttpResponse(
            "PDFs need the Pango library on the server (Debian: apt-get install "
            "libpango-1.0-0 libpangoft2-1.0-0). The plan page prints from the browser meanwhile.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    html = render_to_string("plans/pdf.html", {"plan": plan, **context})
    pdf = HTML(string=html).write_pdf()
    audit_record(
        actor=user,
        action=Action.EXPORT,
        obj=plan,
        client_id=plan.client_id,
        detail={"format": "pdf"},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="service-plan-{plan.client.record_number}-v{plan.number}.pdf"'
    )
    return response
