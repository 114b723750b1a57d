"""The supervisor's board: for each team member, today's load, what is overdue, and how heavy
their caseload is once each client's acuity is counted, so no one is silently overloaded.

A fixed number of grouped queries for the whole team, whatever its size or history.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q

from casework.clients.models import CareTeamMember, Client
from casework.core import access
from casework.core.models import Role, User
from casework.notes.models import Note
from casework.schedule.models import Appointment
from casework.worklist.contact import last_contacts, program_standards
from casework.worklist.models import Task

# How much one client weighs in a caseload, by acuity: a high-acuity client is the work of
# two and a half low-acuity ones.
ACUITY_WEIGHT = {1: 1.0, 2: 1.5, 3: 2.5}
HEAVY_ABOVE_AVERAGE = 1.2


@dataclass
class MemberRow:
    member: User
    appointments_today: int = 0
    open_tasks: int = 0
    overdue_tasks: list[Task] = field(default_factory=list)
    unsigned_notes: int = 0
    late_notes: int = 0
    clients: int = 0
    load: float = 0.0
    not_seen: int = 0
    heavy: bool = False
    load_percent: int = 0


def _members(user: User) -> list[User] | None:
    if user.has_role(Role.AGENCY_ADMIN):
        staff = access.staff_in_agency(user).filter(role_rows__role=Role.CASE_MANAGER)
    elif user.has_role(Role.SUPERVISOR):
        staff = access.staff_in_agency(user).filter(pk__in=access.supervised_staff_ids(user))
    else:
        return None
    return list(staff.filter(is_active=True).distinct().order_by("last_name", "first_name"))


def _day_bounds(user: User, today: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    assert user.agency is not None
    start = datetime.datetime.combine(today, datetime.time(), tzinfo=user.agency.tzinfo)
    return start, datetime.datetime.combine(
        today + datetime.timedelta(days=1), datetime.time(), tzinfo=user.agency.tzinfo
    )


def _count_work(rows: dict[int, MemberRow], user: User, today: datetime.date) -> None:
    assert user.agency is not None
    ids = list(rows)
    start, end = _day_bounds(user, today)
    for staff_id, count in (
        Appointment.objects.filter(staff_id__in=ids, start_at__gte=start, start_at__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .values("staff_id")
        .annotate(n=Count("id"))
        .values_list("staff_id", "n")
    ):
        rows[staff_id].appointments_today = count
    for staff_id, count in (
        Task.objects.filter(assignee_id__in=ids, status=Task.Status.OPEN)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    ):
        rows[staff_id].open_tasks = count
    for task in Task.objects.filter(
        assignee_id__in=ids, status=Task.Status.OPEN, due_on__lt=today
    ).select_related("client"):
        rows[task.assignee_id].overdue_tasks.append(task)
    late = today - datetime.timedelta(days=user.agency.late_note_days)
    for staff_id, unsigned, overdue in (
        Note.objects.filter(author_id__in=ids, status=Note.Status.DRAFT)
        .values("author_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(service_date__lt=late)))
        .values_list("author_id", "n", "late")
    ):
        rows[staff_id].unsigned_notes = unsigned
        rows[staff_id].late_notes = overdue


def _count_caseloads(rows: dict[int, MemberRow], user: User, today: datetime.date) -> None:
    assert user.agency is not None
    primary = dict(
        CareTeamMember.objects.filter(
            CareTeamMember.active_on(today),
            staff_id__in=list(rows),
            role=CareTeamMember.Role.PRIMARY,
            client__status=Client.Status.ACTIVE,
        ).values_list("client_id", "staff_id")
    )
    clients = Client.objects.filter(pk__in=list(primary)).values_list(
        "pk", "acuity", "contact_every_days"
    )
    program_standard = program_standards(primary, today)
    last_contact = last_contacts(primary)
    for client_id, acuity, own_standard in clients:
        row = rows[primary[client_id]]
        row.clients += 1
        row.load += ACUITY_WEIGHT.get(acuity, 1.5)
        standard = own_standard or program_standard.get(client_id) or user.agency.contact_every_days
        last = last_contact.get(client_id)
        if last is None or (today - last).days > standard:
            row.not_seen += 1


def _mark_heavy(rows: list[MemberRow]) -> None:
    """Heavy: more than 20 % above the team's average load (with at least two people)."""
    loads = [row.load for row in rows]
    most = max(loads, default=0.0)
    if not most:
        return
    average = sum(loads) / len(loads)
    for row in rows:
        row.heavy = len(rows) > 1 and row.load > average * HEAVY_ABOVE_AVERAGE
        row.load_percent = round(100 * row.load / most)


def team_board(*, user: User) -> list[MemberRow] | None:
    """One row per person the user supervises (everyone, for admins); None for anyone else."""
    members = _members(user)
    if members is None or user.agency is None:
        return None
    today = user.agency.today()
    rows = {member.pk: MemberRow(member) for member in members}
    if rows:
        _count_work(rows, user, today)
        _count_caseloads(rows, user, today)
    ordered = list(rows.values())
    _mark_heavy(ordered)
    return ordered
