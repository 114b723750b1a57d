"""Reads of assessments, always starting from the clients the user may see."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import FilteredRelation, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.assessments.instruments import Instrument, instruments
from casework.assessments.models import Assessment, AssessmentRule
from casework.clients.models import Client, FlagNotice
from casework.core import access
from casework.core.models import User


def assessments_visible(user: User, client_id: int | None = None) -> QuerySet[Assessment]:
    """Assessments of clients the user may see, or of the one client given; drafts only to
    their author."""
    if client_id is not None:
        rows = access.of_visible_client(user, Assessment.objects.all(), client_id)
    else:
        rows = Assessment.objects.filter(
            agency_id=access.agency_id_of(user), client__in=access.visible_clients(user)
        )
    return rows.filter(~Q(status=Assessment.Status.DRAFT) | Q(author=user))


def assessment_or_404(user: User, assessment_id: int | str) -> Assessment:
    try:
        return (
            assessments_visible(user)
            .select_related("client", "author", "agency")
            .prefetch_related("addenda__author")
            .get(pk=int(assessment_id))
        )
    except (ValueError, TypeError, Assessment.DoesNotExist):
        raise Http404("No such assessment.") from None


def client_assessments(*, user: User, client_id: int, limit: int = 20) -> list[Assessment]:
    return list(
        assessments_visible(user, client_id)
        .select_related("author")
        .order_by("-administered_on", "-id")[:limit]
    )


def signed_scores(*, user: User, client_id: int, instrument: str) -> list[Assessment]:
    """Signed assessments with a total, oldest first, for the trend."""
    return list(
        assessments_visible(user, client_id)
        .filter(
            instrument=instrument,
            status=Assessment.Status.SIGNED,
            total__isnull=False,
        )
        .select_related("author")
        .order_by("administered_on", "id")
    )


@dataclass(frozen=True)
class Due:
    """When an instrument is next due for a client: its repeat interval after the last signed
    one, or, for an instrument the agency requires and the client never had, the grace period
    after admission (then `last_on` is None)."""

    instrument: str
    name: str
    last_on: datetime.date | None
    due_on: datetime.date

    def overdue(self, today: datetime.date) -> bool:
        return self.due_on < today

    @property
    def first_time(self) -> bool:
        return self.last_on is None


RuleKey = tuple[str, int | None]  # (instrument, program id or None for agency-wide)


Facts = tuple[bool, dict[int, datetime.date], datetime.date]


def _current_programs(user: User, client_ids: list[int], today: datetime.date) -> dict[int, Facts]:
    """For each client the user may see: (active, start of each current episode by program,
    registration day), in one query."""
    current = FilteredRelation(
        "episodes",
        condition=Q(episodes__admitted_on__lte=today)
        & (Q(episodes__discharged_on__isnull=True) | Q(episodes__discharged_on__gt=today)),
    )
    rows = (
        access.visible_among(user, client_ids)
        .annotate(current=current)
        .values("pk", "status", "created_at", "current__program_id", "current__admitted_on")
    )
    tz = user.agency.tzinfo if user.agency else None
    facts: dict[int, Facts] = {}
    for row in rows:
        starts = facts.setdefault(
            row["pk"],
            (
                row["status"] == Client.Status.ACTIVE,
                {},
                timezone.localtime(row["created_at"], tz).date(),
            ),
        )[1]
        program_id, admitted_on = row["current__program_id"], row["current__admitted_on"]
        if program_id is not None:
            starts[program_id] = min(admitted_on, starts.get(program_id, admitted_on))
    return facts


def _rule_for(
    rules: dict[RuleKey, AssessmentRule], instrument: str, program_id: int | None
) -> AssessmentRule | None:
    """A program's rule replaces the agency-wide one for that program's clients."""
    return rules.get((instrument, program_id)) or rules.get((instrument, None))


def _interval(rule: AssessmentRule | None, instrument: Instrument) -> int:
    """Days between two; 0 when the instrument is not repeated."""
    if rule is not None and rule.repeat_every_days is not None:
        return rule.repeat_every_days
    return int(instrument.raw.get("repeat_every_days") or 0)


def assessments_due(*, user: User, client_id: int) -> list[Due]:
    """Each instrument due for the client, with its next due date, soonest first.

    The agency's rules decide, for the programs the client is currently enrolled in (a
    program's rule beats the agency-wide one): the interval after the last signed one (the
    shortest, when two programs differ; 0 never repeats) and which instruments are required
    (due `first_due_days` after admission, the earliest admission when two programs require
    it; required agency-wide for a client with no current episode: after registration).
    Required instruments are only listed for active clients. Three queries, however much the
    client has.
    """
    return assessments_due_for(user=user, client_ids=[client_id]).get(client_id, [])


def assessments_due_for(*, user: User, client_ids: list[int]) -> dict[int, list[Due]]:
    """`assessments_due` for many clients at once (a caseload), in the same three queries."""
    today = user.agency.today() if user.agency else timezone.now().date()
    facts = _current_programs(user, client_ids, today)
    if not facts:
        return {}
    all_programs = {program for _, starts, _ in facts.values() for program in starts}
    rules: dict[RuleKey, AssessmentRule] = {
        (rule.instrument, rule.program_id): rule
        for rule in AssessmentRule.objects.filter(agency_id=access.agency_id_of(user)).filter(
            Q(program__isnull=True) | Q(program_id__in=list(all_programs))
        )
    }
    last_signed: dict[tuple[int, str], datetime.date] = {
        (row["client_id"], row["instrument"]): row["last_on"]
        # Signed assessments of clients already found visible: no second trip through access.
        for row in Assessment.objects.filter(
            agency_id=access.agency_id_of(user),
            client_id__in=list(facts),
            status=Assessment.Status.SIGNED,
        )
        .values("client_id", "instrument")
        .annotate(last_on=Max("administered_on"))
    }
    return {
        client_id: _due_for_client(
            client_facts, rules, {k: v for (c, k), v in last_signed.items() if c == client_id}
        )
        for client_id, client_facts in facts.items()
    }


def _due_for_client(
    facts: Facts, rules: dict[RuleKey, AssessmentRule], last_signed: dict[str, datetime.date]
) -> list[Due]:
    active, starts, registered = facts
    programs: list[int | None] = list(starts) or [None]
    due = []
    for instrument in instruments().values():
        applying = [_rule_for(rules, instrument.key, program) for program in programs]
        last_on = last_signed.get(instrument.key)
        if last_on is not None:
            every = [days for rule in applying if (days := _interval(rule, instrument))]
            if every:
                due_on = last_on + datetime.timedelta(days=min(every))
                due.append(Due(instrument.key, instrument.name, last_on, due_on))
            continue
        if not active:
            continue
        first = [
            (registered if program is None else starts[program])
            + datetime.timedelta(days=rule.first_due_days)
            for program, rule in zip(programs, applying, strict=True)
            if rule is not None and rule.required
        ]
        if first:
            due.append(Due(instrument.key, instrument.name, None, min(first)))
    return sorted(due, key=lambda d: (d.due_on, d.name))


def flag_notices_open(*, user: User) -> QuerySet[FlagNotice]:
    """The user's unacknowledged urgent-flag notices about clients they may still see, newest
    first, with everything My day shows (one query)."""
    if user.agency_id is None:
        return FlagNotice.objects.none()
    return (
        FlagNotice.objects.filter(
            agency_id=access.agency_id_of(user),
            recipient=user,
            acknowledged_at__isnull=True,
            flag__client__in=access.visible_clients(user),
        )
        .select_related("flag__client", "raised_by")
        .order_by("-created_at", "-id")
    )


def flag_notice_or_404(*, user: User, notice_id: int | str) -> FlagNotice:
    """One of the user's own notices (acknowledged or not); 404 for anyone else's."""
    try:
        return FlagNotice.objects.select_related("flag").get(
            pk=int(notice_id), recipient=user, agency_id=access.agency_id_of(user)
        )
    except (ValueError, TypeError, FlagNotice.DoesNotExist):
        raise Http404("No such notice.") from None


def assessment_rules(*, user: User) -> QuerySet[AssessmentRule]:
    """The agency's assessment rules, with their programs (one query)."""
    return (
        AssessmentRule.objects.filter(agency_id=access.agency_id_of(user))
        .select_related("program")
        .order_by("instrument", "program__name", "id")
    )


def assessment_rule_or_404(*, user: User, rule_id: int | str) -> AssessmentRule:
    try:
        return assessment_rules(user=user).get(pk=int(rule_id))
    except (ValueError, TypeError, AssessmentRule.DoesNotExist):
        raise Http404("No such rule.") from None
