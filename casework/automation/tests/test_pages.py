"""The automation pages: who may open them, forms that keep what was typed, constant queries."""

from __future__ import annotations

import html

import pytest

from casework.automation import engine, services
from casework.automation.engine import Event
from casework.automation.models import AutomationOptOut, AutomationRule, ReminderPreference
from casework.automation.tests.helpers import phone, rule
from casework.processes.models import ProcessDefinition
from casework.testing.factories import ClientFactory, assign

pytestmark = pytest.mark.django_db


def form(**changes) -> dict:
    data = {
        "name": "No-show follow-up",
        "trigger": "no_show",
        "days_before": "",
        "percent": "80",
        "trigger_process_key": "",
        "action": "create_task",
        "task_title": "Call the client",
        "due_in_days": "1",
        "assignee_kind": "primary",
        "assignee": "",
        "process_key": "",
        "is_active": "on",
        "submission_key": "sub-1",
    }
    return data | changes


def test_an_admin_adds_a_rule_and_sees_it_listed(cast, http_as):
    http = http_as(cast.admin)
    assert http.get("/automation/rules/new/").status_code == 200
    response = http.post("/automation/rules/new/", form())
    assert response.status_code == 302
    made = AutomationRule.objects.get()
    assert (made.name, made.trigger, made.action, made.created_by) == (
        "No-show follow-up",
        "no_show",
        "create_task",
        cast.admin,
    )
    body = http.get("/automation/rules/").content.decode()
    assert "No-show follow-up" in body and "Switch off" in body


def test_a_double_submit_makes_one_rule(cast, http_as):
    http = http_as(cast.admin)
    assert http.post("/automation/rules/new/", form()).status_code == 302
    assert http.post("/automation/rules/new/", form()).status_code == 302
    assert AutomationRule.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Give the rule a name."),
        ({"name": "x" * 500}, "at most 120 characters"),
        ({"trigger": "release_expiring", "days_before": "-3"}, "greater than or equal to 1"),
        ({"due_in_days": "-1"}, "greater than or equal to 0"),
        ({"action": "start_process", "process_key": "nope"}, "Select a valid choice"),
        ({"task_title": "t" * 5000}, "at most 200 characters"),
        ({"assignee_kind": "staff"}, "Choose the staff member."),
    ],
)
def test_bad_input_is_refused_and_what_was_typed_is_kept(cast, http_as, changes, message):
    typed = form(**changes)
    response = http_as(cast.admin).post("/automation/rules/new/", typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    kept = "No-show follow-up" if "task_title" in changes else "Call the client"
    assert f'value="{kept}"' in body  # what was typed stays
    assert not AutomationRule.objects.exists()


def test_unicode_is_kept(cast, http_as):
    name = "Nachsorge für Klinikaufenthalt ✓ — 住院"
    http_as(cast.admin).post("/automation/rules/new/", form(name=name))
    assert AutomationRule.objects.get().name == name


def test_a_loop_is_refused_with_a_clear_message(cast, http_as):
    ProcessDefinition.objects.create(
        agency=cast.agency,
        key="placement",
        version=1,
        name="Placement",
        bpmn="<x/>",
        sha256="0" * 64,
    )
    response = http_as(cast.admin).post(
        "/automation/rules/new/",
        form(
            trigger="process_completed",
            trigger_process_key="placement",
            action="start_process",
            process_key="placement",
        ),
    )
    assert response.status_code == 400
    assert "would start itself again in a loop" in response.content.decode()


def test_editing_keeps_the_version_and_refuses_a_stale_form(cast, http_as):
    made = rule(cast, "no_show", name="Old name")
    http = http_as(cast.admin)
    page = http.get(f"/automation/rules/{made.pk}/").content.decode()
    assert 'value="Old name"' in page
    assert (
        http.post(f"/automation/rules/{made.pk}/", form(name="New name", version="1")).status_code
        == 302
    )
    stale = http.post(f"/automation/rules/{made.pk}/", form(name="Stale", version="1"))
    assert stale.status_code == 400
    assert "Someone else changed this rule" in stale.content.decode()
    made.refresh_from_db()
    assert made.name == "New name"


def test_the_switch_turns_a_rule_off_and_on(cast, http_as):
    made = rule(cast, "no_show")
    http = http_as(cast.supervisor)
    http.post(f"/automation/rules/{made.pk}/switch/", {"on": "0"})
    made.refresh_from_db()
    assert not made.is_active
    http.post(f"/automation/rules/{made.pk}/switch/", {"on": "1"})
    made.refresh_from_db()
    assert made.is_active


@pytest.mark.parametrize("persona", ["case_manager", "billing", "auditor", "outsider_cm"])
def test_only_admins_and_supervisors_of_the_agency_reach_the_rules(cast, http_as, persona):
    made = rule(cast, "no_show", name="Home rule")
    http = http_as(getattr(cast, persona))
    for url in (
        "/automation/rules/",
        "/automation/rules/new/",
        f"/automation/rules/{made.pk}/",
        "/automation/log/",
    ):
        assert http.get(url).status_code in (403, 404), url
    assert http.post(f"/automation/rules/{made.pk}/switch/", {"on": "0"}).status_code in (403, 404)
    assert http.post("/automation/rules/new/", form(name="Sneaky")).status_code in (403, 404)
    made.refresh_from_db()
    assert made.is_active and AutomationRule.objects.count() == 1


def test_another_agencys_admin_gets_404_for_this_agencys_rule(cast, http_as):
    made = rule(cast, "no_show")
    http = http_as(cast.outsider_admin)
    assert http.get("/automation/rules/").status_code == 200
    assert "no_show" not in http.get("/automation/rules/").content.decode()
    assert http.get(f"/automation/rules/{made.pk}/").status_code == 404
    assert http.post(f"/automation/rules/{made.pk}/switch/", {"on": "0"}).status_code == 404


def _runs(cast, count: int) -> None:
    made = AutomationRule.objects.first() or rule(cast, "no_show")
    for n in range(count):
        client = ClientFactory(agency=cast.agency)
        assign(client, cast.case_manager)
        engine.fire(
            Event(
                trigger="no_show",
                agency_id=cast.agency.pk,
                client_id=client.pk,
                key=f"noshow:{n}",
                what="x",
            ),
            [made],
        )


def test_the_log_shows_runs_newest_first(cast, http_as):
    made = rule(cast, "no_show", name="Rule A")
    for key in ("first", "second"):
        engine.fire(
            Event(
                trigger="no_show",
                agency_id=cast.agency.pk,
                client_id=cast.client.pk,
                key=key,
                what="x",
            ),
            [made],
        )
    body = http_as(cast.admin).get("/automation/log/").content.decode()
    assert body.count("Task for") == 2
    newest, oldest = (r.pk for r in made.runs.order_by("-at", "-id"))
    assert body.index(f"/automation/clients/{cast.client.pk}/") < len(body)
    assert newest > oldest


def test_a_supervisor_sees_only_runs_about_their_teams_clients(cast, http_as):
    made = rule(cast, "no_show")
    engine.fire(
        Event(
            trigger="no_show",
            agency_id=cast.agency.pk,
            client_id=cast.other_client.pk,
            key="k",
            what="x",
        ),
        [made],
    )
    engine.fire(
        Event(
            trigger="no_show", agency_id=cast.agency.pk, client_id=cast.client.pk, key="k", what="x"
        ),
        [made],
    )
    admin_body = http_as(cast.admin).get("/automation/log/").content.decode()
    supervisor_body = http_as(cast.supervisor).get("/automation/log/").content.decode()
    assert cast.other_client.legal_last_name in admin_body
    assert cast.other_client.legal_last_name not in supervisor_body
    assert cast.client.legal_first_name in supervisor_body


def test_the_list_pages_do_not_grow_in_queries_with_rows(
    cast, http_as, django_assert_max_num_queries
):
    http = http_as(cast.admin)
    _runs(cast, 2)
    for n in range(2):
        rule(cast, "no_show", name=f"Rule {n}", assignee_kind="staff", assignee=cast.case_manager)
    with django_assert_max_num_queries(20) as few_log:
        http.get("/automation/log/")
    with django_assert_max_num_queries(20) as few_rules:
        http.get("/automation/rules/")
    _runs(cast, 12)
    for n in range(2, 12):
        rule(cast, "no_show", name=f"Rule {n}", assignee_kind="staff", assignee=cast.colleague)
    with django_assert_max_num_queries(len(few_log.captured_queries)):
        http.get("/automation/log/")
    with django_assert_max_num_queries(len(few_rules.captured_queries)):
        http.get("/automation/rules/")


# --- the client's page ------------------------------------------------------------------------


def test_the_case_manager_sets_texts_to_a_number_marked_safe_to_text(cast, http_as):
    safe = phone(cast, "(206) 555-0142")
    phone(cast, "(206) 555-0199", kind="home", safe_to_text=False)
    phone(cast, "(206) 555-0177", client=cast.other_client)
    http = http_as(cast.case_manager)
    page = http.get(f"/automation/clients/{cast.client.pk}/").content.decode()
    assert "(206) 555-0142 (mobile)" in page
    assert "555-0199" not in page and "555-0177" not in page
    response = http.post(
        f"/automation/clients/{cast.client.pk}/reminders/", {"channel": "sms", "phone": safe.pk}
    )
    assert response.status_code == 302
    preference = ReminderPreference.objects.get(client=cast.client)
    assert (preference.channel, preference.phone) == ("sms", safe)


@pytest.mark.parametrize("which", ["unsafe", "other client's", "made up"])
def test_only_a_number_marked_safe_to_text_can_be_chosen(cast, http_as, which):
    phone(cast, "(206) 555-0142")
    offered = {
        "unsafe": lambda: phone(cast, "(206) 555-0199", safe_to_text=False).pk,
        "other client's": lambda: phone(cast, "(206) 555-0177", client=cast.other_client).pk,
        "made up": lambda: "2065550100",
    }[which]()
    response = http_as(cast.case_manager).post(
        f"/automation/clients/{cast.client.pk}/reminders/", {"channel": "sms", "phone": offered}
    )
    assert response.status_code == 400
    assert not ReminderPreference.objects.exists()


def test_without_a_safe_number_the_form_says_what_to_do_first(cast, http_as):
    phone(cast, "(206) 555-0199", safe_to_text=False)
    http = http_as(cast.case_manager)
    first = "Mark a mobile number as safe to text on the client's contact details first"
    page = html.unescape(http.get(f"/automation/clients/{cast.client.pk}/").content.decode())
    assert first in page
    response = http.post(
        f"/automation/clients/{cast.client.pk}/reminders/",
        {"channel": "sms", "phone": "", "email": "maria@example.org"},
    )
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert first in body and 'value="maria@example.org"' in body
    assert not ReminderPreference.objects.exists()


def test_the_service_refuses_a_phone_that_is_not_safe_to_text(cast):
    for unsafe in (
        phone(cast, "(206) 555-0199", safe_to_text=False),
        phone(cast, "(206) 555-0177", client=cast.other_client),
        phone(cast, "(206) 555-0142 x12"),
        phone(cast, "555-0142"),
    ):
        with pytest.raises(services.AutomationError) as error:
            services.reminder_preference_save(
                client=cast.client, by=cast.case_manager, channel="sms", phone=unsafe
            )
        assert error.value.field == "phone"
    assert not ReminderPreference.objects.exists()


def test_the_case_manager_switches_automation_off_and_the_log_shows_it(cast, http_as):
    made = rule(cast, "no_show", name="No-show follow-up")
    http = http_as(cast.case_manager)
    http.post(f"/automation/clients/{cast.client.pk}/switch/", {"rule": made.pk, "off": "1"})
    assert AutomationOptOut.objects.get().rule == made
    engine.fire(
        Event(
            trigger="no_show", agency_id=cast.agency.pk, client_id=cast.client.pk, key="k", what="x"
        )
    )
    body = http.get(f"/automation/clients/{cast.client.pk}/").content.decode()
    assert "Skipped: automation is switched off for this client" in body
    http.post(f"/automation/clients/{cast.client.pk}/switch/", {"rule": made.pk, "off": ""})
    assert not AutomationOptOut.objects.exists()
    http.post(
        f"/automation/clients/{cast.client.pk}/switch/", {"off": "1", "reason": "Asked for it"}
    )
    assert AutomationOptOut.objects.get().rule is None
    assert (
        "Automation is switched off for this client"
        in http.get(f"/automation/clients/{cast.client.pk}/").content.decode()
    )


@pytest.mark.parametrize("persona", ["other_team_cm", "outsider_admin", "outsider_cm", "auditor"])
def test_people_outside_the_clients_care_get_403_or_404(cast, http_as, persona):
    http = http_as(getattr(cast, persona))
    base = f"/automation/clients/{cast.client.pk}/"
    assert http.get(base).status_code in (403, 404)
    safe = phone(cast)
    assert http.post(base + "reminders/", {"channel": "sms", "phone": safe.pk}).status_code in (
        403,
        404,
    )
    assert http.post(base + "switch/", {"off": "1"}).status_code in (403, 404)
    assert not ReminderPreference.objects.exists() and not AutomationOptOut.objects.exists()


def test_billing_reads_the_client_page_but_cannot_change_it(cast, http_as):
    http = http_as(cast.billing)
    assert http.get(f"/automation/clients/{cast.client.pk}/").status_code == 200
    assert (
        http.post(f"/automation/clients/{cast.client.pk}/switch/", {"off": "1"}).status_code == 403
    )


def test_the_client_page_is_a_fixed_number_of_queries(cast, http_as, django_assert_max_num_queries):
    http = http_as(cast.case_manager)
    rule(cast, "no_show")
    with django_assert_max_num_queries(40) as first:
        http.get(f"/automation/clients/{cast.client.pk}/")
    for n in range(8):
        made = rule(cast, "hospital_stay", name=f"R{n}")
        services.automation_switch_for_client(
            client=cast.client, by=cast.case_manager, rule=made, off=True
        )
        engine.fire(
            Event(
                trigger="hospital_stay",
                agency_id=cast.agency.pk,
                client_id=cast.client.pk,
                key=f"n{n}",
                what="x",
            )
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        http.get(f"/automation/clients/{cast.client.pk}/")


def test_the_agency_settings_page_links_to_the_rules(cast, http_as):
    assert "/automation/rules/" in http_as(cast.admin).get("/staff/agency/").content.decode()


def test_reading_the_log_is_audited_as_a_chart_read_of_each_client_shown(cast, http_as):
    from casework.core.models import AuditEvent

    rule(cast, "no_show")
    for client in (cast.client, cast.other_client):
        engine.fire(
            Event(
                trigger="no_show", agency_id=cast.agency.pk, client_id=client.pk, key="k", what="x"
            )
        )
    http_as(cast.admin).get("/automation/log/")
    reads = AuditEvent.objects.filter(action="view", actor_id=cast.admin.pk)
    assert sorted(reads.values_list("client_id", flat=True)) == sorted(
        [cast.client.pk, cast.other_client.pk]
    )
    assert {read.detail for read in reads} == {'{"section":"automation log"}'}
