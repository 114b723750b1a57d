"""My day reminds a case manager of first plans and plan reviews coming due, with the date."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.clients.models import Episode
from casework.core.models import Program
from casework.plans.selectors import plans_due_for
from casework.testing.factories import ClientFactory, assign
from casework.testing.plans import complete_draft, signed_plan

pytestmark = pytest.mark.django_db


def _admit(client, days_ago: int) -> None:
    program = Program.objects.get_or_create(agency=client.agency, name="ICM")[0]
    Episode.objects.create(
        agency=client.agency,
        client=client,
        program=program,
        admitted_on=client.agency.today() - datetime.timedelta(days=days_ago),
    )


def test_a_first_plan_is_due_30_days_after_admission_and_a_review_at_the_agency_interval(cast):
    today = cast.agency.today()
    _admit(cast.client, days_ago=25)
    due = plans_due_for(user=cast.case_manager)
    assert [(d.client, d.what, d.due_on) for d in due] == [
        (cast.client, "first plan", today + datetime.timedelta(days=5))
    ]
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    assert plans_due_for(user=cast.case_manager) == []
    assert plans_due_for(user=cast.case_manager, within_days=200)[0].due_on == (
        plan.starts_on + datetime.timedelta(days=180)
    )


def test_an_overdue_first_plan_with_a_draft_links_to_the_draft_on_my_day(cast, http_as):
    _admit(cast.client, days_ago=45)
    draft = complete_draft(client=cast.client, by=cast.case_manager)
    page = http_as(cast.case_manager).get("/").content.decode()
    assert "first service plan" in page and f"/plans/{draft.pk}/" in page
    assert "overdue since" in page and "draft started" in page
    assert "first service plan" not in http_as(cast.colleague).get("/").content.decode()


def _my_day_queries(http) -> int:
    http.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert http.get("/").status_code == 200
    return len(queries)


def test_my_day_takes_the_same_queries_for_few_and_many_plans_due(cast, http_as):
    _admit(cast.client, days_ago=40)
    http = http_as(cast.case_manager)
    few = _my_day_queries(http)
    for number in range(6):
        client = ClientFactory(agency=cast.agency)
        assign(client, cast.case_manager)
        _admit(client, days_ago=50)
        if number % 2:
            complete_draft(client=client, by=cast.case_manager)
    assert len(plans_due_for(user=cast.case_manager)) == 7
    assert _my_day_queries(http) == few
