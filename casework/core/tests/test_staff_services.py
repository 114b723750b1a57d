"""The staff, program and team services on their own: the rules hold whichever screen calls them."""

from __future__ import annotations

import json
import threading

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from casework.core import services
from casework.core.models import (
    AuditEvent,
    IdempotencyKey,
    Program,
    Role,
    Team,
    TeamMembership,
    User,
)
from casework.testing.factories import ProgramFactory
from casework.testing.personas import Cast

pytestmark = pytest.mark.django_db


def _invite(cast: Cast, **overrides: object) -> services.Invitation:
    fields: dict[str, object] = {
        "agency": cast.agency,
        "by": cast.admin,
        "email": "new.person@home.example",
        "first_name": "Nguyễn",
        "last_name": "Thị Lan",
        "roles": [Role.CASE_MANAGER],
        "submission_key": "key-1",
    }
    fields.update(overrides)
    return services.staff_invite(**fields)  # type: ignore[arg-type]


def _last_event(obj: object) -> AuditEvent:
    event = AuditEvent.objects.filter(
        object_type=f"{obj._meta.app_label}.{obj._meta.model_name}",  # type: ignore[attr-defined]
        object_id=str(obj.pk),  # type: ignore[attr-defined]
    ).first()
    assert event is not None
    return event


def test_an_invited_person_has_no_usable_password(cast: Cast) -> None:
    assert not _invite(cast).user.has_usable_password()


def test_inviting_twice_with_the_same_key_returns_the_first_person(cast: Cast) -> None:
    first = _invite(cast)
    second = _invite(cast)
    assert second.user == first.user and first.created and not second.created
    assert User.objects.filter(email="new.person@home.example").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_two_simultaneous_invitations_with_one_key_add_one_person(cast: Cast) -> None:
    barrier = threading.Barrier(2)
    made: list[int] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            made.append(_invite(cast).user.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(made) == 2 and len(set(made)) == 1
    assert User.objects.filter(email="new.person@home.example").count() == 1


def test_a_refused_invitation_leaves_no_submission_behind(cast: Cast) -> None:
    with pytest.raises(services.EmailTaken):
        _invite(cast, email="cm@home.example")
    assert not IdempotencyKey.objects.filter(purpose="staff_invite").exists()


def test_an_admin_cannot_invite_into_another_agency(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        _invite(cast, agency=cast.outsider_agency)


def test_the_invitation_link_points_at_the_password_page(cast: Cast) -> None:
    user = _invite(cast).user
    link = services.invitation_link(user=user, site_url="https://casework.example/")
    assert link.startswith("https://casework.example/password-reset/")


def test_sending_an_invitation_is_audited(cast: Cast) -> None:
    user = _invite(cast).user
    services.staff_invitation_send(user=user, by=cast.admin, site_url="https://x.example")
    assert len(mail.outbox) == 1
    assert json.loads(_last_event(user).detail) == {"invitation": "sent"}


def test_no_invitation_goes_to_a_deactivated_person(cast: Cast) -> None:
    user = _invite(cast).user
    services.staff_deactivate(user=user, by=cast.admin)
    user.refresh_from_db()
    with pytest.raises(services.StaffError, match="deactivated"):
        services.staff_invitation_send(user=user, by=cast.admin, site_url="https://x.example")


def test_staff_update_refuses_an_email_of_another_account(cast: Cast) -> None:
    with pytest.raises(services.EmailTaken):
        services.staff_update(user=cast.case_manager, by=cast.admin, email=" Cm@Other.example ")


def test_staff_update_keeps_an_email_that_only_differs_in_case(cast: Cast) -> None:
    services.staff_update(user=cast.case_manager, by=cast.admin, email="CM@home.example")
    assert User.objects.get(pk=cast.case_manager.pk).email == "cm@home.example"


def test_staff_update_refuses_to_remove_the_admins_own_admin_role(cast: Cast) -> None:
    with pytest.raises(services.StaffError, match="own admin role"):
        services.staff_update(user=cast.admin, by=cast.admin, roles=[Role.SUPERVISOR])
    assert User.objects.get(pk=cast.admin.pk).roles == {Role.AGENCY_ADMIN}


def test_deactivating_raises_the_session_generation(cast: Cast) -> None:
    before = cast.case_manager.session_generation
    services.staff_deactivate(user=cast.case_manager, by=cast.admin)
    assert User.objects.get(pk=cast.case_manager.pk).session_generation == before + 1


def test_unlocking_clears_failed_attempts_whatever_case_the_email_was_typed_in(
    cast: Cast,
) -> None:
    for typed in ("cm@home.example", "CM@Home.example"):
        AccessAttempt.objects.create(
            username=typed,
            ip_address="10.0.0.1",
            user_agent="test",
            http_accept="*/*",
            path_info="/login/",
            attempt_time=timezone.now(),
            get_data="",
            post_data="",
            failures_since_start=5,
        )
    assert services.staff_unlock_sign_in(user=cast.case_manager, by=cast.admin) == 2
    assert not AccessAttempt.objects.exists()
    assert json.loads(_last_event(cast.case_manager).detail)["sign_in"] == "unlocked"


def test_an_admin_cannot_unlock_someone_of_another_agency(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        services.staff_unlock_sign_in(user=cast.outsider_cm, by=cast.admin)


def test_creating_a_program_is_audited(cast: Cast) -> None:
    program = services.program_create(agency=cast.agency, by=cast.admin, name="  Crisis  ")
    assert program.name == "Crisis"
    assert _last_event(program).action == "create"


def test_program_names_are_unique_per_agency_ignoring_case(cast: Cast) -> None:
    services.program_create(agency=cast.agency, by=cast.admin, name="Crisis")
    with pytest.raises(services.AgencySetupError, match="already a program"):
        services.program_create(agency=cast.agency, by=cast.admin, name="CRISIS")


def test_updating_a_program_records_the_changed_fields(cast: Cast) -> None:
    program = ProgramFactory(agency=cast.agency, name="Crisis")
    services.program_update(program=program, by=cast.admin, name="Crisis", code="CR")
    assert json.loads(_last_event(program).detail) == {"fields": ["code"]}


def test_an_admin_cannot_change_a_program_of_another_agency(cast: Cast) -> None:
    program = ProgramFactory(agency=cast.outsider_agency)
    with pytest.raises(PermissionDenied):
        services.program_set_active(program=program, by=cast.admin, active=False)
    program.refresh_from_db()
    assert program.is_active


def test_a_team_cannot_belong_to_a_program_of_another_agency(cast: Cast) -> None:
    foreign = ProgramFactory(agency=cast.outsider_agency)
    with pytest.raises(PermissionDenied):
        services.team_create(agency=cast.agency, by=cast.admin, name="East", program=foreign)
    assert not Team.objects.filter(name="East").exists()


def test_moving_a_team_to_a_program_is_audited(cast: Cast) -> None:
    program = ProgramFactory(agency=cast.agency)
    team = services.team_update(team=cast.team, by=cast.admin, name="North", program=program)
    assert Team.objects.get(pk=team.pk).program == program
    assert json.loads(_last_event(team).detail) == {"fields": ["program"]}


def test_a_deactivated_team_no_longer_widens_a_caseload(cast: Cast) -> None:
    from casework.core import access

    assert cast.client in access.clients_in_scope(cast.colleague)
    services.team_set_active(team=cast.team, by=cast.admin, active=False)
    assert cast.client not in access.clients_in_scope(cast.colleague)


def test_deactivating_a_program_keeps_its_teams(cast: Cast) -> None:
    program = ProgramFactory(agency=cast.agency)
    Team.objects.filter(pk=cast.team.pk).update(program=program)
    services.program_set_active(program=program, by=cast.admin, active=False)
    assert Program.objects.get(pk=program.pk).teams.get() == cast.team


def test_a_member_can_become_the_supervisor_of_the_same_team(cast: Cast) -> None:
    services.staff_update(
        user=cast.colleague,
        by=cast.admin,
        teams=[cast.other_team],
        supervised_teams=[cast.team],
    )
    kinds = dict(TeamMembership.objects.filter(user=cast.colleague).values_list("team_id", "kind"))
    assert kinds == {cast.team.pk: "supervisor", cast.other_team.pk: "member"}


@pytest.mark.parametrize("persona", ["supervisor", "outsider_admin"])
def test_staff_services_refuse_anyone_but_an_admin_of_the_same_agency(
    cast: Cast, persona: str
) -> None:
    from django.core.exceptions import PermissionDenied

    from casework.core import services as core_services

    actor = getattr(cast, persona)
    for call in (
        lambda: core_services.staff_deactivate(user=cast.colleague, by=actor),
        lambda: core_services.staff_update(user=cast.colleague, by=actor, title="Boss"),
        lambda: core_services.two_factor_reset(user=cast.colleague, by=actor),
    ):
        with pytest.raises(PermissionDenied):
            call()
    cast.colleague.refresh_from_db()
    assert cast.colleague.is_active and cast.colleague.title == ""
