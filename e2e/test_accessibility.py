"""axe-core on every page a person goes through on a normal day, plus the error states."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from casework.clients.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from casework.clients.models import Client, SafetyFlag
from casework.core.models import Role, User
from casework.testing.factories import PASSWORD, UserFactory

BLOCKING = {"serious", "critical"}


def audit(page: Any, name: str) -> list[str]:
    """Run axe on the page as it stands; print minor findings, return serious ones."""
    results = Axe().run(page)
    blocking = []
    for violation in results.response["violations"]:
        nodes = [" ".join(node["target"]) for node in violation["nodes"]][:5]
        line = f"{name}: {violation['id']} ({violation['impact']}) {violation['help']} at {nodes}"
        if violation["impact"] in BLOCKING:
            blocking.append(line)
        else:
            print(line)  # noqa: T201 - reported, not failed
    return blocking


def _draft_assessment(client: Client, author: User) -> Any:
    import datetime

    from casework.assessments.services import assessment_save, assessment_start

    assessment = assessment_start(
        client=client,
        author=author,
        instrument_key="psychosocial",
        administered_on=datetime.date(2026, 11, 20),
        mode="in_person",
    )
    return assessment_save(
        assessment=assessment,
        by=author,
        answers={"presenting_issues": "Lost housing", "suicide_risk": 0},
        expected_version=assessment.version,
    )[0]


def test_the_pages_of_a_working_day_have_no_serious_accessibility_problems(
    page: Any, new_page: Callable[..., Any], totp_code: Callable[[User], str]
) -> None:
    demo = seed_demo(clients=20, seed=1)
    admin = User.objects.get(email=f"admin@{DEMO_DOMAIN}")
    client = Client.objects.filter(agency=demo.agency).order_by("pk").first()
    assert client is not None
    SafetyFlag.objects.create(
        agency=demo.agency,
        client=client,
        kind=SafetyFlag.Kind.WEAPONS,
        detail="Hunting rifles in a locked cabinet",
        created_by=admin,
    )
    problems: list[str] = []

    page.goto("/login/")
    problems += audit(page, "login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    problems += audit(page, "login with an error")

    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    problems += audit(page, "two-factor code")
    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_be_visible()
    problems += audit(page, "two-factor code with an error")
    page.wait_for_timeout(1500)  # django-otp refuses any code for 1 s after a wrong one
    page.get_by_label("6-digit code").fill(totp_code(admin))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(admin.first_name)
    problems += audit(page, "my day")
    page.goto("/clients/")
    problems += audit(page, "clients")
    page.get_by_label("Search by name").press_sequentially(client.legal_last_name[:4])
    expect(page.locator("#results")).to_contain_text("by name")
    problems += audit(page, "clients, searched")
    page.goto(f"/clients/{client.pk}/")
    expect(page.get_by_role("list", name="Safety flags")).to_be_visible()
    problems += audit(page, "client chart")
    page.goto("/clients/new/")
    problems += audit(page, "register a client")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("alert")).to_be_visible()
    problems += audit(page, "register a client with errors")
    page.goto("/audit/")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    problems += audit(page, "audit log")
    for path, name in [
        ("/billing/setup/payers/", "billing set-up: payers"),
        ("/billing/setup/codes/", "billing set-up: service catalogue"),
        ("/billing/setup/authorizations/", "billing set-up: authorizations"),
        ("/billing/setup/claims/", "billing set-up: claim settings"),
        ("/staff/agency/", "agency settings"),
        ("/reports/", "reports"),
        ("/reports/productivity/", "report: productivity"),
        ("/reports/unsigned-notes/", "report: unsigned notes"),
        ("/reports/charges/", "report: charges"),
        ("/reports/authorizations/", "report: authorization use"),
        ("/reports/productivity/?start=2026-13-01", "report with a bad date"),
        ("/notes/cosign/", "notes to co-sign"),
        (f"/assessments/new/{client.pk}/", "give an assessment"),
        (f"/assessments/{_draft_assessment(client, admin).pk}/", "assessment being answered"),
        (f"/assessments/client/{client.pk}/trend/phq9/", "assessment trend"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        problems += audit(page, name)

    newcomer = UserFactory(
        agency=demo.agency, email="newadmin@demo.casework.example", roles=[Role.AGENCY_ADMIN]
    )
    setup = new_page()
    setup.goto("/login/")
    setup.get_by_label("Email").fill(newcomer.email)
    setup.get_by_label("Password").fill(PASSWORD)
    setup.get_by_role("button", name="Sign in").click()
    expect(setup.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    problems += audit(setup, "two-factor set-up")

    assert not problems, "\n".join(problems)
