"""What every page's layout needs: the navigation that exists for this person, the idle limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from casework.core import access
from casework.core.middleware import idle_minutes_for
from casework.core.models import User
from casework.reports.selectors import reports_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool


def _nav(request: HttpRequest) -> list[NavItem]:
    user = request.user
    items: list[tuple[str, str]] = [("My day", reverse("home"))]
    if access.may_use_client_registry(user):
        items.append(("Clients", reverse("client_list")))
    if access.may_write_notes(user):
        items.append(("Schedule", reverse("schedule")))
    if access.may_write_notes(user):
        items.append(("My notes", reverse("unsigned_notes")))
    if isinstance(user, User) and access.may_coordinate(user) and access.may_read_narratives(user):
        items.append(("Referrals", reverse("referral_caseload")))
        items.append(("Processes", reverse("process_board")))
    if access.may_use_directory(user):
        items.append(("Directory", reverse("directory_search")))
    if access.may_bill(user):
        items.append(("Billing", reverse("billing_home")))
    if isinstance(user, User) and reports_for(user):
        items.append(("Reports", reverse("reports_index")))
    if access.may_manage_staff(user):
        items.append(("Staff", reverse("staff_list")))
    if access.may_read_audit(user):
        items.append(("Audit log", reverse("audit_log")))
    path = request.path
    home = reverse("home")
    return [
        NavItem(label, url, current=(path == url) if url == home else path.startswith(url))
        for label, url in items
    ]


def shell(request: HttpRequest) -> dict[str, Any]:
    if not request.user.is_authenticated:
        return {"shell": {}}
    return {"shell": {"nav": _nav(request), "idle_seconds": idle_minutes_for(request) * 60}}
