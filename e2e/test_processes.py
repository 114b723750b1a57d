"""Guided processes in the browser ("done when"): the demo client's nursing-facility placement
goes through a facility's decline, a second facility's acceptance and the admission, each step
reached from My day; and an involuntary-treatment referral is walked to "not detained", with the
Joel's Law information and a safety plan, to the follow-up on My day."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from casework.clients.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from casework.processes import services
from casework.processes.models import ProcessInstance, ProcessStep
from casework.processes.selectors import open_step_spec
from casework.testing.factories import PASSWORD
from casework.testing.personas import build_cast
from e2e.test_accessibility import audit
from e2e.test_phone import PHONE, assert_no_sideways_scroll, assert_tappable


def _open_step(instance: ProcessInstance) -> ProcessStep:
    return instance.steps.get(status=ProcessStep.Status.OPEN)


def _from_my_day(page: Any, instance: ProcessInstance) -> ProcessStep:
    """Open My day, find the process's open step there and follow it to its form."""
    step = _open_step(instance)
    page.goto("/?show=all")
    item = page.locator(".worklist__item[data-kind=process]").filter(has_text=step.title)
    expect(item).to_be_visible()
    expect(item).to_contain_text(instance.definition.name)
    item.get_by_role("link", name=step.title).click()
    expect(page.get_by_role("heading", name=step.title)).to_be_visible()
    return step


def _fill(page: Any, instance: ProcessInstance, step: ProcessStep, **answers: str) -> None:
    """Answer the step's fields by their labels (choices by their label text), then Done."""
    instance.refresh_from_db()
    spec = open_step_spec(instance=instance, task_id=step.task_id)
    assert spec is not None
    for field in spec.spec.fields:
        value = answers.get(field.name)
        if value is None:
            continue
        if field.kind in ("choice", "yesno"):
            page.get_by_role("group", name=field.label).get_by_label(value, exact=True).check()
        else:
            page.locator(f"#id_{field.name}").fill(value)
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_text(f"“{step.title}” is done.")).to_be_visible()


def test_a_placement_goes_through_a_decline_to_a_second_facilitys_acceptance_and_admission(
    page: Any, sign_in: Callable[..., None]
) -> None:
    seed_demo(clients=20, seed=1)
    placement = ProcessInstance.objects.get(definition__key="nursing_facility_placement")
    today = placement.client.agency.today().isoformat()
    sign_in(page, placement.owner.email, DEMO_PASSWORD)

    step = _from_my_day(page, placement)
    _fill(page, placement, step, facility_name="Evergreen Care Center", asked_on=today)
    step = _from_my_day(page, placement)
    assert step.element_id == "facility_response"
    _fill(page, placement, step, response="Declined", response_reason="No secure memory-care bed")

    step = _from_my_day(page, placement)
    assert step.element_id == "ask_facility"
    _fill(page, placement, step, facility_name="Rainier Health and Rehab", asked_on=today)
    step = _from_my_day(page, placement)
    _fill(page, placement, step, response="Accepted")

    step = _from_my_day(page, placement)
    assert step.element_id == "admission"
    _fill(page, placement, step, admission_on=today, transport_arranged="Yes", handoff_sent="Yes")
    now = page.get_by_role("region", name="Now")
    expect(now).to_contain_text("30 days after admission")
    done = page.get_by_role("region", name="Steps done")
    expect(done.get_by_role("link", name="Record the facility's response")).to_have_count(2)
    page.goto(f"/clients/{placement.client_id}/")
    expect(page.get_by_role("region", name="Processes")).to_contain_text(
        "Nursing-facility placement"
    )


def test_an_involuntary_treatment_referral_is_walked_to_not_detained(
    page: Any, sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    services.standard_definitions_install(by=cast.admin)
    sign_in(page, cast.case_manager.email, PASSWORD)
    page.goto(f"/clients/{cast.client.pk}/")
    page.get_by_role("region", name="Processes").get_by_role(
        "link", name="All processes · start one"
    ).click()
    page.get_by_label("Process", exact=True).select_option(label="Involuntary-treatment referral")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("Involuntary-treatment referral started.")).to_be_visible()
    referral = ProcessInstance.objects.get(client=cast.client)
    today = cast.agency.today().isoformat()

    step = _from_my_day(page, referral)
    _fill(
        page,
        referral,
        step,
        observed_at=f"{today}T09:15",
        behaviour="Has not eaten in three days; says the food is poisoned.",
        danger_to_self="No",
        danger_to_others="No",
        grave_disability="Yes",
    )
    step = _from_my_day(page, referral)
    _fill(page, referral, step, called_at=f"{today}T09:40", dcr_name="R. Ortiz")
    step = _from_my_day(page, referral)
    _fill(page, referral, step, outcome="Not detained", decided_at=f"{today}T13:05")

    step = _from_my_day(page, referral)
    assert step.element_id == "joels_law"
    expect(page.get_by_text("RCW 71.05.201")).to_be_visible()
    _fill(page, referral, step, family_informed="Yes", informed_whom="Her sister")
    step = _from_my_day(page, referral)
    assert step.element_id == "safety_plan"
    _fill(page, referral, step, safety_plan_made="Yes")

    page.goto("/?show=all")
    expect(
        page.locator(".worklist__item[data-kind=process]").filter(
            has_text="Follow up with the client within a week"
        )
    ).to_be_visible()


def test_the_process_pages_are_accessible_and_fit_a_phone(
    page: Any, new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    seed_demo(clients=20, seed=1)
    placement = ProcessInstance.objects.get(definition__key="nursing_facility_placement")
    step = _open_step(placement)
    pages = {
        "the board": "/processes/",
        "a client's processes": f"/clients/{placement.client_id}/processes/",
        "a process": f"/processes/{placement.pk}/",
        "an open step": f"/processes/{placement.pk}/steps/{step.pk}/",
        "a finished step": f"/processes/{placement.pk}/steps/{placement.steps.first().pk}/",
    }
    problems: list[str] = []
    sign_in(page, placement.owner.email, DEMO_PASSWORD)
    for name, url in pages.items():
        page.goto(url)
        problems += audit(page, name)
    page.goto(pages["an open step"])
    page.get_by_role("button", name="Done").click()  # nothing typed: the errors are shown
    expect(page.get_by_text("This field is required").first).to_be_visible()
    problems += audit(page, "a step with errors")

    phone = new_page(**PHONE)
    sign_in(phone, placement.owner.email, DEMO_PASSWORD)
    for name in ("a process", "an open step", "the board"):
        phone.goto(pages[name])
        assert_no_sideways_scroll(phone, name)
    assert_tappable(phone, phone.get_by_role("link", name="Processes").first, "Processes")

    admin = new_page()
    sign_in(admin, f"admin@{DEMO_DOMAIN}", DEMO_PASSWORD)
    admin.goto("/processes/definitions/")
    problems += audit(admin, "definitions")
    admin.get_by_label("BPMN file").set_input_files(
        files=[{"name": "broken.bpmn", "mimeType": "application/xml", "buffer": b"<oops"}]
    )
    admin.get_by_role("button", name="Check and upload").click()
    expect(admin.get_by_role("alert")).to_contain_text("not valid XML")
    problems += audit(admin, "definitions with an upload refused")
    admin.get_by_role("link", name="Nursing-facility placement").click()
    problems += audit(admin, "a definition")
    assert not problems, "\n".join(problems)
