"""Demo automation rules: what an agency typically switches on first.

Made for the demo agency after everything else (`clients.demo.seed_demo`), through the rule
service (so each is checked and audited), without drawing from the demo's random seeds. The
rules act on what happens from then on: a no-show recorded in the demo asks for a follow-up
to be booked, and the hourly `run_automation` picks up releases running out.
"""

from __future__ import annotations

from casework.automation.models import AutomationRule
from casework.automation.services import RuleInput, automation_rule_create
from casework.core.models import Agency, Role, User

DEMO_RULES = (
    RuleInput(
        name="No-show follow-up",
        trigger="no_show",
        action="request_slot",
        task_title="Reach the client and book a new visit",
        due_in_days=1,
    ),
    RuleInput(
        name="Discharge follow-up",
        trigger="hospital_stay",
        action="create_task",
        task_title="See the client within 7 days of discharge",
        due_in_days=2,
    ),
    RuleInput(
        name="Renew releases before they expire",
        trigger="release_expiring",
        action="create_task",
        days_before=21,
        due_in_days=7,
    ),
    RuleInput(
        name="Authorization at 80 %",
        trigger="authorization_used",
        action="notify_supervisor",
        percent=80,
        due_in_days=3,
    ),
    RuleInput(
        name="Flagged assessment: tell the supervisor",
        trigger="assessment_flag",
        action="notify_supervisor",
        due_in_days=0,
        is_active=False,
    ),
)


def seed_automation(*, agency: Agency, staff: list[User]) -> list[AutomationRule]:
    """The demo agency's automation rules, made by its first admin."""
    admin = next(u for u in staff if u.has_role(Role.AGENCY_ADMIN))
    return [automation_rule_create(agency=agency, by=admin, data=rule) for rule in DEMO_RULES]
