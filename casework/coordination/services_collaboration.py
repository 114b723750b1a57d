"""Every write of team collaboration: chart comments with @mentions, cover while someone is
away, and caseload hand-offs. Each runs in one transaction and is audited; comment text is
PHI and never goes into the audit detail or a log."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from casework.clients import services as client_services
from casework.clients.models import CareTeamMember, Client
from casework.coordination import mentions, selectors_collaboration
from casework.coordination.errors import CoordinationError
from casework.coordination.models import (
    ChartComment,
    Coverage,
    Handoff,
    HandoffClient,
    Mention,
)
from casework.coordination.models.collaboration import COMMENT_LIMIT
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User
from casework.worklist import services as worklist_services
from casework.worklist.models import Task

COMMENT_POST = "comment_post"
COVERAGE_CREATE = "coverage_create"
HANDOFF_CREATE = "handoff_create"
LONGEST_COVERAGE = datetime.timedelta(days=60)
DST_SLACK = datetime.timedelta(hours=1)  # 60 local days may be an hour longer across a change
LATEST_HANDOFF = datetime.timedelta(days=60)
REASON_LIMIT = 200


# Chart comments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionProblem:
    typed: str
    why: str


class MentionError(CoordinationError):
    """The comment names people who cannot be told; nothing was posted."""

    def __init__(self, problems: list[MentionProblem]) -> None:
        listed = "; ".join(f"{p.typed}: {p.why}" for p in problems)
        super().__init__(f"Nothing was posted. Check these mentions — {listed}.")
        self.problems = problems


def clean_comment(body: str) -> str:
    """Line breaks as one character (a browser sends two), no NUL, trimmed, within the limit."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in body:
        raise CoordinationError("The comment contains a character that cannot be saved.")
    if not body:
        raise CoordinationError("Write the comment first.")
    if len(body) > COMMENT_LIMIT:
        raise CoordinationError(
            f"Keep comments under {COMMENT_LIMIT:,} characters (this one has {len(body):,})."
        )
    return body


def _require_commenter(by: User, client: Client) -> None:
    if not access.may_coordinate(by) or by.agency_id != client.agency_id:
        raise CoordinationError("Your role can read comments but not write them.")
    if not access.visible_clients(by).filter(pk=client.pk).exists():
        raise CoordinationError("You may not comment on this chart.")


def may_be_told(person: User, client: Client) -> bool:
    """Whether a mention can reach this person: active staff of the client's agency who may
    open the chart and read what colleagues write on it."""
    return (
        person.is_active
        and person.agency_id == client.agency_id
        and access.may_read_narratives(person)
        and access.visible_clients(person).filter(pk=client.pk).exists()
    )


def _mentioned(body: str, client: Client, by: User) -> list[User]:
    """The colleagues the comment mentions, or MentionError naming the ones it cannot."""
    if "@" not in body:
        return []
    staff = [
        mentions.Staff(pk=pk, first_name=first, last_name=last, email=email)
        for pk, first, last, email in access.staff_in_agency(by).values_list(
            "pk", "first_name", "last_name", "email"
        )
    ]
    found = mentions.find_mentions(body, staff)
    problems = [MentionProblem(u.typed, u.why) for u in found.unresolved]
    people = {
        u.pk: u
        for u in access.staff_in_agency(by).filter(pk__in=found.staff_ids).select_related("agency")
    }
    named: list[User] = []
    for pk in found.staff_ids:
        person = people[pk]
        typed = f"@{found.typed[pk]}"
        if person.pk == by.pk:
            continue  # writing one's own name tells nobody
        if not person.is_active:
            problems.append(MentionProblem(typed, f"{person.full_name} is no longer active"))
        elif not may_be_told(person, client):
            problems.append(
                MentionProblem(typed, f"{person.full_name} does not have access to this chart")
            )
        else:
            named.append(person)
    if len(named) > mentions.MOST_MENTIONS:
        problems.append(
            MentionProblem("@…", f"mention at most {mentions.MOST_MENTIONS} people in one comment")
        )
    if problems:
        raise MentionError(problems)
    return named


def comment_post(*, client: Client, by: User, body: str, submission_key: str = "") -> ChartComment:
    """Post a comment on the chart; everyone @mentioned in it is told on My day.

    If any mention names someone unknown or who may not see the chart, nothing is posted. The
    same submission sent twice posts once.
    """
    _require_commenter(by, client)
    body = clean_comment(body)
    named = _mentioned(body, client, by)
    assert by.agency is not None
    with transaction.atomic():
        submission = submission_claim(
            agency=by.agency, by=by, purpose=COMMENT_POST, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return ChartComment.objects.get(
                pk=submission.earlier_object_id, agency_id=client.agency_id
            )
        comment = ChartComment.objects.create(
            agency_id=client.agency_id, client=client, author=by, body=body
        )
        Mention.objects.bulk_create(
            [Mention(agency_id=client.agency_id, comment=comment, user=p) for p in named]
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=comment,
            client_id=client.pk,
            detail={"mentioned": [p.pk for p in named], "length": len(body)},
        )
        submission_complete(submission, comment.pk)
    return comment


def mentions_mark_read(*, user: User, client: Client) -> int:
    """The person has opened the client's comments: their mentions there are read. Returns
    how many were new."""
    with transaction.atomic():
        marked = Mention.objects.filter(
            user=user,
            agency_id=client.agency_id,
            comment__client=client,
            read_at__isnull=True,
        ).update(read_at=timezone.now())
        if marked:
            audit_record(
                actor=user,
                action=Action.UPDATE,
                object_type="coordination.mention",
                object_id=f"client:{client.pk}",
                client_id=client.pk,
                detail={"read": marked},
            )
    return marked


# Coverage ---------------------------------------------------------------------------------


def _check_caseload_colleague(person: User, agency_id: int, what: str) -> None:
    if person.agency_id != agency_id:
        raise CoordinationError(f"The {what} must be on your agency's staff.")
    if not person.is_active:
        raise CoordinationError(f"{person.full_name} has been deactivated.")
    if not person.has_role(*access.CASELOAD_ROLES):
        raise CoordinationError(
            f"{person.full_name} does not hold a caseload (case manager or supervisor)."
        )


def coverage_create(
    *,
    absent: User,
    covering: User,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    by: User,
    reason: str = "",
    submission_key: str = "",
) -> Coverage:
    """While `absent` is away, `covering` sees their caseload and their My day.

    Case managers arrange it for themselves, supervisors for their team, admins for anyone.
    One person covers at a time; at most 60 days.
    """
    agency_id = access.agency_id_of(by)
    if absent.agency_id != agency_id or not access.may_act_for(by, absent.pk):
        raise CoordinationError(
            "You can arrange cover for yourself or, as their supervisor, for your team."
        )
    if not absent.has_role(*access.CASELOAD_ROLES):
        raise CoordinationError(f"{absent.full_name} has no caseload to cover.")
    if covering.pk == absent.pk:
        raise CoordinationError("Choose someone else to cover: a person cannot cover themselves.")
    _check_caseload_colleague(covering, agency_id, "person covering")
    if ends_at <= starts_at:
        raise CoordinationError("The cover must end after it starts.")
    if ends_at - starts_at > LONGEST_COVERAGE + DST_SLACK:
        raise CoordinationError(
            "Cover lasts at most 60 days; for a longer absence, hand the clients off."
        )
    if ends_at <= timezone.now():
        raise CoordinationError("That cover would already be over; choose dates from today on.")
    reason = " ".join(reason.split())
    if len(reason) > REASON_LIMIT:
        raise CoordinationError(f"Keep the reason under {REASON_LIMIT} characters.")
    assert by.agency is not None
    with transaction.atomic():
        submission = submission_claim(
            agency=by.agency, by=by, purpose=COVERAGE_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return Coverage.objects.get(pk=submission.earlier_object_id, agency_id=agency_id)
        # One arrangement at a time per absent person: two requests queue on their row.
        User.objects.select_for_update().filter(pk=absent.pk).first()
        overlapping = (
            Coverage.objects.filter(
                agency_id=agency_id, absent=absent, starts_at__lt=ends_at, ends_at__gt=starts_at
            )
            .select_related("covering")
            .first()
        )
        if overlapping is not None:
            tz = by.agency.tzinfo
            raise CoordinationError(
                f"{overlapping.covering.full_name} already covers for {absent.full_name} "
                f"until {selectors_collaboration.last_day(overlapping, tz):%-d %b %Y}; "
                "end that cover first."
            )
        coverage = Coverage.objects.create(
            agency_id=agency_id,
            absent=absent,
            covering=covering,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_by=by,
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=coverage,
            detail={
                "absent": absent.pk,
                "covering": covering.pk,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )
        submission_complete(submission, coverage.pk)
    return coverage


def coverage_end(*, coverage: Coverage, by: User) -> Coverage | None:
    """End cover now. Cover that has not started yet is called off (removed, and audited);
    cover that is already over stays as it was. Returns the coverage, or None if called off."""
    if coverage.agency_id != access.agency_id_of(by) or not access.may_act_for(
        by, coverage.absent_id
    ):
        raise CoordinationError(
            "Only the person away, their supervisor or an admin can end this cover."
        )
    with transaction.atomic():
        locked = Coverage.objects.select_for_update().filter(pk=coverage.pk).first()
        if locked is None:
            return None  # a twin request called it off first
        now = timezone.now()
        if locked.ends_at <= now:
            return locked
        detail = {"absent": locked.absent_id, "covering": locked.covering_id}
        if locked.starts_at > now:
            audit_record(
                actor=by,
                action=Action.DELETE,
                obj=locked,
                detail={**detail, "called_off_before": locked.starts_at.isoformat()},
            )
            locked.delete()
            return None
        locked.ends_at = now
        locked.save(update_fields=["ends_at"])
        audit_record(
            actor=by, action=Action.UPDATE, obj=locked, detail={**detail, "ended_early": True}
        )
    return locked


# Hand-offs --------------------------------------------------------------------------------


def _check_receiver(to: User, giver: User) -> None:
    """Each refusal says what is wrong; another agency's staff are not named."""
    if to.agency_id != giver.agency_id:
        raise CoordinationError("That person is not on your agency's staff.")
    if to.pk == giver.pk:
        raise CoordinationError(
            f"Choose someone other than {giver.full_name}: the clients are already theirs."
        )
    if not to.is_active:
        raise CoordinationError(
            f"{to.full_name} has been deactivated and cannot take over clients."
        )
    if not to.has_role(*access.CASELOAD_ROLES):
        raise CoordinationError(
            f"{to.full_name} does not hold a caseload (case manager or supervisor), "
            "so they cannot take over clients."
        )


def _lock_clients(giver: User, client_ids: list[int], today: datetime.date) -> list[Client]:
    """The clients, locked in id order, each still the giver's primary with no hand-over
    already under way."""
    locked = list(
        Client.objects.select_for_update()
        .filter(pk__in=client_ids, agency_id=access.agency_id_of(giver))
        .order_by("pk")
    )
    primary = set(
        CareTeamMember.objects.filter(
            CareTeamMember.active_on(today),
            client_id__in=client_ids,
            staff=giver,
            role=CareTeamMember.Role.PRIMARY,
            end_on__isnull=True,
        ).values_list("client_id", flat=True)
    )
    not_theirs = [c.display_name for c in locked if c.pk not in primary]
    if len(locked) != len(set(client_ids)) or not_theirs:
        raise CoordinationError(
            f"Only {giver.full_name}'s own clients (as primary case manager, with no hand-off "
            "under way) can be handed off"
            + (f"; not: {', '.join(not_theirs)}." if not_theirs else ".")
        )
    return locked


def _reach_before(client: Client, to: User, effective_on: datetime.date, by: User) -> None:
    """Until the effective date the receiver is on the care team as a case manager, so they
    can read the chart and take the tasks now; the history keeps both steps."""
    today = client.agency.today()
    if effective_on <= today or access.clients_in_scope(to).filter(pk=client.pk).exists():
        return
    member = client_services.care_team_add(
        client=client, staff=to, role=CareTeamMember.Role.CASE_MANAGER, start_on=today, by=by
    )
    client_services.care_team_end(member=member, end_on=effective_on, by=by)


def handoff_create(
    *,
    from_staff: User,
    to_staff: User,
    clients: list[Client],
    effective_on: datetime.date,
    by: User,
    message: str = "",
    submission_key: str = "",
) -> Handoff:
    """Hand clients from one worker to another, in one transaction: the primary case manager
    changes on the effective date, the giver's open tasks for them move to the receiver, and a
    summary of each client as it stands now is kept for the receiver to acknowledge."""
    agency_id = access.agency_id_of(by)
    if from_staff.agency_id != agency_id or not access.may_act_for(by, from_staff.pk):
        raise CoordinationError(
            "You can hand off your own clients or, as their supervisor, your team's."
        )
    if not access.may_coordinate(by):
        raise CoordinationError("Your role does not change caseloads.")
    _check_receiver(to_staff, from_staff)
    if not clients:
        raise CoordinationError("Choose at least one client to hand off.")
    assert by.agency is not None
    today = by.agency.today()
    if effective_on < today:
        raise CoordinationError(
            "The hand-off cannot take effect in the past; choose today or later."
        )
    if effective_on - today > LATEST_HANDOFF:
        raise CoordinationError("Choose an effective date within the next 60 days.")
    message = message.replace("\r\n", "\n").strip()
    if "\x00" in message:
        raise CoordinationError("The message contains a character that cannot be saved.")
    if len(message) > COMMENT_LIMIT:
        raise CoordinationError(f"Keep the message under {COMMENT_LIMIT:,} characters.")
    with transaction.atomic():
        submission = submission_claim(
            agency=by.agency, by=by, purpose=HANDOFF_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return Handoff.objects.get(pk=submission.earlier_object_id, agency_id=agency_id)
        locked = _lock_clients(from_staff, [c.pk for c in clients], today)
        handoff = Handoff.objects.create(
            agency_id=agency_id,
            from_staff=from_staff,
            to_staff=to_staff,
            effective_on=effective_on,
            message=message,
            created_by=by,
        )
        moved: set[int] = set()
        try:
            for client in locked:
                _reach_before(client, to_staff, effective_on, by)
                client_services.caseload_reassign(
                    client=client, to=to_staff, effective=effective_on, by=by, reason="hand-off"
                )
                tasks = Task.objects.filter(
                    client=client, assignee=from_staff, status=Task.Status.OPEN
                ).order_by("pk")
                for task in tasks:
                    worklist_services.task_reassign(task=task, by=by, to=to_staff)
                    moved.add(task.pk)
        except (client_services.ClientError, worklist_services.TaskError) as error:
            raise CoordinationError(str(error)) from None
        summaries = selectors_collaboration.handoff_summaries(
            client_ids=[c.pk for c in locked], agency=by.agency, moved_task_ids=moved
        )
        rows = HandoffClient.objects.bulk_create(
            [
                HandoffClient(
                    agency_id=agency_id, handoff=handoff, client=c, summary=summaries[c.pk]
                )
                for c in locked
            ]
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=handoff,
            detail={
                "from": from_staff.pk,
                "to": to_staff.pk,
                "clients": len(rows),
                "effective_on": effective_on.isoformat(),
                "tasks_moved": len(moved),
            },
        )
        for row in rows:
            audit_record(
                actor=by,
                action=Action.CREATE,
                object_type="coordination.handoffclient",
                object_id=f"{handoff.pk}:{row.client_id}",
                client_id=row.client_id,
                detail={"handoff": handoff.pk},
            )
        submission_complete(submission, handoff.pk)
    return handoff


def handoff_acknowledge(*, handoff: Handoff, by: User) -> Handoff:
    """The receiver says they have read the summary. Doing it twice changes nothing."""
    if handoff.to_staff_id != by.pk:
        raise CoordinationError(
            "Only the person receiving these clients can acknowledge the hand-off."
        )
    with transaction.atomic():
        locked = Handoff.objects.select_for_update().get(pk=handoff.pk)
        if locked.acknowledged_at is not None:
            return locked
        locked.acknowledged_at = timezone.now()
        locked.save(update_fields=["acknowledged_at"])
        audit_record(actor=by, action=Action.UPDATE, obj=locked, detail={"acknowledged": True})
    return locked
