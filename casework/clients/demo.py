"""A deterministic synthetic agency for demos, screenshots and benchmarks. Never real people."""

from __future__ import annotations

import datetime
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.automation.demo import seed_automation
from casework.billing.demo import seed_billing
from casework.billing.models import Payer
from casework.clients import services
from casework.clients.models import (
    CareTeamMember,
    Client,
    Coverage,
    Diagnosis,
    EmergencyContact,
    Episode,
    Medication,
    Phone,
    SafetyFlag,
)
from casework.clients.validators import icd10_description
from casework.coordination.demo import seed_coordination
from casework.core import services as core_services
from casework.core.models import Agency, Credential, Program, Role, Team, User
from casework.plans.demo import seed_assessments_and_plans
from casework.processes.demo import seed_processes
from casework.schedule.demo import seed_schedule

DATA = Path(__file__).resolve().parent / "data"
DEMO_PASSWORD = "casework-demo-password"  # noqa: S105 - printed for the demo, documented in README
DEMO_DOMAIN = "demo.casework.example"
# Fixed TOTP keys for the demo admin and billing accounts, so `demo_totp` can print a code.
DEMO_TOTP_KEYS = {
    "admin": "3132333435363738393031323334353637383930",
    "billing": "3031323334353637383930313233343536373839",
}

STAFF_PLAN: list[tuple[str, str, str, list[str], str]] = [
    # (login name, first, last, roles, team)
    ("admin", "Alex", "Morgan", [Role.AGENCY_ADMIN], ""),
    ("billing", "Bea", "Castillo", [Role.BILLING], ""),
    ("auditor", "Ari", "Feldman", [Role.AUDITOR], ""),
    ("supervisor", "Sam", "Okonkwo", [Role.SUPERVISOR, Role.CASE_MANAGER], "North ICM team"),
    ("supervisor2", "Dana", "Whitfield", [Role.SUPERVISOR], "Downtown co-occurring team"),
    ("casemanager", "Casey", "Nguyen", [Role.CASE_MANAGER], "North ICM team"),
    ("jordan", "Jordan", "Reyes", [Role.CASE_MANAGER], "North ICM team"),
    ("taylor", "Taylor", "Brooks", [Role.CASE_MANAGER], "North ICM team"),
    ("riley", "Riley", "Haddad", [Role.CASE_MANAGER], "Downtown co-occurring team"),
    ("morgan", "Morgan", "Iverson", [Role.CASE_MANAGER], "Downtown co-occurring team"),
    ("quinn", "Quinn", "Ramírez", [Role.CASE_MANAGER], "Downtown co-occurring team"),
    ("peer", "Jamie", "Lightfoot", [Role.CASE_MANAGER], "Downtown co-occurring team"),
]


@dataclass
class DemoResult:
    agency: Agency
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (email, roles, note)
    clients: int = 0


def _weighted(rng: random.Random, items: list[Any], weights: list[int]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _npi_with_check_digit(prefix9: str) -> str:
    from casework.core.validators import npi_is_valid

    for digit in "0123456789":
        if npi_is_valid(prefix9 + digit):
            return prefix9 + digit
    raise AssertionError("unreachable: one check digit always fits")


def seed_demo(
    *, clients: int = 200, seed: int = 1, today: datetime.date | None = None
) -> DemoResult:
    """Create the demo agency with staff, programs, teams, payers and `clients` synthetic clients."""
    rng = random.Random(seed)
    names = json.loads((DATA / "demo_names.json").read_text(encoding="utf-8"))
    clinical = json.loads((DATA / "demo_clinical.json").read_text(encoding="utf-8"))
    with transaction.atomic():
        agency = Agency.objects.create(
            name="Cascade Community Behavioral Health (demo)",
            time_zone="America/Los_Angeles",
            npi=_npi_with_check_digit("123456789"),
            tax_id="91-0000000",
            address_line1="1200 Demo Way",
            city="Seattle",
            state="WA",
            postal_code="98101",
            phone="(206) 555-0100",
        )
        today = today or agency.today()
        result = DemoResult(agency=agency)
        programs = {
            # The SUD outpatient program is federally assisted: a 42 CFR Part 2 program.
            name: Program.objects.create(
                agency=agency, name=name, code=code, is_part2=code == "SUD"
            )
            for name, code in [
                ("Intensive case management", "ICM"),
                ("Outpatient behavioral health", "OBH"),
                ("Substance use disorder outpatient", "SUD"),
                ("Housing support", "HSG"),
            ]
        }
        teams = {
            "North ICM team": Team.objects.create(
                agency=agency, name="North ICM team", program=programs["Intensive case management"]
            ),
            "Downtown co-occurring team": Team.objects.create(
                agency=agency,
                name="Downtown co-occurring team",
                program=programs["Substance use disorder outpatient"],
            ),
        }
        staff = _seed_staff(agency, teams, result, today, rng)
        payers = _seed_payers(agency)
        case_managers = [u for u in staff if u.has_role(Role.CASE_MANAGER)]
        admin = staff[0]
        for index in range(clients):
            _seed_client(
                index=index,
                rng=rng,
                agency=agency,
                admin=admin,
                names=names,
                clinical=clinical,
                payers=payers,
                programs=list(programs.values()),
                case_managers=case_managers,
                today=today,
            )
        result.clients = clients
        seed_billing(agency=agency, admin=admin, staff=staff, today=today, rng=rng)
        seed_assessments_and_plans(agency=agency, today=today, rng=rng)
        seed_schedule(agency=agency, today=today, rng=rng)
        seed_coordination(agency=agency, staff=staff, today=today, rng=rng)
        seed_automation(agency=agency, staff=staff)
        seed_processes(agency=agency, staff=staff, today=today)
    return result


def _seed_staff(
    agency: Agency,
    teams: dict[str, Team],
    result: DemoResult,
    today: datetime.date,
    rng: random.Random,
) -> list[User]:
    staff = []
    # One argon2 hash (~0.4 s) shared by every demo account instead of twelve.
    demo_hash = make_password(DEMO_PASSWORD)
    for login, first, last, roles, team_name in STAFF_PLAN:
        team = [teams[team_name]] if team_name else []
        supervises = team if Role.SUPERVISOR in roles else []
        user = core_services.staff_create(
            agency=agency,
            email=f"{login}@{DEMO_DOMAIN}",
            first_name=first,
            last_name=last,
            roles=roles,
            teams=[] if supervises else team,
            supervised_teams=supervises,
            password=None,
            by=None,
            title=", ".join(Role(r).label for r in roles),
        )
        User.objects.filter(pk=user.pk).update(password=demo_hash)
        staff.append(user)
        note = ""
        if login in DEMO_TOTP_KEYS:
            TOTPDevice.objects.create(
                user=user, name="Demo authenticator", key=DEMO_TOTP_KEYS[login], confirmed=True
            )
            note = f"two-factor: python manage.py demo_totp {login}"
        result.logins.append((user.email, ", ".join(Role(r).label for r in roles), note))
        if Role.CASE_MANAGER in roles:
            kind = (
                "certified_peer_counselor"
                if login == "peer"
                else rng.choice(["aac_registered", "aac_certified", "aac_licensed"])
            )
            if login == "casemanager":
                kind = "aac_licensed"  # the walkthrough's author bills without a co-signature
            expires = today + datetime.timedelta(
                days=30 if login == "casemanager" else rng.randint(90, 700)
            )
            Credential.objects.create(
                agency=agency,
                user=user,
                kind=kind,
                number=f"CO{60000000 + rng.randint(0, 999999)}",
                issued_on=expires - datetime.timedelta(days=730),
                expires_on=expires,
                attested_by=None if login == "jordan" else staff[0],
                attested_on=None if login == "jordan" else today,
                background_check=Credential.BackgroundCheck.CLEARED,
                supervision_required=kind != "aac_licensed",
            )
    return staff


def _seed_payers(agency: Agency) -> list[Payer]:
    plans = [
        ("Evergreen Apple Health Plan (demo)", Payer.Kind.MEDICAID_MCO, "DEMO01"),
        ("Puget Community Health Plan (demo)", Payer.Kind.MEDICAID_MCO, "DEMO02"),
        ("North Sound BH-ASO (demo)", Payer.Kind.BH_ASO, "DEMO03"),
        ("Medicare Part B (demo)", Payer.Kind.MEDICARE, "DEMO04"),
        ("County housing grant (demo)", Payer.Kind.GRANT, ""),
    ]
    return [Payer.objects.create(agency=agency, name=n, kind=k, payer_id=p) for n, k, p in plans]


def _seed_client(
    *,
    index: int,
    rng: random.Random,
    agency: Agency,
    admin: User,
    names: dict[str, Any],
    clinical: dict[str, Any],
    payers: list[Payer],
    programs: list[Program],
    case_managers: list[User],
    today: datetime.date,
) -> Client:
    first, last = rng.choice(names["first"]), rng.choice(names["last"])
    born = today - datetime.timedelta(days=rng.randint(19 * 365, 78 * 365))
    city, postal = rng.choice(names["cities"])
    language = _weighted(
        rng, [lang for lang, _ in names["languages"]], [w for _, w in names["languages"]]
    )
    manager = case_managers[index % len(case_managers)]
    providerone = f"{rng.randint(100000000, 999999999)}WA"
    registration = services.client_create(
        by=admin,
        data={
            "legal_first_name": first,
            "legal_middle_name": rng.choice(["", "", "A.", "Lee", "Marie", "José"]),
            "legal_last_name": last,
            "preferred_name": rng.choice(["", "", "", "", "Mo", "Cici", "Bud", "Lu"]),
            "pronouns": rng.choice(names["pronouns"]),
            "date_of_birth": born,
            "sex_for_billing": rng.choice(["F", "M", "F", "M", "U"]),
            "primary_language": language,
            "interpreter_needed": language != "English" and rng.random() < 0.6,
            "address_line1": f"{rng.randint(100, 9999)} {rng.choice(names['streets'])}",
            "address_line2": rng.choice(["", "", f"Apt {rng.randint(1, 40)}"]),
            "city": city,
            "state": "WA",
            "postal_code": postal,
            "address_notes": rng.choice(
                ["", "", "", "Shelter bed; mail at the office", "Back door only"]
            ),
        },
        identifiers=[services.NewIdentifier("providerone", providerone)],
        primary_case_manager=manager,
    )
    client = registration.client
    admitted = today - datetime.timedelta(days=rng.randint(20, 5 * 365))
    CareTeamMember.objects.filter(client=client).update(start_on=admitted)
    Phone.objects.create(
        agency=agency,
        client=client,
        number=f"(206) 555-01{rng.randint(0, 99):02d}",
        kind=Phone.Kind.MOBILE,
        may_leave_voicemail=rng.random() < 0.6,
        safe_to_text=rng.random() < 0.5,
        is_primary=True,
    )
    if rng.random() < 0.6:
        EmergencyContact.objects.create(
            agency=agency,
            client=client,
            name=f"{rng.choice(names['first'])} {last}",
            relationship=rng.choice(
                ["Mother", "Brother", "Sister", "Friend", "Son", "Daughter", "Aunt"]
            ),
            phone=f"(425) 555-01{rng.randint(0, 99):02d}",
        )
    primary_payer = payers[0] if index % 3 else payers[1]
    Coverage.objects.create(
        agency=agency,
        client=client,
        payer=primary_payer,
        member_id=providerone,
        priority=1,
        start_on=admitted - datetime.timedelta(days=rng.randint(0, 400)),
    )
    if rng.random() < 0.2:
        Coverage.objects.create(
            agency=agency,
            client=client,
            payer=payers[3],
            member_id=f"{rng.randint(1, 9)}EG4TE5MK{rng.randint(10, 99)}",
            priority=2,
            start_on=admitted,
        )
    _seed_clinical(rng, agency, client, clinical, admitted)
    program = programs[0] if rng.random() < 0.6 else rng.choice(programs[1:])
    Episode.objects.create(
        agency=agency,
        client=client,
        program=program,
        admitted_on=admitted,
        admission_reason="Referred by community psychiatric hospital"
        if rng.random() < 0.3
        else "Self-referral",
    )
    if rng.random() < 0.15:
        flag_kind, detail = rng.choice(clinical["flags"])
        SafetyFlag.objects.create(
            agency=agency, client=client, kind=flag_kind, detail=detail, created_by=admin
        )
    return client


def _seed_clinical(
    rng: random.Random,
    agency: Agency,
    client: Client,
    clinical: dict[str, Any],
    admitted: datetime.date,
) -> None:
    primary = _weighted(
        rng, clinical["primary_diagnoses"], [d["weight"] for d in clinical["primary_diagnoses"]]
    )
    chosen = [(primary, Diagnosis.Rank.PRIMARY)]
    if rng.random() < 0.35:
        sud = _weighted(
            rng, clinical["substance_use"], [d["weight"] for d in clinical["substance_use"]]
        )
        chosen.append((sud, Diagnosis.Rank.SECONDARY))
    for diagnosis, rank in chosen:
        Diagnosis.objects.create(
            agency=agency,
            client=client,
            code=diagnosis["code"],
            description=icd10_description(diagnosis["code"]),
            rank=rank,
            onset_on=admitted,
        )
        for name, dose, frequency in diagnosis["meds"][: rng.randint(1, 2)]:
            Medication.objects.create(
                agency=agency,
                client=client,
                name=name,
                dose=dose,
                frequency=frequency,
                prescriber=rng.choice(clinical["prescribers"]),
                started_on=admitted + datetime.timedelta(days=rng.randint(0, 60)),
            )
