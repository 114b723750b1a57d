"""CSV files of the reports: the same numbers as the pages, one header row, every export audited.

Cells are plain (no currency signs or thousands separators) so spreadsheets read them as
numbers; text a person typed is guarded against formula injection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

from casework.core.audit import Action, audit_record
from casework.core.models import User
from casework.reports import selectors
from casework.reports.selectors import AGE_BUCKETS, Productivity, UnsignedNotes
from casework.reports.selectors_billing import AuthorizationReport, ChargesReport, Tally


def csv_safe(value: Any) -> str:
    """Stop spreadsheet formula injection in text people typed (names, numbers of
    authorizations); numbers we computed stay numbers, minus sign included."""
    if isinstance(value, int | Decimal):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _response(
    *,
    user: User,
    report: selectors.ReportInfo,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    filters: dict[str, str],
    client_ids: Iterable[int] = (),
) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
        count += 1
    detail: dict[str, Any] = {"report": report.key, "filters": filters, "rows": count}
    clients = sorted(set(client_ids))
    if clients:
        detail["client_ids"] = clients  # ids only: names never go into the log
    audit_record(
        actor=user, action=Action.EXPORT, object_type=f"reports.{report.key}", detail=detail
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period_name(key: str, period: selectors.Period) -> str:
    return f"casework-{key.replace('_', '-')}-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.csv"


def _period_filters(period: selectors.Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


def productivity_csv(report: Productivity, *, user: User) -> HttpResponse:
    header = [
        "staff",
        "signed notes",
        "minutes documented",
        "billable minutes",
        "billable hours",
        "units",
        "amount",
        "target hours",
        "percent of target",
    ]
    rows = (
        [
            row.name,
            row.signed_notes,
            row.minutes_documented,
            row.billable_minutes,
            row.billable_hours,
            row.units,
            row.amount,
            report.target_hours,
            "" if row.percent_of_target is None else row.percent_of_target,
        ]
        for row in report.rows
    )
    return _response(
        user=user,
        report=selectors.PRODUCTIVITY,
        filename=_period_name("productivity", report.period),
        header=header,
        rows=rows,
        filters={
            **_period_filters(report.period),
            "target": str(report.target_per_week),
        },
    )


def unsigned_notes_csv(report: UnsignedNotes, *, user: User) -> HttpResponse:
    header = [
        "author",
        *(f"{bucket.label} old" for bucket in AGE_BUCKETS),
        "total",
        "oldest service date",
        "oldest age (days)",
    ]
    rows = (
        [
            row.name,
            *row.counts,
            row.total,
            row.oldest.isoformat() if row.oldest else "",
            row.oldest_days,
        ]
        for row in report.rows
    )
    return _response(
        user=user,
        report=selectors.UNSIGNED_NOTES,
        filename=f"casework-unsigned-notes-{report.today:%Y-%m-%d}.csv",
        header=header,
        rows=rows,
        filters={
            "start": report.start.isoformat() if report.start else "",
            "end": report.end.isoformat() if report.end else "",
            "today": report.today.isoformat(),
        },
    )


def charges_csv(report: ChargesReport, *, user: User) -> HttpResponse:
    header = ["payer", "service code", "month"]
    for status in report.statuses:
        label = status.value
        header += [f"{label} count", f"{label} units", f"{label} amount"]
    header += ["total count", "total units", "total amount"]
    rows = (
        [
            row.payer,
            row.code,
            f"{row.month:%Y-%m}",
            *(cell for tally in (*row.by_status, row.total) for cell in _tally(tally)),
        ]
        for row in report.rows
    )
    return _response(
        user=user,
        report=selectors.CHARGES,
        filename=_period_name("charges", report.period),
        header=header,
        rows=rows,
        filters=_period_filters(report.period),
    )


def _tally(tally: Tally) -> tuple[int, int, Any]:
    return tally.count, tally.units, tally.amount


def authorizations_csv(report: AuthorizationReport, *, user: User) -> HttpResponse:
    header = [
        "authorization",
        "client record",
        "payer",
        "service codes",
        "start",
        "end",
        "units authorised",
        "units used",
        "units remaining",
        "percent used",
        "days left",
        "flags",
    ]
    rows = (
        [
            row.authorization.number,
            row.authorization.client.record_number,
            row.authorization.payer.name,
            row.code_labels,
            row.authorization.start_on.isoformat(),
            row.authorization.end_on.isoformat(),
            row.authorization.units,
            row.used,
            row.remaining,
            row.percent_used,
            row.days_left,
            "; ".join(badge.label for badge in row.badges),
        ]
        for row in report.rows
    )
    return _response(
        user=user,
        report=selectors.AUTHORIZATIONS,
        filename=_period_name("authorizations", report.period),
        header=header,
        rows=rows,
        filters={**_period_filters(report.period), "today": report.today.isoformat()},
        client_ids=(row.authorization.client_id for row in report.rows),
    )
