"""The audit log for admins and auditors: filter by client, staff, action and dates; export CSV."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_safe

from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import AuditEvent, User
from casework.web.forms import set_queryset

PAGE_SIZE = 100


class AuditFilterForm(forms.Form):
    client = forms.CharField(required=False, max_length=20, label="Client record number")
    staff = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    action = forms.ChoiceField(choices=[("", "Any"), *Action.choices], required=False)
    since = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From"
    )
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Until"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "staff", access.staff_in_agency(user))


def audit_events(*, user: User, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    """The agency's audit entries matching the filters (selector: scoped to the user's agency)."""
    from casework.clients.models import Client

    if not access.may_read_audit(user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.filter(agency_id=access.agency_id_of(user))
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    if data["client"]:
        ids = Client.objects.filter(
            agency_id=access.agency_id_of(user), record_number__iexact=data["client"].strip()
        ).values("id")
        events = events.filter(client_id__in=ids)
    if data["staff"]:
        events = events.filter(actor_id=data["staff"].pk)
    if data["action"]:
        events = events.filter(action=data["action"])
    tz = user.agency.tzinfo  # type: ignore[union-attr]
    if data["since"]:
        events = events.filter(
            occurred_at__gte=datetime.datetime.combine(data["since"], datetime.time.min, tz)
        )
    if data["until"]:
        end = datetime.datetime.combine(
            data["until"] + datetime.timedelta(days=1), datetime.time.min, tz
        )
        events = events.filter(occurred_at__lt=end)
    return events.order_by("-occurred_at", "-id")


def _record_numbers(user: User, events: list[AuditEvent]) -> dict[int, str]:
    from casework.clients.models import Client

    ids = {e.client_id for e in events if e.client_id}
    return dict(
        Client.objects.filter(agency_id=access.agency_id_of(user), id__in=ids).values_list(
            "id", "record_number"
        )
    )


@login_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponseBase:
    user: User = request.user  # type: ignore[assignment]
    if not access.may_read_audit(user):
        raise PermissionDenied("Only agency admins and auditors read the audit log.")
    form = AuditFilterForm(request.GET or {}, user=user)
    events = audit_events(user=user, form=form)
    if request.GET.get("format") == "csv":
        return _csv(user, events, form)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    numbers = _record_numbers(user, rows)
    for row in rows:
        row.record_number = numbers.get(row.client_id or 0, "")
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    return render(request, "core/audit_log.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(user: User, events: QuerySet[AuditEvent], form: AuditFilterForm) -> StreamingHttpResponse:
    audit_record(
        actor=user,
        action=Action.EXPORT,
        object_type="core.auditevent",
        detail={"filters": form.data.dict() if hasattr(form.data, "dict") else {}},
    )
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(
            [
                "time (UTC)",
                "staff",
                "action",
                "object",
                "client record",
                "ip",
                "user agent",
                "request id",
                "hash",
            ]
        )
        batch: list[AuditEvent] = []
        for event in events.iterator(chunk_size=2000):
            batch.append(event)
            if len(batch) == 2000:
                yield from _csv_rows(user, writer, batch)
                batch = []
        yield from _csv_rows(user, writer, batch)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="casework-audit.csv"'
    return response


def _csv_rows(user: User, writer: Any, batch: list[AuditEvent]) -> Iterator[str]:
    numbers = _record_numbers(user, batch)
    for e in batch:
        cells = [
            e.occurred_at.isoformat(),
            e.actor_label,
            e.action,
            f"{e.object_type}#{e.object_id}",
            numbers.get(e.client_id or 0, ""),
            e.ip,
            e.user_agent,
            e.request_id,
            e.hash,
        ]
        yield writer.writerow([_csv_safe(str(cell)) for cell in cells])


def _csv_safe(value: str) -> str:
    """Stop spreadsheet formula injection: sign-in names and user agents are typed by anyone."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
