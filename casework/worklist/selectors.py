"""My day: today's appointments, then everything else that needs the user, ranked and explained.

Every item is derived from facts when the page opens (notes not signed, plans and assessments
due, authorizations and credentials running out, clients not seen, flags raised, warnings) or
is a stored task. Each source costs a fixed number of queries, so the page does not slow down
as the caseload or its history grows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from casework.assessments.selectors import assessments_due_for, flag_notices_open
from casework.billing.models import Authorization
from casework.billing.selectors.catalogue import authorizations_with_usage
from casework.clients.models import CareTeamMember, Client, SafetyFlag
from casework.clients.selectors import break_glass_for_supervisor
from casework.coordination import selectors_collaboration as collaboration
from casework.coordination.models import Coverage
from casework.core import access
from casework.core.models import Role, User
from casework.core.selectors import credentials_expiring
from casework.notes.models import NEVER_BILLABLE_CONTACTS
from casework.notes.selectors import my_unsigned_notes, notes_awaiting_cosign
from casework.plans.selectors import plans_due_for
from casework.processes import selectors as process_selectors
from casework.schedule.models import Appointment
from casework.schedule.selectors import todays_appointments
from casework.worklist import warnings
from casework.worklist.contact import last_contacts, program_standards
from casework.worklist.models import Snooze, Task, WarningKind
from casework.worklist.priority import (
    Factor,
    WorkItem,
    billing_factor,
    contact_factor,
    due_factor,
    risk_factor,
    weights_of,
)

LOOK_AHEAD = datetime.timedelta(days=14)
AUTHORIZATION_WARNING = datetime.timedelta(days=30)
AUTHORIZATION_USED_WARNING = 0.8
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def is_working_time(user: User, now: datetime.datetime) -> bool:
    """Whether `now` falls in the person's working hours, in the agency's time zone.

    Hours that start when they end mean the whole day; hours past midnight (a night shift,
    22:00 to 06:00) are counted from the day they start.
    """
    assert user.agency is not None
    local = now.astimezone(user.agency.tzinfo)
    days = {code.strip().upper() for code in user.work_days.split(",")}
    starts, ends, time = user.work_starts, user.work_ends, local.time()
    if starts == ends:
        return WEEKDAY_CODES[local.weekday()] in days
    if starts < ends:
        return WEEKDAY_CODES[local.weekday()] in days and starts <= time < ends
    if time >= starts:
        return WEEKDAY_CODES[local.weekday()] in days
    return time < ends and WEEKDAY_CODES[(local.weekday() - 1) % 7] in days


@dataclass
class Caseload:
    """The user's primary clients with what ranking needs: contact standard and last contact."""

    clients: dict[int, Client]
    standard: dict[int, int]
    last_contact: dict[int, datetime.date]

    def days_since_contact(self, client_id: int, today: datetime.date) -> int | None:
        last = self.last_contact.get(client_id)
        return None if last is None else (today - last).days


def caseload_of(user: User, today: datetime.date) -> Caseload:
    """Three queries: the clients, their programs' contact standards, their last contacts."""
    assert user.agency is not None
    mine = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today), staff=user, role=CareTeamMember.Role.PRIMARY
    ).values("client_id")
    clients: dict[int, Client] = {
        c.pk: c
        for c in access.visible_clients(user)
        .filter(id__in=mine, status=Client.Status.ACTIVE)
        .prefetch_related(
            Prefetch(
                "safety_flags",
                queryset=SafetyFlag.objects.filter(is_active=True),
                to_attr="active_flags",
            )
        )
        .order_by("legal_last_name", "legal_first_name")
    }
    program_standard = program_standards(clients, today)
    standard = {
        pk: client.contact_every_days or program_standard.get(pk) or user.agency.contact_every_days
        for pk, client in clients.items()
    }
    return Caseload(clients, standard, last_contacts(clients))


def _note_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    assert user.agency is not None
    grace = datetime.timedelta(days=user.agency.late_note_days)
    for note in my_unsigned_notes(user=user):
        billable = note.service_code_id is not None and note.contact_type not in (
            NEVER_BILLABLE_CONTACTS
        )
        item = WorkItem(
            key=f"note:{note.pk}",
            kind="note",
            title=f"Sign your note for {note.client.display_name}",
            reason=f"{note.get_contact_type_display()} on {note.service_date:%-d %b}, not signed yet",
            url=reverse("note_edit", args=[note.pk]),
            client=note.client,
            due_on=note.service_date + grace,
        )
        if billable:
            item.factors.append(billing_factor(6, "billable once signed"))
        yield item


def _cosign_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    if not user.has_role(Role.SUPERVISOR, Role.AGENCY_ADMIN):
        return
    for note in notes_awaiting_cosign(user=user):
        item = WorkItem(
            key=f"cosign:{note.pk}",
            kind="cosign",
            title=f"Co-sign {note.author.full_name}'s note for {note.client.display_name}",
            reason=f"{note.get_contact_type_display()} on {note.service_date:%-d %b}",
            url=reverse("note_detail", args=[note.pk]),
            client=note.client,
            due_on=note.service_date + datetime.timedelta(days=2),
        )
        if note.service_code_id is not None:
            item.factors.append(billing_factor(7, "its charge waits for your co-signature"))
        yield item


def _plan_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    for due in plans_due_for(user=user):
        review = due.what == "review"
        url = (
            reverse("plan_detail", args=[due.draft_id])
            if due.draft_id
            else reverse("client_chart", args=[due.client.pk])
        )
        item = WorkItem(
            key=f"plan:{due.client.pk}:{due.what}",
            kind="plan",
            title=(
                f"Review {due.client.display_name}'s service plan"
                if review
                else f"Write {due.client.display_name}'s first service plan"
            ),
            reason=("plan review" if review else "first plan")
            + (" · draft started" if due.draft_id else ""),
            url=url,
            client=due.client,
            due_on=due.due_on,
        )
        item.factors.append(billing_factor(3, "services need a current plan to be billed"))
        yield item


def _assessment_items(user: User, today: datetime.date, caseload: Caseload) -> Iterable[WorkItem]:
    horizon = today + LOOK_AHEAD
    for client_id, dues in assessments_due_for(
        user=user, client_ids=list(caseload.clients)
    ).items():
        client = caseload.clients[client_id]
        for due in dues:
            if due.due_on > horizon:
                continue
            yield WorkItem(
                key=f"assessment:{client_id}:{due.instrument}",
                kind="assessment",
                title=f"{due.name} for {client.display_name}",
                reason="first time" if due.first_time else f"last on {due.last_on:%-d %b %Y}",
                url=reverse("assessment_new", args=[client_id]) + f"?instrument={due.instrument}",
                client=client,
                due_on=due.due_on,
            )


def _authorization_items(
    user: User, today: datetime.date, caseload: Caseload
) -> Iterable[WorkItem]:
    authorizations = authorizations_with_usage(
        Authorization.objects.filter(
            client_id__in=list(caseload.clients), start_on__lte=today, end_on__gte=today
        ).select_related("payer")
    )
    for authorization in authorizations:
        used = authorization.used_units / authorization.units  # type: ignore[attr-defined]
        ending = authorization.end_on - today <= AUTHORIZATION_WARNING
        if not ending and used < AUTHORIZATION_USED_WARNING:
            continue
        client = caseload.clients[authorization.client_id]
        reasons = []
        if used >= AUTHORIZATION_USED_WARNING:
            reasons.append(f"{round(used * 100)} % of {authorization.units} units used")
        if ending:
            reasons.append(f"ends {authorization.end_on:%-d %b}")
        item = WorkItem(
            key=f"authorization:{authorization.pk}",
            kind="authorization",
            title=f"Renew {client.display_name}'s {authorization.payer.name} authorization",
            reason=", ".join(reasons),
            url=reverse("client_chart", args=[client.pk]),
            client=client,
            due_on=authorization.end_on - AUTHORIZATION_WARNING,
        )
        item.factors.append(billing_factor(8, "services beyond it will not be paid"))
        yield item


def _credential_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    for credential in credentials_expiring(user=user, today=today):
        assert credential.expires_on is not None
        expired = credential.expires_on < today
        item = WorkItem(
            key=f"credential:{credential.pk}",
            kind="credential",
            title=f"Renew your {credential.get_kind_display()} ({credential.number})",
            reason=("expired on" if expired else "expires on")
            + f" {credential.expires_on:%-d %b %Y}. Renew it so that your services can be billed.",
            url=reverse("account"),
            due_on=credential.expires_on - datetime.timedelta(days=14),
        )
        item.factors.append(billing_factor(9, "your services cannot be billed without it"))
        yield item


def _task_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    tasks = (
        Task.objects.filter(assignee=user, status=Task.Status.OPEN)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
        .select_related("client", "created_by")
    )
    for task in tasks:
        if task.created_by_id and task.created_by_id != user.pk:
            origin = f"from {task.created_by.full_name}"  # type: ignore[union-attr]
        else:
            origin = ""
        reason = " · ".join(part for part in (task.reason, origin) if part)
        yield WorkItem(
            key=f"task:{task.pk}",
            kind="task",
            title=task.title,
            reason=reason,
            url=task.link
            or (reverse("client_chart", args=[task.client_id]) if task.client_id else ""),
            client=task.client,
            due_on=task.due_on,
            urgent=task.urgent,
            task=task,
        )


def _flag_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    assert user.agency is not None
    for notice in flag_notices_open(user=user):
        client = notice.flag.client
        who = "Assessment given by" if notice.assessment_id else "Raised by"
        when = notice.created_at.astimezone(user.agency.tzinfo)
        yield WorkItem(
            key=f"flagnotice:{notice.pk}",
            kind="flag",
            title=f"{notice.flag.get_kind_display()}: {client.display_name}",
            reason=f"{notice.reason} {who} {notice.raised_by.full_name}, {when:%-d %b %H:%M}.",
            url=reverse("client_chart", args=[client.pk]),
            client=client,
            due_on=today,
            urgent=True,
            task=notice,
        )


def _warning_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    for warning in warnings.open_warnings_for(user=user):
        urgent = warning.kind in warnings.URGENT_KINDS
        item = WorkItem(
            key=f"warning:{warning.pk}",
            kind="warning",
            title=f"{warning.get_kind_display()}: {warning.client.display_name}",
            reason=warning.evidence,
            url=reverse("warning_acknowledge", args=[warning.pk]),
            client=warning.client,
            due_on=warning.raised_at.astimezone(user.agency.tzinfo).date(),  # type: ignore[union-attr]
            urgent=urgent,
            task=warning,
        )
        if not urgent:
            item.factors.append(Factor("risk", 7, "early warning of a client slipping"))
        yield item


def _break_glass_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    for grant in break_glass_for_supervisor(user=user):
        yield WorkItem(
            key=f"breakglass:{grant.pk}",
            kind="break_glass",
            title=f"Review {grant.user.full_name}'s emergency access to {grant.client.record_number}",
            reason=f"“{grant.reason}”",
            url=reverse("client_chart", args=[grant.client_id]),
            due_on=grant.granted_at.astimezone(user.agency.tzinfo).date(),  # type: ignore[union-attr]
            task=grant,
        )


def _contact_items(today: datetime.date, caseload: Caseload) -> Iterable[WorkItem]:
    for pk, client in caseload.clients.items():
        standard = caseload.standard[pk]
        since = caseload.days_since_contact(pk, today)
        if since is not None and since <= standard:
            continue
        last = caseload.last_contact.get(pk)
        yield WorkItem(
            key=f"contact:{pk}",
            kind="contact",
            title=f"See {client.display_name}",
            reason=(
                f"last seen {last:%-d %b}, {since} days ago; standard is every {standard} days"
                if last
                else "no contact recorded yet"
            ),
            url=reverse("client_chart", args=[pk]),
            client=client,
            due_on=(last + datetime.timedelta(days=standard)) if last else today,
        )


def _mention_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    assert user.agency is not None
    for notice in collaboration.unread_mentions_for(user=user):
        comment = notice.latest.comment
        when = comment.created_at.astimezone(user.agency.tzinfo)
        others = notice.count - 1
        yield WorkItem(
            key=f"mention:{notice.client.pk}",
            kind="mention",
            title=f"{comment.author.full_name} mentioned you on {notice.client.display_name}'s chart",
            reason=f"{when:%-d %b %H:%M}"
            + (f" · {others} more unread mention{'s' * (others != 1)}" if others else ""),
            url=reverse("comment_list", args=[notice.client.pk]),
            client=notice.client,
            due_on=when.date(),
        )


def _handoff_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    for handoff in collaboration.handoffs_to_acknowledge(user=user):
        count: int = handoff.client_count  # type: ignore[attr-defined]
        yield WorkItem(
            key=f"handoff:{handoff.pk}",
            kind="handoff",
            title=f"Hand-off from {handoff.from_staff.full_name}: "
            f"{count} client{'s' * (count != 1)} — acknowledge",
            reason=f"takes effect {handoff.effective_on:%-d %b}; read each client's summary",
            url=reverse("handoff_detail", args=[handoff.pk]),
            due_on=handoff.effective_on,
            task=handoff,
        )


def _process_items(user: User, today: datetime.date) -> Iterable[WorkItem]:
    assert user.agency is not None
    tz = user.agency.tzinfo
    for step in process_selectors.my_open_steps(user):
        due = step.due_at.astimezone(tz) if step.due_at else None
        parts = [f"{step.instance.definition.name} step"]
        if due is not None:
            parts.append(f"due {due:%-d %b %H:%M}")
        if step.waiting_on:
            parts.append(step.waiting_text.lower())
        yield WorkItem(
            key=f"process:{step.pk}",
            kind="process",
            title=f"{step.title} — {step.client.display_name}",
            reason=" · ".join(parts),
            url=reverse("process_step", args=[step.instance_id, step.pk]),
            client=step.client,
            due_on=due.date() if due else today,
        )


def release_url(client_id: int) -> str:
    return reverse("release_list", kwargs={"client_id": client_id})


def _release_items(today: datetime.date, caseload: Caseload) -> Iterable[WorkItem]:
    expiring = collaboration.releases_expiring(client_ids=list(caseload.clients), today=today)
    for consent in expiring:
        assert consent.expires_on is not None
        days = (consent.expires_on - today).days
        client = caseload.clients[consent.client_id]
        yield WorkItem(
            key=f"release:{consent.pk}",
            kind="release",
            title=f"Release for {consent.recipient_label} expires "
            + ("today" if days == 0 else f"in {days} day{'s' * (days != 1)}"),
            reason=f"{client.display_name}'s release of information, "
            f"until {consent.expires_on:%-d %b %Y}: renew it or let it end",
            url=release_url(client.pk),
            client=client,
            due_on=consent.expires_on,
        )


# What a colleague's day shows to the person covering for them: their clients' work, not their
# own signatures, credentials or supervision.
COVERED_KINDS = frozenset(
    {
        "task",
        "flag",
        "warning",
        "plan",
        "assessment",
        "authorization",
        "contact",
        "release",
        "mention",
    }
)


@dataclass
class CoverSection:
    """The day of a colleague the user covers for, until the last day of the cover."""

    coverage: Coverage
    absent: User
    until: datetime.date
    appointments: list[Appointment]
    items: list[WorkItem]
    more: int = 0


def _cover_sections(user: User, now: datetime.datetime, limit: int | None) -> list[CoverSection]:
    """My day of each colleague the user covers for now (at most COVERED_SHOWN of them)."""
    return [
        cover_section(user, coverage, now, limit)
        for coverage in collaboration.covering_now(user=user, now=now)
    ]


def cover_or_404(user: User, coverage_id: int, now: datetime.datetime) -> Coverage:
    """A cover the user gives right now; 404 for anyone else's, or one over or not started."""
    for coverage in collaboration.covering_now(user=user, now=now):
        if coverage.pk == coverage_id:
            return coverage
    raise Http404("No such cover.")


def cover_section(
    user: User, coverage: Coverage, now: datetime.datetime, limit: int | None
) -> CoverSection:
    """The absent colleague's My day (a fixed number of queries), narrowed to the clients the
    user may see."""
    assert user.agency is not None
    theirs = my_day(user=coverage.absent, now=now, everything=True, kinds=COVERED_KINDS)
    named = {item.client.pk for item in theirs.items if item.client is not None}
    visible = set(access.visible_clients(user).filter(pk__in=named).values_list("pk", flat=True))
    items = [item for item in theirs.items if item.client is None or item.client.pk in visible]
    first = items if limit is None else items[:limit]
    return CoverSection(
        coverage=coverage,
        absent=coverage.absent,
        until=collaboration.last_day(coverage, user.agency.tzinfo),
        appointments=theirs.appointments,
        items=first,
        more=len(items) - len(first),
    )


@dataclass
class MyDay:
    today: datetime.date
    appointments: list[Appointment]
    items: list[WorkItem]
    weights: dict[str, int]
    working: bool
    quiet: bool  # after hours: only urgent items are shown
    held_back: int = 0  # items hidden by the after-hours quiet
    snoozed: int = 0
    more: int = 0  # items past the first SHOWN, behind "show all"
    caseload: list[Client] = field(default_factory=list)
    covering: list[CoverSection] = field(default_factory=list)


def _without_duplicates(items: list[WorkItem]) -> list[WorkItem]:
    """One line per concern: a client with an open no-contact warning is not also listed as
    "not seen", and a PHQ-9 self-harm warning waits behind the safety-flag notice it echoes."""
    warned = {
        item.client.pk
        for item in items
        if item.kind == "warning" and item.task.kind == WarningKind.NO_CONTACT
    }
    flagged = {item.client.pk for item in items if item.kind == "flag"}
    return [
        item
        for item in items
        if not (item.kind == "contact" and item.client.pk in warned)
        and not (
            item.kind == "warning"
            and item.task.kind == WarningKind.PHQ9_ITEM9
            and item.client.pk in flagged
        )
    ]


def _ranked(
    items: list[WorkItem], caseload: Caseload, today: datetime.date, weights: dict[str, int]
) -> list[WorkItem]:
    """Score every item (urgent ones first, then by score) with the factors that apply."""
    for item in items:
        if (due := due_factor(item.due_on, today)) is not None:
            item.factors.insert(0, due)
        acuity = item.client.acuity if item.client is not None else None
        risk = risk_factor(urgent=item.urgent, acuity=acuity)
        if risk is not None and not any(f.name == "risk" for f in item.factors):
            item.factors.append(risk)
        if item.client is not None and item.client.pk in caseload.clients:
            since = caseload.days_since_contact(item.client.pk, today)
            contact = contact_factor(since, caseload.standard[item.client.pk])
            if contact is not None:
                item.factors.append(contact)
        item.rank(weights)
    return sorted(items, key=lambda i: (not i.urgent, -i.score, i.due_on or today, i.title))


def my_day(
    *,
    user: User,
    now: datetime.datetime | None = None,
    everything: bool = False,
    limit: int | None = None,
    with_cover: bool = False,
    kinds: frozenset[str] | None = None,
) -> MyDay:
    """Everything for My day, ranked, in a fixed number of queries; `limit` keeps the first
    items only, `everything` shows all of them even after hours. `with_cover` adds the days
    of the colleagues the user covers for; `kinds` computes only those kinds of item."""
    assert user.agency is not None
    now = now or timezone.now()
    today = now.astimezone(user.agency.tzinfo).date()
    caseload = caseload_of(user, today)
    # Each source is a generator, so a kind left out costs no query at all.
    sources = {
        "flag": _flag_items(user, today),
        "warning": _warning_items(user, today),
        "task": _task_items(user, today),
        "note": _note_items(user, today),
        "cosign": _cosign_items(user, today),
        "plan": _plan_items(user, today),
        "assessment": _assessment_items(user, today, caseload),
        "authorization": _authorization_items(user, today, caseload),
        "credential": _credential_items(user, today),
        "contact": _contact_items(today, caseload),
        "break_glass": _break_glass_items(user, today),
        "mention": _mention_items(user, today),
        "handoff": _handoff_items(user, today),
        "release": _release_items(today, caseload),
        "process": _process_items(user, today),
    }
    snoozed = set(
        Snooze.objects.filter(user=user, until__gt=today).values_list("item_key", flat=True)
    )
    items = [
        item
        for kind, source in sources.items()
        if kinds is None or kind in kinds
        for item in source
        if item.key not in snoozed
    ]
    items = _without_duplicates(items)
    weights = weights_of(user.agency)
    ranked = _ranked(items, caseload, today, weights)
    working = is_working_time(user, now)
    quiet = not working and not everything
    shown = [item for item in ranked if item.urgent] if quiet else ranked
    first = shown if everything or limit is None else shown[:limit]
    return MyDay(
        today=today,
        appointments=todays_appointments(user=user, today=today),
        items=first,
        weights=weights,
        working=working,
        quiet=quiet,
        held_back=len(ranked) - len(shown),
        snoozed=len(snoozed),
        more=len(shown) - len(first),
        caseload=list(caseload.clients.values()),
        covering=_cover_sections(user, now, limit) if with_cover else [],
    )


def task_assignees(user: User) -> Any:
    """Who the user may give a task to: themselves and their teammates (everyone, for admins)."""
    staff = access.staff_in_agency(user).filter(
        is_active=True, role_rows__role__in=access.CASELOAD_ROLES
    )
    if not access.may_manage_staff(user):
        staff = staff.filter(Q(pk__in=access.colleague_ids(user)) | Q(pk=user.pk))
    return staff.distinct().order_by("last_name", "first_name")


def tasks_visible(user: User) -> QuerySet[Task]:
    """Tasks the user may see: their own, ones they gave, their supervised team's; all, for admins."""
    tasks = Task.objects.filter(agency_id=access.agency_id_of(user))
    if access.may_manage_staff(user):
        return tasks
    return tasks.filter(
        Q(assignee=user) | Q(created_by=user) | Q(assignee_id__in=access.supervised_staff_ids(user))
    )


def task_or_404(user: User, task_id: int | str) -> Task:
    try:
        return (
            tasks_visible(user)
            .select_related("client", "assignee", "created_by", "done_by")
            .get(pk=int(task_id))
        )
    except (ValueError, TypeError, Task.DoesNotExist):
        raise Http404("No such task.") from None


@dataclass
class PutAside:
    tasks: list[Task]  # snoozed or recently done
    snoozes: list[Snooze]


def put_aside(*, user: User, days: int = 14) -> PutAside:
    """The user's snoozed tasks and items, and the tasks they finished in the last `days`."""
    assert user.agency is not None
    today = user.agency.today()
    since = timezone.now() - datetime.timedelta(days=days)
    tasks = (
        Task.objects.filter(assignee=user)
        .filter(
            Q(status=Task.Status.OPEN, snoozed_until__gt=today)
            | Q(status=Task.Status.DONE, done_at__gte=since)
        )
        .select_related("client")
        .order_by("status", "-done_at", "snoozed_until")
    )
    snoozes = Snooze.objects.filter(user=user, until__gt=today).order_by("until")
    return PutAside(list(tasks), list(snoozes))
