"""The hourly commands (here or through the queue) and the demo agency's rules."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from casework.automation.models import AutomationRule, AutomationRun, ClientReminder
from casework.automation.tests.helpers import authorization_used, rule, texts
from casework.clients.demo import seed_demo
from casework.testing.schedule import appointment_for, local

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_run_automation_logs_counts_only_and_is_safe_twice(cast):
    authorization_used(cast, units=10, used=9)
    rule(cast, "authorization_used")
    assert run("run_automation") == "Automation runs logged: 1.\n"
    assert run("run_automation", "--agency", str(cast.agency.pk)) == "Automation runs logged: 0.\n"
    assert "Queued the automation run" in run("run_automation", "--enqueue")
    assert AutomationRun.objects.count() == 1


def test_send_client_reminders_here_or_through_the_queue(cast, outbox):
    now = local(cast.agency, datetime.date(2026, 12, 8), "12:00")
    with time_machine.travel(now, tick=False):
        texts(cast, "2065550142")
        appointment_for(cast, start=now + datetime.timedelta(hours=4))
        assert "Queued the client reminders" in run("send_client_reminders", "--enqueue")
        assert run("send_client_reminders") == "Client reminders sent: 0.\n"
    assert len(outbox) == 1 and ClientReminder.objects.get().status == "sent"


def test_the_demo_agency_has_rules_made_by_its_admin():
    result = seed_demo(clients=5, seed=1)
    rules = AutomationRule.objects.filter(agency=result.agency)
    assert rules.count() == 5
    assert rules.filter(is_active=True).count() == 4
    assert {r.created_by.agency_id for r in rules} == {result.agency.pk}
