"""Every write to appointments and series (outcomes: `outcomes`; cars, rooms, holidays and
calendar feeds: `services_setup`).

An appointment is checked before anything is saved (times, agency, clients, staff, travel legs),
then written in one transaction with an audit entry per client. Overlaps with the same staff
member's or resource's other appointments are not errors but questions: `ScheduleConflict`
lists them, and the same call with `confirm_conflicts=True` books anyway. A repeating
appointment is a `Series` whose occurrences are ordinary rows made up to `HORIZON_DAYS` ahead
(see `recurrence`); `series_extend` moves that horizon on every night.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from casework.automation.models import ClientReminder
from casework.clients.models import Client
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import Agency, User
from casework.notes.models import Note
from casework.schedule import recurrence
from casework.schedule.models import (
    MAX_APPOINTMENT,
    Appointment,
    AppointmentClient,
    AppointmentKind,
    Holiday,
    PlaceType,
    Resource,
    Series,
    TravelLeg,
)
from casework.schedule.recurrence import (
    HORIZON_DAYS,
    MAX_OCCURRENCES,
    WEEKDAY_CODES,
    ScheduleError,
)
from casework.worklist.models import Task

__all__ = [
    "HORIZON_DAYS",
    "MAX_OCCURRENCES",
    "AppointmentInput",
    "Conflict",
    "ScheduleConflict",
    "ScheduleError",
]

APPOINTMENT_CREATE = "appointment_create"  # idempotency purpose
MAX_LEGS = 8
MAX_MILES = Decimal("1000")
MAX_GROUP = 30
EARLIEST = datetime.timedelta(days=366)  # how far back an appointment may be recorded
LATEST = datetime.timedelta(days=2 * 366)  # how far ahead one may be booked
TEXT_LIMITS = {"place": 300, "purpose": 300, "external_with": 200, "external_place": 300}
# Kinds that need not be with a client: a meeting with a provider may be about no one in
# particular (a hospital liaison meeting); it may still name one client.
CLIENT_OPTIONAL_KINDS = frozenset({AppointmentKind.PROVIDER_MEETING})
# Clients in these states are not scheduled: the message says what to do instead.
UNSCHEDULABLE = {
    Client.Status.MERGED: "was merged into another record; schedule with that record",
    Client.Status.DISCHARGED: "is discharged; readmit them before scheduling",
    Client.Status.DECEASED: "is recorded as deceased",
}
LIVE_STATUSES = (Appointment.Status.SCHEDULED, Appointment.Status.ATTENDED)


class ScheduleConflict(ScheduleError):
    """The appointment overlaps others of the same staff member or resource; confirm to book."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        lines = "; ".join(c.reason for c in conflicts[:3])
        more = f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else ""
        super().__init__(f"This overlaps other appointments: {lines}{more}.", field="start_at")
        self.conflicts = conflicts


@dataclass(frozen=True)
class Conflict:
    """Another appointment in the way, and why (`kind` is "staff" or "resource")."""

    appointment: Appointment
    reason: str
    kind: str = "staff"


@dataclass
class AppointmentInput:
    """What a person typed for an appointment (aware datetimes; legs are (purpose, miles))."""

    kind: str
    staff: User
    clients: list[Client]
    start_at: datetime.datetime
    end_at: datetime.datetime
    place_type: str
    place: str = ""
    purpose: str = ""
    resource: Resource | None = None
    external_with: str = ""
    external_place: str = ""
    external_start_at: datetime.datetime | None = None
    external_end_at: datetime.datetime | None = None
    legs: list[tuple[str, Decimal]] = field(default_factory=list)


# ---- Checks ---------------------------------------------------------------------------------


def _agency(user: User) -> Agency:
    agency = user.agency
    if agency is None:
        raise ScheduleError("You are not a member of an agency.")
    return agency


def _when(moment: datetime.datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def _kind_label(kind: str) -> str:
    return str(AppointmentKind(kind).label)


def _check_may_schedule_for(by: User, staff: User) -> None:
    """One's own appointments; a supervisor's team; an admin's whole agency."""
    if not access.may_edit_chart(by):
        raise ScheduleError("Your role does not schedule appointments.")
    if staff.agency_id != by.agency_id:
        raise ScheduleError("That person is not on your agency's staff.", field="staff")
    if access.may_act_for(by, staff.pk):
        return
    raise ScheduleError(
        "You can schedule your own appointments; a supervisor or an admin schedules for others.",
        field="staff",
    )


def _check_times(data: AppointmentInput, today: datetime.date, tz: ZoneInfo) -> None:
    for name in ("start_at", "end_at", "external_start_at", "external_end_at"):
        value = getattr(data, name)
        if value is not None and timezone.is_naive(value):
            raise ScheduleError("Give the time with its time zone.", field=name)
    if data.end_at <= data.start_at:
        raise ScheduleError("The end must be after the start.", field="end_at")
    if data.end_at - data.start_at > MAX_APPOINTMENT:
        raise ScheduleError(
            "An appointment lasts at most 24 hours; make one for each day.", field="end_at"
        )
    day = data.start_at.astimezone(tz).date()
    if not today - EARLIEST <= day <= today + LATEST:
        raise ScheduleError(
            "An appointment is at most a year back and two years ahead; check the year.",
            field="start_at",
        )
    ext_start, ext_end = data.external_start_at, data.external_end_at
    if ext_end is not None and ext_start is None:
        raise ScheduleError(
            "Give the start of the client's appointment too.", field="external_start_at"
        )
    if ext_start is not None and ext_end is not None and ext_end <= ext_start:
        raise ScheduleError(
            "The client's appointment must end after it starts.", field="external_end_at"
        )
    if ext_start is not None and not data.start_at <= ext_start < data.end_at:
        raise ScheduleError(
            "The client's appointment must start inside your time block "
            "(pick-up to drop-off); lengthen the block.",
            field="external_start_at",
        )
    if ext_end is not None and ext_end > data.end_at:
        raise ScheduleError(
            "The client's appointment must end before your time block ends; lengthen the block.",
            field="external_end_at",
        )


def _check_clients(data: AppointmentInput, by: User) -> None:
    ids = [c.pk for c in data.clients]
    if len(set(ids)) != len(ids):
        raise ScheduleError("A client is listed twice.", field="clients")
    if data.kind == AppointmentKind.GROUP:
        if not 1 <= len(ids) <= MAX_GROUP:
            raise ScheduleError(f"A group has 1 to {MAX_GROUP} clients.", field="clients")
    elif data.kind in CLIENT_OPTIONAL_KINDS:
        if len(ids) > 1:
            raise ScheduleError(
                "A meeting with a provider is about one client at most; make a group for more.",
                field="clients",
            )
    elif len(ids) != 1:
        raise ScheduleError(
            "Choose the client." if not ids else "Only a group has more than one client.",
            field="clients",
        )
    for client in data.clients:
        if client.agency_id != by.agency_id:
            raise ScheduleError("This client belongs to another agency.", field="clients")
        problem = UNSCHEDULABLE.get(client.status)  # type: ignore[call-overload]
        if problem:
            raise ScheduleError(f"{client.display_name} {problem}.", field="clients")
    if ids and access.visible_clients(by).filter(pk__in=ids).count() != len(ids):
        raise ScheduleError("You do not have access to this client's chart.", field="clients")


def _clean_legs(legs: Sequence[tuple[str, Any]]) -> list[tuple[str, Decimal]]:
    if len(legs) > MAX_LEGS:
        raise ScheduleError(f"At most {MAX_LEGS} travel legs; add them up.", field="legs")
    clean = []
    for purpose, miles in legs:
        if purpose not in TravelLeg.Purpose.values:
            raise ScheduleError("Choose what each leg of the drive was for.", field="legs")
        try:
            value = Decimal(str(miles)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        except (InvalidOperation, ValueError):
            raise ScheduleError("Give the miles as a number, e.g. 12.5.", field="legs") from None
        if not Decimal("0") <= value <= MAX_MILES:
            raise ScheduleError(f"Miles are between 0 and {MAX_MILES:,} a leg.", field="legs")
        clean.append((purpose, value))
    return clean


def _clean(data: AppointmentInput, by: User) -> AppointmentInput:
    """The input checked and tidied (text trimmed, miles rounded to tenths), or ScheduleError."""
    agency = _agency(by)
    if data.kind not in AppointmentKind.values:
        raise ScheduleError("Choose what kind of appointment this is.", field="kind")
    if data.place_type not in PlaceType.values:
        raise ScheduleError("Choose where it takes place.", field="place_type")
    _check_may_schedule_for(by, data.staff)
    if not data.staff.is_active:
        raise ScheduleError(f"{data.staff.full_name} is no longer active.", field="staff")
    if not access.may_edit_chart(data.staff):
        raise ScheduleError(f"{data.staff.full_name} does not take client work.", field="staff")
    _check_times(data, agency.today(), agency.tzinfo)
    texts = {}
    for name, limit in TEXT_LIMITS.items():
        text = " ".join(str(getattr(data, name) or "").split())
        if len(text) > limit:
            raise ScheduleError(f"Keep this under {limit} characters.", field=name)
        texts[name] = text
    if data.resource is not None:
        if data.resource.agency_id != by.agency_id:
            raise ScheduleError("That car or room belongs to another agency.", field="resource")
        if not data.resource.is_active:
            raise ScheduleError(f"{data.resource.name} is no longer in use.", field="resource")
    _check_clients(data, by)
    return replace(
        data,
        legs=_clean_legs(data.legs),
        place=texts["place"],
        purpose=texts["purpose"],
        external_with=texts["external_with"],
        external_place=texts["external_place"],
    )


# ---- Warnings and conflicts ----------------------------------------------------------------


def appointment_warnings(*, data: AppointmentInput) -> list[str]:
    """What the person should know but may go ahead with (two queries at most)."""
    warnings = []
    agency = data.staff.agency
    tz = agency.tzinfo if agency else ZoneInfo("UTC")
    at_home = data.kind == AppointmentKind.HOME_VISIT or data.place_type == PlaceType.CLIENT_HOME
    if at_home and not data.place.strip():
        for client in data.clients:
            if not (client.address_line1.strip() or client.address_notes.strip()):
                warnings.append(
                    f"{client.display_name} has no address on file: add it to the chart or "
                    "type the place."
                )
    day = data.start_at.astimezone(tz).date()
    holiday = Holiday.objects.filter(agency_id=access.agency_id_of(data.staff), day=day).first()
    if holiday is not None:
        warnings.append(f"{day:%a} {day.day} {day:%b} is a holiday ({holiday.name}).")
    codes = {code.strip().upper() for code in data.staff.work_days.split(",")}
    if WEEKDAY_CODES[day.weekday()] not in codes:
        warnings.append(f"{day:%A} is not one of {data.staff.full_name}'s working days.")
    if data.end_at < timezone.now():
        warnings.append("This appointment is in the past: it is recorded, not booked.")
    return warnings


Window = tuple[datetime.datetime, datetime.datetime]


def _conflicts(
    *,
    staff: User,
    resource: Resource | None,
    windows: list[Window],
    ignore_ids: Iterable[int],
    tz: ZoneInfo,
) -> list[Conflict]:
    """Live appointments of the staff member or the resource overlapping any window (one query)."""
    if not windows:
        return []
    windows = sorted(windows)
    who = Q(staff_id=staff.pk)
    if resource is not None:
        who |= Q(resource_id=resource.pk)
    candidates = (
        Appointment.objects.filter(
            who,
            agency_id=access.agency_id_of(staff),
            status__in=LIVE_STATUSES,
            start_at__lt=windows[-1][1],
            end_at__gt=windows[0][0],
        )
        .exclude(pk__in=list(ignore_ids))
        .select_related("resource")
        .order_by("start_at", "id")
    )
    starts = [start for start, _ in windows]
    conflicts = []
    for other in candidates:
        # Windows starting before `other` ends; walk back while they could still reach it.
        index = bisect.bisect_left(starts, other.end_at)
        overlaps = False
        while index > 0:
            index -= 1
            start, end = windows[index]
            if end > other.start_at:
                overlaps = True
                break
            if start < other.start_at - MAX_APPOINTMENT:
                break
        if not overlaps:
            continue
        when = _when(other.start_at, tz)
        what = _kind_label(other.kind).lower()
        if other.staff_id == staff.pk:
            conflicts.append(
                Conflict(other, f"{staff.full_name} already has a {what} on {when}", "staff")
            )
        if resource is not None and other.resource_id == resource.pk:
            conflicts.append(
                Conflict(other, f"{resource.name} is booked for a {what} on {when}", "resource")
            )
    return conflicts


def appointment_conflicts(
    *, data: AppointmentInput, ignore_ids: set[int] | frozenset[int] = frozenset()
) -> list[Conflict]:
    """Scheduled or attended appointments of the same staff member or resource that overlap."""
    agency = data.staff.agency
    tz = agency.tzinfo if agency else ZoneInfo("UTC")
    return _conflicts(
        staff=data.staff,
        resource=data.resource,
        windows=[(data.start_at, data.end_at)],
        ignore_ids=ignore_ids,
        tz=tz,
    )


# ---- Making appointments -------------------------------------------------------------------


@dataclass(frozen=True)
class _Shape:
    """An appointment's times relative to its start, in local wall-clock terms.

    Each occurrence keeps the same local clock times (10:00 to 11:00, the client's 10:30). When
    a daylight-saving change inside the block would put them out of order, the true elapsed
    offsets are used instead.
    """

    length: datetime.timedelta
    external_start: datetime.timedelta | None
    external_end: datetime.timedelta | None
    absolute: tuple[datetime.timedelta, datetime.timedelta | None, datetime.timedelta | None]

    @classmethod
    def of(
        cls,
        start: datetime.datetime,
        end: datetime.datetime,
        ext_start: datetime.datetime | None,
        ext_end: datetime.datetime | None,
        tz: ZoneInfo,
    ) -> _Shape:
        base = recurrence.local_naive(start, tz)

        def local(moment: datetime.datetime | None) -> datetime.timedelta | None:
            return None if moment is None else recurrence.local_naive(moment, tz) - base

        def elapsed(moment: datetime.datetime | None) -> datetime.timedelta | None:
            return None if moment is None else moment - start

        absolute = (end - start, elapsed(ext_start), elapsed(ext_end))
        shape = cls(end - start, local(ext_start), local(ext_end), absolute)
        length = local(end)
        assert length is not None
        if _in_order(length, shape.external_start, shape.external_end):
            return replace(shape, length=length)
        return replace(shape, external_start=absolute[1], external_end=absolute[2])

    def at(self, start: datetime.datetime, tz: ZoneInfo) -> dict[str, datetime.datetime | None]:
        """Times for an occurrence starting at `start`."""
        base = recurrence.local_naive(start, tz)

        def local(offset: datetime.timedelta | None) -> datetime.datetime | None:
            return None if offset is None else recurrence.aware(base + offset, tz)

        end, ext_start, ext_end = (
            local(self.length),
            local(self.external_start),
            local(self.external_end),
        )
        assert end is not None
        if not _moments_in_order(start, end, ext_start, ext_end):
            length, ext_offset, ext_end_offset = self.absolute
            end = start + length
            ext_start = None if ext_offset is None else start + ext_offset
            ext_end = None if ext_end_offset is None else start + ext_end_offset
        return {
            "start_at": start,
            "end_at": end,
            "external_start_at": ext_start,
            "external_end_at": ext_end,
        }


def _in_order(
    length: datetime.timedelta | None,
    ext_start: datetime.timedelta | None,
    ext_end: datetime.timedelta | None,
) -> bool:
    zero = datetime.timedelta(0)
    return _moments_in_order(zero, length, ext_start, ext_end)


def _moments_in_order(start: Any, end: Any, ext_start: Any, ext_end: Any) -> bool:
    """start < end; the client's appointment (if any) inside, ending after it starts."""
    if end is None or end <= start:
        return False
    if ext_start is not None and not start <= ext_start < end:
        return False
    ends_badly = ext_end is not None and (
        ext_end > end or (ext_start is not None and ext_end <= ext_start)
    )
    return not ends_badly


def _values(data: AppointmentInput) -> dict[str, Any]:
    return {
        "kind": data.kind,
        "staff": data.staff,
        "place_type": data.place_type,
        "place": data.place,
        "purpose": data.purpose,
        "resource": data.resource,
        "external_with": data.external_with,
        "external_place": data.external_place,
    }


def _add_clients_and_legs(
    appointments: list[Appointment], client_ids: list[int], legs: list[tuple[str, Decimal]]
) -> None:
    AppointmentClient.objects.bulk_create(
        AppointmentClient(agency_id=a.agency_id, appointment=a, client_id=client_id)
        for a in appointments
        for client_id in client_ids
    )
    TravelLeg.objects.bulk_create(
        TravelLeg(
            agency_id=a.agency_id, appointment=a, position=position, purpose=purpose, miles=miles
        )
        for a in appointments
        for position, (purpose, miles) in enumerate(legs, start=1)
    )


def _audit_clients(
    by: User | None,
    action: str,
    obj: Any,
    client_ids: list[int],
    agency_id: int,
    **detail: Any,
) -> None:
    """One entry per client (so each chart's history shows it), or one when there is none."""
    targets: list[int | None] = [*client_ids] or [None]
    for client_id in targets:
        audit_record(
            actor=by,
            action=action,
            obj=obj,
            client_id=client_id,
            agency_id=agency_id,
            actor_label="" if by else "schedule",
            detail=detail,
        )


def _holidays(agency_id: int, after: datetime.date, through: datetime.date) -> set[datetime.date]:
    return set(
        Holiday.objects.filter(agency_id=agency_id, day__gt=after, day__lte=through).values_list(
            "day", flat=True
        )
    )


def horizon(agency: Agency) -> datetime.date:
    """The last local date recurring appointments are made for today."""
    return agency.today() + datetime.timedelta(days=HORIZON_DAYS)


def _lock_staff(staff: User, resource: Resource | None) -> None:
    """Serialise bookings of one person (and one car or room) so two cannot both pass checks."""
    list(User.objects.select_for_update().filter(pk=staff.pk).values_list("pk"))
    if resource is not None:
        list(Resource.objects.select_for_update().filter(pk=resource.pk).values_list("pk"))


def _series_starts(
    *,
    series: Series,
    first_local: datetime.datetime,
    through: datetime.date,
    tz: ZoneInfo,
) -> list[datetime.datetime]:
    after = first_local.date() - datetime.timedelta(days=1)
    return recurrence.occurrences(
        rule=series.rule,
        first_start_local=first_local,
        tz=tz,
        after=after,
        through=through,
        holidays=_holidays(series.agency_id, after, through),
        skip_holidays=series.skip_holidays,
        limit=MAX_OCCURRENCES,
    )


def _create_series_rows(
    *,
    data: AppointmentInput,
    by: User,
    rule: str,
    skip_holidays: bool,
    confirm_conflicts: bool,
    ignore_ids: Iterable[int] = (),
    reuse: Appointment | None = None,
) -> tuple[Series, list[Appointment], datetime.datetime]:
    """A new series from `data.start_at`, its occurrences made to the horizon (bounded).

    Returns the series, the rows made and the first occurrence's start. With `reuse`, that
    (locked) appointment is to become the first occurrence, so no row is made for it.
    """
    agency = _agency(by)
    tz = agency.tzinfo
    first_local = recurrence.local_naive(data.start_at, tz)
    through = max(horizon(agency), first_local.date())
    series = Series(
        agency=agency,
        rule=rule,
        first_start=data.start_at,
        time_zone=agency.time_zone,
        skip_holidays=skip_holidays,
        generated_until=through,
        created_by=by,
    )
    starts = _series_starts(series=series, first_local=first_local, through=through, tz=tz)
    if len(starts) >= MAX_OCCURRENCES:
        series.generated_until = starts[-1].astimezone(tz).date()
    shape = _Shape.of(data.start_at, data.end_at, data.external_start_at, data.external_end_at, tz)
    times = [shape.at(start, tz) for start in starts]
    windows = [(start, end) for t in times if (start := t["start_at"]) and (end := t["end_at"])]
    conflicts = _conflicts(
        staff=data.staff,
        resource=data.resource,
        windows=windows,
        ignore_ids=[*ignore_ids, *([reuse.pk] if reuse else [])],
        tz=tz,
    )
    if conflicts and not confirm_conflicts:
        raise ScheduleConflict(conflicts)
    series.save()
    values = _values(data)
    rows = [
        Appointment(
            agency=agency,
            series=series,
            occurrence_start=start,
            created_by=by,
            **values,
            **when,
        )
        for start, when in zip(starts, times, strict=True)
    ]
    if reuse is not None:
        rows = rows[1:]
    made = Appointment.objects.bulk_create(rows)
    _add_clients_and_legs(made, [c.pk for c in data.clients], data.legs)
    return series, made, starts[0]


def appointment_create(
    *,
    data: AppointmentInput,
    by: User,
    rule: str = "",
    skip_holidays: bool = True,
    confirm_conflicts: bool = False,
    submission_key: str = "",
) -> Appointment:
    """Book an appointment, or a repeating one (returns its first occurrence).

    Overlaps raise `ScheduleConflict` unless `confirm_conflicts`; one row per submission key.
    """
    data = _clean(data, by)
    if rule:
        recurrence.rule_check(rule)
        rule = recurrence._clean_rule(rule)
    agency = _agency(by)
    client_ids = [c.pk for c in data.clients]
    with transaction.atomic():
        submission = submission_claim(
            agency=agency, by=by, purpose=APPOINTMENT_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return Appointment.objects.get(pk=submission.earlier_object_id, agency=agency)
        _lock_staff(data.staff, data.resource)
        if rule:
            series, made, _ = _create_series_rows(
                data=data,
                by=by,
                rule=rule,
                skip_holidays=skip_holidays,
                confirm_conflicts=confirm_conflicts,
            )
            first = made[0]
            _audit_clients(
                by,
                Action.CREATE,
                series,
                client_ids,
                agency.pk,
                occurrences=len(made),
                first_appointment=first.pk,
                generated_until=series.generated_until.isoformat(),
            )
        else:
            conflicts = appointment_conflicts(data=data)
            if conflicts and not confirm_conflicts:
                raise ScheduleConflict(conflicts)
            first = Appointment.objects.create(
                agency=agency,
                start_at=data.start_at,
                end_at=data.end_at,
                external_start_at=data.external_start_at,
                external_end_at=data.external_end_at,
                created_by=by,
                **_values(data),
            )
            _add_clients_and_legs([first], client_ids, data.legs)
            _audit_clients(
                by, Action.CREATE, first, client_ids, agency.pk, kind=data.kind, legs=len(data.legs)
            )
        submission_complete(submission, first.pk)
    return first


# ---- Changing appointments -----------------------------------------------------------------


def _check_may_change(appointment: Appointment, by: User) -> None:
    if appointment.agency_id != by.agency_id:
        raise ScheduleError("This appointment belongs to another agency.")
    staff = User.objects.get(pk=appointment.staff_id)
    _check_may_schedule_for(by, staff)


def _changed_fields(
    locked: Appointment, data: AppointmentInput, client_ids: list[int], old_ids: list[int]
) -> list[str]:
    names = [
        name
        for name in (
            "kind",
            "start_at",
            "end_at",
            "place_type",
            "place",
            "purpose",
            "external_with",
            "external_place",
            "external_start_at",
            "external_end_at",
        )
        if getattr(locked, name) != getattr(data, name)
    ]
    if locked.staff_id != data.staff.pk:
        names.append("staff")
    if locked.resource_id != (data.resource.pk if data.resource else None):
        names.append("resource")
    if sorted(client_ids) != sorted(old_ids):
        names.append("clients")
    legs = [(leg.purpose, leg.miles) for leg in locked.legs.all()]
    if legs != data.legs:
        names.append("legs")
    return names


MOVING_FIELDS = frozenset({"kind", "start_at", "end_at", "staff", "clients"})


def appointment_update(
    *,
    appointment: Appointment,
    data: AppointmentInput,
    by: User,
    expected_version: int,
    scope: Literal["this", "following"] = "this",
    confirm_conflicts: bool = False,
    rule: str | None = None,
) -> Appointment:
    """Change one appointment, or ("following") this and every later one of its series.

    "following" ends the old series the day before, removes its later occurrences that are
    still scheduled and were not changed on their own, and starts a new series here (its rule
    is the old one moved to the new weekday, or `rule` when given).
    """
    if scope not in ("this", "following"):
        raise ScheduleError("Choose this appointment or this and the following ones.", "scope")
    data = _clean(data, by)
    _check_may_change(appointment, by)
    agency = _agency(by)
    client_ids = [c.pk for c in data.clients]
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk, agency=agency)
        if locked.version != expected_version:
            raise ScheduleError(
                "Someone else changed this appointment since you opened it; reload to see "
                "their change, then make yours again.",
                field="version",
            )
        old_ids = list(
            AppointmentClient.objects.filter(appointment=locked).values_list("client_id", flat=True)
        )
        data, client_ids = _keep_clients_hidden_from(by, data, client_ids, old_ids)
        changed = _changed_fields(locked, data, client_ids, old_ids)
        if locked.has_outcome and MOVING_FIELDS.intersection(changed):
            raise ScheduleError(
                f"This appointment is marked {locked.get_status_display().lower()}; it cannot "
                "be moved or given to someone else. Book a new one instead."
            )
        if not changed and rule is None:
            return locked
        _lock_staff(data.staff, data.resource)
        if scope == "following" and locked.series_id is not None and not locked.has_outcome:
            return _split_series(
                locked=locked,
                data=data,
                by=by,
                rule=rule,
                confirm_conflicts=confirm_conflicts,
                changed=changed,
                old_ids=old_ids,
            )
        tz = agency.tzinfo
        conflicts = _conflicts(
            staff=data.staff,
            resource=data.resource,
            windows=[(data.start_at, data.end_at)],
            ignore_ids={locked.pk},
            tz=tz,
        )
        if (
            conflicts
            and not confirm_conflicts
            and {"start_at", "end_at", "staff", "resource"} & set(changed)
        ):
            raise ScheduleConflict(conflicts)
        _apply(locked, data)
        if locked.series_id is not None:
            locked.is_exception = True
        locked.version += 1
        locked.save()
        _replace_clients_and_legs(locked, client_ids, old_ids, data, changed)
        _audit_clients(
            by, Action.UPDATE, locked, sorted({*client_ids, *old_ids}), agency.pk, fields=changed
        )
    return locked


def _keep_clients_hidden_from(
    by: User, data: AppointmentInput, client_ids: list[int], old_ids: list[int]
) -> tuple[AppointmentInput, list[int]]:
    """A group may hold clients the editor may not see (and so could not tick): they stay."""
    visible = set(access.visible_clients(by).filter(pk__in=old_ids).values_list("pk", flat=True))
    hidden = [pk for pk in old_ids if pk not in visible and pk not in client_ids]
    if not hidden:
        return data, client_ids
    kept = list(Client.objects.filter(pk__in=hidden).order_by("pk"))
    return replace(data, clients=[*data.clients, *kept]), [*client_ids, *hidden]


def _apply(appointment: Appointment, data: AppointmentInput) -> None:
    for name, value in _values(data).items():
        setattr(appointment, name, value)
    appointment.start_at = data.start_at
    appointment.end_at = data.end_at
    appointment.external_start_at = data.external_start_at
    appointment.external_end_at = data.external_end_at


def _replace_clients_and_legs(
    appointment: Appointment,
    client_ids: list[int],
    old_ids: list[int],
    data: AppointmentInput,
    changed: list[str],
) -> None:
    if "clients" in changed:
        AppointmentClient.objects.filter(appointment=appointment).exclude(
            client_id__in=client_ids
        ).delete()
        AppointmentClient.objects.bulk_create(
            AppointmentClient(
                agency_id=appointment.agency_id, appointment=appointment, client_id=client_id
            )
            for client_id in client_ids
            if client_id not in old_ids
        )
    if "legs" in changed:
        TravelLeg.objects.filter(appointment=appointment).delete()
        _add_clients_and_legs([appointment], [], data.legs)


def _split_series(
    *,
    locked: Appointment,
    data: AppointmentInput,
    by: User,
    rule: str | None,
    confirm_conflicts: bool,
    changed: list[str],
    old_ids: list[int],
) -> Appointment:
    """End the old series before `locked` and start a new one from it with the new values."""
    agency = _agency(by)
    assert locked.series_id is not None
    old = Series.objects.select_for_update().get(pk=locked.series_id)
    tz = ZoneInfo(old.time_zone)
    split_local = recurrence.local_naive(locked.occurrence_start or locked.start_at, tz)
    if rule is not None:
        recurrence.rule_check(rule)
        new_rule = recurrence._clean_rule(rule)
    else:
        first_local = recurrence.local_naive(old.first_start, tz)
        new_rule = recurrence.rule_count_after(
            rule=old.rule, first_start_local=first_local, before_local=split_local
        )
        new_rule = recurrence.rule_moved(
            rule=new_rule,
            old_day=split_local.date(),
            new_day=data.start_at.astimezone(tz).date(),
        )
    # Occurrences with a note, a task or a client reminder stay (in the old series): they are
    # the record of what was written, asked or told the client (a reminder is sent at most once).
    removable = (
        Appointment.objects.filter(
            series=old,
            occurrence_start__gt=locked.occurrence_start,
            status=Appointment.Status.SCHEDULED,
            is_exception=False,
        )
        .exclude(Exists(Note.objects.filter(appointment=OuterRef("pk"))))
        .exclude(Exists(Task.objects.filter(appointment=OuterRef("pk"))))
        .exclude(Exists(ClientReminder.objects.filter(appointment=OuterRef("pk"))))
    )
    removed = list(removable.values_list("pk", flat=True))
    Appointment.objects.filter(pk__in=removed).delete()
    old.ended_on = split_local.date() - datetime.timedelta(days=1)
    old.save(update_fields=["ended_on"])
    series, made, first_start = _create_series_rows(
        data=data,
        by=by,
        rule=new_rule,
        skip_holidays=old.skip_holidays,
        confirm_conflicts=confirm_conflicts,
        ignore_ids=removed,
        reuse=locked,
    )
    _apply(locked, data)
    locked.series = series
    locked.occurrence_start = first_start
    locked.is_exception = False
    locked.version += 1
    locked.save()
    client_ids = [c.pk for c in data.clients]
    _replace_clients_and_legs(locked, client_ids, old_ids, data, changed)
    everyone = sorted({*client_ids, *old_ids})
    _audit_clients(
        by,
        Action.UPDATE,
        old,
        everyone,
        agency.pk,
        ended_on=old.ended_on.isoformat(),
        removed_appointments=removed,
        continued_by=series.pk,
    )
    _audit_clients(
        by,
        Action.CREATE,
        series,
        client_ids,
        agency.pk,
        follows=old.pk,
        occurrences=len(made) + 1,
        first_appointment=locked.pk,
    )
    _audit_clients(by, Action.UPDATE, locked, everyone, agency.pk, fields=changed, series=series.pk)
    return locked


# ---- Extending series ----------------------------------------------------------------------


def series_extend(*, series: Series, through: datetime.date) -> int:
    """Make the series' occurrences up to `through` (bounded); returns how many were made.

    New occurrences copy the latest occurrence that was not changed on its own. Running it
    twice makes nothing twice. A series whose staff member left, or whose client left, stops.
    """
    with transaction.atomic():
        locked = Series.objects.select_for_update().select_related("agency").get(pk=series.pk)
        if locked.ended_on is not None:
            through = min(through, locked.ended_on)
        if through <= locked.generated_until:
            return 0
        template = (
            Appointment.objects.filter(series=locked)
            .select_related("staff")
            .order_by("is_exception", "-occurrence_start")
            .first()
        )
        if template is None or not template.staff.is_active:
            return 0
        client_ids = list(
            AppointmentClient.objects.filter(appointment=template).values_list(
                "client_id", flat=True
            )
        )
        if Client.objects.filter(pk__in=client_ids, status__in=list(UNSCHEDULABLE)).exists():
            return 0
        tz = ZoneInfo(locked.time_zone)
        after = locked.generated_until
        starts = recurrence.occurrences(
            rule=locked.rule,
            first_start_local=recurrence.local_naive(locked.first_start, tz),
            tz=tz,
            after=after,
            through=through,
            holidays=_holidays(locked.agency_id, after, through),
            skip_holidays=locked.skip_holidays,
            limit=MAX_OCCURRENCES,
        )
        existing = set(
            Appointment.objects.filter(series=locked, occurrence_start__in=starts).values_list(
                "occurrence_start", flat=True
            )
        )
        shape = _Shape.of(
            template.start_at,
            template.end_at,
            template.external_start_at,
            template.external_end_at,
            tz,
        )
        rows = []
        for start in starts:
            if start in existing:
                continue
            rows.append(
                Appointment(
                    agency_id=locked.agency_id,
                    kind=template.kind,
                    staff_id=template.staff_id,
                    place_type=template.place_type,
                    place=template.place,
                    purpose=template.purpose,
                    resource_id=template.resource_id,
                    external_with=template.external_with,
                    external_place=template.external_place,
                    series=locked,
                    occurrence_start=start,
                    created_by_id=locked.created_by_id,
                    **shape.at(start, tz),
                )
            )
        try:
            with transaction.atomic():
                made = Appointment.objects.bulk_create(rows)
        except IntegrityError:
            return 0  # another run made them first
        legs = [(leg.purpose, leg.miles) for leg in template.legs.all()]
        _add_clients_and_legs(made, client_ids, legs)
        locked.generated_until = (
            starts[-1].astimezone(tz).date() if len(starts) >= MAX_OCCURRENCES else through
        )
        locked.save(update_fields=["generated_until"])
        if made:
            _audit_clients(
                None,
                Action.UPDATE,
                locked,
                client_ids,
                locked.agency_id,
                occurrences_added=len(made),
                generated_until=locked.generated_until.isoformat(),
            )
    return len(made)
