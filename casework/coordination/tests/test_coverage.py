"""Cover while away: the covering colleague sees the caseload and the absent person's day."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from casework.coordination import services_collaboration as services
from casework.coordination.errors import CoordinationError
from casework.coordination.models import Coverage
from casework.core import access
from casework.core.models import AuditEvent, Role
from casework.testing.factories import ClientFactory, UserFactory, assign
from casework.testing.personas import Cast
from casework.worklist import selectors as worklist
from casework.worklist import services as tasks

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _sees(user: Any, cast: Cast) -> bool:
    try:
        access.client_or_404(user, cast.client.pk)
    except Http404:
        return False
    return True


def _cover(cast: Cast, **kwargs: Any) -> Coverage:
    now = timezone.now()
    fields: dict[str, Any] = {
        "absent": cast.case_manager,
        "covering": cast.other_team_cm,
        "starts_at": now - datetime.timedelta(hours=1),
        "ends_at": now + 5 * DAY,
        "by": cast.supervisor,
    }
    fields.update(kwargs)
    return services.coverage_create(**fields)


def test_cover_gives_the_covering_person_the_caseload_and_the_absent_persons_day(
    cast: Cast, http_as: Any
) -> None:
    task = tasks.task_create(
        assignee=cast.case_manager,
        title="Bring the lease",
        by=cast.case_manager,
        client=cast.client,
    )
    assert not _sees(cast.other_team_cm, cast)
    today = cast.agency.today()
    response = http_as(cast.supervisor).post(
        "/team/coverage/new/",
        {
            "absent": cast.case_manager.pk,
            "covering": cast.other_team_cm.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + 4 * DAY).isoformat(),
            "reason": "Leave",
            "submission_key": "cov-1",
        },
    )
    assert response.status_code == 302, response.content.decode()
    coverage = Coverage.objects.get()
    assert coverage.ends_at.astimezone(cast.agency.tzinfo).date() == today + 5 * DAY

    assert _sees(cast.other_team_cm, cast)
    day = worklist.my_day(user=cast.other_team_cm, with_cover=True)
    [section] = day.covering
    assert section.absent == cast.case_manager and section.until == today + 4 * DAY
    assert f"task:{task.pk}" in {item.key for item in section.items}
    assert f"task:{task.pk}" not in {item.key for item in day.items}  # theirs, not the user's
    http = http_as(cast.other_team_cm)
    page = http.get("/").content.decode()
    assert f"Covering for {cast.case_manager.full_name} until" in page
    # Their day follows the user's own, on its own request (htmx), or as a page of its own.
    link = f'hx-get="/my-day/covering/{coverage.pk}/"'
    assert link in page and "Bring the lease" not in page
    fragment = http.get(f"/my-day/covering/{coverage.pk}/", HTTP_HX_REQUEST="true")
    assert "Bring the lease" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    whole = http.get(f"/my-day/covering/{coverage.pk}/").content.decode()
    assert "<h1>Covering for" in whole and "Bring the lease" in whole
    audited = AuditEvent.objects.filter(actor_id=cast.other_team_cm.pk, client_id=cast.client.pk)
    assert audited.filter(detail__contains="my_day_cover").exists()


def test_the_absent_persons_day_names_only_clients_the_covering_person_may_see(
    cast: Cast, http_as: Any
) -> None:
    """Cover opens the absent person's caseload, not everything their own team sees."""
    teammates_client = ClientFactory(agency=cast.agency, legal_last_name="Okonkwo-Teamonly")
    assign(teammates_client, cast.colleague)  # the absent person's teammate's client
    for client, title in ((cast.client, "Bring the lease"), (teammates_client, "Call Okonkwo")):
        tasks.task_create(
            assignee=cast.case_manager, title=title, by=cast.case_manager, client=client
        )
    coverage = _cover(cast)
    page = (
        http_as(cast.other_team_cm)
        .get(f"/my-day/covering/{coverage.pk}/", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "Bring the lease" in page
    assert "Call Okonkwo" not in page and "Okonkwo-Teamonly" not in page
    audited = AuditEvent.objects.filter(actor_id=cast.other_team_cm.pk)
    assert not audited.filter(client_id=teammates_client.pk).exists()


def test_only_the_covering_person_opens_the_absent_persons_day_while_the_cover_lasts(
    cast: Cast, http_as: Any
) -> None:
    coverage = _cover(cast)
    url = f"/my-day/covering/{coverage.pk}/"
    assert http_as(cast.other_team_cm).get(url).status_code == 200
    for someone in (cast.colleague, cast.supervisor, cast.case_manager, cast.outsider_cm):
        assert http_as(someone).get(url).status_code == 404, someone
    services.coverage_end(coverage=coverage, by=cast.supervisor)
    assert http_as(cast.other_team_cm).get(url).status_code == 404


def test_cover_that_is_over_or_not_started_gives_nothing(cast: Cast, http_as: Any) -> None:
    tasks.task_create(
        assignee=cast.case_manager, title="Call", by=cast.case_manager, client=cast.client
    )
    now = timezone.now()
    for starts, ends in (
        (now - 10 * DAY, now - datetime.timedelta(minutes=1)),
        (now + DAY, now + 3 * DAY),
    ):
        Coverage.objects.create(
            agency=cast.agency,
            absent=cast.case_manager,
            covering=cast.other_team_cm,
            starts_at=starts,
            ends_at=ends,
            created_by=cast.supervisor,
        )
    assert not _sees(cast.other_team_cm, cast)
    assert worklist.my_day(user=cast.other_team_cm, with_cover=True).covering == []
    assert (
        http_as(cast.other_team_cm).get(f"/clients/{cast.client.pk}/comments/").status_code == 404
    )


def test_ending_cover_early_takes_the_caseload_back(cast: Cast, http_as: Any) -> None:
    coverage = _cover(cast)
    assert _sees(cast.other_team_cm, cast)
    response = http_as(cast.case_manager).post(f"/team/coverage/{coverage.pk}/end/")
    assert response.status_code == 302
    coverage.refresh_from_db()
    assert coverage.ends_at <= timezone.now()
    assert not _sees(cast.other_team_cm, cast)
    assert worklist.my_day(user=cast.other_team_cm, with_cover=True).covering == []
    # Ending it again changes nothing.
    assert services.coverage_end(coverage=coverage, by=cast.case_manager) == coverage


def test_upcoming_cover_called_off_is_removed(cast: Cast) -> None:
    now = timezone.now()
    coverage = _cover(cast, starts_at=now + 2 * DAY, ends_at=now + 4 * DAY)
    assert services.coverage_end(coverage=coverage, by=cast.supervisor) is None
    assert not Coverage.objects.exists()


def test_cover_by_a_non_supervisor_for_someone_else_is_refused(cast: Cast, http_as: Any) -> None:
    today = cast.agency.today()
    response = http_as(cast.colleague).post(
        "/team/coverage/new/",
        {
            "absent": cast.case_manager.pk,
            "covering": cast.colleague.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + DAY).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "for yourself" in response.content.decode()
    assert not Coverage.objects.exists()
    with pytest.raises(CoordinationError):
        _cover(cast, by=cast.colleague, covering=cast.colleague)


def test_case_managers_arrange_their_own_cover(cast: Cast) -> None:
    coverage = _cover(cast, by=cast.case_manager, covering=cast.colleague)
    assert coverage.created_by == cast.case_manager


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends_at": "before"}, "end after it starts"),
        ({"ends_at": "61 days"}, "at most 60 days"),
        ({"covering": "case_manager"}, "cannot cover themselves"),
        ({"covering": "billing"}, "does not hold a caseload"),
        ({"covering": "outsider_cm"}, "agency's staff"),
        ({"covering": "deactivated"}, "has been deactivated"),
        ({"ends_at": "past"}, "already be over"),
    ],
)
def test_cover_rules(cast: Cast, change: dict[str, str], message: str) -> None:
    now = timezone.now()
    kwargs: dict[str, Any] = {}
    if "covering" in change:
        if change["covering"] == "deactivated":
            cast.colleague.is_active = False
            cast.colleague.save()
            kwargs["covering"] = cast.colleague
        else:
            kwargs["covering"] = getattr(cast, change["covering"])
    ends = {
        "before": now - 2 * DAY,
        "61 days": now + 61 * DAY,
        "past": now - datetime.timedelta(minutes=5),
    }
    if "ends_at" in change:
        kwargs["ends_at"] = ends[change["ends_at"]]
        if change["ends_at"] == "past":
            kwargs["starts_at"] = now - 2 * DAY
    with pytest.raises(CoordinationError, match=message):
        _cover(cast, **kwargs)
    assert not Coverage.objects.exists()


def test_one_person_covers_at_a_time(cast: Cast) -> None:
    _cover(cast)
    with pytest.raises(CoordinationError, match="already covers"):
        _cover(cast, covering=cast.colleague, starts_at=timezone.now() + DAY)


def test_the_form_refuses_more_than_60_days_and_keeps_what_was_typed(
    cast: Cast, http_as: Any
) -> None:
    today = cast.agency.today()
    response = http_as(cast.case_manager).post(
        "/team/coverage/new/",
        {
            "absent": cast.case_manager.pk,
            "covering": cast.colleague.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + 60 * DAY).isoformat(),
            "reason": "Long leave ñ",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 60 days" in page and "Long leave ñ" in page
    assert not Coverage.objects.exists()


def test_a_cover_form_sent_twice_arranges_it_once(cast: Cast, http_as: Any) -> None:
    http = http_as(cast.case_manager)
    today = cast.agency.today()
    data = {
        "absent": cast.case_manager.pk,
        "covering": cast.colleague.pk,
        "starts_on": today.isoformat(),
        "ends_on": (today + 2 * DAY).isoformat(),
        "submission_key": "same",
    }
    assert http.post("/team/coverage/new/", data).status_code == 302
    assert http.post("/team/coverage/new/", data).status_code == 302
    assert Coverage.objects.count() == 1


def test_the_list_shows_current_and_upcoming_cover_of_the_team(cast: Cast, http_as: Any) -> None:
    _cover(cast)
    page = http_as(cast.supervisor).get("/team/coverage/").content.decode()
    assert cast.case_manager.full_name in page and "End now" in page
    colleague_page = http_as(cast.colleague).get("/team/coverage/").content.decode()
    assert cast.other_team_cm.full_name not in colleague_page


@pytest.mark.parametrize("who", ["outsider_admin", "outsider_cm"])
def test_another_agency_cannot_see_or_end_cover(cast: Cast, http_as: Any, who: str) -> None:
    coverage = _cover(cast)
    http = http_as(getattr(cast, who))
    assert cast.case_manager.full_name not in http.get("/team/coverage/").content.decode()
    assert http.post(f"/team/coverage/{coverage.pk}/end/").status_code == 404
    coverage.refresh_from_db()
    assert coverage.ends_at > timezone.now()


def test_billing_and_auditors_do_not_arrange_cover(cast: Cast, http_as: Any) -> None:
    assert http_as(cast.billing).get("/team/coverage/").status_code == 403
    assert http_as(cast.auditor).get("/team/coverage/new/").status_code == 403


def test_an_admin_arranges_cover_for_anyone_in_the_agency(cast: Cast) -> None:
    other = UserFactory(agency=cast.agency, roles=[Role.SUPERVISOR])
    coverage = _cover(cast, by=cast.admin, absent=cast.other_team_cm, covering=other)
    assert coverage.absent == cast.other_team_cm


def test_the_cover_pages_open_for_a_case_manager(cast: Cast, http_as: Any) -> None:
    http = http_as(cast.case_manager)
    form = http.get("/team/coverage/new/")
    assert form.status_code == 200
    assert cast.colleague.full_name in form.content.decode()
    assert http.get("/team/coverage/").status_code == 200
    assert "Cover while away" in http.get("/").content.decode()
