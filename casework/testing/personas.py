"""The fixed cast every test uses, as in healthchecks' owner/member/outsider:

one agency with a team whose case manager has `client` on their caseload, a colleague on the
same team, a case manager on another team, a supervisor of the team, billing, an admin, an
auditor; and an admin and a case manager of another agency (the outsiders).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client as HttpClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.clients.models import Client
from casework.core.models import Agency, Role, Team, TeamMembership, User
from casework.testing.factories import (
    AgencyFactory,
    ClientFactory,
    TeamFactory,
    UserFactory,
    add_to_team,
    assign,
)


@dataclass
class Cast:
    agency: Agency
    team: Team
    other_team: Team
    case_manager: User
    colleague: User
    other_team_cm: User
    supervisor: User
    billing: User
    admin: User
    auditor: User
    client: Client
    other_client: Client
    outsider_agency: Agency
    outsider_admin: User
    outsider_cm: User
    outsider_client: Client


def build_cast() -> Cast:
    agency = AgencyFactory(name="Home Agency")
    team, other_team = (
        TeamFactory(agency=agency, name="North"),
        TeamFactory(agency=agency, name="South"),
    )
    case_manager = UserFactory(agency=agency, email="cm@home.example", roles=[Role.CASE_MANAGER])
    colleague = UserFactory(
        agency=agency, email="colleague@home.example", roles=[Role.CASE_MANAGER]
    )
    other_team_cm = UserFactory(
        agency=agency, email="south@home.example", roles=[Role.CASE_MANAGER]
    )
    supervisor = UserFactory(agency=agency, email="sup@home.example", roles=[Role.SUPERVISOR])
    add_to_team(case_manager, team)
    add_to_team(colleague, team)
    add_to_team(other_team_cm, other_team)
    add_to_team(supervisor, team, TeamMembership.Kind.SUPERVISOR)
    client = ClientFactory(
        agency=agency,
        legal_first_name="María",
        legal_last_name="O'Connor-Núñez",
        created_by=case_manager,
    )
    assign(client, case_manager)
    other_client = ClientFactory(
        agency=agency,
        legal_first_name="Other",
        legal_last_name="Teamclient",
        created_by=other_team_cm,
    )
    assign(other_client, other_team_cm)
    outsider_agency = AgencyFactory(name="Other Agency")
    outsider_cm = UserFactory(
        agency=outsider_agency, email="cm@other.example", roles=[Role.CASE_MANAGER]
    )
    outsider_client = ClientFactory(agency=outsider_agency, created_by=outsider_cm)
    assign(outsider_client, outsider_cm)
    return Cast(
        agency=agency,
        team=team,
        other_team=other_team,
        case_manager=case_manager,
        colleague=colleague,
        other_team_cm=other_team_cm,
        supervisor=supervisor,
        billing=UserFactory(agency=agency, email="billing@home.example", roles=[Role.BILLING]),
        admin=UserFactory(agency=agency, email="admin@home.example", roles=[Role.AGENCY_ADMIN]),
        auditor=UserFactory(agency=agency, email="auditor@home.example", roles=[Role.AUDITOR]),
        client=client,
        other_client=other_client,
        outsider_agency=outsider_agency,
        outsider_admin=UserFactory(
            agency=outsider_agency, email="admin@other.example", roles=[Role.AGENCY_ADMIN]
        ),
        outsider_cm=outsider_cm,
        outsider_client=outsider_client,
    )


def sign_in(http: HttpClient, user: User) -> HttpClient:
    """Sign in as the user, past two-factor (a confirmed device is made where needed)."""
    user.refresh_from_db()  # "sign out everywhere" may have moved the session generation on
    http.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and user.needs_two_factor:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    if device is not None:
        session = http.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return http
