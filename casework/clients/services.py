"""Every write to a client's chart: validated, in one transaction, on the timeline and in the audit log."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from casework.billing.services.charges import held_charges_recheck
from casework.clients import search
from casework.clients.models import (
    BreakGlassAccess,
    CareTeamMember,
    Client,
    ClientRecord,
    Coverage,
    Diagnosis,
    Episode,
    Identifier,
    NameKey,
    SafetyFlag,
    TimelineEvent,
)
from casework.clients.validators import (
    normalize_identifier,
    validate_birth_date,
    validate_identifier,
)
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import Agency, Role, User

CLIENT_CREATE = "client_create"
BILLING_FACTS = (
    Coverage,
    Diagnosis,
    Episode,
)  # a change may release held charges  # idempotency purpose of a registration
NAME_FIELDS = ("legal_first_name", "legal_middle_name", "legal_last_name", "preferred_name")


class ClientError(Exception):
    """A chart change that cannot be made, with a message for the person who asked."""


@dataclass(frozen=True)
class NewIdentifier:
    kind: str
    value: str


def audit_chart_read(*, user: User, client: Client, what: str = "chart") -> None:
    """Record that the user read (part of) a client's chart; every chart page calls this."""
    audit_record(
        actor=user, action=Action.VIEW, obj=client, client_id=client.pk, detail={"section": what}
    )


def _next_record_number(agency: Agency) -> str:
    locked = Agency.objects.select_for_update().get(pk=agency.pk)
    number = locked.next_record_number
    Agency.objects.filter(pk=agency.pk).update(next_record_number=number + 1)
    return f"{locked.record_number_prefix}-{number:06d}"


def _refresh_search(client: Client) -> None:
    client.search_name = " ".join(search.tokens(" ".join(getattr(client, f) for f in NAME_FIELDS)))
    NameKey.objects.filter(client=client).delete()
    keys = search.name_keys(getattr(client, f) for f in NAME_FIELDS)
    active = client.status == Client.Status.ACTIVE
    NameKey.objects.bulk_create(
        [
            NameKey(agency_id=client.agency_id, client=client, key=k, client_is_active=active)
            for k in sorted(keys)
        ]
    )


def timeline_add(*, client: Client, kind: str, summary: str, actor: User | None) -> TimelineEvent:
    """Put an event on the client's timeline (in the same transaction as the change it describes)."""
    return TimelineEvent.objects.create(
        agency_id=client.agency_id,
        client=client,
        kind=kind,
        summary=summary[:300],
        actor=actor,
        occurred_at=timezone.now(),
    )


def _validated_identifiers(
    agency: Agency, identifiers: list[NewIdentifier], exclude_client: int | None
) -> list[NewIdentifier]:
    cleaned = []
    for item in identifiers:
        value = normalize_identifier(item.kind, item.value)
        if not value:
            continue
        validate_identifier(item.kind, value)
        taken = Identifier.objects.filter(agency=agency, kind=item.kind, value=value)
        if exclude_client:
            taken = taken.exclude(client_id=exclude_client)
        owner = taken.select_related("client").first()
        if owner is not None:
            raise ValidationError(
                f"{value} already belongs to record {owner.client.record_number}. Open that record instead of "
                "creating a second one."
            )
        cleaned.append(NewIdentifier(item.kind, value))
    return cleaned


@dataclass(frozen=True)
class Registration:
    client: Client
    created: bool  # False when the same person sent the same submission before


def client_create(
    *,
    by: User,
    data: dict[str, Any],
    identifiers: list[NewIdentifier] = (),  # type: ignore[assignment]
    primary_case_manager: User | None = None,
    submission_key: str = "",
) -> Registration:
    """Register a client. A repeated submission (same person, same key) returns the first client."""
    if not access.may_create_clients(by) or by.agency is None:
        raise ClientError("Your role cannot register clients.")
    agency = by.agency
    validate_birth_date(data["date_of_birth"], today=agency.today())
    manager = primary_case_manager or (by if by.has_role(Role.CASE_MANAGER) else None)
    if manager is None and not by.has_role(*access.AGENCY_WIDE_ROLES):
        raise ValidationError(
            {
                "primary_case_manager": "Choose the primary case manager: otherwise nobody on a team could see the new client."
            }
        )
    with transaction.atomic():
        submission = submission_claim(
            agency=agency, by=by, purpose=CLIENT_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return Registration(
                Client.objects.get(pk=submission.earlier_object_id, agency=agency), created=False
            )
        cleaned_ids = _validated_identifiers(agency, list(identifiers), exclude_client=None)
        client = Client(
            agency=agency, created_by=by, record_number=_next_record_number(agency), **data
        )
        client.full_clean(exclude=["search_name", "record_number"])
        client.save()
        _refresh_search(client)
        client.save(update_fields=["search_name"])
        try:
            with transaction.atomic():
                Identifier.objects.bulk_create(
                    [
                        Identifier(agency=agency, client=client, kind=i.kind, value=i.value)
                        for i in cleaned_ids
                    ]
                )
        except IntegrityError:
            # Someone registered the same id a moment ago, between our check and this insert.
            raise ValidationError(
                "This Medicaid or Medicare id was just registered for another client."
            ) from None
        if manager is not None:
            _assign_primary(client=client, staff=manager, effective=agency.today(), by=by)
        timeline_add(
            client=client,
            kind="registered",
            summary=f"Registered as {client.record_number}",
            actor=by,
        )
        audit_record(actor=by, action=Action.CREATE, obj=client, client_id=client.pk)
        submission_complete(submission, client.pk)
    return Registration(client, created=True)


class StaleEdit(ClientError):
    """Someone else saved the record after this person opened it; nothing was saved."""

    def __init__(self, client: Client, data: dict[str, Any]) -> None:
        self.client = client
        self.differences = [
            (
                str(getattr(Client._meta.get_field(name), "verbose_name", name)),
                getattr(client, name),
            )
            for name, value in data.items()
            if getattr(client, name) != value
        ]
        super().__init__(
            "Someone else saved this record while you were editing it, so your changes are not saved yet. "
            "Check the values it has now (listed below), then save again."
        )


def client_version(client: Client) -> str:
    """What an edit form carries to notice that someone else saved in between."""
    return client.updated_at.isoformat()


def client_update(
    *, client: Client, by: User, data: dict[str, Any], expected_version: str = ""
) -> Client:
    """Change demographics. Names refresh the search keys; every change lands on the timeline.

    With `expected_version` (from the form), a save over someone else's newer save is refused.
    """
    _require_edit(by, client)
    if "date_of_birth" in data:
        validate_birth_date(data["date_of_birth"], today=client.agency.today())
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if expected_version and client_version(client) != expected_version:
            raise StaleEdit(client, data)
        changed = [name for name, value in data.items() if getattr(client, name) != value]
        if not changed:
            return client
        for name in changed:
            setattr(client, name, data[name])
        if "status" in changed:
            client.status_changed_on = client.agency.today()
            changed.append("status_changed_on")
        client.full_clean(exclude=["search_name", "record_number"])
        if set(changed) & set(NAME_FIELDS):
            _refresh_search(client)
            changed.append("search_name")
        elif "status" in changed:
            NameKey.objects.filter(client=client).update(
                client_is_active=client.status == Client.Status.ACTIVE
            )
        client.save(update_fields=[*changed, "updated_at"])
        labels = ", ".join(
            str(getattr(Client._meta.get_field(name), "verbose_name", name))
            for name in changed
            if name != "search_name"
        )
        timeline_add(client=client, kind="updated", summary=f"Updated {labels}", actor=by)
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=client,
            client_id=client.pk,
            detail={"fields": changed},
        )
    return client


def _require_edit(by: User, client: Client) -> None:
    if (
        not access.may_edit_chart(by)
        or not access.visible_clients(by).filter(pk=client.pk).exists()
    ):
        raise ClientError("You may not change this chart.")
    if client.status == Client.Status.MERGED:
        raise ClientError("This record was merged into another one; make changes there.")


def chart_record_save(
    *, client: Client, record: ClientRecord, by: User, summary: str, submission_key: str = ""
) -> ClientRecord:
    """Add or change a row of the chart (phone, coverage, diagnosis, medication, flag, episode…).

    A repeated submission (same key) returns the row saved the first time.
    """
    _require_edit(by, client)
    created = record.pk is None
    record.agency_id = client.agency_id
    record.client = client  # type: ignore[attr-defined]
    if isinstance(record, SafetyFlag) and created:
        record.created_by = by
    if isinstance(record, Identifier):
        record.value = normalize_identifier(record.kind, record.value)
        validate_identifier(record.kind, record.value)
    record.full_clean()
    purpose = f"chart_{record._meta.model_name}"
    with transaction.atomic():
        submission = submission_claim(
            agency=client.agency, by=by, purpose=purpose, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return type(record)._default_manager.get(
                pk=submission.earlier_object_id, agency_id=client.agency_id
            )
        record.save()
        timeline_add(
            client=client, kind=record._meta.model_name or "record", summary=summary, actor=by
        )
        audit_record(
            actor=by,
            action=Action.CREATE if created else Action.UPDATE,
            obj=record,
            client_id=client.pk,
        )
        submission_complete(submission, record.pk)
        if isinstance(record, BILLING_FACTS):
            held_charges_recheck(by=by, client_id=client.pk)
    return record


def _assign_primary(
    *, client: Client, staff: User, effective: datetime.date, by: User
) -> CareTeamMember:
    if staff.agency_id != client.agency_id or not staff.is_active:
        raise ClientError("The new case manager must be an active staff member of this agency.")
    current = CareTeamMember.objects.select_for_update().filter(
        client=client, role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
    )
    for assignment in current:
        if assignment.staff_id == staff.pk:
            raise ClientError(f"{staff.full_name} is already the primary case manager.")
        if assignment.start_on >= effective:
            raise ClientError("The effective date must be after the current assignment started.")
        assignment.end_on = effective
        assignment.save(update_fields=["end_on"])
    return CareTeamMember.objects.create(
        agency_id=client.agency_id,
        client=client,
        staff=staff,
        role=CareTeamMember.Role.PRIMARY,
        start_on=effective,
    )


def caseload_reassign(
    *, client: Client, to: User, effective: datetime.date, by: User, reason: str = ""
) -> CareTeamMember:
    """Hand a client to another primary case manager from a date; the history keeps who had them when."""
    _require_edit(by, client)
    with transaction.atomic():
        Client.objects.select_for_update().filter(
            pk=client.pk
        ).first()  # one reassignment at a time
        assignment = _assign_primary(client=client, staff=to, effective=effective, by=by)
        timeline_add(
            client=client,
            kind="reassigned",
            summary=f"Primary case manager: {to.full_name} from {effective:%d %b %Y}"
            + (f" ({reason})" if reason else ""),
            actor=by,
        )
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=assignment,
            client_id=client.pk,
            detail={"to": to.pk},
        )
    return assignment


def care_team_add(
    *, client: Client, staff: User, role: str, start_on: datetime.date, by: User
) -> CareTeamMember:
    """Put a colleague on the client's care team (a peer, a clinician…) from a date."""
    _require_edit(by, client)
    if role == CareTeamMember.Role.PRIMARY:
        return caseload_reassign(client=client, to=staff, effective=start_on, by=by)
    if staff.agency_id != client.agency_id or not staff.is_active:
        raise ClientError("Care team members must be active staff of this agency.")
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        already = CareTeamMember.objects.filter(client=client, staff=staff).filter(
            Q(end_on__isnull=True) | Q(end_on__gt=start_on)
        )
        if already.exists():
            raise ClientError(f"{staff.full_name} is already on the care team.")
        member = CareTeamMember(
            agency_id=client.agency_id, client=client, staff=staff, role=role, start_on=start_on
        )
        member.full_clean()
        member.save()
        timeline_add(
            client=client,
            kind="care_team",
            summary=f"{staff.full_name} joined the care team",
            actor=by,
        )
        audit_record(actor=by, action=Action.CREATE, obj=member, client_id=client.pk)
    return member


def care_team_end(*, member: CareTeamMember, end_on: datetime.date, by: User) -> None:
    """Take someone off the care team from a date; the history keeps when they were on it."""
    _require_edit(by, member.client)
    if member.role == CareTeamMember.Role.PRIMARY:
        raise ClientError("To change the primary case manager, reassign the client instead.")
    if end_on < member.start_on:
        raise ClientError("The end date is before they joined the care team.")
    with transaction.atomic():
        member = CareTeamMember.objects.select_for_update().get(pk=member.pk)
        if member.end_on is not None and member.end_on <= end_on:
            return  # already off the team by then
        member.end_on = end_on
        member.save(update_fields=["end_on"])
        timeline_add(
            client=member.client,
            kind="care_team",
            summary=f"{member.staff.full_name} left the care team",
            actor=by,
        )
        audit_record(actor=by, action=Action.UPDATE, obj=member, client_id=member.client_id)


def safety_flag_resolve(*, flag: SafetyFlag, by: User) -> None:
    """Take a flag off the chart; it stays in the history. Doing it twice changes nothing."""
    _require_edit(by, flag.client)
    with transaction.atomic():
        flag = SafetyFlag.objects.select_for_update().get(pk=flag.pk)
        if not flag.is_active:
            return
        flag.is_active = False
        flag.save(update_fields=["is_active"])
        timeline_add(
            client=flag.client,
            kind="flag",
            summary=f"Flag removed: {flag.get_kind_display()}",
            actor=by,
        )
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=flag,
            client_id=flag.client_id,
            detail={"active": False},
        )


def break_glass_open(*, client: Client, by: User, reason: str) -> BreakGlassAccess:
    """Open a chart outside one's scope for a limited time, for a stated reason, audited."""
    if not access.may_break_glass(by, client):
        raise ClientError("You may not open this chart.")
    reason = reason.strip()
    if len(reason) < 10:
        raise ClientError(
            "Say why you need this chart now (at least 10 characters); your supervisor will see it."
        )
    now = timezone.now()
    with transaction.atomic():
        grant = BreakGlassAccess.objects.create(
            agency_id=client.agency_id,
            client=client,
            user=by,
            reason=reason[:500],
            granted_at=now,
            expires_at=now + datetime.timedelta(minutes=client.agency.break_glass_minutes),
        )
        audit_record(
            actor=by,
            action=Action.BREAK_GLASS,
            obj=client,
            client_id=client.pk,
            detail={"reason": reason[:500]},
        )
    return grant


def break_glass_review(*, grant: BreakGlassAccess, by: User) -> None:
    """A supervisor has looked at an emergency opening by someone on their team."""
    supervised = set(access.supervised_staff_ids(by).values_list("user_id", flat=True))
    if grant.agency_id != by.agency_id or grant.user_id not in supervised or grant.user_id == by.pk:
        raise ClientError("Only a supervisor of this person's team reviews their emergency access.")
    with transaction.atomic():
        updated = BreakGlassAccess.objects.filter(pk=grant.pk, reviewed_at__isnull=True).update(
            reviewed_by=by, reviewed_at=timezone.now()
        )
        if updated:
            detail = {"reviewed": True}
            audit_record(
                actor=by, action=Action.UPDATE, obj=grant, client_id=grant.client_id, detail=detail
            )


def _related_to_client() -> list[models.ForeignKey[Any, Any]]:
    """Every foreign key that points at a client, in any app, so merge moves rows later apps add too."""
    fields = []
    for relation in Client._meta.related_objects:
        field = relation.field
        if relation.related_model is Client or not isinstance(field, models.ForeignKey):
            continue
        fields.append(field)
    return fields


def _close_duplicate_primary(*, survivor: Client, duplicate: Client, on: datetime.date) -> None:
    """A client has one primary case manager: the survivor's stays, the duplicate's becomes history."""
    open_primary = CareTeamMember.objects.filter(
        role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
    )
    if open_primary.filter(client=survivor).exists():
        for assignment in open_primary.filter(client=duplicate):
            assignment.end_on = max(on, assignment.start_on)
            assignment.save(update_fields=["end_on"])


def _make_room_for_automation(*, survivor: Client, duplicate: Client, by: User) -> None:
    """One reminder preference and one opt-out per rule per client: automation decides which
    of the two records' rows stay (imported here: automation depends on clients, not back)."""
    from casework.automation.services import before_client_merge

    before_client_merge(survivor=survivor, duplicate=duplicate, by=by)


def _move_records(*, survivor: Client, duplicate: Client) -> dict[str, int]:
    """Point every row of the duplicate at the survivor; signed records refuse (they are locked)."""
    moved: dict[str, int] = {}
    for field in _related_to_client():
        if field.model is NameKey:
            continue
        try:
            with transaction.atomic():
                count = field.model._default_manager.filter(**{field.name: duplicate}).update(
                    **{field.name: survivor}
                )
        except DatabaseError:
            raise ClientError(
                f"{duplicate.record_number} has signed {field.model._meta.verbose_name_plural}, "
                "which are locked and cannot move to another record. Nothing was merged."
            ) from None
        if count:
            moved[field.model._meta.label] = count
    return moved


def client_merge(*, survivor: Client, duplicate: Client, by: User) -> Client:
    """Fold a duplicate record into the survivor. The duplicate stays, marked merged, pointing at it."""
    if not access.may_merge_clients(by):
        raise ClientError("Only agency admins can merge records.")
    if survivor.pk == duplicate.pk:
        raise ClientError("Choose two different records.")
    if survivor.agency_id != by.agency_id or duplicate.agency_id != by.agency_id:
        raise ClientError("Both records must belong to your agency.")
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Client.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
        }
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        if Client.Status.MERGED in (survivor.status, duplicate.status):
            raise ClientError("One of these records was already merged.")
        _close_duplicate_primary(survivor=survivor, duplicate=duplicate, on=by.agency.today())  # type: ignore[union-attr]
        _make_room_for_automation(survivor=survivor, duplicate=duplicate, by=by)
        moved = _move_records(survivor=survivor, duplicate=duplicate)
        NameKey.objects.filter(client=duplicate).delete()
        duplicate.status = Client.Status.MERGED
        duplicate.merged_into = survivor
        duplicate.status_changed_on = by.agency.today()  # type: ignore[union-attr]
        duplicate.save(update_fields=["status", "merged_into", "status_changed_on", "updated_at"])
        timeline_add(
            client=survivor,
            kind="merged",
            summary=f"Record {duplicate.record_number} merged into this one",
            actor=by,
        )
        timeline_add(
            client=duplicate,
            kind="merged",
            summary=f"Merged into {survivor.record_number}",
            actor=by,
        )
        detail = {"survivor": survivor.pk, "duplicate": duplicate.pk, "moved": moved}
        audit_record(
            actor=by, action=Action.MERGE, obj=survivor, client_id=survivor.pk, detail=detail
        )
        audit_record(
            actor=by, action=Action.MERGE, obj=duplicate, client_id=duplicate.pk, detail=detail
        )
    return survivor
