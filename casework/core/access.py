"""The one place that decides who may see or change what.

Selectors and API querysets start from these functions; views never filter by hand.

- Nothing crosses agencies.
- Case managers and supervisors see the clients of their teams: a client belongs to a team
  when someone on the team is currently on the client's care team. A person with no team
  sees their own caseload.
- Agency admins and billing staff see every client of the agency (billing sees billing data,
  not note narratives, unless the agency allows it). Their chart reads are audited like anyone's.
- 42 CFR Part 2 inside the agency: a note written under a Part 2 program, and a document marked
  Part 2, are the program's records. Their content is read by the program's staff who need it
  (see `note_narratives_withheld`), by its author, and under an emergency grant; everyone else who
  opens the chart sees that the record exists and why it is withheld (`PART2_WITHHELD`).
- Auditors read the audit log and nothing else, and change nothing (`may_change_records`).
- Break the glass: a time-limited grant, with a reason, to one chart outside one's scope.
- Coverage: while a colleague is away, the person covering for them sees their caseload, until
  the coverage ends.
"""

from __future__ import annotations

import contextvars
import datetime
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.core.models import Program, Role, Team, TeamMembership, User

if TYPE_CHECKING:
    from casework.clients.models import Client

T = TypeVar("T")
M = TypeVar("M", bound=Model)

AGENCY_WIDE_ROLES = (Role.AGENCY_ADMIN, Role.BILLING)

# Facts about the person asking that one page reads several times (their team, their
# emergency grants), kept for the length of one request only: RequestIdMiddleware sets it.
scope_memo: contextvars.ContextVar[dict[tuple[Any, ...], Any] | None] = contextvars.ContextVar(
    "casework_scope_memo", default=None
)
# The directory organisation whose system is reading, when an API token made for one is used
# (set by the API's token authentication, reset by RequestIdMiddleware for every request).
outside_reader: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "casework_outside_reader", default=None
)


def _remembered(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
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
    from casework.clients.models import Client

    if not _is_staff_of_an_agency(user):
        return Client.objects.none()
    if user.has_role(*AGENCY_WIDE_ROLES):
        return clients_in_scope(user)
    agency_id = agency_id_of(user)
    if outside_reader.get() is not None:
        return clients_in_scope(user)  # an outside system never breaks the glass
    granted = _granted_client_ids(user)
    if not granted:
        return clients_in_scope(user)
    return Client.objects.filter(agency_id=agency_id).filter(
        Q(id__in=clients_in_scope(user).values("id")) | Q(id__in=granted)
    )


def sees_client(user: User, client_id: int) -> bool:
    """Whether the client is in `visible_clients`: asked once per request, however many parts
    of a page (the chart's cards) read that client's records."""
    return _remembered(
        _seen_key(user, client_id), lambda: visible_clients(user).filter(pk=client_id).exists()
    )


def _seen_key(user: User, client_id: int) -> tuple[Any, ...]:
    return ("sees", user.pk, outside_reader.get(), client_id)


def visible_client(
    user: User,
    client_id: int,
    shape: Callable[[QuerySet[Client]], QuerySet[Client]] = lambda rows: rows,
) -> Client:
    """One client from `visible_clients` (`shape` adds what a page prefetches); raises
    Client.DoesNotExist. Later reads of this client's records in the same request then skip the
    scope's subquery (`of_visible_client`). The answer holds for the rest of the request: a
    view that removes someone's access (ends a care-team row, a cover) must not go on to read
    that client's records for them in the same request."""
    client = shape(visible_clients(user)).get(pk=client_id)
    _remembered(_seen_key(user, client.pk), lambda: True)
    return client


def visible_among(user: User, client_ids: list[int]) -> QuerySet[Client]:
    """Of these clients, those the user may see: read without the scope's subquery when every
    one of them was already proven visible in this request (the chart's client)."""
    from casework.clients.models import Client

    memo = scope_memo.get() or {}
    if client_ids and all(memo.get(_seen_key(user, pk)) is True for pk in client_ids):
        return Client.objects.filter(agency_id=agency_id_of(user), pk__in=client_ids)
    return visible_clients(user).filter(pk__in=client_ids)


def of_visible_client(user: User, rows: QuerySet[M], client_id: int) -> QuerySet[M]:
    """The rows (notes, plans, ...) of one client, or none when the user may not see that
    client: the same answer as filtering by `visible_clients`, with a plain equality instead
    of the scope's subquery in every card of the chart."""
    if not sees_client(user, int(client_id)):
        return rows.none()
    return rows.filter(agency_id=agency_id_of(user), client_id=client_id)


def opened_by_grant(user: User, client_id: int) -> bool:
    """Whether the user sees this client only through a break-the-glass grant."""
    if user.has_role(*AGENCY_WIDE_ROLES) or client_id not in _granted_client_ids(user):
        return False
    return not clients_in_scope(user).filter(pk=client_id).exists()


def _granted_client_ids(user: User) -> list[int]:
    """Clients the user holds an unexpired break-the-glass grant to."""
    from casework.clients.models import BreakGlassAccess

    return _remembered(
        ("granted", user.pk),
        lambda: list(
            BreakGlassAccess.objects.filter(
                user=user, agency_id=agency_id_of(user), expires_at__gt=timezone.now()
            ).values_list("client_id", flat=True)
        ),
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
        return visible_client(user, int(client_id))
    except (ValueError, TypeError, visible_clients(user).model.DoesNotExist):
        raise Http404("No such client.") from None


def may_break_glass(user: User, client: Client) -> bool:
    """Staff who work with charts may ask for emergency access to one in their own agency."""
    return (
        _is_staff_of_an_agency(user)
        and user.agency_id == client.agency_id
        and user.has_role(*CHART_ROLES)
    )


def may_open_part2_in_emergency(user: User, client: Client, withheld: str) -> bool:
    """Whether a page that withholds a Part 2 record (`withheld`) offers to open it under an
    emergency grant (§2.51): to chart staff of the agency, never to a role that reads no
    narratives at all."""
    return withheld == PART2_WITHHELD and may_break_glass(user, client)


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
    """Whether the user's role reads what notes say (Part 2 records are a further question:
    note_narratives_withheld, part2_document_withheld)."""
    if not _is_staff_of_an_agency(user):
        return False
    if user.has_role(*CASELOAD_ROLES, Role.AGENCY_ADMIN):
        return True
    return user.has_role(Role.BILLING) and bool(user.agency and user.agency.billing_sees_narratives)


def may_change_records(user: Any) -> bool:
    """Everyone who works for an agency may change something, except auditors: they watch and
    never act. Their own password, two-factor device, sessions and API tokens are theirs to
    manage; nothing of the agency's is."""
    return _is_staff_of_an_agency(user) and user.has_role(
        *(role for role in Role.values if role != Role.AUDITOR)
    )


# -- 42 CFR Part 2 inside the agency -------------------------------------------------------
#
# Part 2 lets a program use its records within the program, among the staff who need them for
# their work (§2.12(c)(3)), and share them outside it only with consent (or in a medical
# emergency, §2.51). A Part 2 program here is a `Program` marked `is_part2`; its staff are the
# members and supervisors of the active teams of that program (`Team.program`), so an agency
# admin, billing, or a colleague of another program is outside it even on the same chart.
#
# What is the program's record: a note written under the program (`Note.program`, fixed when
# the note is signed: the author worked in the program and the client was enrolled in it on
# the service date) with its addenda, and a document marked Part 2 of a client the agency's
# Part 2 programs serve. The rest of the chart (demographics, care team, diagnoses for claims,
# other programs' notes) is read as before. Billing keeps the service line facts of every note
# (code, date, units, place): claims need those, not the narrative.

PART2_WITHHELD = "Part 2 record — restricted to the program's staff"
NARRATIVE_NOT_FOR_ROLE = "Your role sees billing details of notes, not their narrative."


def programs_worked_in(user: User) -> frozenset[int]:
    """Ids of the programs the user works in: those of the active teams they are on or supervise."""
    return _remembered(
        ("programs", user.pk),
        lambda: frozenset(
            TeamMembership.objects.filter(
                user=user, team__is_active=True, team__program__isnull=False
            ).values_list("team__program_id", flat=True)
        ),
    )


def part2_program_ids(agency_id: int) -> frozenset[int]:
    """Ids of the agency's 42 CFR Part 2 programs (a program, once Part 2, stays Part 2)."""
    return _remembered(
        ("part2_programs", agency_id),
        lambda: frozenset(
            Program.objects.filter(agency_id=agency_id, is_part2=True).values_list("pk", flat=True)
        ),
    )


def _part2_readable_clients(
    user: User, client_ids: set[int], program_ids: frozenset[int]
) -> set[int]:
    """Of `client_ids`, the clients whose records of the Part 2 programs `program_ids` the user
    may read: under an emergency grant to the chart (§2.51; never for an outside system), or as
    staff of one of the programs who is on the client's care team today, covers for someone
    who is, or supervises a team of the program with someone on it. Three queries at most."""
    from casework.clients.models import CareTeamMember

    readable: set[int] = set()
    if outside_reader.get() is None:
        readable = client_ids.intersection(_granted_client_ids(user))
    mine = programs_worked_in(user) & program_ids
    rest = client_ids - readable
    if not mine or not rest:
        return readable
    program_teams = TeamMembership.objects.filter(
        user=user,
        kind=TeamMembership.Kind.SUPERVISOR,
        team__is_active=True,
        team__program_id__in=mine,
    ).values("team_id")
    supervised = TeamMembership.objects.filter(team_id__in=program_teams).values("user_id")
    on_duty = [user.pk, *covered_staff(user)]
    today = user.agency.today()  # type: ignore[union-attr]
    readable.update(
        CareTeamMember.objects.filter(
            CareTeamMember.active_on(today),
            client_id__in=sorted(rest),
            agency_id=agency_id_of(user),
        )
        .filter(Q(staff_id__in=on_duty) | Q(staff_id__in=supervised))
        .values_list("client_id", flat=True)
    )
    return readable


def note_narratives_withheld(user: User, notes: Iterable[Any]) -> dict[int, str]:
    """For each of these notes whose narrative (sections, the group's shared text, addenda) the
    user may not read, what to show instead; notes the user may read are left out.

    A role that reads no narratives (billing, unless the agency allows it) reads none. A note
    written under a Part 2 program is read by its author and as `_part2_readable_clients` says.
    One query per Part 2 program among the notes, not per note.
    """
    notes = list(notes)
    if not notes:
        return {}
    if not may_read_narratives(user):
        return {note.pk: NARRATIVE_NOT_FOR_ROLE for note in notes}
    part2 = part2_program_ids(agency_id_of(user))
    restricted = [n for n in notes if n.program_id in part2 and n.author_id != user.pk]
    withheld: dict[int, str] = {}
    for program_id in sorted({note.program_id for note in restricted}):
        of_program = [note for note in restricted if note.program_id == program_id]
        readable = _part2_readable_clients(
            user, {note.client_id for note in of_program}, frozenset({program_id})
        )
        withheld.update(
            {note.pk: PART2_WITHHELD for note in of_program if note.client_id not in readable}
        )
    return withheld


def note_narrative_withheld(user: User, note: Any) -> str:
    """What to show instead of this note's narrative; "" when the user may read it."""
    return note_narratives_withheld(user, [note]).get(note.pk, "")


def may_open_part2_documents(user: User, client_id: int) -> bool:
    """Whether the user may open the client's Part 2 documents that others uploaded.

    A Part 2 document of a client in one of the agency's Part 2 programs is that program's
    record: opened as `_part2_readable_clients` says. One marked Part 2 for a client the agency's
    Part 2 programs never served came from a program elsewhere under the client's consent: the
    care team reads it like the rest of the chart, and it still leaves the agency only under a
    Part 2 consent (casework.coordination.disclosure).
    """
    from casework.clients.models import Episode

    programs = frozenset(
        Episode.objects.filter(
            client_id=client_id, program_id__in=sorted(part2_program_ids(agency_id_of(user)))
        ).values_list("program_id", flat=True)
    )
    return not programs or client_id in _part2_readable_clients(user, {client_id}, programs)


def part2_document_withheld(user: User, document: Any) -> str:
    """What to show instead of this document's file; "" when the user may open it."""
    if not document.part2 or document.uploaded_by_id == user.pk:
        return ""
    return "" if may_open_part2_documents(user, document.client_id) else PART2_WITHHELD


def documents_openable(user: User, client_id: int, documents: QuerySet[M]) -> QuerySet[M]:
    """`documents` (of this one client) without the Part 2 ones the user may not open."""
    if may_open_part2_documents(user, client_id):
        return documents
    return documents.exclude(Q(part2=True) & ~Q(uploaded_by_id=user.pk))


def note_program_for(*, author: User, client_id: int, on: datetime.date) -> int | None:
    """The program a note about this client on this day is written under: one the author works
    in and the client was enrolled in that day, a Part 2 program first (the stricter rule wins
    when the service belongs to both). None when there is no such program."""
    from casework.clients.models import Episode

    enrolled = (
        Episode.objects.filter(
            client_id=client_id,
            program_id__in=sorted(programs_worked_in(author)),
            admitted_on__lte=on,
        )
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=on))
        .values_list("program_id", "program__is_part2")
    )
    ranked = sorted(enrolled, key=lambda row: (not row[1], row[0]))
    return ranked[0][0] if ranked else None


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
