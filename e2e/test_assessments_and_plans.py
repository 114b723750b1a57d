"""Assessments and service plans in the browser: a PHQ-9 whose item 9 raises the suicide-risk flag
(chart, the supervisor's My day, the trend), then a plan from the chart to a signed version 2 and
its PDF; the PHQ-9 on a phone, a target date before the plan starts, and axe on these pages."""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect
from pypdf import PdfReader

from casework.assessments.models import Assessment
from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.clients.models import FlagNotice, SafetyFlag
from casework.plans.models import PlanObjective, PlanSignature, ServicePlan
from casework.plans.services import goal_save, plan_start
from casework.testing.factories import PASSWORD
from casework.testing.personas import Cast, build_cast
from casework.testing.plans import complete_draft, sign
from e2e.test_accessibility import audit
from e2e.test_phone import PHONE, TOUCH_TARGET_PX, assert_no_sideways_scroll

PHQ9 = "Patient Health Questionnaire (PHQ-9)"
ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family"
    " down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being"
    " so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]
ANSWERS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
# Items 1-8 "More than half the days" (2 each) and item 9 "Several days" (1): 17.
GIVEN = [2] * 8 + [1]
TOTAL, BAND = 17, "Moderately severe"
ITEM_9_FLAG = f"“{ITEMS[8]}” — Several days"
ATTEST_PLAN = "I reviewed this plan with the client and sign it as the case manager."

NEED = "A place of my own, near my sister"
GOAL = "Live in my own apartment by next summer"
OBJECTIVE = "Apply to two housing programs"
OBJECTIVE_V2 = "Apply to three housing programs, including the county voucher list"
MEASURE = "Two applications submitted"
MEASURE_V2 = "Three applications submitted"
INTERVENTION = "Help fill in the applications and bring the documents"


def us(day: datetime.date) -> str:
    return f"{day:%m/%d/%Y}"


def signed_phq9(cast: Cast, day: datetime.date, each: int) -> Assessment:
    """An earlier PHQ-9, given and signed through the services (item 9 "Not at all")."""
    started = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=day,
        mode="in_person",
    )
    saved, _ = assessment_save(
        assessment=started,
        by=cast.case_manager,
        answers={f"q{n}": each for n in range(1, 9)} | {"q9": 0},
        expected_version=started.version,
    )
    return assessment_sign(assessment=saved, by=cast.case_manager)


def expect_nothing_put_back(page: Any) -> None:
    """A form saved and shown again holds what was saved, not an older copy kept in the tab."""
    expect(
        page.get_by_text("before you were signed out"),
        "after a successful save the page put back the copy kept in sessionStorage "
        "(casework.js keepDrafts): the hidden version is stale, the next save will be refused",
    ).to_have_count(0)


def item(page: Any, number: int) -> Any:
    """The radio group of PHQ-9 item `number` (1-9), named by its legend."""
    return page.get_by_role("group", name=ITEMS[number - 1], exact=True)


def answer(page: Any, number: int, value: int) -> None:
    item(page, number).get_by_label(ANSWERS[value], exact=True).check()


def open_chart(page: Any, cast: Cast) -> None:
    page.goto(f"/clients/{cast.client.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(cast.client.display_name)


def start_phq9(page: Any, cast: Cast, *, mode: str = "Read aloud to the client") -> Assessment:
    """From the chart: "Give an assessment", PHQ-9, today, how it is given, Start."""
    open_chart(page, cast)
    page.get_by_role("link", name="Give an assessment").click()
    expect(page.get_by_role("heading", name="Give an assessment")).to_be_visible()
    page.get_by_label("Instrument").select_option(label=PHQ9)
    expect(page.get_by_label("Date given")).to_have_value(f"{cast.agency.today():%Y-%m-%d}")
    page.get_by_role("group", name="How it is given").get_by_label(mode).check()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", level=2, name=re.compile(r"PHQ-9"))).to_be_visible()
    started = Assessment.objects.filter(client=cast.client, status="draft").get()
    expect(page).to_have_url(re.compile(rf"/assessments/{started.pk}/$"))
    return started


def give_phq9_with_item_9(page: Any, cast: Cast) -> Assessment:
    """Answer items 1-4, save; answer the rest (item 9 "Several days") and sign."""
    started = start_phq9(page, cast)
    score = page.get_by_role("region", name="Score", exact=True)
    expect(score).to_contain_text("9 questions still to answer")
    for number in range(1, 5):
        answer(page, number, GIVEN[number - 1])
    page.get_by_role("button", name="Save answers").click()
    expect(page.get_by_role("status").filter(has_text="Answers saved.")).to_be_visible()
    expect_nothing_put_back(page)
    expect(score).to_contain_text("5 questions still to answer")
    expect(item(page, 1).get_by_label(ANSWERS[2], exact=True)).to_be_checked()
    for number in range(5, 10):
        answer(page, number, GIVEN[number - 1])
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Signed:")).to_have_text(
        f"Signed: {TOTAL} {BAND}"
    )
    signed = Assessment.objects.get(pk=started.pk)
    assert (signed.status, signed.total, signed.band) == ("signed", TOTAL, BAND)
    assert signed.answers["q9"] == 1
    return signed


def add_need_and_goal(page: Any) -> None:
    page.get_by_text("Add a need", exact=True).click()
    page.get_by_label("Area").select_option(label="Housing")
    page.get_by_label("The need, in the client's words").fill(NEED)
    page.get_by_role("button", name="Add the need").click()
    expect(page.get_by_role("status")).to_have_text("Need saved.")
    expect(page.get_by_role("region", name="Needs", exact=True)).to_contain_text(f"Housing: {NEED}")

    page.get_by_text("Add a goal", exact=True).click()
    page.get_by_label("Goal, in the client's words").fill(GOAL)
    page.get_by_label("Need it answers").select_option(label=f"Housing: {NEED}")
    page.get_by_role("button", name="Add the goal").click()
    expect(page.get_by_role("status")).to_have_text("Goal saved.")
    expect(page.get_by_role("heading", name=f"Goal 1: {GOAL}")).to_be_visible()


def add_objective_and_intervention(page: Any, target: datetime.date) -> None:
    page.get_by_role("link", name="Add an objective to goal 1").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Add an? objective"))).to_be_visible()
    expect(page.get_by_label("Goal", exact=True)).to_contain_text(f"Goal 1: {GOAL}")
    page.get_by_label("Objective", exact=True).fill(OBJECTIVE)
    page.get_by_label("How we will know").fill(MEASURE)
    page.get_by_label("Target date").fill(f"{target:%Y-%m-%d}")
    page.get_by_role("button", name="Save the objective").click()
    expect(page.get_by_role("status")).to_have_text("Objective saved.")
    goal = page.get_by_role("article", name=f"Goal 1: {GOAL}")
    expect(goal).to_contain_text(OBJECTIVE)
    expect(goal).to_contain_text(f"How we will know: {MEASURE} · target {us(target)}")

    goal.get_by_role("link", name="Add an intervention").click()
    page.get_by_label("What will be done").fill(INTERVENTION)
    page.get_by_label("Who does it").fill("Case manager")
    page.get_by_label("How often").fill("Weekly")
    page.get_by_role("button", name="Save the intervention").click()
    expect(page.get_by_role("status")).to_have_text("Intervention saved.")
    expect(page.get_by_role("article", name=f"Goal 1: {GOAL}")).to_contain_text(
        f"{INTERVENTION} — Case manager, Weekly"
    )


def about_this_plan(page: Any, participation: str, strengths: str | None = None) -> None:
    about = page.get_by_role("region", name="About this plan")
    if strengths is not None:
        about.get_by_label("Strengths").fill(strengths)
    about.get_by_label("How the client took part").fill(participation)
    about.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_have_text("Plan saved.")
    expect_nothing_put_back(page)
    expect(page.get_by_label("How the client took part")).to_have_value(participation)


def sign_with_the_client(page: Any, cast: Cast, number: int) -> None:
    ready = page.get_by_role("region", name="Ready to sign?")
    expect(ready).to_contain_text("Everything the plan needs is there.")
    ready.get_by_role("link", name="Sign with the client").click()
    expect(
        page.get_by_role("heading", name=f"Sign the service plan, version {number}")
    ).to_be_visible()
    page.get_by_role("group", name="Signed by").get_by_label("The client", exact=True).check()
    page.get_by_role("group", name="How").get_by_label("Signed on screen").check()
    page.get_by_label("Name as signed").fill(cast.client.legal_name)  # the client types it
    expect(page.get_by_label("Date signed")).to_have_value(f"{cast.agency.today():%Y-%m-%d}")
    page.get_by_label(ATTEST_PLAN).check()
    page.get_by_role("button", name="Sign the plan").click()
    expect(page.get_by_role("status")).to_have_text(f"Plan version {number} signed and locked.")
    expect(page.get_by_role("heading", name=f"Service plan, version {number}")).to_contain_text(
        f"signed {us(cast.agency.today())}"
    )


def test_a_phq9_with_item_9_flags_the_chart_and_the_supervisors_day_and_adds_to_the_trend(
    page: Any, new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    """Done when, first half: a PHQ-9 with item 9 = 1 given in the browser → the suicide-risk
    flag on the chart and on the supervisor's My day → the second point on the trend."""
    cast = build_cast()
    today = cast.agency.today()
    earlier = today - datetime.timedelta(days=60)
    signed_phq9(cast, earlier, each=1)  # 8, Mild
    sign_in(page, cast.case_manager.email, PASSWORD)

    phq9 = give_phq9_with_item_9(page, cast)
    flags = page.get_by_role("list", name="Safety flags")
    expect(flags).to_contain_text(f"Suicide risk: {PHQ9}, {us(today)}: {ITEM_9_FLAG}")
    open_chart(page, cast)
    expect(flags).to_contain_text(f"Suicide risk: {PHQ9}, {us(today)}: {ITEM_9_FLAG}")
    assessments = page.get_by_role("region", name="Assessments", exact=True)
    expect(assessments.get_by_role("listitem").first).to_contain_text(
        re.compile(rf"PHQ9 {re.escape(us(today))}\s*: {TOTAL} \({BAND}\)")
    )
    assert SafetyFlag.objects.filter(client=cast.client, kind="suicide_risk", is_active=True)
    assert FlagNotice.objects.filter(assessment=phq9, recipient=cast.supervisor).exists()

    supervisor = new_page()
    sign_in(supervisor, cast.supervisor.email, PASSWORD)
    expect(supervisor.get_by_role("heading", level=1)).to_contain_text(cast.supervisor.first_name)
    raised = supervisor.get_by_role("region", name="What needs you")
    notice = (
        raised.get_by_role("listitem")
        .filter(has_text=cast.client.display_name)
        .filter(has_text="Suicide risk")
    )
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("Suicide risk")
    expect(notice).to_contain_text(ITEM_9_FLAG)
    expect(notice).to_contain_text(f"Assessment given by {cast.case_manager.full_name}")
    expect(notice.get_by_role("link", name=cast.client.display_name)).to_have_attribute(
        "href", f"/clients/{cast.client.pk}/"
    )
    expect(notice.get_by_role("button", name=re.compile(r"^Acknowledged"))).to_be_visible()

    assessments.get_by_role("link", name="trend").first.click()
    expect(page).to_have_url(re.compile(rf"/assessments/client/{cast.client.pk}/trend/phq9/$"))
    chart = page.get_by_role("img", name=f"{PHQ9}: scores over time")
    expect(chart.locator("circle")).to_have_count(2)
    expect(chart.locator("rect.band")).to_have_count(5)
    expect(chart.locator("circle").last.locator("title")).to_have_text(
        f"{us(today)}: {TOTAL} ({BAND})"
    )
    rows = page.get_by_role("table", name="Signed scores, oldest first").locator("tbody tr")
    expect(rows).to_have_count(2)
    name = cast.case_manager.full_name
    expect(rows.first.get_by_role("cell")).to_have_text([us(earlier), "8", "Mild", name])
    expect(rows.last.get_by_role("cell")).to_have_text([us(today), str(TOTAL), BAND, name])


def test_a_plan_written_from_the_chart_is_signed_reviewed_into_version_2_and_printed(
    page: Any, sign_in: Callable[..., None]
) -> None:
    """Done when, second half: a plan from the chart (need, goal, objective with a target date,
    intervention) signed with the client on screen → reviewed into version 2 with a changed
    objective → version 2 signed → its PDF opens and holds the goal."""
    cast = build_cast()
    today = cast.agency.today()
    sign_in(page, cast.case_manager.email, PASSWORD)
    open_chart(page, cast)
    page.get_by_role("region", name="Service plan", exact=True).get_by_role(
        "button", name="Write the first plan"
    ).click()
    expect(page.get_by_role("heading", name="Service plan, version 1")).to_contain_text("draft")
    plan = ServicePlan.objects.get(client=cast.client, number=1)
    expect(page).to_have_url(re.compile(rf"/plans/{plan.pk}/$"))
    about_this_plan(
        page,
        "Chose the goals herself: “I want my own place.”",
        strengths="Keeps a daily routine; close to her sister.",
    )
    add_need_and_goal(page)
    add_objective_and_intervention(page, today + datetime.timedelta(days=60))
    sign_with_the_client(page, cast, 1)
    signatures = page.get_by_role("region", name="Signatures", exact=True)
    expect(signatures).to_contain_text(f"Client: {cast.client.legal_name}, signed on screen")
    expect(signatures).to_contain_text(f"Case manager: {cast.case_manager.full_name}")

    review = page.get_by_role("region", name="Review", exact=True)
    expect(review.get_by_label("The reviewed plan starts")).to_have_value(f"{today:%Y-%m-%d}")
    review.get_by_role("button", name="Start the review").click()
    expect(page.get_by_role("heading", name="Service plan, version 2")).to_contain_text("draft")
    expect(page.get_by_text("No changes from version 1 yet.")).to_be_visible()
    page.get_by_role("article", name=f"Goal 1: {GOAL}").get_by_role(
        "link", name="Edit this objective"
    ).click()
    expect(page.get_by_label("Objective", exact=True)).to_have_value(OBJECTIVE)
    page.get_by_label("Objective", exact=True).fill(OBJECTIVE_V2)
    page.get_by_label("How we will know").fill(MEASURE_V2)
    page.get_by_role("button", name="Save the objective").click()
    expect(page.get_by_role("status")).to_have_text("Objective saved.")
    change = page.get_by_role("region", name="What changed since version 1").get_by_role("listitem")
    expect(change).to_have_count(1)
    expect(change).to_contain_text(re.compile(r"^\s*changed\s+Objective\b"))
    expect(change.locator("del")).to_contain_text([OBJECTIVE, MEASURE])
    expect(change.locator("ins")).to_contain_text([OBJECTIVE_V2, MEASURE_V2])
    about_this_plan(page, "Reviewed together; she asked to add the county voucher list.")
    sign_with_the_client(page, cast, 2)
    version_2 = ServicePlan.objects.get(client=cast.client, number=2)
    assert version_2.is_signed and version_2.previous_id == plan.pk
    assert PlanObjective.objects.get(plan=version_2).text == OBJECTIVE_V2
    assert PlanObjective.objects.get(plan=plan).text == OBJECTIVE  # version 1 stays as signed
    assert set(version_2.signatures.values_list("role", "method")) == {
        (PlanSignature.Role.CLIENT, PlanSignature.Method.ON_SCREEN),
        (PlanSignature.Role.CASE_MANAGER, PlanSignature.Method.ON_SCREEN),
    }

    pdf_link = page.get_by_role("link", name="PDF for the client")
    expect(pdf_link).to_have_attribute("href", f"/plans/{version_2.pk}/pdf/")
    response = page.request.get(pdf_link.get_attribute("href"))
    assert response.ok, response.status
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    text = " ".join(text.split())
    assert f"Goal 1: {GOAL}" in text, text
    assert OBJECTIVE_V2 in text and "Version 2" in text, text


def test_a_phq9_can_be_given_and_signed_on_a_phone(
    new_page: Callable[..., Any], sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    page = new_page(**PHONE)
    sign_in(page, cast.case_manager.email, PASSWORD)
    started = start_phq9(page, cast, mode="In person, together")
    assert_no_sideways_scroll(page, "the PHQ-9 being answered")

    short: set[int] = set()
    for number in range(1, 10):
        group = item(page, number)
        for label in ANSWERS:
            option = group.get_by_label(label, exact=True)
            option.scroll_into_view_if_needed()
            expect(option).to_be_in_viewport()
            box = page.locator(f"label[for='{option.get_attribute('id')}']").bounding_box()
            assert box is not None and box["x"] >= 0, f"item {number}, {label}: off screen"
            assert box["x"] + box["width"] <= PHONE["width"], f"item {number}, {label}: too wide"
            if box["height"] < TOUCH_TARGET_PX:
                short.add(round(box["height"]))
        group.get_by_label(ANSWERS[0] if number == 9 else ANSWERS[1], exact=True).click()
    assert not short, f"answers under {TOUCH_TARGET_PX} px tall to tap: {sorted(short)}"
    expect(page.get_by_role("radio", checked=True)).to_have_count(9)
    assert_no_sideways_scroll(page, "the answered PHQ-9")

    sign = page.get_by_role("button", name="Sign", exact=True)
    sign.scroll_into_view_if_needed()
    expect(sign).to_be_in_viewport()
    box = sign.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "Sign is off screen"
    sign.click()
    expect(page.get_by_role("status").filter(has_text="Signed:")).to_have_text("Signed: 8 Mild")
    started.refresh_from_db()
    assert (started.status, started.total) == ("signed", 8)
    assert_no_sideways_scroll(page, "the signed PHQ-9")


def test_a_target_date_before_the_plan_starts_is_refused_and_what_was_typed_is_kept(
    page: Any, sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    today = cast.agency.today()
    plan = plan_start(client=cast.client, by=cast.case_manager, starts_on=today)
    goal_save(plan=plan, by=cast.case_manager, text=GOAL, need_id=None)
    too_early = today - datetime.timedelta(days=3)
    sign_in(page, cast.case_manager.email, PASSWORD)
    page.goto(f"/plans/{plan.pk}/")

    page.get_by_role("link", name="Add an objective to goal 1").click()
    page.get_by_label("Objective", exact=True).fill(OBJECTIVE)
    page.get_by_label("How we will know").fill(MEASURE)
    page.get_by_label("Target date").fill(f"{too_early:%Y-%m-%d}")
    page.get_by_role("button", name="Save the objective").click()

    message = f"The target date ({us(too_early)}) is before the plan starts ({us(today)})."
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please fix 1 problem")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name=f"Target date: {message}")).to_have_attribute(
        "href", "#id_objective-target_on"
    )
    target = page.get_by_label("Target date")
    expect(target).to_have_value(f"{too_early:%Y-%m-%d}")
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field--error")).to_contain_text(message)
    expect(page.get_by_label("Objective", exact=True)).to_have_value(OBJECTIVE)
    expect(page.get_by_label("How we will know")).to_have_value(MEASURE)
    expect(page.get_by_label("Goal", exact=True)).to_have_value(str(plan.goals.get().pk))
    assert not PlanObjective.objects.filter(plan=plan).exists()

    target.fill(f"{today + datetime.timedelta(days=30):%Y-%m-%d}")
    page.get_by_role("button", name="Save the objective").click()
    expect(page.get_by_role("status")).to_have_text("Objective saved.")
    assert PlanObjective.objects.get(plan=plan).target_on == today + datetime.timedelta(days=30)


def test_the_assessment_and_plan_pages_have_no_serious_accessibility_problems(
    page: Any, sign_in: Callable[..., None]
) -> None:
    cast = build_cast()
    today = cast.agency.today()
    for days_ago, each in ((120, 1), (30, 2)):
        signed_phq9(cast, today - datetime.timedelta(days=days_ago), each)
    problems: list[str] = []
    sign_in(page, cast.case_manager.email, PASSWORD)

    start_phq9(page, cast)
    problems += audit(page, "PHQ-9, no answers yet")
    answer(page, 1, 2)
    answer(page, 9, 1)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("7 question(s) still need an answer")
    problems += audit(page, "PHQ-9, refused to sign (item 9 flag raised)")
    page.goto(f"/assessments/client/{cast.client.pk}/trend/phq9/")
    expect(
        page.get_by_role("img", name=re.compile("scores over time")).locator("circle")
    ).to_have_count(2)
    problems += audit(page, "PHQ-9 trend")

    draft = complete_draft(client=cast.client, by=cast.case_manager)
    page.goto(f"/plans/{draft.pk}/")
    expect(page.get_by_role("heading", name="Service plan, version 1")).to_contain_text("draft")
    page.get_by_text("Add a need", exact=True).click()
    page.get_by_text("Add a goal", exact=True).click()
    problems += audit(page, "plan draft (add forms open)")
    page.get_by_role("link", name="Sign with the client").click()
    expect(page.get_by_role("heading", name="Sign the service plan, version 1")).to_be_visible()
    problems += audit(page, "plan sign")
    page.get_by_role("button", name="Sign the plan").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to sign the plan.")
    problems += audit(page, "plan sign, refused (no tick)")

    page.goto(f"/plans/{draft.pk}/objective/add/?goal={draft.goals.get().pk}")
    page.get_by_role("button", name="Save the objective").click()
    expect(page.get_by_role("alert")).to_contain_text("Please fix 3 problems")
    problems += audit(page, "add an objective, refused (nothing typed)")

    signed = sign(draft, cast.case_manager)
    page.goto(f"/plans/{signed.pk}/")
    expect(page.get_by_role("heading", name="Service plan, version 1")).to_contain_text("signed")
    page.get_by_text("Record progress").click()
    problems += audit(page, "signed plan")

    assert not problems, "\n".join(problems)
