"""The access layer: who sees which clients, decided in one place."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator

import pytest

from casework.clients.models import CareTeamMember, Client
from casework.core import access
from casework.core.models import User
from casework.testing.factories import ClientFactory, UserFactory, assign
from casework.testing.personas import Cast


@contextlib.contextmanager
def one_request() -> Iterator[None]:
    """What the request middleware does around a view: a fresh memo of who sees what."""
    token = access.scope_memo.set({})
    try:
        yield
    finally:
        access.scope_memo.reset(token)


def visible(user: User) -> set[Client]:
    return set(access.visible_clients(user))


@pytest.mark.django_db
def test_case_managers_see_their_teams_clients_only(cast: Cast) -> None:
    assert visible(cast.case_manager) == {cast.client}
    assert visible(cast.colleague) == {cast.client}
    assert visible(cast.other_team_cm) == {cast.other_client}


@pytest.mark.django_db
def test_supervisors_see_the_teams_they_supervise(cast: Cast) -> None:
    assert visible(cast.supervisor) == {cast.client}


@pytest.mark.django_db
def test_admins_and_billing_see_the_whole_agency_and_nothing_else(cast: Cast) -> None:
    assert visible(cast.admin) == visible(cast.billing) == {cast.client, cast.other_client}


@pytest.mark.django_db
def test_auditors_see_no_charts(cast: Cast) -> None:
    assert visible(cast.auditor) == set()


@pytest.mark.django_db
def test_nobody_sees_another_agencys_clients(cast: Cast) -> None:
    assert visible(cast.outsider_admin) == {cast.outsider_client}
    assert cast.outsider_client not in visible(cast.admin)


@pytest.mark.django_db
def test_a_case_manager_without_a_team_sees_their_own_caseload(cast: Cast) -> None:
    loner = UserFactory(agency=cast.agency, roles=["case_manager"])
    mine = ClientFactory(agency=cast.agency)
    assign(mine, loner)
    assert visible(loner) == {mine}


@pytest.mark.django_db
def test_access_ends_with_the_care_team_assignment(cast: Cast) -> None:
    today = cast.agency.today()
    CareTeamMember.objects.filter(client=cast.client).update(end_on=today)
    assert cast.client not in visible(cast.case_manager)


@pytest.mark.django_db
def test_future_assignment_gives_no_access_yet(cast: Cast) -> None:
    newcomer = UserFactory(agency=cast.agency, roles=["case_manager"])
    assign(
        cast.other_client,
        newcomer,
        role="case_manager",
        start_on=cast.agency.today() + datetime.timedelta(days=3),
    )
    assert cast.other_client not in visible(newcomer)


@pytest.mark.django_db
def test_deactivated_staff_see_nothing(cast: Cast) -> None:
    cast.case_manager.is_active = False
    assert visible(cast.case_manager) == set()


@pytest.mark.django_db
def test_billing_reads_narratives_only_where_the_agency_allows(cast: Cast) -> None:
    assert not access.may_read_narratives(cast.billing)
    cast.agency.billing_sees_narratives = True
    assert access.may_read_narratives(cast.billing)
    assert access.may_read_narratives(cast.case_manager)
    assert not access.may_read_narratives(cast.auditor)


@pytest.mark.django_db
def test_client_or_404_hides_existence(cast: Cast) -> None:
    from django.http import Http404

    for bad in (cast.outsider_client.pk, 999999, "abc", None):
        with pytest.raises(Http404):
            access.client_or_404(cast.case_manager, bad)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_one_clients_rows_follow_visible_clients_for_every_persona(cast: Cast) -> None:
    """`of_visible_client` (the chart's cards) answers as filtering by `visible_clients` does."""
    everyone = (
        cast.case_manager,
        cast.colleague,
        cast.other_team_cm,
        cast.supervisor,
        cast.admin,
        cast.billing,
        cast.auditor,
        cast.outsider_admin,
    )
    for user in everyone:
        for client in (cast.client, cast.other_client, cast.outsider_client):
            rows = access.of_visible_client(user, CareTeamMember.objects.all(), client.pk)
            scoped = CareTeamMember.objects.filter(
                client__in=access.visible_clients(user), client=client
            )
            assert set(rows) == set(scoped), (user.email, client.pk)


@pytest.mark.django_db
def test_what_one_request_learned_about_a_client_stays_with_that_user_and_request(
    cast: Cast,
) -> None:
    with one_request():
        assert access.visible_client(cast.case_manager, cast.client.pk) == cast.client
        assert access.sees_client(cast.case_manager, cast.client.pk)
        # Another person in the same request, and a client the user does not see, ask anew.
        assert not access.sees_client(cast.other_team_cm, cast.client.pk)
        assert not access.sees_client(cast.outsider_admin, cast.client.pk)
        with pytest.raises(Client.DoesNotExist):
            access.visible_client(cast.case_manager, cast.other_client.pk)
        assert not access.sees_client(cast.case_manager, cast.other_client.pk)
        assert not access.of_visible_client(
            cast.case_manager, CareTeamMember.objects.all(), cast.other_client.pk
        ).exists()
    # The next request starts again: the assignment ended meanwhile, so the client is gone.
    CareTeamMember.objects.filter(client=cast.client).update(end_on=cast.agency.today())
    with one_request():
        assert not access.sees_client(cast.case_manager, cast.client.pk)


@pytest.mark.django_db
def test_a_chart_opened_by_break_the_glass_is_marked_so_and_others_are_not(cast: Cast) -> None:
    from casework.clients.services import break_glass_open

    assert not access.opened_by_grant(cast.case_manager, cast.client.pk)
    break_glass_open(client=cast.other_client, by=cast.case_manager, reason="Crisis call at night")
    assert access.opened_by_grant(cast.case_manager, cast.other_client.pk)
    assert not access.opened_by_grant(cast.case_manager, cast.client.pk)
    assert not access.opened_by_grant(cast.admin, cast.other_client.pk)
    assert access.of_visible_client(
        cast.case_manager, CareTeamMember.objects.all(), cast.other_client.pk
    ).exists()


@pytest.mark.django_db
def test_clients_among_ids_are_those_visible_whether_proven_before_or_not(cast: Cast) -> None:
    ids = [cast.client.pk, cast.other_client.pk, cast.outsider_client.pk]
    with one_request():
        assert set(access.visible_among(cast.case_manager, ids)) == {cast.client}
        access.visible_client(cast.case_manager, cast.client.pk)
        assert list(access.visible_among(cast.case_manager, [cast.client.pk])) == [cast.client]
        # Proven for one person, not for another; one unproven id among them asks the scope.
        assert not access.visible_among(cast.other_team_cm, [cast.client.pk]).exists()
        assert set(access.visible_among(cast.case_manager, ids)) == {cast.client}


@pytest.mark.django_db
def test_what_a_person_may_see_is_not_reused_for_an_outside_system_reading_as_them(
    cast: Cast,
) -> None:
    """An API token made for an outside organisation reads only clients with a release to it."""
    with one_request():
        access.visible_client(cast.admin, cast.client.pk)
        reader = access.outside_reader.set(987654)  # an organisation with no release
        try:
            assert not access.sees_client(cast.admin, cast.client.pk)
            assert not access.of_visible_client(
                cast.admin, CareTeamMember.objects.all(), cast.client.pk
            ).exists()
        finally:
            access.outside_reader.reset(reader)
        assert access.sees_client(cast.admin, cast.client.pk)
