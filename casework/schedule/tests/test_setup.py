"""Cars, rooms and holidays: set up by agency admins only."""

from __future__ import annotations

import datetime

import pytest

from casework.core.models import AuditEvent
from casework.schedule import services_setup
from casework.schedule.models import Holiday, Resource
from casework.schedule.services import ScheduleError

pytestmark = pytest.mark.django_db


def test_an_admin_adds_and_renames_a_car(cast):
    car = services_setup.resource_save(by=cast.admin, name=" Blue  Corolla ", kind="vehicle")
    assert car.name == "Blue Corolla" and car.agency == cast.agency
    car = services_setup.resource_save(
        by=cast.admin, name="Blue Corolla (old)", kind="vehicle", is_active=False, resource=car
    )
    assert not Resource.objects.get(pk=car.pk).is_active
    assert AuditEvent.objects.filter(object_type="schedule.resource").count() == 2


def test_resource_names_are_unique_and_checked(cast):
    services_setup.resource_save(by=cast.admin, name="Room 2", kind="room")
    with pytest.raises(ScheduleError) as error:
        services_setup.resource_save(by=cast.admin, name="room 2", kind="room")
    assert error.value.field == "name"
    with pytest.raises(ScheduleError):
        services_setup.resource_save(by=cast.admin, name="", kind="room")
    with pytest.raises(ScheduleError):
        services_setup.resource_save(by=cast.admin, name="Bike", kind="bicycle")


def test_only_an_agency_admin_sets_up_cars_and_holidays(cast):
    for user in (cast.case_manager, cast.supervisor, cast.billing):
        with pytest.raises(ScheduleError, match="agency admin"):
            services_setup.resource_save(by=user, name="Van", kind="vehicle")
        with pytest.raises(ScheduleError, match="agency admin"):
            services_setup.holiday_save(by=user, day=datetime.date(2026, 12, 25), name="Christmas")
    outsiders = services_setup.resource_save(by=cast.outsider_admin, name="Van", kind="vehicle")
    with pytest.raises(ScheduleError, match="another agency"):
        services_setup.resource_save(by=cast.admin, name="Van", kind="vehicle", resource=outsiders)


def test_holidays_are_one_a_day_and_deleted_with_an_audit_entry(cast):
    christmas = datetime.date(2026, 12, 25)
    holiday = services_setup.holiday_save(by=cast.admin, day=christmas, name="Christmas")
    with pytest.raises(ScheduleError) as error:
        services_setup.holiday_save(by=cast.admin, day=christmas, name="Again")
    assert error.value.field == "day"
    services_setup.holiday_save(by=cast.admin, day=christmas, name="Christmas Day", holiday=holiday)
    assert Holiday.objects.get().name == "Christmas Day"
    with pytest.raises(ScheduleError):
        services_setup.holiday_delete(holiday=holiday, by=cast.outsider_admin)
    services_setup.holiday_delete(holiday=holiday, by=cast.admin)
    assert not Holiday.objects.exists()
    assert AuditEvent.objects.filter(object_type="schedule.holiday", action="delete").exists()
