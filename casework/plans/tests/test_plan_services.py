"""Service plans: written from the assessment, signed with the client, locked, reviewed."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.core.audit import Action
from casework.core.models import AuditEvent, StaffRole
from casework.plans import services
from casework.plans.diff import plan_changes
from casework.plans.models import (
    ObjectiveProgress,
    PlanGoal,
    PlanNeed,
    PlanObjective,
    PlanSignature,
    ServicePlan,
)
from casework.plans.selectors import attach_progress, plan_or_404
from casework.plans.services import PlanError, Signature
from casework.testing.plans import complete_draft, sign, signed_plan

pytestmark = pytest.mark.django_db


def _psychosocial(cast) -> None:
    assessment = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="psychosocial",
        administered_on=cast.agency.today(),
        mode="in_person",
    )
    answers = {
        "presenting_issues": "I keep losing my housing and I want to stop.",
        "housing_status": 4,
        "housing_notes": "Staying at the shelter on 3rd; wants a studio near her sister.",
        "income_enough": 0,
        "food_enough": 1,
        "medication_taken": 0,
        "substance_use_now": 0,
        "legal_now": 0,
        "transport": 0,
        "strengths": "Good with budgets; walks every day.",
        "suicide_risk": 0,
        "homicide_risk": 0,
        "self_harm": 0,
    }
    for key in ("benefits", "health", "mental_health", "substance_use", "legal"):
        answers[key] = "—"
    answers |= {"social_supports": "Sister", "risk_notes": "None", "recommendations": "ICM"}
    assessment, _ = assessment_save(
        assessment=assessment, by=cast.case_manager, answers=answers, expected_version=1
    )
    assessment_sign(assessment=assessment, by=cast.case_manager)


def test_a_first_plan_starts_with_the_needs_and_strengths_of_the_assessment(cast):
    _psychosocial(cast)
    plan = services.plan_start(
        client=cast.client, by=cast.case_manager, starts_on=cast.agency.today()
    )
    needs = [(n.area, n.text) for n in plan.needs.all()]
    assert needs == [
        ("mental_health", "I keep losing my housing and I want to stop."),
        ("housing", "Staying at the shelter on 3rd; wants a studio near her sister."),
        ("food", "Not always enough to eat"),
    ]
    assert plan.strengths == "Good with budgets; walks every day."
    assert all(n.source_assessment_id for n in plan.needs.all())
    assert AuditEvent.objects.filter(object_type="plans.serviceplan", action=Action.CREATE).exists()


def test_starting_twice_gives_the_same_draft(cast):
    first = services.plan_start(
        client=cast.client, by=cast.case_manager, starts_on=cast.agency.today()
    )
    again = services.plan_start(
        client=cast.client, by=cast.colleague, starts_on=cast.agency.today()
    )
    assert first.pk == again.pk and ServicePlan.objects.count() == 1


def test_a_client_with_a_signed_plan_gets_a_review_not_a_new_first_plan(cast):
    signed_plan(client=cast.client, by=cast.case_manager)
    with pytest.raises(PlanError, match="start a review"):
        services.plan_start(client=cast.client, by=cast.case_manager, starts_on=cast.agency.today())


def test_people_outside_the_agency_or_without_the_role_cannot_write_plans(cast):
    for outsider in (cast.outsider_cm, cast.billing, cast.auditor):
        with pytest.raises(PlanError, match="does not write service plans"):
            services.plan_start(client=cast.client, by=outsider, starts_on=cast.agency.today())


def test_a_target_date_before_the_plan_starts_gets_a_clear_message(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    goal = plan.goals.get()
    with pytest.raises(PlanError) as error:
        services.objective_save(
            plan=plan,
            by=cast.case_manager,
            goal_id=goal.pk,
            text="See the doctor",
            measure="Visit kept",
            target_on=plan.starts_on - datetime.timedelta(days=1),
        )
    assert error.value.field == "target_on"
    day = plan.starts_on - datetime.timedelta(days=1)
    assert f"The target date ({day:%m/%d/%Y}) is before the plan starts" in str(error.value)


def test_a_target_years_away_is_not_a_measurable_step(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    with pytest.raises(PlanError, match="not a measurable step"):
        services.objective_save(
            plan=plan,
            by=cast.case_manager,
            goal_id=plan.goals.get().pk,
            text="Own a house",
            measure="Keys",
            target_on=plan.starts_on + datetime.timedelta(days=1000),
        )


def test_moving_the_start_after_an_objective_target_is_refused(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    with pytest.raises(PlanError, match=r"target date .* would come before the plan starts"):
        services.plan_update(
            plan=plan,
            by=cast.case_manager,
            expected_revision=plan.revision,
            starts_on=plan.starts_on + datetime.timedelta(days=90),
        )


def test_a_colleague_adding_a_goal_does_not_refuse_my_typing_but_their_edit_of_it_does(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    opened = plan.revision
    services.goal_save(plan=plan, by=cast.colleague, text="Volunteer", need_id=None)
    services.plan_update(
        plan=plan,
        by=cast.case_manager,
        expected_revision=opened,
        starts_on=plan.starts_on,
        barriers="Night shifts",
    )
    plan.refresh_from_db()
    assert plan.barriers == "Night shifts"
    with pytest.raises(PlanError, match="This plan changed since you opened it"):
        services.plan_sign(
            plan=plan,
            by=cast.case_manager,
            expected_revision=opened,
            client_signature=Signature("client", "on_screen", "M", plan.agency.today()),
        )


def test_a_save_from_a_stale_page_is_refused(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    stale = plan.revision
    services.plan_update(
        plan=plan,
        by=cast.colleague,
        expected_revision=stale,
        starts_on=plan.starts_on,
        barriers="Bus fare",
    )
    with pytest.raises(PlanError, match="changed these fields since you opened the plan"):
        services.plan_update(
            plan=plan, by=cast.case_manager, expected_revision=stale, starts_on=plan.starts_on
        )
    plan.refresh_from_db()
    assert plan.barriers == "Bus fare"


def test_text_limits_and_empty_text_are_refused_with_the_field(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    with pytest.raises(PlanError, match="Write the need") as empty:
        services.need_save(plan=plan, by=cast.case_manager, area="food", text="   ")
    assert empty.value.field == "text"
    with pytest.raises(PlanError, match="at most 2,000"):
        services.need_save(plan=plan, by=cast.case_manager, area="food", text="é" * 2001)
    with pytest.raises(PlanError, match="not in the agency's service catalogue"):
        services.intervention_save(
            plan=plan,
            by=cast.case_manager,
            objective_id=plan.objectives.get().pk,
            action="Visit",
            responsible="CM",
            frequency="Weekly",
            service_code="ZZ999",
        )


def test_signing_says_everything_that_is_missing(cast):
    plan = services.plan_start(
        client=cast.client, by=cast.case_manager, starts_on=cast.agency.today()
    )
    services.goal_save(plan=plan, by=cast.case_manager, text="Feel calmer", need_id=None)
    plan.refresh_from_db()
    assert services.sign_problems(plan) == [
        "Write the client's strengths: the plan builds on them.",
        "Say how the client took part in making the plan.",
        "Add at least one need.",
        "Goal 1 needs at least one measurable objective.",
    ]
    with pytest.raises(PlanError, match="Add at least one need"):
        sign(plan, cast.case_manager)
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_signing_locks_the_plan_sets_the_review_date_and_records_both_signatures(cast):
    cast.agency.plan_review_every_days = 90
    cast.agency.save()
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    assert plan.status == "signed"
    assert plan.review_due_on == plan.starts_on + datetime.timedelta(days=90)
    roles = sorted(plan.signatures.values_list("role", "method"))
    assert roles == [("case_manager", "on_screen"), ("client", "on_screen")]
    with pytest.raises(PlanError, match="signed and cannot change"):
        services.need_save(plan=plan, by=cast.case_manager, area="food", text="Groceries")
    with pytest.raises(PlanError, match="signed and cannot change"):
        services.part_remove(
            plan=plan, by=cast.case_manager, kind="goal", item_id=plan.goals.get().pk
        )


def test_a_client_who_does_not_sign_needs_a_reason(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    declined = Signature(role="client", method="declined", name="", signed_on=plan.agency.today())
    with pytest.raises(PlanError, match="Say why the plan was not signed"):
        services.plan_sign(
            plan=plan,
            by=cast.case_manager,
            client_signature=declined,
            expected_revision=plan.revision,
        )
    plan.refresh_from_db()
    services.plan_sign(
        plan=plan,
        by=cast.case_manager,
        expected_revision=plan.revision,
        client_signature=Signature(
            role="client",
            method="declined",
            name="",
            signed_on=plan.agency.today(),
            reason="Agreed to the plan but was too unwell to sign today",
        ),
    )
    paper = services.plan_signature_add(
        plan=plan,
        by=cast.case_manager,
        signature=Signature(
            role="client",
            method="paper",
            name="María O'Connor-Núñez",
            signed_on=plan.agency.today(),
        ),
    )
    assert paper.method == "paper"
    assert plan.signatures.filter(role="client").count() == 2


def test_signature_dates_in_the_future_or_before_the_plan_are_refused(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    today = plan.agency.today()
    for day, message in (
        (today + datetime.timedelta(days=1), "cannot be dated in the future"),
        (today - datetime.timedelta(days=3), "is before the plan was written"),
    ):
        with pytest.raises(PlanError, match=message) as error:
            services.plan_sign(
                plan=plan,
                by=cast.case_manager,
                expected_revision=plan.revision,
                client_signature=Signature(role="client", method="paper", name="M", signed_on=day),
            )
        assert error.value.field == "signed_on"
        plan.refresh_from_db()


def test_the_supervisor_of_the_case_manager_signs_as_supervisor_once(cast):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    supervisor = Signature(
        role="supervisor", method="on_screen", name="", signed_on=plan.agency.today()
    )
    with pytest.raises(PlanError, match="Only a supervisor"):
        services.plan_signature_add(plan=plan, by=cast.colleague, signature=supervisor)
    added = services.plan_signature_add(plan=plan, by=cast.supervisor, signature=supervisor)
    assert (added.user, added.name) == (cast.supervisor, cast.supervisor.full_name)
    with pytest.raises(PlanError, match="supervisor's signature is already recorded"):
        services.plan_signature_add(plan=plan, by=cast.supervisor, signature=supervisor)


def test_a_review_copies_the_plan_into_version_2_with_the_same_keys(cast):
    first = signed_plan(client=cast.client, by=cast.case_manager, goals=2)
    review = services.plan_review_start(plan=first, by=cast.case_manager, starts_on=first.starts_on)
    assert (review.number, review.previous_id, review.status) == (2, first.pk, "draft")
    assert review.strengths == first.strengths

    def keys(plan, model):
        return sorted(str(k) for k in model.objects.filter(plan=plan).values_list("key", flat=True))

    for model in (PlanNeed, PlanGoal, PlanObjective):
        assert keys(review, model) == keys(first, model)
    again = services.plan_review_start(plan=first, by=cast.colleague, starts_on=first.starts_on)
    assert again.pk == review.pk


def test_a_review_shows_what_changed(cast):
    first = signed_plan(client=cast.client, by=cast.case_manager)
    review = services.plan_review_start(plan=first, by=cast.case_manager, starts_on=first.starts_on)
    objective = review.objectives.get()
    services.objective_save(
        plan=review,
        by=cast.case_manager,
        goal_id=objective.goal_id,
        objective_id=objective.pk,
        text="Apply to three housing programs",
        measure=objective.measure,
        target_on=objective.target_on,
    )
    services.goal_save(plan=review, by=cast.case_manager, text="See my sister weekly", need_id=None)
    services.part_remove(
        plan=review, by=cast.case_manager, kind="need", item_id=review.needs.get().pk
    )
    changes = [(c.kind, c.what) for c in plan_changes(first, review)]
    # The goal lost its need with it: that shows as a move.
    assert changes == [
        ("removed", "Need"),
        ("changed", "Goal"),
        ("added", "Goal"),
        ("changed", "Objective"),
    ]
    changed = plan_changes(first, review)[3]
    assert changed.subject == "Apply to two housing programs"
    assert [(f.label, f.before, f.after) for f in changed.fields] == [
        ("text", "Apply to two housing programs", "Apply to three housing programs")
    ]
    first.refresh_from_db()
    assert first.objectives.get().text == "Apply to two housing programs"


def test_only_the_current_signed_plan_can_be_reviewed_and_not_before_it_starts(cast):
    first = signed_plan(client=cast.client, by=cast.case_manager)
    with pytest.raises(PlanError, match="before the plan it reviews"):
        services.plan_review_start(
            plan=first, by=cast.case_manager, starts_on=first.starts_on - datetime.timedelta(days=1)
        )
    second = services.plan_review_start(plan=first, by=cast.case_manager, starts_on=first.starts_on)
    with pytest.raises(PlanError, match="Say how the client took part"):
        sign(second, cast.case_manager)
    second = services.plan_update(
        plan=second,
        by=cast.case_manager,
        expected_revision=second.revision,
        starts_on=second.starts_on,
        participation="Reviewed together at her apartment.",
    )
    sign(second, cast.case_manager)
    with pytest.raises(PlanError, match="Only the current signed plan"):
        services.plan_review_start(plan=first, by=cast.case_manager, starts_on=first.starts_on)


def test_progress_on_an_objective_follows_it_into_the_next_version(cast):
    first = signed_plan(client=cast.client, by=cast.case_manager)
    key = first.objectives.get().key
    services.objective_status_set(
        client=cast.client, by=cast.case_manager, objective_key=key, status="progressing"
    )
    review = services.plan_review_start(plan=first, by=cast.case_manager, starts_on=first.starts_on)
    review = plan_or_404(cast.case_manager, review.pk)
    attach_progress(review)
    objective = review.goals.all()[0].objectives.all()[0]
    assert objective.status_now == "Progressing"
    with pytest.raises(PlanError, match="not in this client's current signed plan"):
        services.objective_status_set(
            client=cast.other_client, by=cast.case_manager, objective_key=key, status="met"
        )
    with pytest.raises(PlanError, match="Choose the objective's status"):
        services.objective_status_set(
            client=cast.client, by=cast.case_manager, objective_key=key, status="done"
        )


def test_a_draft_can_be_discarded_but_a_signed_plan_cannot(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    services.plan_discard(plan=plan, by=cast.case_manager)
    assert not ServicePlan.objects.exists() and not PlanGoal.objects.exists()
    signed = signed_plan(client=cast.client, by=cast.case_manager)
    with pytest.raises(PlanError, match="signed and cannot change"):
        services.plan_discard(plan=signed, by=cast.case_manager)


def _refused(sql: str, params: list) -> None:
    with (
        pytest.raises((IntegrityError, DatabaseError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_the_database_refuses_changes_to_a_signed_plan(cast):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    goal = plan.goals.get()
    _refused("UPDATE plans_serviceplan SET strengths = 'x' WHERE id = %s", [plan.pk])
    _refused("UPDATE plans_plangoal SET text = 'x' WHERE id = %s", [goal.pk])
    _refused(
        "INSERT INTO plans_plangoal (agency_id, plan_id, key, position, text, need_id) "
        "VALUES (%s, %s, %s, 9, 'sneaked in', NULL)",
        [plan.agency_id, plan.pk, "0" * 32],
    )
    _refused("UPDATE plans_plansignature SET name = 'x' WHERE plan_id = %s", [plan.pk])
    plan.refresh_from_db()
    assert plan.goals.get().text == goal.text


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps DELETE for test flushes"
)
def test_postgres_refuses_deleting_a_signed_plan_or_its_parts(cast):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    _refused("DELETE FROM plans_planintervention WHERE plan_id = %s", [plan.pk])
    _refused("DELETE FROM plans_serviceplan WHERE id = %s", [plan.pk])
    progress = services.objective_status_set(
        client=cast.client,
        by=cast.case_manager,
        objective_key=plan.objectives.get().key,
        status="met",
    )
    _refused("DELETE FROM plans_objectiveprogress WHERE id = %s", [progress.pk])
    assert ObjectiveProgress.objects.filter(pk=progress.pk).exists()
    assert PlanSignature.objects.filter(plan=plan).count() == 2


def test_a_start_date_far_from_today_is_refused_with_a_clear_message(cast):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    for start in (
        datetime.date(9999, 12, 20),
        datetime.date(2205, 1, 1),
        datetime.date(2020, 1, 1),
    ):
        with pytest.raises(PlanError, match="Check the year") as error:
            services.plan_update(
                plan=plan, by=cast.case_manager, expected_revision=plan.revision, starts_on=start
            )
        assert error.value.field == "starts_on"


def test_a_supervisor_who_signed_as_case_manager_cannot_also_sign_as_supervisor(cast):
    StaffRole.objects.create(agency=cast.agency, user=cast.supervisor, role="case_manager")
    cast.supervisor.__dict__.pop("roles", None)
    plan = signed_plan(client=cast.client, by=cast.supervisor)
    assert not services.may_sign_as_supervisor(cast.supervisor, plan)
    with pytest.raises(PlanError, match="Only a supervisor"):
        services.plan_signature_add(
            plan=plan,
            by=cast.supervisor,
            signature=Signature("supervisor", "on_screen", "", plan.agency.today()),
        )


def test_progress_is_only_recorded_on_the_current_signed_plan(cast):
    first = signed_plan(client=cast.client, by=cast.case_manager)
    review = services.plan_review_start(plan=first, by=cast.case_manager, starts_on=first.starts_on)
    added = services.objective_save(
        plan=review,
        by=cast.case_manager,
        goal_id=review.goals.get().pk,
        text="Only in the draft",
        measure="x",
        target_on=review.starts_on,
    )
    with pytest.raises(PlanError, match="not in this client's current signed plan"):
        services.objective_status_set(
            client=cast.client, by=cast.case_manager, objective_key=added.key, status="met"
        )
    with pytest.raises(PlanError, match="not in this client's plan"):
        services.objective_status_set(
            client=cast.client, by=cast.case_manager, objective_key="nonsense", status="met"
        )


def test_a_move_to_another_goal_shows_in_the_review(cast):
    first = signed_plan(client=cast.client, by=cast.case_manager, goals=2)
    review = services.plan_review_start(plan=first, by=cast.case_manager, starts_on=first.starts_on)
    goals = list(review.goals.all())
    objective = goals[0].objectives.get()
    services.objective_save(
        plan=review,
        by=cast.case_manager,
        goal_id=goals[1].pk,
        objective_id=objective.pk,
        text=objective.text,
        measure=objective.measure,
        target_on=objective.target_on,
    )
    [change] = plan_changes(first, review)
    assert (change.what, change.fields[0].label) == ("Objective", "moved from goal")
    assert (change.fields[0].before, change.fields[0].after) == (goals[0].text, goals[1].text)


def test_merging_a_record_with_a_signed_plan_is_refused_clearly_and_changes_nothing(cast):
    from casework.clients.services import ClientError, client_merge

    plan = signed_plan(client=cast.other_client, by=cast.case_manager)
    with pytest.raises(ClientError, match=r"has signed .* which are locked"):
        client_merge(survivor=cast.client, duplicate=cast.other_client, by=cast.admin)
    plan.refresh_from_db()
    cast.other_client.refresh_from_db()
    assert plan.client_id == cast.other_client.pk and cast.other_client.status != "merged"
