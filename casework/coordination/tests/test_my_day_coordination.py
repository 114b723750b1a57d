"""My day shows coordination: unread mentions, hand-offs to acknowledge, releases running out,
and the day of a colleague one covers for — in the same number of queries however many."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.clients.models import Client
from casework.coordination import services_collaboration as services
from casework.coordination.models import Consent
from casework.testing.coordination import OrganizationFactory, PersonFactory, release
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast
from casework.worklist import selectors as worklist
from casework.worklist import services as tasks

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _items(user: Any) -> dict[str, Any]:
    return {item.key: item for item in worklist.my_day(user=user).items}


def _release(cast: Cast, client: Client, days: int) -> Consent:
    return release(
        client=client,
        by=cast.case_manager,
        person=PersonFactory(agency=cast.agency, name="Dr. Avery Lin"),
        starts_on=cast.agency.today() - 300 * DAY,
        expires_on=cast.agency.today() + days * DAY,
    )


def test_a_release_shows_30_days_before_it_expires_and_not_31(cast: Cast, http_as: Any) -> None:
    later = _release(cast, cast.client, 31)
    assert f"release:{later.pk}" not in _items(cast.case_manager)
    soon = _release(cast, cast.client, 30)
    item = _items(cast.case_manager)[f"release:{soon.pk}"]
    assert item.title == "Release for Dr. Avery Lin expires in 30 days"
    assert item.url == f"/clients/{cast.client.pk}/releases/"
    assert item.client == cast.client
    page = http_as(cast.case_manager).get("/").content.decode()
    assert "Release for Dr. Avery Lin expires in 30 days" in page


def test_a_release_expiring_today_still_shows(cast: Cast) -> None:
    today = _release(cast, cast.client, 0)
    assert _items(cast.case_manager)[f"release:{today.pk}"].title.endswith("expires today")


def test_revoked_ended_and_other_caseloads_releases_do_not_show(cast: Cast) -> None:
    revoked = _release(cast, cast.client, 5)
    Consent.objects.filter(pk=revoked.pk).update(
        revoked_at=timezone.now(), revoked_by=cast.case_manager
    )
    ended = _release(cast, cast.client, 5)
    Consent.objects.filter(pk=ended.pk).update(ended_on=cast.agency.today())
    elsewhere = release(
        client=cast.other_client,
        by=cast.other_team_cm,
        organization=OrganizationFactory(agency=cast.agency),
        expires_on=cast.agency.today() + 5 * DAY,
    )
    keys = set(_items(cast.case_manager))
    assert not {f"release:{c.pk}" for c in (revoked, ended, elsewhere)} & keys
    assert f"release:{elsewhere.pk}" in _items(cast.other_team_cm)


def _coordination(cast: Cast, how_many: int) -> None:
    """For the case manager: unread mentions on as many clients, as many releases running out,
    as many hand-offs to acknowledge, and (by cover for the colleague) as many of their tasks."""
    today = cast.agency.today()
    for n in range(how_many):
        mine = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
        assign(mine, cast.case_manager)
        services.comment_post(client=mine, by=cast.colleague, body=f"@cm see this ({n})")
        _release(cast, mine, 5 + n)
        theirs = ClientFactory(agency=cast.agency, created_by=cast.colleague)
        assign(theirs, cast.colleague)
        tasks.task_create(
            assignee=cast.colleague, title=f"Call {n}", by=cast.colleague, client=theirs
        )
        handed = ClientFactory(agency=cast.agency, created_by=cast.colleague)
        assign(handed, cast.colleague, start_on=today - 10 * DAY)
        services.handoff_create(
            from_staff=cast.colleague,
            to_staff=cast.case_manager,
            clients=[handed],
            effective_on=today,
            by=cast.colleague,
        )


def _queries_for_my_day(http: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get("/").status_code == 200
    return len(queries)


def test_my_day_runs_the_same_queries_for_one_as_for_ten_coordination_items(
    cast: Cast, http_as: Any
) -> None:
    now = timezone.now()
    services.coverage_create(
        absent=cast.colleague,
        covering=cast.case_manager,
        starts_at=now - DAY,
        ends_at=now + 5 * DAY,
        by=cast.supervisor,
    )
    http = http_as(cast.case_manager)
    _coordination(cast, 1)
    _queries_for_my_day(http)  # the first request of a session does more
    small = _queries_for_my_day(http)
    _coordination(cast, 9)
    assert _queries_for_my_day(http) == small

    day = worklist.my_day(user=cast.case_manager, with_cover=True)
    kinds = [item.kind for item in day.items]
    assert kinds.count("mention") == 10
    assert kinds.count("release") == 10
    assert kinds.count("handoff") == 10
    assert len(day.covering[0].items) >= 10
    page = http.get("/?show=all").content.decode()
    assert f"Hand-off from {cast.colleague.full_name}: 1 client — acknowledge" in page
    assert f"Covering for {cast.colleague.full_name} until" in page
