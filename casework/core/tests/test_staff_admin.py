"""The agency-admin staff screens: who reaches them, inviting, editing, deactivating, credentials,
programs and teams, as seen through HTTP."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.clients.models import Client
from casework.core.models import (
    AuditEvent,
    Credential,
    IdempotencyKey,
    Program,
    Role,
    Team,
    TeamMembership,
    User,
)
from casework.testing.factories import PASSWORD, ProgramFactory, UserFactory, add_to_team
from casework.testing.personas import Cast, sign_in

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db


def _credential(user: User, **fields: object) -> Credential:
    defaults: dict[str, object] = {
        "agency": user.agency,
        "user": user,
        "kind": "aac_registered",
        "number": "CO60000001",
        "issued_on": datetime.date(2024, 1, 1),
        "expires_on": datetime.date(2099, 1, 1),
    }
    defaults.update(fields)
    return Credential.objects.create(**defaults)


def _urls(cast: Cast) -> dict[str, tuple[str, str]]:
    """Every admin route with this agency's ids: name -> (method, url)."""
    member = cast.case_manager.pk
    credential = _credential(cast.case_manager).pk
    program = ProgramFactory(agency=cast.agency, name="Intensive case management").pk
    team = cast.team.pk
    return {
        "staff_list": ("get", reverse("staff_list")),
        "staff_new": ("get", reverse("staff_new")),
        "staff_detail": ("get", reverse("staff_detail", args=[member])),
        "staff_edit": ("get", reverse("staff_edit", args=[member])),
        "staff_deactivate": ("post", reverse("staff_deactivate", args=[member])),
        "staff_reactivate": ("post", reverse("staff_reactivate", args=[member])),
        "staff_two_factor_reset": ("post", reverse("staff_two_factor_reset", args=[member])),
        "staff_unlock": ("post", reverse("staff_unlock", args=[member])),
        "staff_invitation_resend": ("post", reverse("staff_invitation_resend", args=[member])),
        "credential_new": ("get", reverse("credential_new", args=[member])),
        "credential_edit": ("get", reverse("credential_edit", args=[member, credential])),
        "credential_attest": ("post", reverse("credential_attest", args=[member, credential])),
        "program_list": ("get", reverse("program_list")),
        "program_new": ("get", reverse("program_new")),
        "program_edit": ("get", reverse("program_edit", args=[program])),
        "program_set_active": ("post", reverse("program_set_active", args=[program])),
        "team_list": ("get", reverse("team_list")),
        "team_new": ("get", reverse("team_new")),
        "team_detail": ("get", reverse("team_detail", args=[team])),
        "team_edit": ("get", reverse("team_edit", args=[team])),
        "team_set_active": ("post", reverse("team_set_active", args=[team])),
        "agency_settings": ("get", reverse("agency_settings")),
    }


ROUTES = [
    "staff_list",
    "staff_new",
    "staff_detail",
    "staff_edit",
    "staff_deactivate",
    "staff_reactivate",
    "staff_two_factor_reset",
    "staff_unlock",
    "staff_invitation_resend",
    "credential_new",
    "credential_edit",
    "credential_attest",
    "program_list",
    "program_new",
    "program_edit",
    "program_set_active",
    "team_list",
    "team_new",
    "team_detail",
    "team_edit",
    "team_set_active",
    "agency_settings",
]
ROUTES_WITH_IDS = [
    name
    for name in ROUTES
    if name not in {"staff_list", "staff_new", "program_list", "program_new", "team_list"}
    and name not in {"team_new", "agency_settings"}
]


def _request(http: HttpClient, method: str, url: str) -> int:
    response = http.post(url) if method == "post" else http.get(url)
    return response.status_code


# ---------------------------------------------------------------------------- who gets in


@pytest.mark.parametrize("name", ROUTES)
def test_the_agency_admin_reaches_every_admin_route(cast: Cast, http_as: HttpAs, name: str) -> None:
    method, url = _urls(cast)[name]
    expected = 302 if method == "post" else 200
    assert _request(http_as(cast.admin), method, url) == expected


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "billing", "auditor"])
@pytest.mark.parametrize("name", ROUTES)
def test_staff_who_are_not_admins_are_refused(
    cast: Cast, http_as: HttpAs, name: str, persona: str
) -> None:
    method, url = _urls(cast)[name]
    assert _request(http_as(getattr(cast, persona)), method, url) == 403


@pytest.mark.parametrize("name", ROUTES_WITH_IDS)
def test_an_admin_of_another_agency_gets_404_for_this_agencys_ids(
    cast: Cast, http_as: HttpAs, name: str
) -> None:
    method, url = _urls(cast)[name]
    assert _request(http_as(cast.outsider_admin), method, url) == 404


def test_an_admin_of_another_agency_cannot_deactivate_this_agencys_staff(
    cast: Cast, http_as: HttpAs
) -> None:
    http_as(cast.outsider_admin).post(reverse("staff_deactivate", args=[cast.case_manager.pk]))
    cast.case_manager.refresh_from_db()
    assert cast.case_manager.is_active


def test_the_staff_list_shows_only_the_admins_own_agency(cast: Cast, http_as: HttpAs) -> None:
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    assert "cm@home.example" in page
    assert "cm@other.example" not in page


def test_signed_out_visitors_are_sent_to_sign_in(client: HttpClient, cast: Cast) -> None:
    response = client.get(reverse("staff_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_actions_refuse_get(cast: Cast, http_as: HttpAs) -> None:
    url = reverse("staff_deactivate", args=[cast.case_manager.pk])
    assert http_as(cast.admin).get(url).status_code == 405


def test_actions_need_a_csrf_token(cast: Cast) -> None:
    http = sign_in(HttpClient(enforce_csrf_checks=True), cast.admin)
    response = http.post(reverse("staff_deactivate", args=[cast.case_manager.pk]))
    assert response.status_code == 403
    cast.case_manager.refresh_from_db()
    assert cast.case_manager.is_active


# ---------------------------------------------------------------------------- the staff list


def test_the_staff_list_hides_deactivated_staff_by_default(cast: Cast, http_as: HttpAs) -> None:
    User.objects.filter(pk=cast.colleague.pk).update(is_active=False)
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    assert "colleague@home.example" not in page


def test_the_deactivated_filter_shows_only_deactivated_staff(cast: Cast, http_as: HttpAs) -> None:
    User.objects.filter(pk=cast.colleague.pk).update(is_active=False)
    page = (
        http_as(cast.admin).get(reverse("staff_list"), {"status": "deactivated"}).content.decode()
    )
    assert "colleague@home.example" in page
    assert "cm@home.example" not in page


def test_the_staff_list_shows_roles_and_teams(cast: Cast, http_as: HttpAs) -> None:
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    assert "Case manager" in page
    assert "North (supervisor)" in page


def test_the_staff_list_flags_an_expired_credential(cast: Cast, http_as: HttpAs) -> None:
    _credential(
        cast.case_manager, kind="lmhc", expires_on=cast.agency.today() - datetime.timedelta(days=1)
    )
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    assert "badge--danger" in page and "expired" in page


def test_the_staff_list_flags_a_credential_expiring_within_the_warning_period(
    cast: Cast, http_as: HttpAs
) -> None:
    soon = cast.agency.today() + datetime.timedelta(days=cast.agency.credential_warning_days - 1)
    _credential(cast.case_manager, kind="lmhc", expires_on=soon)
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    assert f"expires in {cast.agency.credential_warning_days - 1} days" in page


def test_the_staff_list_flags_a_missing_attestation(cast: Cast, http_as: HttpAs) -> None:
    _credential(cast.case_manager, kind="aac_registered")
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    assert "attestation missing" in page


def test_html_in_a_name_is_shown_escaped_on_the_staff_list(cast: Cast, http_as: HttpAs) -> None:
    UserFactory(agency=cast.agency, first_name="<script>alert(1)</script>", last_name="<b>Bold</b>")
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page and "<b>Bold</b>" not in page


def _staff_with_everything(cast: Cast, count: int) -> None:
    for n in range(count):
        person = UserFactory(agency=cast.agency, roles=[Role.CASE_MANAGER, Role.SUPERVISOR])
        add_to_team(person, cast.team if n % 2 else cast.other_team)
        _credential(person, number=f"N{n}")
        _credential(person, kind="lmhc", number=f"L{n}", expires_on=cast.agency.today())


def _queries_for_staff_list(http: HttpClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(reverse("staff_list")).status_code == 200
    return len(queries.captured_queries)


def test_the_staff_list_runs_the_same_number_of_queries_for_3_or_15_staff(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    http.get(reverse("home"))  # the first request after sign-in also writes the session
    User.objects.filter(agency=cast.agency).exclude(pk=cast.admin.pk).update(is_active=False)
    _staff_with_everything(cast, 3)
    few = _queries_for_staff_list(http)
    _staff_with_everything(cast, 12)
    assert _queries_for_staff_list(http) == few


# ---------------------------------------------------------------------------- inviting


def _invite_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": "Zoë",
        "last_name": "O'Brien-Nguyễn",
        "email": "Zoe.OBrien@Home.example",
        "title": "Case manager II",
        "phone": "(206) 555-0142",
        "roles": [Role.CASE_MANAGER],
        "teams": [],
        "supervised_teams": [],
        "submission_key": "8a6f3c1e2b7d4e0f9a1b2c3d4e5f6a7b",
    }
    data.update(overrides)
    return data


def test_inviting_adds_the_person_with_roles_and_teams(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("staff_new"),
        _invite_data(teams=[cast.team.pk], supervised_teams=[cast.other_team.pk]),
    )
    person = User.objects.get(email="zoe.obrien@home.example")
    assert response.status_code == 302 and response["Location"] == reverse(
        "staff_detail", args=[person.pk]
    )
    assert person.agency == cast.agency and person.roles == {Role.CASE_MANAGER}
    assert not person.has_usable_password()
    kinds = dict(TeamMembership.objects.filter(user=person).values_list("team_id", "kind"))
    assert kinds == {cast.team.pk: "member", cast.other_team.pk: "supervisor"}


def test_inviting_sends_one_email_to_the_person(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.admin).post(reverse("staff_new"), _invite_data())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zoe.obrien@home.example"]
    assert "Home Agency" in mail.outbox[0].subject


def test_the_invitation_email_shows_names_as_written_not_html_escaped(
    cast: Cast, http_as: HttpAs
) -> None:
    http_as(cast.admin).post(reverse("staff_new"), _invite_data(first_name="D'Arcy <Jo>"))
    assert "Hello D'Arcy <Jo>," in mail.outbox[0].body


def test_the_invitation_link_lets_the_person_choose_a_password_and_sign_in(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    http.post(reverse("staff_new"), _invite_data())
    http.logout()
    link = re.search(r"https?://testserver(/password-reset/\S+/)", mail.outbox[0].body)
    assert link is not None
    form_page = http.get(link.group(1), follow=True)
    assert form_page.context["validlink"]
    new_password = "Ample-Orchard-Lantern-42"
    done = http.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    signed_in = http.post(
        reverse("login"), {"username": "zoe.obrien@home.example", "password": new_password}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("home")
    assert http.get(reverse("home")).context["user"].email == "zoe.obrien@home.example"


def test_the_invitation_link_works_only_once(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.admin)
    http.post(reverse("staff_new"), _invite_data())
    http.logout()
    link = re.search(r"https?://testserver(/password-reset/\S+/)", mail.outbox[0].body)
    assert link is not None
    form_page = http.get(link.group(1), follow=True)
    password = "Ample-Orchard-Lantern-42"
    http.post(
        form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert not http.get(link.group(1), follow=True).context["validlink"]


def test_inviting_an_email_that_already_has_an_account_says_so_and_adds_no_one(
    cast: Cast, http_as: HttpAs
) -> None:
    before = User.objects.count()
    response = http_as(cast.admin).post(
        reverse("staff_new"), _invite_data(email="COLLEAGUE@home.example")
    )
    assert response.status_code == 200
    assert "colleague@home.example already has an account" in response.content.decode()
    assert User.objects.count() == before and mail.outbox == []


def test_inviting_an_email_used_in_another_agency_adds_no_one(cast: Cast, http_as: HttpAs) -> None:
    before = User.objects.count()
    http_as(cast.admin).post(reverse("staff_new"), _invite_data(email="cm@other.example"))
    assert User.objects.count() == before


def test_submitting_the_invitation_twice_adds_one_person_and_sends_one_email(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    first = http.post(reverse("staff_new"), _invite_data())
    second = http.post(reverse("staff_new"), _invite_data())
    assert User.objects.filter(email="zoe.obrien@home.example").count() == 1
    assert first["Location"] == second["Location"]
    assert len(mail.outbox) == 1


def test_after_a_duplicate_email_the_same_form_can_be_corrected_and_sent(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    http.post(reverse("staff_new"), _invite_data(email="colleague@home.example"))
    http.post(reverse("staff_new"), _invite_data())
    assert User.objects.filter(email="zoe.obrien@home.example").exists()
    assert IdempotencyKey.objects.filter(purpose="staff_invite").count() == 1


def test_a_failed_invitation_keeps_what_was_typed(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(reverse("staff_new"), _invite_data(roles=[]))
    page = response.content.decode()
    assert response.status_code == 200 and "Choose at least one role." in page
    assert 'value="Zoë"' in page and 'value="O&#x27;Brien-Nguyễn"' in page


def test_names_longer_than_100_characters_are_refused_with_a_message(
    cast: Cast, http_as: HttpAs
) -> None:
    response = http_as(cast.admin).post(reverse("staff_new"), _invite_data(first_name="Ä" * 101))
    assert "at most 100 characters" in response.content.decode()
    assert not User.objects.filter(email="zoe.obrien@home.example").exists()


def test_non_latin_names_are_kept_as_typed(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.admin).post(
        reverse("staff_new"), _invite_data(first_name="美玲", last_name="Ђорђевић")
    )
    person = User.objects.get(email="zoe.obrien@home.example")
    assert (person.first_name, person.last_name) == ("美玲", "Ђорђевић")


def test_a_team_cannot_be_chosen_as_both_member_and_supervisor(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("staff_new"),
        _invite_data(teams=[cast.team.pk], supervised_teams=[cast.team.pk]),
    )
    assert "not both: North" in response.content.decode()


def test_a_team_of_another_agency_cannot_be_chosen(cast: Cast, http_as: HttpAs) -> None:
    foreign = Team.objects.create(agency=cast.outsider_agency, name="Elsewhere")
    response = http_as(cast.admin).post(reverse("staff_new"), _invite_data(teams=[foreign.pk]))
    assert response.status_code == 200
    assert not User.objects.filter(email="zoe.obrien@home.example").exists()


def test_the_invitation_can_be_sent_again_while_no_password_is_chosen(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.admin)
    http.post(reverse("staff_new"), _invite_data())
    person = User.objects.get(email="zoe.obrien@home.example")
    http.post(reverse("staff_invitation_resend", args=[person.pk]))
    assert len(mail.outbox) == 2


def test_no_invitation_is_sent_to_someone_who_has_a_password(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("staff_invitation_resend", args=[cast.case_manager.pk]), follow=True
    )
    assert mail.outbox == []
    assert "has already chosen a password" in response.content.decode()


# ---------------------------------------------------------------------------- editing


def _edit_data(person: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "title": person.title,
        "phone": person.phone,
        "roles": sorted(person.roles),
        "teams": list(
            TeamMembership.objects.filter(user=person, kind="member").values_list(
                "team_id", flat=True
            )
        ),
        "supervised_teams": list(
            TeamMembership.objects.filter(user=person, kind="supervisor").values_list(
                "team_id", flat=True
            )
        ),
    }
    data.update(overrides)
    return data


def test_the_edit_form_starts_with_the_persons_details(cast: Cast, http_as: HttpAs) -> None:
    form = http_as(cast.admin).get(reverse("staff_edit", args=[cast.supervisor.pk])).context["form"]
    assert form.initial["email"] == "sup@home.example"
    assert form.initial["roles"] == [Role.SUPERVISOR]
    assert form.initial["supervised_teams"] == [cast.team.pk]


def test_an_admin_changes_a_persons_name_title_roles_and_teams(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("staff_edit", args=[cast.case_manager.pk]),
        _edit_data(
            cast.case_manager,
            first_name="Siobhán",
            title="Lead case manager",
            roles=[Role.CASE_MANAGER, Role.SUPERVISOR],
            teams=[],
            supervised_teams=[cast.other_team.pk],
        ),
    )
    assert response.status_code == 302
    person = User.objects.get(pk=cast.case_manager.pk)
    assert (person.first_name, person.title) == ("Siobhán", "Lead case manager")
    assert person.roles == {Role.CASE_MANAGER, Role.SUPERVISOR}
    assert list(TeamMembership.objects.filter(user=person).values_list("team_id", "kind")) == [
        (cast.other_team.pk, "supervisor")
    ]


def test_changing_to_an_email_someone_else_has_is_refused_on_the_email_field(
    cast: Cast, http_as: HttpAs
) -> None:
    response = http_as(cast.admin).post(
        reverse("staff_edit", args=[cast.case_manager.pk]),
        _edit_data(cast.case_manager, email="colleague@home.example"),
    )
    assert response.context["form"].errors["email"] == [
        "colleague@home.example already has an account. Each person has exactly one login."
    ]
    assert User.objects.get(pk=cast.case_manager.pk).email == "cm@home.example"


def test_an_admin_cannot_remove_their_own_admin_role(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("staff_edit", args=[cast.admin.pk]),
        _edit_data(cast.admin, roles=[Role.CASE_MANAGER]),
    )
    assert response.status_code == 200
    assert "You cannot remove your own admin role" in response.content.decode()
    assert User.objects.get(pk=cast.admin.pk).roles == {Role.AGENCY_ADMIN}


def test_an_admin_may_remove_another_admins_admin_role(cast: Cast, http_as: HttpAs) -> None:
    second = UserFactory(agency=cast.agency, roles=[Role.AGENCY_ADMIN])
    http_as(cast.admin).post(
        reverse("staff_edit", args=[second.pk]), _edit_data(second, roles=[Role.BILLING])
    )
    assert User.objects.get(pk=second.pk).roles == {Role.BILLING}


# ---------------------------------------------------------------------------- sign-in controls


def test_deactivating_ends_the_persons_sessions(cast: Cast, http_as: HttpAs) -> None:
    their_browser = sign_in(HttpClient(), cast.case_manager)
    assert their_browser.get(reverse("home")).status_code == 200
    http_as(cast.admin).post(reverse("staff_deactivate", args=[cast.case_manager.pk]))
    response = their_browser.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_deactivated_person_cannot_sign_in(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.admin).post(reverse("staff_deactivate", args=[cast.case_manager.pk]))
    response = HttpClient().post(
        reverse("login"), {"username": "cm@home.example", "password": PASSWORD}
    )
    assert response.status_code == 200 and not response.context["user"].is_authenticated


def test_deactivating_keeps_everything_the_person_wrote(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.admin).post(reverse("staff_deactivate", args=[cast.case_manager.pk]))
    person = User.objects.get(pk=cast.case_manager.pk)
    assert not person.is_active and person.deactivated_at is not None
    assert Client.objects.get(pk=cast.client.pk).created_by_id == person.pk
    assert person.roles == {Role.CASE_MANAGER}
    assert TeamMembership.objects.filter(user=person).exists()


def test_an_admin_cannot_deactivate_themselves(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("staff_deactivate", args=[cast.admin.pk]), follow=True
    )
    assert "You cannot deactivate your own account." in response.content.decode()
    assert User.objects.get(pk=cast.admin.pk).is_active


def test_reactivating_lets_the_person_sign_in_again(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.admin)
    http.post(reverse("staff_deactivate", args=[cast.case_manager.pk]))
    http.post(reverse("staff_reactivate", args=[cast.case_manager.pk]))
    response = HttpClient().post(
        reverse("login"), {"username": "cm@home.example", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_resetting_two_factor_removes_the_persons_authenticator(
    cast: Cast, http_as: HttpAs
) -> None:
    TOTPDevice.objects.create(user=cast.billing, name="phone", confirmed=True)
    http_as(cast.admin).post(reverse("staff_two_factor_reset", args=[cast.billing.pk]))
    assert not TOTPDevice.objects.filter(user=cast.billing).exists()


def _fail_sign_in(times: int) -> HttpClient:
    browser = HttpClient()
    for _ in range(times):
        browser.post(reverse("login"), {"username": "cm@home.example", "password": "wrong"})
    return browser


def test_unlocking_lets_a_locked_out_person_sign_in_again(cast: Cast, http_as: HttpAs) -> None:
    browser = _fail_sign_in(6)
    locked = browser.post(reverse("login"), {"username": "cm@home.example", "password": PASSWORD})
    assert locked.status_code == 429
    assert (
        http_as(cast.admin)
        .get(reverse("staff_detail", args=[cast.case_manager.pk]))
        .context["sign_in_locked"]
    )
    http_as(cast.admin).post(reverse("staff_unlock", args=[cast.case_manager.pk]))
    again = browser.post(reverse("login"), {"username": "cm@home.example", "password": PASSWORD})
    assert again.status_code == 302


def test_staff_actions_are_audited(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.admin).post(reverse("staff_deactivate", args=[cast.case_manager.pk]))
    event = AuditEvent.objects.filter(
        object_type="core.user", object_id=str(cast.case_manager.pk)
    ).first()
    assert event is not None and event.actor_id == cast.admin.pk
    assert '"active":false' in event.detail


# ---------------------------------------------------------------------------- credentials


def _credential_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "aac_registered",
        "number": "CO61234567",
        "issued_on": "2025-03-01",
        "expires_on": "2026-03-01",
        "background_check": "cleared",
        "background_checked_on": "2025-02-20",
        "supervision_required": "on",
        "notes": "Renewal reminder sent by email.",
    }
    data.update(overrides)
    return data


def test_an_admin_adds_a_credential(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("credential_new", args=[cast.case_manager.pk]), _credential_data()
    )
    assert response.status_code == 302
    credential = Credential.objects.get(user=cast.case_manager)
    assert credential.agency == cast.agency and credential.number == "CO61234567"
    assert credential.expires_on == datetime.date(2026, 3, 1)


def test_an_expiry_before_the_issue_date_is_refused_on_the_expiry_field(
    cast: Cast, http_as: HttpAs
) -> None:
    response = http_as(cast.admin).post(
        reverse("credential_new", args=[cast.case_manager.pk]),
        _credential_data(issued_on="2025-03-01", expires_on="2025-01-01"),
    )
    assert response.context["form"].errors["expires_on"] == [
        "The expiry date is before the issue date."
    ]
    assert not Credential.objects.filter(user=cast.case_manager).exists()


def test_a_cleared_background_check_needs_its_date(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("credential_new", args=[cast.case_manager.pk]),
        _credential_data(background_checked_on=""),
    )
    assert "background_checked_on" in response.context["form"].errors


def test_an_admin_edits_a_credential(cast: Cast, http_as: HttpAs) -> None:
    credential = _credential(cast.case_manager)
    http_as(cast.admin).post(
        reverse("credential_edit", args=[cast.case_manager.pk, credential.pk]),
        _credential_data(number="CO69999999"),
    )
    credential.refresh_from_db()
    assert credential.number == "CO69999999"


def test_a_credential_of_another_staff_member_is_not_found_under_this_one(
    cast: Cast, http_as: HttpAs
) -> None:
    credential = _credential(cast.colleague)
    url = reverse("credential_edit", args=[cast.case_manager.pk, credential.pk])
    assert http_as(cast.admin).get(url).status_code == 404


def test_attesting_records_who_attested_and_the_agencys_today(cast: Cast, http_as: HttpAs) -> None:
    credential = _credential(cast.case_manager)
    http_as(cast.admin).post(
        reverse("credential_attest", args=[cast.case_manager.pk, credential.pk])
    )
    credential.refresh_from_db()
    assert credential.attested_by == cast.admin
    assert credential.attested_on == cast.agency.today()


# ---------------------------------------------------------------------------- programs and teams


def test_an_admin_adds_a_program(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("program_new"),
        {"name": "Programa de Apoyo Comunitario", "code": "PAC", "description": ""},
    )
    assert response.status_code == 302
    assert (
        Program.objects.get(agency=cast.agency, name="Programa de Apoyo Comunitario").code == "PAC"
    )


def test_a_second_program_with_the_same_name_is_refused_on_the_name_field(
    cast: Cast, http_as: HttpAs
) -> None:
    ProgramFactory(agency=cast.agency, name="Outpatient")
    response = http_as(cast.admin).post(
        reverse("program_new"), {"name": "outpatient", "code": "", "description": ""}
    )
    assert response.context["form"].errors["name"] == [
        "There is already a program called “outpatient”."
    ]


def test_a_program_name_used_by_another_agency_is_fine(cast: Cast, http_as: HttpAs) -> None:
    ProgramFactory(agency=cast.outsider_agency, name="Outpatient")
    response = http_as(cast.admin).post(
        reverse("program_new"), {"name": "Outpatient", "code": "", "description": ""}
    )
    assert response.status_code == 302


def test_closing_a_program_marks_it_inactive(cast: Cast, http_as: HttpAs) -> None:
    program = ProgramFactory(agency=cast.agency)
    http_as(cast.admin).post(reverse("program_set_active", args=[program.pk]), {"active": "0"})
    program.refresh_from_db()
    assert not program.is_active


def test_an_admin_adds_a_team_in_a_program(cast: Cast, http_as: HttpAs) -> None:
    program = ProgramFactory(agency=cast.agency)
    http_as(cast.admin).post(reverse("team_new"), {"name": "East", "program": program.pk})
    assert Team.objects.get(agency=cast.agency, name="East").program == program


def test_a_program_of_another_agency_cannot_be_chosen_for_a_team(
    cast: Cast, http_as: HttpAs
) -> None:
    foreign = ProgramFactory(agency=cast.outsider_agency)
    response = http_as(cast.admin).post(
        reverse("team_new"), {"name": "East", "program": foreign.pk}
    )
    assert "program" in response.context["form"].errors
    assert not Team.objects.filter(name="East").exists()


def test_the_team_page_shows_its_members_and_supervisors(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).get(reverse("team_detail", args=[cast.team.pk]))
    assert response.context["supervisors"] == [cast.supervisor]
    assert set(response.context["members"]) == {cast.case_manager, cast.colleague}


def test_deactivating_a_team_keeps_its_memberships(cast: Cast, http_as: HttpAs) -> None:
    http_as(cast.admin).post(reverse("team_set_active", args=[cast.team.pk]), {"active": "0"})
    cast.team.refresh_from_db()
    assert not cast.team.is_active
    assert TeamMembership.objects.filter(team=cast.team).count() == 3


def test_renaming_a_team_to_another_teams_name_is_refused(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).post(
        reverse("team_edit", args=[cast.team.pk]), {"name": "South", "program": ""}
    )
    assert response.context["form"].errors["name"] == ["There is already a team called “South”."]


def test_the_admin_pages_link_to_programs_teams_and_settings(cast: Cast, http_as: HttpAs) -> None:
    page = http_as(cast.admin).get(reverse("staff_list")).content.decode()
    for name in ("program_list", "team_list", "agency_settings"):
        assert f'href="{reverse(name)}"' in page


def test_an_admin_records_a_staff_members_npi_for_claims(cast: Cast, http_as: HttpAs) -> None:
    from casework.testing.billing import npi

    http = http_as(cast.admin)
    url = reverse("staff_edit", args=[cast.case_manager.pk])
    refused = http.post(url, _edit_data(cast.case_manager, npi="1234567890"))
    assert refused.status_code == 200 and "check digit" in refused.content.decode()
    http.post(url, _edit_data(cast.case_manager, npi=npi("987654321")))
    cast.case_manager.refresh_from_db()
    assert cast.case_manager.npi == npi("987654321")
