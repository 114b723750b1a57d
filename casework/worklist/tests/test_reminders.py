"""Reminder emails keep quiet outside working hours, except for urgent items, and never repeat."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command

from casework.notes.models import ContactType, Note
from casework.testing.personas import Cast
from casework.worklist import services
from casework.worklist.reminders import send_reminders

pytestmark = pytest.mark.django_db


def _office_hours(cast: Cast) -> None:
    user = cast.case_manager
    user.work_days, user.work_starts, user.work_ends = (
        "MO,TU,WE,TH,FR",
        datetime.time(8),
        datetime.time(17),
    )
    user.save()


def _draft(cast: Cast) -> None:
    Note.objects.create(
        agency=cast.agency,
        client=cast.client,
        author=cast.case_manager,
        service_date=cast.agency.today(),
        contact_type=ContactType.FACE_TO_FACE,
    )


def _mine() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == ["cm@home.example"]]


def test_the_daily_digest_comes_once_inside_working_hours_and_names_no_client(
    cast: Cast,
) -> None:
    _office_hours(cast)
    _draft(cast)
    morning = datetime.datetime(2026, 12, 2, 9, 5, tzinfo=cast.agency.tzinfo)
    send_reminders(now=morning)
    send_reminders(now=morning + datetime.timedelta(hours=1))
    [digest] = _mine()
    assert "1 note to sign" in digest.body
    assert cast.client.legal_last_name not in digest.body + digest.subject


def test_outside_working_hours_only_urgent_items_are_sent_and_only_once(cast: Cast) -> None:
    _office_hours(cast)
    _draft(cast)
    services.task_create(
        assignee=cast.case_manager,
        title="Call the crisis line back",
        by=cast.supervisor,
        urgent=True,
    )
    night = datetime.datetime(2026, 12, 2, 22, 0, tzinfo=cast.agency.tzinfo)
    send_reminders(now=night)
    [urgent] = _mine()
    assert "urgent" in urgent.subject and "Call the crisis line" not in urgent.body
    call_command("send_reminders")  # the command, at the real hour: the urgent one is not resent
    assert [m.subject for m in _mine()].count(urgent.subject) == 1
