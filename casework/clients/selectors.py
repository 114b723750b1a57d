"""Every read of client data, starting from the access layer."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.clients import search
from casework.clients.models import (
    BreakGlassAccess,
    CareTeamMember,
    Client,
    Coverage,
    Diagnosis,
    Episode,
    Identifier,
    NameKey,
    SafetyFlag,
    TimelineEvent,
)
from casework.clients.validators import normalize_identifier
from casework.core import access
from casework.core.models import User

SEARCH_LIMIT = 50
CANDIDATE_LIMIT = 2000  # name-key matches ranked in Python per search
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")
_IDENTIFIER_LIKE = re.compile(r"^[A-Za-z0-9\-]*\d[A-Za-z0-9\-]*$")


def _with_list_columns(clients: QuerySet[Client], today: datetime.date) -> QuerySet[Client]:
    """What a client list row shows: primary case manager and active flags, in two extra queries."""
    return clients.prefetch_related(
        Prefetch(
            "care_team",
            queryset=CareTeamMember.objects.filter(
                CareTeamMember.active_on(today), role=CareTeamMember.Role.PRIMARY
            ).select_related("staff"),
            to_attr="primary_assignments",
        ),
        Prefetch(
            "safety_flags",
            queryset=SafetyFlag.objects.filter(is_active=True),
            to_attr="active_flags",
        ),
    )


def my_caseload(*, user: User) -> list[Client]:
    """Clients for whom the user is currently the primary case manager."""
    if user.agency is None:
        return []
    today = user.agency.today()
    mine = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today), staff=user, role=CareTeamMember.Role.PRIMARY
    ).values("client_id")
    clients = access.visible_clients(user).filter(id__in=mine).exclude(status=Client.Status.MERGED)
    return list(_with_list_columns(clients, today).order_by("legal_last_name", "legal_first_name"))


def parse_date(text: str) -> datetime.date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class SearchResult:
    clients: list[Client]
    matched_by: str  # "name", "date of birth", "identifier", "record number" or "" for a plain list
    total_in_scope: int | None = None


def client_search(
    *, user: User, query: str, include_inactive: bool = False, limit: int = SEARCH_LIMIT
) -> SearchResult:
    """Typo-tolerant on names, exact on identifiers, record numbers and dates of birth."""
    visible = access.visible_clients(user).exclude(status=Client.Status.MERGED)
    if not include_inactive:
        visible = visible.filter(status=Client.Status.ACTIVE)
    today = user.agency.today() if user.agency else timezone.now().date()
    query = (query or "").strip()[:200]
    if not query:
        clients = _with_list_columns(visible, today).order_by(
            "legal_last_name", "legal_first_name"
        )[:limit]
        return SearchResult(list(clients), "")

    born = parse_date(query)
    if born is not None:
        clients = _with_list_columns(visible.filter(date_of_birth=born), today)[:limit]
        return SearchResult(list(clients), "date of birth")

    if _IDENTIFIER_LIKE.match(query) and not query.isalpha():
        value = normalize_identifier("", query)
        by_record = visible.filter(record_number__iexact=query)
        if by_record.exists():
            return SearchResult(list(_with_list_columns(by_record, today)), "record number")
        by_identifier = visible.filter(
            id__in=Identifier.objects.filter(
                agency_id=access.agency_id_of(user), value=value
            ).values("client_id")
        )
        return SearchResult(list(_with_list_columns(by_identifier, today)[:limit]), "identifier")

    agency_keys = NameKey.objects.filter(agency_id=access.agency_id_of(user))
    if access.sees_whole_agency(user):
        # Merged records have no keys, and the keys know whether their client is active: the
        # whole agency's keys need no join with its clients (which would read every client).
        in_scope = agency_keys if include_inactive else agency_keys.filter(client_is_active=True)
    else:
        # A caseload is small: narrowed to it first, other teams' namesakes never crowd it out.
        in_scope = agency_keys.filter(client_id__in=visible.values("id"))
    return SearchResult(
        _search_by_name(visible=visible, keys=in_scope, query=query, today=today, limit=limit),
        "name",
    )


def _search_by_name(
    *,
    visible: QuerySet[Client],
    keys: QuerySet[NameKey],
    query: str,
    today: datetime.date,
    limit: int,
) -> list[Client]:
    """`keys`: the search keys of the clients in the user's scope (a narrowing, not a proof:
    the clients found are checked against `visible`)."""
    query_tokens = search.tokens(query)[:5]
    if not query_tokens:
        return []
    # Names spelt exactly as typed first, from far fewer keys: when they fill the page, no
    # misspelling or prefix (which rank lower) could take a place on it.
    best: list[tuple[float, int]] = []
    spelt_as_typed = _spelt_as_typed(keys=keys, query_tokens=query_tokens, most=4 * limit)
    if len(spelt_as_typed) >= limit:  # else they cannot fill the page: not worth ranking
        best = _ranked(visible=visible, candidate_ids=spelt_as_typed, query_tokens=query_tokens)
    if len(best) < limit or best[limit - 1][0] < 1.0:
        close = _most_matched(keys=keys, query_tokens=query_tokens)
        best = _ranked(visible=visible, candidate_ids=close, query_tokens=query_tokens)
    best_ids = [pk for _, pk in best[:limit]]
    by_id = {c.pk: c for c in _with_list_columns(visible.filter(id__in=best_ids), today)}
    return [by_id[pk] for pk in best_ids if pk in by_id]


# Both return lists, not subqueries: given a subquery PostgreSQL reads every client of the
# agency to join a few hundred candidates (20 ms at 50,000 clients) instead of fetching them by id.


def _spelt_as_typed(*, keys: QuerySet[NameKey], query_tokens: list[str], most: int) -> list[int]:
    """Ids of the clients with a name word spelt as each word of the query is (a client's keys
    are distinct, so one key per word), at most `most`, oldest records first."""
    words = sorted(set(query_tokens))
    return list(
        keys.filter(key__in=words)
        .values("client_id")
        .annotate(hits=Count("*"))
        .filter(hits=len(words))
        .order_by("client_id")
        .values_list("client_id", flat=True)[:most]
    )


def _most_matched(*, keys: QuerySet[NameKey], query_tokens: list[str]) -> list[int]:
    """Ids of the clients close to the longest word (the most selective), those sharing the
    most keys of all the words first, at most CANDIDATE_LIMIT. Counting every word matters
    when a surname is common: among 19,000 Diallos the few hundred Jorge Diallos must not be
    cut off at random."""
    anchor = max(query_tokens, key=len)
    every_key = set().union(*(search.query_keys(token) for token in query_tokens))
    return list(
        keys.filter(key__in=sorted(every_key))
        .values("client_id")
        .annotate(
            hits=Count("*"),
            anchored=Count("client_id", filter=Q(key__in=sorted(search.query_keys(anchor)))),
        )
        .filter(anchored__gt=0)
        .order_by("-hits", "client_id")  # ties in a stable order: a search repeated finds the same
        .values_list("client_id", flat=True)[:CANDIDATE_LIMIT]
    )


def _ranked(
    *, visible: QuerySet[Client], candidate_ids: list[int], query_tokens: list[str]
) -> list[tuple[float, int]]:
    """(score, id) of the candidates that match every word, best first, then by name.

    Plain tuples: ranking needs two columns, and a model instance per candidate (hundreds for
    a common surname) would cost more than the ranking itself."""
    candidates = visible.filter(id__in=candidate_ids).order_by().values_list("id", "search_name")
    scored = sorted(
        (
            (search.rank(query_tokens, search_name.split()), search_name, pk)
            for pk, search_name in candidates
        ),
        key=lambda item: (-item[0], item[1]),
    )
    return [(score, pk) for score, _, pk in scored if score > 0]


def find_possible_duplicates(
    *,
    agency_id: int,
    first_name: str,
    last_name: str,
    date_of_birth: datetime.date | None,
    identifiers: list[tuple[str, str]],
    exclude_id: int | None = None,
) -> list[Client]:
    """Clients of the agency who may be the same person: same identifier, or close name and same birth date.

    Deliberately agency-wide (not caseload-scoped): a duplicate is a duplicate whoever holds it.
    Callers show only name, birth date and record number of clients outside the user's scope.
    """
    agency_clients = Client.objects.filter(agency_id=agency_id).exclude(status=Client.Status.MERGED)
    if exclude_id:
        agency_clients = agency_clients.exclude(pk=exclude_id)
    matches: dict[int, Client] = {}
    id_filter = Q()
    for kind, value in identifiers:
        id_filter |= Q(kind=kind, value=value)
    if identifiers:
        same_ids = Identifier.objects.filter(id_filter, agency_id=agency_id).values("client_id")
        matches.update({c.pk: c for c in agency_clients.filter(id__in=same_ids)})
    if date_of_birth is not None:
        query_tokens = search.tokens(f"{first_name} {last_name}")
        for client in agency_clients.filter(date_of_birth=date_of_birth):
            name_tokens = client.search_name.split()
            last_close = search.rank(search.tokens(last_name), name_tokens) > 0
            if (last_close and search.rank(query_tokens, name_tokens) > 0) or _same_person_swapped(
                query_tokens, name_tokens
            ):
                matches[client.pk] = client
    return sorted(matches.values(), key=lambda c: c.search_name)


def _same_person_swapped(query_tokens: list[str], name_tokens: list[str]) -> bool:
    """First and last name entered the other way round."""
    return len(query_tokens) >= 2 and set(query_tokens[:1] + query_tokens[-1:]) <= set(name_tokens)


@dataclass(frozen=True)
class Chart:
    client: Client
    primary: CareTeamMember | None
    care_team: list[CareTeamMember]
    coverages: list[Coverage]
    diagnoses: list[Diagnosis]
    flags: list[SafetyFlag]
    timeline: list[TimelineEvent]
    break_glass: BreakGlassAccess | None
    today: datetime.date


TIMELINE_LENGTH = 25


def client_chart(*, user: User, client_id: int | str) -> Chart:
    """Everything the chart page shows, in a fixed number of queries whatever the chart's size."""
    if user.agency is None:
        raise Http404("No such client.")
    today = user.agency.today()

    def with_chart_contents(rows: QuerySet[Client]) -> QuerySet[Client]:
        return rows.select_related("agency", "merged_into").prefetch_related(
            "phones",
            "emergency_contacts",
            "identifiers",
            Prefetch("coverages", queryset=Coverage.objects.select_related("payer")),
            "diagnoses",
            "medications",
            Prefetch("safety_flags", queryset=SafetyFlag.objects.filter(is_active=True)),
            Prefetch("episodes", queryset=Episode.objects.select_related("program")),
            Prefetch(
                "care_team",
                queryset=CareTeamMember.objects.filter(
                    CareTeamMember.active_on(today)
                ).select_related("staff"),
            ),
        )

    try:
        client = access.visible_client(user, int(client_id), with_chart_contents)
    except (ValueError, Client.DoesNotExist):
        raise Http404("No such client.") from None
    care_team = list(client.care_team.all())
    primary = next((m for m in care_team if m.role == CareTeamMember.Role.PRIMARY), None)
    timeline = list(
        TimelineEvent.objects.filter(client=client).select_related("actor")[:TIMELINE_LENGTH]
    )
    grant = None
    if access.opened_by_grant(user, client.pk):
        grant = BreakGlassAccess.objects.filter(
            user=user, client=client, expires_at__gt=timezone.now()
        ).first()
    return Chart(
        client=client,
        primary=primary,
        care_team=care_team,
        coverages=[c for c in client.coverages.all() if c.is_active_on(today)],
        diagnoses=[d for d in client.diagnoses.all() if d.resolved_on is None],
        flags=list(client.safety_flags.all()),
        timeline=timeline,
        break_glass=grant,
        today=today,
    )


def client_flags(*, client: Client) -> list[SafetyFlag]:
    """The active safety flags every chart page shows in its header."""
    return list(SafetyFlag.objects.filter(client=client, is_active=True))


def care_team_history(*, client: Client) -> QuerySet[CareTeamMember]:
    """Everyone who has been on the client's care team, newest first."""
    return (
        CareTeamMember.objects.filter(client=client).select_related("staff").order_by("-start_on")
    )


def break_glass_for_supervisor(*, user: User) -> QuerySet[BreakGlassAccess]:
    """Emergency chart openings by the people this user supervises, until the user reviews them."""
    if user.agency is None:
        return BreakGlassAccess.objects.none()
    return (
        BreakGlassAccess.objects.filter(
            agency_id=access.agency_id_of(user),
            reviewed_at__isnull=True,
            user_id__in=access.supervised_staff_ids(user),
        )
        .exclude(user=user)
        .select_related("user", "client")
    )
