"""Reads of team collaboration — chart comments, mentions, cover and hand-offs — each starting
from the access layer and costing a fixed number of queries, however much there is."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.clients.models import (
    CareTeamMember,
    Client,
    EmergencyContact,
    Phone,
    SafetyFlag,
)
from casework.coordination.models import (
    ChartComment,
    Consent,
    Coverage,
    Handoff,
    HandoffClient,
    Mention,
)
from casework.core import access
from casework.core.models import Agency, User
from casework.plans.models import PlanGoal, PlanObjective, ServicePlan
from casework.plans.selectors import latest_progress
from casework.schedule.models import Appointment, AppointmentClient
from casework.worklist.models import ClientWarning, Task

CHART_COMMENTS = 5  # on the chart; the rest are on the comments page
COMMENTS_PAGE = 50
UPCOMING_DAYS = 30
RELEASE_WARNING_DAYS = 30
COVERED_SHOWN = 3  # My day shows at most this many colleagues' days (covering more is rare)
FINISHED_OBJECTIVES = (PlanObjective.Status.MET, PlanObjective.Status.DISCONTINUED)


def last_day(coverage: Coverage, tz: ZoneInfo) -> datetime.date:
    """The last local day the cover includes (it ends at the start of the next)."""
    return (coverage.ends_at.astimezone(tz) - datetime.timedelta(microseconds=1)).date()


def local_midnight(day: datetime.date, tz: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


# Comments and mentions --------------------------------------------------------------------


def may_read_comments(user: User) -> bool:
    """Comments are narrative: those who read narratives read them (on charts they may see)."""
    return access.may_read_narratives(user)


def comments_client_or_404(user: User, client_id: int | str) -> Client:
    """The client whose comments the user asks for: 404 outside their scope, 403 for a role
    that does not read narratives."""
    client = access.client_or_404(user, client_id)
    if not may_read_comments(user):
        raise PermissionDenied("Your role does not read comments on charts.")
    return client


def _with_news_for(user: User, comments: QuerySet[ChartComment]) -> QuerySet[ChartComment]:
    unread = Mention.objects.filter(comment=OuterRef("pk"), user=user, read_at__isnull=True)
    return comments.select_related("author").annotate(new_for_me=Exists(unread))


@dataclass
class CommentPage:
    """Comments of one client, newest first; `older_than` continues the list if there is more."""

    client: Client
    comments: list[ChartComment]
    older_than: int | None
    may_post: bool


def client_comments(
    *, user: User, client: Client, before: int | None = None, limit: int = COMMENTS_PAGE
) -> CommentPage:
    """One page of the client's comments (one query); `client` comes from
    `comments_client_or_404`. Each comment says whether it mentions the user unread."""
    comments = ChartComment.objects.filter(client=client, agency_id=access.agency_id_of(user))
    if before is not None:
        comments = comments.filter(pk__lt=before)
    rows = list(_with_news_for(user, comments).order_by("-created_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return CommentPage(
        client=client,
        comments=rows,
        older_than=rows[-1].pk if more and rows else None,
        may_post=access.may_coordinate(user),
    )


@dataclass
class CommentsCard:
    """The chart's comments section: the latest few, and how many mention the user unread."""

    client: Client
    comments: list[ChartComment]
    more: bool
    unread_mentions: int
    may_post: bool
    submission_key: str = field(default_factory=lambda: uuid.uuid4().hex)


def chart_comments(*, user: User, client: Client) -> CommentsCard | None:
    """For the chart page (two queries), or None for a role that does not read comments. The
    caller has checked that the user may see `client`."""
    if not may_read_comments(user):
        return None
    comments = ChartComment.objects.filter(client=client, agency_id=client.agency_id)
    rows = list(_with_news_for(user, comments).order_by("-created_at", "-id")[: CHART_COMMENTS + 1])
    unread = Mention.objects.filter(user=user, comment__client=client, read_at__isnull=True).count()
    return CommentsCard(
        client=client,
        comments=rows[:CHART_COMMENTS],
        more=len(rows) > CHART_COMMENTS,
        unread_mentions=unread,
        may_post=access.may_coordinate(user),
    )


@dataclass
class MentionNotice:
    """Someone mentioned the user on a client's chart (`count` unread there, `latest` first)."""

    client: Client
    latest: Mention
    count: int


def unread_mentions_for(*, user: User) -> list[MentionNotice]:
    """The user's unread mentions, one notice per client, on charts they may still see (one
    query)."""
    if user.agency is None or not may_read_comments(user):
        return []
    rows = (
        Mention.objects.filter(
            user=user,
            agency_id=access.agency_id_of(user),
            read_at__isnull=True,
            comment__client__in=access.visible_clients(user),
        )
        .select_related("comment__author", "comment__client")
        .order_by("-comment__created_at", "-id")
    )
    notices: dict[int, MentionNotice] = {}
    for mention in rows:
        client = mention.comment.client
        if client.pk in notices:
            notices[client.pk].count += 1
        else:
            notices[client.pk] = MentionNotice(client=client, latest=mention, count=1)
    return list(notices.values())


# Releases ---------------------------------------------------------------------------------


def releases_expiring(
    *, client_ids: list[int], today: datetime.date, within_days: int = RELEASE_WARNING_DAYS
) -> list[Consent]:
    """Releases of these clients in force that run out from today to `within_days` ahead
    (one query; none when there are no clients)."""
    if not client_ids:
        return []
    return list(
        Consent.objects.filter(
            client_id__in=client_ids,
            revoked_at__isnull=True,
            ended_on__isnull=True,
            expires_on__gte=today,
            expires_on__lte=today + datetime.timedelta(days=within_days),
        )
        .select_related("person", "organization")
        .order_by("expires_on", "id")
    )


# Staff to choose from ---------------------------------------------------------------------


def caseload_staff(user: User) -> QuerySet[User]:
    """Active case managers and supervisors of the user's agency (who can cover or receive)."""
    return (
        access.staff_in_agency(user)
        .filter(is_active=True, role_rows__role__in=access.CASELOAD_ROLES)
        .distinct()
        .order_by("last_name", "first_name")
    )


def staff_acted_for(user: User) -> QuerySet[User]:
    """Caseload staff the user may act for: themselves, their supervised team, or (admins)
    everyone."""
    staff = caseload_staff(user)
    if access.may_manage_staff(user):
        return staff
    return staff.filter(Q(pk=user.pk) | Q(pk__in=access.supervised_staff_ids(user)))


def _acted_for_ids(user: User) -> set[int] | None:
    """Ids the user may act for, or None for an admin (everyone in the agency)."""
    if access.may_manage_staff(user):
        return None
    return {user.pk, *access.supervised_staff_ids(user).values_list("user_id", flat=True)}


# Cover ------------------------------------------------------------------------------------


def coverages_visible(user: User) -> QuerySet[Coverage]:
    """Cover the user arranged or is part of, their supervised team's, or (admins) all."""
    coverages = Coverage.objects.filter(agency_id=access.agency_id_of(user))
    if access.may_manage_staff(user):
        return coverages
    team = access.supervised_staff_ids(user)
    return coverages.filter(
        Q(absent=user)
        | Q(covering=user)
        | Q(created_by=user)
        | Q(absent_id__in=team)
        | Q(covering_id__in=team)
    )


def coverage_or_404(user: User, coverage_id: int | str) -> Coverage:
    try:
        return coverages_visible(user).select_related("absent", "covering").get(pk=int(coverage_id))
    except (ValueError, TypeError, Coverage.DoesNotExist):
        raise Http404("No such cover.") from None


@dataclass(frozen=True)
class CoverageRow:
    coverage: Coverage
    current: bool
    first_day: datetime.date
    last_day: datetime.date
    may_end: bool


def coverage_list(*, user: User) -> list[CoverageRow]:
    """Current and upcoming cover the user may see, soonest first (two queries)."""
    assert user.agency is not None
    tz, now = user.agency.tzinfo, timezone.now()
    acted_for = _acted_for_ids(user)
    rows = (
        coverages_visible(user)
        .filter(ends_at__gt=now)
        .select_related("absent", "covering", "created_by")
        .order_by("starts_at", "id")
    )
    return [
        CoverageRow(
            coverage=c,
            current=c.starts_at <= now,
            first_day=c.starts_at.astimezone(tz).date(),
            last_day=last_day(c, tz),
            may_end=acted_for is None or c.absent_id in acted_for,
        )
        for c in rows
    ]


def covering_now(*, user: User, now: datetime.datetime | None = None) -> list[Coverage]:
    """Colleagues the user covers for at `now`, the soonest back first (one query)."""
    if user.agency is None:
        return []
    now = now or timezone.now()
    return list(
        Coverage.objects.filter(
            agency_id=access.agency_id_of(user),
            covering=user,
            starts_at__lte=now,
            ends_at__gt=now,
            absent__is_active=True,
        )
        .select_related("absent__agency")
        .order_by("ends_at", "id")[:COVERED_SHOWN]
    )


# Hand-offs --------------------------------------------------------------------------------


def handoffs_visible(user: User) -> QuerySet[Handoff]:
    """Hand-offs the user gave, received or made, their supervised team's, or (admins) all."""
    handoffs = Handoff.objects.filter(agency_id=access.agency_id_of(user))
    if access.may_manage_staff(user):
        return handoffs
    team = access.supervised_staff_ids(user)
    return handoffs.filter(
        Q(from_staff=user)
        | Q(to_staff=user)
        | Q(created_by=user)
        | Q(from_staff_id__in=team)
        | Q(to_staff_id__in=team)
    )


def handoff_list(*, user: User, limit: int = 100) -> list[Handoff]:
    """The most recent hand-offs the user may see, with their number of clients (one query)."""
    return list(
        handoffs_visible(user)
        .select_related("from_staff", "to_staff")
        .annotate(client_count=Count("clients"))
        .order_by("-created_at", "-id")[:limit]
    )


def handoff_or_404(user: User, handoff_id: int | str) -> Handoff:
    try:
        return (
            handoffs_visible(user)
            .select_related("from_staff", "to_staff", "created_by")
            .get(pk=int(handoff_id))
        )
    except (ValueError, TypeError, Handoff.DoesNotExist):
        raise Http404("No such hand-off.") from None


def handoffs_to_acknowledge(*, user: User) -> list[Handoff]:
    """Hand-offs to the user they have not acknowledged, with their number of clients."""
    if user.agency is None:
        return []
    return list(
        Handoff.objects.filter(
            agency_id=access.agency_id_of(user), to_staff=user, acknowledged_at__isnull=True
        )
        .select_related("from_staff")
        .annotate(client_count=Count("clients"))
        .order_by("effective_on", "id")
    )


def handoff_candidates(*, user: User, giver: User) -> QuerySet[Client]:
    """The giver's own clients (primary, no hand-off under way) that the user may see."""
    assert user.agency is not None
    primary = CareTeamMember.objects.filter(
        CareTeamMember.active_on(user.agency.today()),
        staff=giver,
        role=CareTeamMember.Role.PRIMARY,
        end_on__isnull=True,
    ).values("client_id")
    return (
        access.visible_clients(user)
        .filter(id__in=primary)
        .exclude(status=Client.Status.MERGED)
        .order_by("legal_last_name", "legal_first_name", "id")
    )


def _as_dates(value: Any) -> Any:
    """The summary's ISO strings as dates (keys ending in _on) and datetimes (ending in _at)."""
    if isinstance(value, list):
        return [_as_dates(v) for v in value]
    if not isinstance(value, dict):
        return value
    shown: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, str) and item and key.endswith("_on"):
            shown[key] = datetime.date.fromisoformat(item)
        elif isinstance(item, str) and item and key.endswith("_at"):
            shown[key] = datetime.datetime.fromisoformat(item)
        else:
            shown[key] = _as_dates(item)
    return shown


@dataclass
class HandoffClientView:
    client: Client
    summary: dict[str, Any]


@dataclass
class HandoffView:
    handoff: Handoff
    clients: list[HandoffClientView] = field(default_factory=list)
    hidden: int = 0  # clients in it the user may no longer see
    may_acknowledge: bool = False


def handoff_detail(*, user: User, handoff: Handoff) -> HandoffView:
    """The hand-off with each client's summary, for the clients the user may see (two queries)."""
    rows = list(
        HandoffClient.objects.filter(handoff=handoff)
        .select_related("client")
        .order_by("client__legal_last_name", "client__legal_first_name", "id")
    )
    visible = set(
        access.visible_clients(user)
        .filter(pk__in=[r.client_id for r in rows])
        .values_list("pk", flat=True)
    )
    shown = [
        HandoffClientView(r.client, _as_dates(r.summary)) for r in rows if r.client_id in visible
    ]
    return HandoffView(
        handoff=handoff,
        clients=shown,
        hidden=len(rows) - len(shown),
        may_acknowledge=handoff.to_staff_id == user.pk and handoff.acknowledged_at is None,
    )


def _who_to_call(
    client_ids: list[int], today: datetime.date
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Care team, the client's phones, emergency contacts and the people the client's releases
    name: names, roles and phones only (four queries)."""
    calls: dict[int, dict[str, list[dict[str, Any]]]] = {
        pk: {"care_team": [], "client_phones": [], "emergency_contacts": [], "releases": []}
        for pk in client_ids
    }
    for member in (
        CareTeamMember.objects.filter(CareTeamMember.active_on(today), client_id__in=client_ids)
        .select_related("staff")
        .order_by("role", "start_on", "id")
    ):
        calls[member.client_id]["care_team"].append(
            {
                "name": member.staff.full_name,
                "role": member.get_role_display(),
                "phone": member.staff.phone,
                "until_on": member.end_on.isoformat() if member.end_on else "",
            }
        )
    for phone in Phone.objects.filter(client_id__in=client_ids).order_by("-is_primary", "id"):
        calls[phone.client_id]["client_phones"].append(
            {
                "number": phone.number,
                "kind": phone.get_kind_display(),
                "voicemail": phone.may_leave_voicemail,
                "text": phone.safe_to_text,
            }
        )
    for contact in EmergencyContact.objects.filter(client_id__in=client_ids).order_by("id"):
        calls[contact.client_id]["emergency_contacts"].append(
            {"name": contact.name, "relationship": contact.relationship, "phone": contact.phone}
        )
    releases = (
        Consent.objects.filter(
            client_id__in=client_ids,
            revoked_at__isnull=True,
            starts_on__lte=today,
        )
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
        .select_related("person", "organization")
        .order_by("expires_on", "id")
    )
    for consent in releases:
        person, organization = consent.person, consent.organization
        calls[consent.client_id]["releases"].append(
            {
                "name": person.name if person else organization.name if organization else "",
                "role": person.get_role_display() if person else "",
                "organization": organization.name if organization and person else "",
                "phone": (person.phone if person else "")
                or (organization.phone if organization else ""),
                "expires_on": consent.expires_on.isoformat() if consent.expires_on else "",
            }
        )
    return calls


def _current_goals(client_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Goals of each client's latest signed plan with their objectives still open and target
    dates (four queries)."""
    latest: dict[int, int] = {}
    for client_id, plan_id in (
        ServicePlan.objects.filter(client_id__in=client_ids, status=ServicePlan.Status.SIGNED)
        .order_by("client_id", "-number")
        .values_list("client_id", "pk")
    ):
        latest.setdefault(client_id, plan_id)
    progress = latest_progress(client_ids=set(latest))
    goals: dict[int, list[dict[str, Any]]] = {pk: [] for pk in client_ids}
    for goal in (
        PlanGoal.objects.filter(plan_id__in=list(latest.values()))
        .select_related("plan")
        .prefetch_related("objectives")
        .order_by("plan_id", "position", "id")
    ):
        objectives = []
        for objective in goal.objectives.all():
            status = progress.get(objective.key)
            code = status.status if status else PlanObjective.Status.NOT_STARTED
            if code in FINISHED_OBJECTIVES:
                continue
            objectives.append(
                {
                    "text": objective.text,
                    "target_on": objective.target_on.isoformat(),
                    "status": PlanObjective.Status(code).label,
                }
            )
        if objectives:
            goals[goal.plan.client_id].append({"text": goal.text, "objectives": objectives})
    return goals


def handoff_summaries(
    *,
    client_ids: list[int],
    agency: Agency,
    moved_task_ids: set[int] | frozenset[int] = frozenset(),
) -> dict[int, dict[str, Any]]:
    """What the receiver needs to know about each client, as it stands now: open tasks,
    appointments in the next 30 days, open plan goals, active safety flags, open warnings and
    who to call. Dates are ISO strings (JSON); a fixed number of queries for any number."""
    now = timezone.now()
    today = now.astimezone(agency.tzinfo).date()
    summaries: dict[int, dict[str, Any]] = {
        pk: {
            "as_of_at": now.isoformat(),
            "open_tasks": [],
            "appointments": [],
            "goals": [],
            "safety_flags": [],
            "warnings": [],
        }
        for pk in client_ids
    }
    for task in (
        Task.objects.filter(client_id__in=client_ids, status=Task.Status.OPEN)
        .select_related("assignee")
        .order_by("due_on", "id")
    ):
        assert task.client_id is not None
        summaries[task.client_id]["open_tasks"].append(
            {
                "title": task.title,
                "due_on": task.due_on.isoformat() if task.due_on else "",
                "urgent": task.urgent,
                "assignee": task.assignee.full_name,
                "moved": task.pk in moved_task_ids,
            }
        )
    for link in (
        AppointmentClient.objects.filter(
            client_id__in=client_ids,
            appointment__status=Appointment.Status.SCHEDULED,
            appointment__start_at__gte=now,
            appointment__start_at__lt=now + datetime.timedelta(days=UPCOMING_DAYS),
        )
        .select_related("appointment__staff")
        .order_by("appointment__start_at", "id")
    ):
        appointment = link.appointment
        summaries[link.client_id]["appointments"].append(
            {
                "start_at": appointment.start_at.isoformat(),
                "kind": appointment.get_kind_display(),
                "place": appointment.get_place_type_display(),
                "staff": appointment.staff.full_name,
                "external_with": appointment.external_with,
            }
        )
    for flag in SafetyFlag.objects.filter(client_id__in=client_ids, is_active=True):
        summaries[flag.client_id]["safety_flags"].append(
            {"kind": flag.get_kind_display(), "detail": flag.detail}
        )
    for warning in ClientWarning.objects.filter(
        client_id__in=client_ids, acknowledged_at__isnull=True
    ).order_by("-raised_at", "-id"):
        summaries[warning.client_id]["warnings"].append(
            {
                "kind": warning.get_kind_display(),
                "evidence": warning.evidence,
                "raised_on": warning.raised_at.astimezone(agency.tzinfo).date().isoformat(),
            }
        )
    for client_id, goals in _current_goals(client_ids).items():
        summaries[client_id]["goals"] = goals
    for client_id, calls in _who_to_call(client_ids, today).items():
        summaries[client_id]["who_to_call"] = calls
    return summaries
