"""Agency set-up for the schedule (pool cars, rooms, holidays) and each person's calendar feed.

Cars, rooms and holidays are for agency admins. A calendar feed is a private address made by
its owner (or an admin): only a hash of its token is kept, and making a new one revokes the old.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import Agency, User
from casework.schedule.models import CalendarFeed, Holiday, Resource
from casework.schedule.recurrence import ScheduleError
from casework.schedule.services import _agency

# ---- Resources and holidays (agency admins) ------------------------------------------------


def _check_admin(by: User) -> Agency:
    if not access.may_manage_staff(by):
        raise ScheduleError("Only an agency admin sets up cars, rooms and holidays.")
    return _agency(by)


def resource_save(
    *,
    by: User,
    name: str,
    kind: str,
    is_active: bool = True,
    resource: Resource | None = None,
) -> Resource:
    """Add or change a pool car or a room."""
    agency = _check_admin(by)
    name = " ".join(name.split())
    if not name:
        raise ScheduleError("Name the car or room.", field="name")
    if len(name) > 100:
        raise ScheduleError("Keep the name under 100 characters.", field="name")
    if kind not in Resource.Kind.values:
        raise ScheduleError("Choose vehicle or room.", field="kind")
    if resource is not None and resource.agency_id != agency.pk:
        raise ScheduleError("That car or room belongs to another agency.")
    taken = Resource.objects.filter(agency=agency, name__iexact=name)
    if resource is not None:
        taken = taken.exclude(pk=resource.pk)
    if taken.exists():
        raise ScheduleError(f"There is already a car or room called “{name}”.", field="name")
    with transaction.atomic():
        created = resource is None
        resource = resource or Resource(agency=agency)
        resource.name, resource.kind, resource.is_active = name, kind, is_active
        resource.save()
        audit_record(
            actor=by,
            action=Action.CREATE if created else Action.UPDATE,
            obj=resource,
            detail={"kind": kind, "is_active": is_active},
        )
    return resource


def holiday_save(
    *, by: User, day: datetime.date, name: str, holiday: Holiday | None = None
) -> Holiday:
    """Add or change a day the agency is closed. Appointments already made stay (they warn)."""
    agency = _check_admin(by)
    name = " ".join(name.split())
    if not name:
        raise ScheduleError("Name the holiday.", field="name")
    if len(name) > 100:
        raise ScheduleError("Keep the name under 100 characters.", field="name")
    if holiday is not None and holiday.agency_id != agency.pk:
        raise ScheduleError("That holiday belongs to another agency.")
    taken = Holiday.objects.filter(agency=agency, day=day)
    if holiday is not None:
        taken = taken.exclude(pk=holiday.pk)
    if taken.exists():
        raise ScheduleError(f"{day:%a} {day.day} {day:%b %Y} is already a holiday.", field="day")
    with transaction.atomic():
        created = holiday is None
        holiday = holiday or Holiday(agency=agency)
        holiday.day, holiday.name = day, name
        holiday.save()
        audit_record(
            actor=by,
            action=Action.CREATE if created else Action.UPDATE,
            obj=holiday,
            detail={"day": day.isoformat()},
        )
    return holiday


def holiday_delete(*, holiday: Holiday, by: User) -> None:
    agency = _check_admin(by)
    if holiday.agency_id != agency.pk:
        raise ScheduleError("That holiday belongs to another agency.")
    with transaction.atomic():
        audit_record(
            actor=by, action=Action.DELETE, obj=holiday, detail={"day": holiday.day.isoformat()}
        )
        holiday.delete()


# ---- Calendar feeds ------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_feed_owner(user: User, by: User) -> Agency:
    agency = _agency(by)
    if user.agency_id != agency.pk:
        raise ScheduleError("That person is not on your agency's staff.")
    if user.pk != by.pk and not access.may_manage_staff(by):
        raise ScheduleError("Only the person themselves, or an admin, manages a calendar feed.")
    return agency


def feed_create(*, user: User, by: User) -> str:
    """A new private calendar address for `user`: the token, shown once; the old one stops."""
    agency = _check_feed_owner(user, by)
    if not agency.calendar_feeds_enabled:
        raise ScheduleError("Your agency has turned calendar feeds off.")
    if not user.is_active:
        raise ScheduleError(f"{user.full_name} is no longer active.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # One live feed per person: a twin request waits here, then revokes the first's.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        now = timezone.now()
        CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        feed = CalendarFeed.objects.create(agency=agency, user=user, token_hash=token_hash(token))
        audit_record(actor=by, action=Action.CREATE, obj=feed, detail={"user": user.pk})
    return token


def feed_revoke(*, user: User, by: User) -> int:
    """Stop `user`'s calendar address; returns how many live feeds were stopped (0 or 1)."""
    _check_feed_owner(user, by)
    with transaction.atomic():
        feeds = list(
            CalendarFeed.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        )
        now = timezone.now()
        for feed in feeds:
            feed.revoked_at = now
            feed.save(update_fields=["revoked_at"])
            audit_record(actor=by, action=Action.UPDATE, obj=feed, detail={"revoked": True})
    return len(feeds)
