"""Reads of automation: always scoped to the reader's agency, and runs to the clients they see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from casework.automation.models import (
    AutomationOptOut,
    AutomationRule,
    AutomationRun,
    ClientReminder,
    ReminderPreference,
)
from casework.clients.models import Client, Phone
from casework.core import access
from casework.core.models import Role, User

CLIENT_RUNS_SHOWN = 20
CLIENT_REMINDERS_SHOWN = 10
REMINDERS_TO_CHECK_SHOWN = 20


def rules_of_agency(*, user: User) -> QuerySet[AutomationRule]:
    """The agency's rules, by name, with the people they name (one query)."""
    return AutomationRule.objects.filter(agency_id=access.agency_id_of(user)).select_related(
        "assignee", "created_by"
    )


def rule_or_404(*, user: User, rule_id: int | str) -> AutomationRule:
    try:
        return rules_of_agency(user=user).get(pk=int(rule_id))
    except (ValueError, TypeError, AutomationRule.DoesNotExist):
        raise Http404("No such rule.") from None


def run_log(*, user: User) -> QuerySet[AutomationRun]:
    """What the rules did, newest first, about the clients the reader may see."""
    return (
        AutomationRun.objects.filter(
            agency_id=access.agency_id_of(user), client__in=access.visible_clients(user)
        )
        .select_related("rule", "client", "caused_by__rule")
        .order_by("-at", "-id")
    )


def reminders_to_check(*, user: User) -> list[ClientReminder]:
    """Reminders that may or may not have gone out (a worker stopped mid-send), newest first,
    about the clients the reader may see: someone should check with the client."""
    return list(
        ClientReminder.objects.filter(
            agency_id=access.agency_id_of(user),
            client__in=access.visible_clients(user),
            status=ClientReminder.Status.UNKNOWN,
        )
        .select_related("client")
        .order_by("-claimed_at", "-id")[:REMINDERS_TO_CHECK_SHOWN]
    )


def assignable_staff(*, user: User) -> QuerySet[User]:
    """Active staff of the agency who take client work (a rule may give them its tasks)."""
    return (
        access.staff_in_agency(user)
        .filter(
            is_active=True,
            role_rows__role__in=(Role.CASE_MANAGER, Role.SUPERVISOR, Role.AGENCY_ADMIN),
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


@dataclass(frozen=True)
class RuleSwitch:
    """One active rule as a client's page shows it: switched off for the client or not."""

    rule: AutomationRule
    off: AutomationOptOut | None


@dataclass(frozen=True)
class ClientAutomation:
    """Everything the client's automation page shows (a fixed number of queries)."""

    every_rule_off: AutomationOptOut | None
    rules: list[RuleSwitch]
    runs: list[AutomationRun]
    preference: ReminderPreference | None
    phones: list[Phone]  # only those marked safe to text
    reminders: list[ClientReminder]


def client_automation(*, client: Client) -> ClientAutomation:
    """The caller has checked that the reader may see the client (`access.client_or_404`)."""
    opt_outs = {
        row.rule_id: row
        for row in AutomationOptOut.objects.filter(
            Q(rule__isnull=True) | Q(rule__agency_id=client.agency_id), client=client
        ).select_related("by")
    }
    rules = AutomationRule.objects.filter(agency_id=client.agency_id, is_active=True)
    return ClientAutomation(
        every_rule_off=opt_outs.get(None),
        rules=[RuleSwitch(rule, opt_outs.get(rule.pk)) for rule in rules],
        runs=list(
            AutomationRun.objects.filter(client=client, agency_id=client.agency_id)
            .select_related("rule")
            .order_by("-at", "-id")[:CLIENT_RUNS_SHOWN]
        ),
        preference=ReminderPreference.objects.filter(client=client).first(),
        phones=list(
            Phone.objects.filter(client=client, agency_id=client.agency_id, safe_to_text=True)
        ),
        reminders=list(
            ClientReminder.objects.filter(client=client, agency_id=client.agency_id).order_by(
                "-claimed_at", "-id"
            )[:CLIENT_REMINDERS_SHOWN]
        ),
    )
