"""The one place that decides who may see or change what.

Selectors and API querysets start from these functions; views never filter by hand.

- Nothing crosses agencies.
- Case managers and supervisors see the clients of their teams: a client belongs to a team
  when someone on the team is currently on the client's care team. A person with no team
  sees their own caseload.
- Agency admins and billing staff see every client of the agency (billing sees billing data,
  not note narratives, unless the agency allows it). Their chart reads are audited like anyone's.
- Auditors read the audit log and nothing else.
- Break the glass: a time-limited grant, with a reason, to one chart outside one's scope.
- Coverage: while a colleague is away, the person covering for them sees their caseload, until
  the coverage ends.
"""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.core.models import Program, Role, Team, TeamMembership, User

if TYPE_CHECKING:
    from casework.clients.models import Client

T = TypeVar("T")

AGENCY_WIDE_ROLES = (Role.AGENCY_ADMIN, Role.BILLING)

# Facts about the person asking that one page reads several times (their team, their
# emergency grants), kept for the length of one request only: RequestIdMiddleware sets it.
scope_memo: contextvars.ContextVar[dict[tuple[str, int], Any] | None] = contextvars.ContextVar(
    "casework_scope_memo", default=None
)
# The directory organisation whose system is reading, when an API token made for one is used
# (set by the API's token authentication, reset by RequestIdMiddleware for every request).
outside_reader: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "casework_outside_reader", default=None
)


def _remembered(key: tuple[str, int], compute: Callable[[], T]) -> T:
    memo = scope_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


CASELOAD_ROLES = (Role.CASE_MANAGER, Role.SUPERVISOR)
CHART_ROLES = AGENCY_WIDE_ROLES + CASELOAD_ROLES


def _is_staff_of_an_agency(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.agency_id)


def agency_id_of(user: Any) -> int:
    """The user's agency id; anyone without an agency is refused, never given a blank scope."""
    agency_id = getattr(user, "agency_id", None)
    if not getattr(user, "is_authenticated", False) or agency_id is None:
        raise PermissionDenied("You are not a member of an agency.")
    return int(agency_id)


def colleague_ids(user: User) -> QuerySet[TeamMembership, Any]:
    """Ids of everyone on a team the user belongs to (as member or supervisor)."""
    my_teams = TeamMembership.objects.filter(user=user, team__is_active=True).values("team_id")
    return TeamMembership.objects.filter(team_id__in=my_teams).values("user_id")


def covered_staff(user: User) -> QuerySet[Any, Any]:
    """Ids of colleagues this user is covering for right now (their caseload is in scope)."""
    from casework.coordination.models import Coverage

    now = timezone.now()
    return (
        Coverage.objects.filter(
            covering=user, agency_id=agency_id_of(user), starts_at__lte=now, ends_at__gt=now
        )
        .order_by()
        .values_list("absent_id", flat=True)
    )


def _team_and_covered_ids(user: User) -> list[int]:
    """Teammates and colleagues covered for, in one round trip."""
    teammates = colleague_ids(user).order_by().values_list("user_id", flat=True)
    return list(teammates.union(covered_staff(user)))


def clients_in_scope(user: User) -> QuerySet[Client]:
    """Clients the user may open in the ordinary course of work (without breaking the glass)."""
    return _released_to_outside_reader(_caseload_scope(user))


def _caseload_scope(user: User) -> QuerySet[Client]:
    from casework.clients.models import CareTeamMember, Client

    if not _is_staff_of_an_agency(user):
        return Client.objects.none()
    agency_clients = Client.objects.filter(agency_id=agency_id_of(user))
    if user.has_role(*AGENCY_WIDE_ROLES):
        return agency_clients
    if not user.has_role(*CASELOAD_ROLES):
        return Client.objects.none()
    today = user.agency.today()  # type: ignore[union-attr]
    # The team is a handful of people: fetched as a list, the care-team lookup uses its
    # (staff, dates) index instead of an OR over a subquery scanning the whole agency.
    team_staff = _remembered(("team", user.pk), lambda: {user.pk, *_team_and_covered_ids(user)})
    on_care_team = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today),
        staff_id__in=sorted(team_staff),
        agency_id=agency_id_of(user),
    ).values("client_id")
    return agency_clients.filter(id__in=on_care_team)


def visible_clients(user: User) -> QuerySet[Client]:
    """Clients in scope plus those opened by an unexpired break-the-glass grant."""
    from casework.clients.models import BreakGlassAccess, Client

    if not _is_staff_of_an_agency(user):
        return Client.objects.none()
    if user.has_role(*AGENCY_WIDE_ROLES):
        return clients_in_scope(user)
    agency_id = agency_id_of(user)
    if outside_reader.get() is not None:
        return clients_in_scope(user)  # an outside system never breaks the glass
    granted = _remembered(
        ("granted", user.pk),
        lambda: list(
            BreakGlassAccess.objects.filter(
                user=user, agency_id=agency_id, expires_at__gt=timezone.now()
            ).values_list("client_id", flat=True)
        ),
    )
    if not granted:
        return clients_in_scope(user)
    return Client.objects.filter(agency_id=agency_id).filter(
        Q(id__in=clients_in_scope(user).values("id")) | Q(id__in=granted)
    )


def _released_to_outside_reader(clients: QuerySet[Client]) -> QuerySet[Client]:
    """For an outside organisation's system, only clients with a release to it in force."""
    organization_id = outside_reader.get()
    if organization_id is None:
        return clients
    from casework.coordination.models import Consent

    now = timezone.now()
    # A day's slack either side for time zones: each read's disclosure check then applies the
    # dates exactly, in the agency's zone. This keeps clients without a release out of sight.
    tomorrow, yesterday = (now.date() + datetime.timedelta(days=d) for d in (1, -1))
    released = Consent.objects.filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
        Q(expires_on__isnull=True) | Q(expires_on__gte=yesterday),
        Q(ended_on__isnull=True) | Q(ended_on__gt=yesterday),
        organization_id=organization_id,
        person__isnull=True,
        starts_on__lte=tomorrow,
    ).values("client_id")
    return clients.filter(id__in=released)


def client_or_404(user: User, client_id: int | str) -> Client:
    """The client if the user may see it; 404 otherwise, so outsiders learn nothing."""
    try:
        return visible_clients(user).get(pk=int(client_id))
    except (ValueError, TypeError, visible_clients(user).model.DoesNotExist):
        raise Http404("No such client.") from None


def may_break_glass(user: User, client: Client) -> bool:
    """Staff who work with charts may ask for emergency access to one in their own agency."""
    return (
        _is_staff_of_an_agency(user)
        and user.agency_id == client.agency_id
        and user.has_role(*CHART_ROLES)
    )


def break_glass_candidate(user: User, client_id: int | str) -> Client:
    """A client of the user's agency that the user may request break-the-glass access to."""
    from casework.clients.models import Client

    if not _is_staff_of_an_agency(user) or not user.has_role(*CHART_ROLES):
        raise Http404("No such client.")
    try:
        return Client.objects.get(pk=int(client_id), agency_id=agency_id_of(user))
    except (ValueError, TypeError, Client.DoesNotExist):
        raise Http404("No such client.") from None


def may_edit_chart(user: User) -> bool:
    """Billing and auditors read; case managers, supervisors and admins write."""
    return _is_staff_of_an_agency(user) and user.has_role(
        Role.CASE_MANAGER, Role.SUPERVISOR, Role.AGENCY_ADMIN
    )


def may_create_clients(user: User) -> bool:
    return may_edit_chart(user)


def may_read_narratives(user: User) -> bool:
    if not _is_staff_of_an_agency(user):
        return False
    if user.has_role(*CASELOAD_ROLES, Role.AGENCY_ADMIN):
        return True
    return user.has_role(Role.BILLING) and bool(user.agency and user.agency.billing_sees_narratives)


def may_write_notes(user: Any) -> bool:
    """Staff who serve clients document their contacts; billing and auditors do not."""
    return may_edit_chart(user)


def may_configure_billing(user: Any) -> bool:
    """Payers, the service catalogue, fee schedules, authorizations and claim settings."""
    return _is_staff_of_an_agency(user) and user.has_role(Role.AGENCY_ADMIN, Role.BILLING)


def may_bill(user: Any) -> bool:
    """Charges, billing holds, claim batches and billing reports."""
    return _is_staff_of_an_agency(user) and user.has_role(Role.AGENCY_ADMIN, Role.BILLING)


def may_manage_staff(user: Any) -> bool:
    return _is_staff_of_an_agency(user) and user.has_role(Role.AGENCY_ADMIN)


def may_configure_assessments(user: Any) -> bool:
    """The agency's rules for assessments: how often each is repeated, which are required."""
    return _is_staff_of_an_agency(user) and user.has_role(Role.AGENCY_ADMIN)


def may_merge_clients(user: Any) -> bool:
    return may_manage_staff(user)


def may_read_audit(user: Any) -> bool:
    return _is_staff_of_an_agency(user) and user.has_role(Role.AGENCY_ADMIN, Role.AUDITOR)


def may_use_client_registry(user: Any) -> bool:
    return _is_staff_of_an_agency(user) and user.has_role(*CHART_ROLES)


def staff_in_agency(user: Any) -> QuerySet[User]:
    """Staff of the user's agency (for pickers, team boards and the staff API)."""
    if not _is_staff_of_an_agency(user):
        return User.objects.none()
    return User.objects.filter(agency_id=agency_id_of(user))


def teams_in_agency(user: Any) -> QuerySet[Team]:
    return Team.objects.filter(agency_id=agency_id_of(user))


def programs_in_agency(user: Any) -> QuerySet[Program]:
    return Program.objects.filter(agency_id=agency_id_of(user))


def supervised_staff_ids(user: User) -> QuerySet[TeamMembership, Any]:
    """Everyone on the (active) teams this user supervises."""
    teams = TeamMembership.objects.filter(
        user=user, kind=TeamMembership.Kind.SUPERVISOR, team__is_active=True
    ).values("team_id")
    return TeamMembership.objects.filter(team_id__in=teams).values("user_id")


def may_act_for(user: User, staff_id: int) -> bool:
    """Whether the user may manage this staff member's schedule and tasks: their own, a
    supervisor's team member's, or (an admin) anyone's in the agency."""
    if staff_id == user.pk or may_manage_staff(user):
        return True
    return supervised_staff_ids(user).filter(user_id=staff_id).exists()


def may_use_directory(user: Any) -> bool:
    """Staff who work with charts look up and add the people and places clients deal with."""
    return _is_staff_of_an_agency(user) and user.has_role(*CHART_ROLES)


def may_curate_directory(user: Any) -> bool:
    """Admins and supervisors correct, deactivate and import directory entries."""
    return _is_staff_of_an_agency(user) and user.has_role(Role.AGENCY_ADMIN, Role.SUPERVISOR)


def may_coordinate(user: Any) -> bool:
    """Releases, documents, referrals and communications are recorded by those who serve clients."""
    return may_edit_chart(user)


def sees_whole_agency(user: Any) -> bool:
    """Whether the user's client scope is every client of the agency: an agency-wide role
    acting in person, not an outside system reading through a release."""
    return (
        _is_staff_of_an_agency(user)
        and user.has_role(*AGENCY_WIDE_ROLES)
        and outside_reader.get() is None
    )
