"""Reminder emails that respect working hours.

Each person gets one short digest of what waits on My day, once a day, inside their working
hours; an urgent item (a safety flag, an urgent warning or task) is sent at once, whatever the
hour. Emails carry counts and a link, never a client's name: email leaves the agency's hands.
Every reminder is recorded before it is sent, so a retried run sends nothing twice.
"""

from __future__ import annotations

import datetime
from collections import Counter

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.core import access
from casework.core.models import Role, User
from casework.worklist.models import Reminder
from casework.worklist.priority import WorkItem
from casework.worklist.selectors import is_working_time, my_day

KIND_WORDS = {
    "note": ("note to sign", "notes to sign"),
    "cosign": ("note to co-sign", "notes to co-sign"),
    "plan": ("service plan due", "service plans due"),
    "assessment": ("assessment due", "assessments due"),
    "authorization": ("authorization running out", "authorizations running out"),
    "credential": ("credential to renew", "credentials to renew"),
    "task": ("task", "tasks"),
    "flag": ("safety flag", "safety flags"),
    "warning": ("early warning", "early warnings"),
    "contact": ("client to see", "clients to see"),
    "break_glass": ("emergency access to review", "emergency accesses to review"),
    "mention": ("mention", "mentions"),
    "handoff": ("hand-off to acknowledge", "hand-offs to acknowledge"),
    "release": ("release expiring", "releases expiring"),
    "process": ("process step", "process steps"),
}


def _counts(items: list[WorkItem]) -> str:
    counted = Counter(item.kind for item in items)
    parts = []
    for kind, number in counted.most_common():
        one, many = KIND_WORDS.get(kind, ("item", "items"))
        parts.append(f"{number} {one if number == 1 else many}")
    return ", ".join(parts)


def _send_once(user: User, key: str, subject: str, body: str) -> bool:
    """Record the reminder and send it in one transaction; False if it was sent before."""
    assert user.agency_id is not None
    try:
        with transaction.atomic():
            Reminder.objects.create(agency_id=user.agency_id, user=user, key=key[:160])
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except IntegrityError:
        return False
    return True


def _link() -> str:
    return f"{settings.SITE_URL.rstrip('/')}/" if settings.SITE_URL else "Casework"


def reminders_for(user: User, now: datetime.datetime) -> int:
    """Send what this person is owed at `now`; returns how many emails went out."""
    day = my_day(user=user, now=now, everything=True)
    sent = 0
    for item in day.items:
        if item.urgent and _send_once(
            user,
            f"urgent:{item.key}",
            "Casework: an urgent item is waiting for you",
            f"An urgent {KIND_WORDS.get(item.kind, ('item', ''))[0]} is on your My day. "
            f"Open {_link()} to see it.",
        ):
            sent += 1
    if day.items and is_working_time(user, now):
        key = f"digest:{day.today.isoformat()}"
        if _send_once(
            user,
            key,
            f"Casework: your day, {day.today:%A %-d %B}",
            f"Waiting on your My day: {_counts(day.items)}. "
            f"{len(day.appointments)} appointment(s) today. Open {_link()}.",
        ):
            sent += 1
    return sent


def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Every active staff member who takes client work: their digest and urgent reminders."""
    now = now or timezone.now()
    staff = (
        User.objects.filter(
            is_active=True, agency__isnull=False, role_rows__role__in=access.CASELOAD_ROLES
        )
        .select_related("agency")
        .distinct()
        .order_by("pk")
    )
    sent = 0
    for user in staff:
        if user.has_role(Role.CASE_MANAGER, Role.SUPERVISOR):
            sent += reminders_for(user, now)
    return sent
