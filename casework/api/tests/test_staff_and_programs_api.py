"""Staff and programs: read-only lists of the caller's own agency."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.core.models import Role, User
from casework.testing.factories import ProgramFactory, UserFactory, add_to_team
from casework.testing.personas import Cast

ApiAs = Callable[[User | None], APIClient]
STAFF = "/api/v1/staff/"
PROGRAMS = "/api/v1/programs/"


def ids(response: object) -> set[int]:
    return {row["id"] for row in response.json()["results"]}  # type: ignore[attr-defined]


def home_staff(cast: Cast) -> set[int]:
    return set(User.objects.filter(agency=cast.agency).values_list("pk", flat=True))


def test_anonymous_gets_401_on_staff_and_programs(cast: Cast, api_as: ApiAs) -> None:
    program = ProgramFactory(agency=cast.agency)
    http = api_as(None)
    for url in (STAFF, f"{STAFF}{cast.case_manager.pk}/", PROGRAMS, f"{PROGRAMS}{program.pk}/"):
        assert http.get(url).status_code == 401, url


def test_staff_lists_everyone_of_the_callers_agency(cast: Cast, api_as: ApiAs) -> None:
    for user in (cast.case_manager, cast.billing, cast.auditor):
        assert ids(api_as(user).get(STAFF)) == home_staff(cast)


def test_a_staff_member_shows_name_roles_and_teams(cast: Cast, api_as: ApiAs) -> None:
    body = api_as(cast.colleague).get(f"{STAFF}{cast.case_manager.pk}/").json()
    assert body == {
        "id": cast.case_manager.pk,
        "name": cast.case_manager.full_name,
        "email": "cm@home.example",
        "title": "",
        "roles": ["case_manager"],
        "is_active": True,
        "team_ids": [cast.team.pk],
    }


def test_outsiders_see_only_their_own_agencys_staff(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.outsider_cm)
    assert ids(http.get(STAFF)) == {cast.outsider_cm.pk, cast.outsider_admin.pk} | set(
        User.objects.filter(agency=cast.outsider_agency).values_list("pk", flat=True)
    )
    assert not ids(http.get(STAFF)) & home_staff(cast)
    assert http.get(f"{STAFF}{cast.case_manager.pk}/").status_code == 404


def test_staff_and_programs_are_read_only(cast: Cast, api_as: ApiAs) -> None:
    program = ProgramFactory(agency=cast.agency)
    http = api_as(cast.admin)
    assert http.post(STAFF, {"email": "x@y.z"}, format="json").status_code == 405
    assert http.patch(f"{STAFF}{cast.case_manager.pk}/", {}, format="json").status_code == 405
    assert http.delete(f"{STAFF}{cast.case_manager.pk}/").status_code == 405
    assert http.post(PROGRAMS, {"name": "x"}, format="json").status_code == 405
    assert http.delete(f"{PROGRAMS}{program.pk}/").status_code == 405


def test_programs_list_the_callers_agency_only(cast: Cast, api_as: ApiAs) -> None:
    mine = ProgramFactory(agency=cast.agency, name="Intensive case management", code="ICM")
    theirs = ProgramFactory(agency=cast.outsider_agency)
    assert ids(api_as(cast.case_manager).get(PROGRAMS)) == {mine.pk}
    assert ids(api_as(cast.outsider_cm).get(PROGRAMS)) == {theirs.pk}
    assert api_as(cast.outsider_cm).get(f"{PROGRAMS}{mine.pk}/").status_code == 404
    body = api_as(cast.case_manager).get(f"{PROGRAMS}{mine.pk}/").json()
    assert body == {
        "id": mine.pk,
        "name": "Intensive case management",
        "code": "ICM",
        "description": "",
        "is_active": True,
    }


def test_the_staff_list_runs_a_constant_number_of_queries(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.admin)
    http.get(STAFF)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(STAFF).status_code == 200
        return len(queries)

    before = count()
    for _ in range(10):
        add_to_team(UserFactory(agency=cast.agency, roles=[Role.CASE_MANAGER]), cast.team)
    assert count() == before
