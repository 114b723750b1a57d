"""The service plans API from every side: a draft written part by part, stale saves, signing with
the client, the lock (409 with the reason), signatures after signing, progress on objectives,
reviews, who sees what, and what each read leaves in the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.clients.models import Client
from casework.core.models import Agency, AuditEvent, User
from casework.plans.models import (
    ObjectiveProgress,
    PlanGoal,
    PlanNeed,
    PlanObjective,
    PlanSignature,
    ServicePlan,
)
from casework.plans.services import objective_status_set, plan_review_start
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast
from casework.testing.plans import complete_draft, sign, signed_plan

ApiAs = Callable[[User | None], APIClient]
LIST = "/api/v1/plans/"
SIGNED_MESSAGE = "This plan is signed and cannot change; start a review instead."


def detail(plan: ServicePlan | int) -> str:
    return f"{LIST}{plan if isinstance(plan, int) else plan.pk}/"


def ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def client_signature(cast: Cast, **extra: Any) -> dict[str, Any]:
    return {"attest": True, "method": "on_screen", "name": cast.client.legal_name, **extra}


def a_client_of(cast: Cast, user: User) -> Client:
    client = ClientFactory(agency=cast.agency, created_by=user)
    assign(client, user)
    return client


# --- who may see and change what -------------------------------------------------------------


def test_anonymous_gets_401_on_every_plan_route(cast: Cast, api_as: ApiAs) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    goal = plan.goals.get()
    http = api_as(None)
    responses = [
        http.get(LIST),
        http.post(LIST, {"client_id": cast.client.pk}, format="json"),
        http.get(detail(plan)),
        http.patch(detail(plan), {"barriers": "x"}, format="json"),
        http.post(f"{detail(plan)}parts/", {"kind": "need"}, format="json"),
        http.delete(f"{detail(plan)}parts/goal/{goal.pk}/"),
        http.post(f"{detail(plan)}sign/", client_signature(cast), format="json"),
        http.post(f"{detail(plan)}signatures/", {"role": "supervisor"}, format="json"),
        http.post(f"{detail(plan)}objective-progress/", {}, format="json"),
        http.post(f"{detail(plan)}review/", {}, format="json"),
    ]
    assert [r.status_code for r in responses] == [401] * len(responses)


@pytest.mark.parametrize("persona", ["auditor", "billing"])
def test_roles_that_may_not_read_narratives_get_403(
    cast: Cast, api_as: ApiAs, persona: str
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    http = api_as(getattr(cast, persona))
    for response in (
        http.get(LIST),
        http.get(detail(plan)),
        http.post(LIST, {"client_id": cast.client.pk}, format="json"),
        http.post(f"{detail(plan)}review/", {}, format="json"),
    ):
        assert response.status_code == 403
        assert "service plans" in response.json()["detail"]
    assert "apartment" not in http.get(detail(plan)).content.decode()


def test_billing_reads_plans_but_does_not_write_where_the_agency_allows_narratives(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    Agency.objects.filter(pk=cast.agency.pk).update(billing_sees_narratives=True)
    http = api_as(cast.billing)
    assert http.get(detail(plan)).status_code == 200
    refused = http.post(f"{detail(plan)}review/", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Your role can read service plans but not change them."


def test_another_agency_and_another_team_get_404_and_change_nothing(
    cast: Cast, api_as: ApiAs
) -> None:
    signed = signed_plan(client=cast.client, by=cast.case_manager)
    draft = plan_review_start(plan=signed, by=cast.case_manager, starts_on=cast.agency.today())
    objective = signed.objectives.get()
    revisions = {p.pk: p.revision for p in ServicePlan.objects.all()}
    for user in (cast.outsider_cm, cast.outsider_admin, cast.other_team_cm):
        http = api_as(user)
        assert ids(http.get(LIST)) == set(), user
        assert ids(http.get(LIST, {"client": cast.client.pk})) == set()
        for plan in (signed, draft):
            goal = plan.goals.get()
            assert http.get(detail(plan)).status_code == 404
            assert http.patch(detail(plan), {"barriers": "x"}, format="json").status_code == 404
            assert (
                http.post(
                    f"{detail(plan)}parts/",
                    {"kind": "need", "area": "food", "text": "x"},
                    format="json",
                ).status_code
                == 404
            )
            assert http.delete(f"{detail(plan)}parts/goal/{goal.pk}/").status_code == 404
            assert (
                http.post(f"{detail(plan)}sign/", client_signature(cast), format="json").status_code
                == 404
            )
            assert (
                http.post(
                    f"{detail(plan)}signatures/", {"role": "supervisor"}, format="json"
                ).status_code
                == 404
            )
            assert (
                http.post(
                    f"{detail(plan)}objective-progress/",
                    {"objective_id": objective.pk, "status": "met"},
                    format="json",
                ).status_code
                == 404
            )
            assert http.post(f"{detail(plan)}review/", {}, format="json").status_code == 404
        started = http.post(LIST, {"client_id": cast.client.pk}, format="json")
        assert started.status_code == 400
        assert started.json() == {"client_id": ["No client you may see has this id."]}
    assert {p.pk: p.revision for p in ServicePlan.objects.all()} == revisions
    assert not ObjectiveProgress.objects.exists()
    assert PlanSignature.objects.filter(plan=signed).count() == 2


# --- reading -----------------------------------------------------------------------------------


def test_a_plan_is_read_with_everything_in_it_and_each_objectives_status(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager, goals=2)
    first = plan.objectives.order_by("position").first()
    assert first is not None
    objective_status_set(
        client=cast.client,
        by=cast.case_manager,
        objective_key=first.key,
        status="progressing",
        comment="One application in.",
    )
    response = api_as(cast.colleague).get(detail(plan))
    assert response.status_code == 200
    assert response["ETag"] == f'"{plan.revision}"'
    body = response.json()
    assert (body["status"], body["number"], body["client_id"]) == ("signed", 1, cast.client.pk)
    assert body["strengths"].startswith("Keeps a daily routine")
    assert [n["area"] for n in body["needs"]] == ["housing"]
    assert len(body["goals"]) == 2
    objectives = [o for g in body["goals"] for o in g["objectives"]]
    assert [o["status"] for o in objectives] == ["progressing", "not_started"]
    assert objectives[0]["status_comment"] == "One application in."
    assert objectives[0]["status_recorded_at"] is not None
    assert objectives[0]["key"] == str(first.key)
    assert objectives[0]["interventions"][0]["action"] == "Help fill in the applications"
    assert {s["role"] for s in body["signatures"]} == {"client", "case_manager"}
    event = AuditEvent.objects.filter(action="view", actor_id=cast.colleague.pk).get()
    assert f"api service plan {plan.pk}" in event.detail


# --- a draft, part by part ---------------------------------------------------------------------


def test_a_first_plan_is_started_once(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    start = (cast.agency.today() + datetime.timedelta(days=1)).isoformat()
    first = http.post(LIST, {"client_id": cast.client.pk, "starts_on": start}, format="json")
    assert first.status_code == 201, first.json()
    assert (first.json()["status"], first.json()["starts_on"]) == ("draft", start)
    again = http.post(LIST, {"client_id": cast.client.pk}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert ServicePlan.objects.count() == 1


def test_a_client_with_a_signed_plan_gets_a_review_instead(cast: Cast, api_as: ApiAs) -> None:
    signed_plan(client=cast.client, by=cast.case_manager)
    response = api_as(cast.case_manager).post(LIST, {"client_id": cast.client.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This client already has a signed plan; start a review of it instead.",
        "field": None,
    }


def test_a_draft_is_written_part_by_part_and_signed(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    plan_id = http.post(LIST, {"client_id": cast.client.pk}, format="json").json()["id"]
    parts = f"{detail(plan_id)}parts/"
    etag = http.get(detail(plan_id))["ETag"]
    fields = http.patch(
        detail(plan_id),
        {"strengths": "Walks every day.", "participation": "Chose the goals herself."},
        format="json",
        headers={"If-Match": etag},
    )
    assert fields.status_code == 200, fields.json()
    need = http.post(parts, {"kind": "need", "area": "housing", "text": "A flat"}, format="json")
    assert need.status_code == 201, need.json()
    assert need.json()["kind"] == "need"
    need_id = need.json()["id"]
    goal = http.post(
        parts, {"kind": "goal", "text": "My own place", "need_id": need_id}, format="json"
    )
    target = (cast.agency.today() + datetime.timedelta(days=30)).isoformat()
    objective = http.post(
        parts,
        {
            "kind": "objective",
            "goal_id": goal.json()["id"],
            "text": "Apply to two programs",
            "measure": "Two applications",
            "target_on": target,
        },
        format="json",
    )
    assert objective.status_code == 201, objective.json()
    intervention = http.post(
        parts,
        {
            "kind": "intervention",
            "objective_id": objective.json()["id"],
            "action": "Help with the forms",
            "responsible": "Case manager",
            "frequency": "Weekly",
        },
        format="json",
    )
    assert intervention.status_code == 201, intervention.json()
    plan = intervention.json()["plan"]
    assert intervention["ETag"] == f'"{plan["revision"]}"'
    assert plan["goals"][0]["need_id"] == need_id
    assert plan["goals"][0]["objectives"][0]["interventions"][0]["frequency"] == "Weekly"
    signed = http.post(
        f"{detail(plan_id)}sign/",
        client_signature(cast),
        format="json",
        headers={"If-Match": intervention["ETag"]},
    )
    assert signed.status_code == 200, signed.json()
    body = signed.json()
    assert body["status"] == "signed" and body["signed_by_id"] == cast.case_manager.pk
    assert body["review_due_on"] is not None
    assert {s["role"] for s in body["signatures"]} == {"client", "case_manager"}


def test_a_part_is_changed_with_its_id_and_the_fields_left_out_keep_their_values(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    objective = plan.objectives.get()
    response = api_as(cast.case_manager).post(
        f"{detail(plan)}parts/",
        {"kind": "objective", "id": objective.pk, "measure": "Three applications"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    objective.refresh_from_db()
    assert (objective.measure, objective.text) == (
        "Three applications",
        "Apply to two housing programs",
    )
    assert PlanObjective.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "need", "text": "x"}, "area", "A new need needs this field."),
        (
            {"kind": "need", "area": "food", "text": "x", "goal_id": 1},
            "goal_id",
            "A need has no goal_id",
        ),
        ({"kind": "need", "area": "moon", "text": "x"}, "area", "is not a valid choice"),
        ({"kind": "goal", "text": "x" * 2001}, "text", "no more than 2000 characters"),
        ({"kind": "wish"}, "kind", "is not a valid choice"),
        (
            {
                "kind": "objective",
                "goal_id": 1,
                "text": "x",
                "measure": "y",
                "target_on": "2026-02-30",
            },
            "target_on",
            "wrong format",
        ),
    ],
)
def test_bad_part_input_is_a_400_naming_the_field(
    cast: Cast, api_as: ApiAs, body: dict[str, Any], field: str, message: str
) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    revision = plan.revision
    response = api_as(cast.case_manager).post(f"{detail(plan)}parts/", body, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert ServicePlan.objects.get(pk=plan.pk).revision == revision


def test_a_rule_of_the_plan_is_a_400_with_the_message_and_the_field(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    http = api_as(cast.case_manager)
    early = (plan.starts_on - datetime.timedelta(days=1)).isoformat()
    goal = plan.goals.get()
    response = http.post(
        f"{detail(plan)}parts/",
        {"kind": "objective", "goal_id": goal.pk, "text": "x", "measure": "y", "target_on": early},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "target_on"
    assert "is before the plan starts" in response.json()["detail"]
    objective = plan.objectives.get()
    uncatalogued = http.post(
        f"{detail(plan)}parts/",
        {
            "kind": "intervention",
            "objective_id": objective.pk,
            "action": "Drive to the clinic",
            "responsible": "Case manager",
            "frequency": "Monthly",
            "service_code": "zz999",
        },
        format="json",
    )
    assert uncatalogued.status_code == 400
    assert uncatalogued.json() == {
        "detail": "ZZ999 is not in the agency's service catalogue.",
        "field": "service_code",
    }
    blank = http.post(f"{detail(plan)}parts/", {"kind": "goal", "text": "   "}, format="json")
    assert blank.status_code == 400 and blank.json() == {"text": ["This field may not be blank."]}


def test_a_part_cannot_hang_under_a_part_of_another_plan(cast: Cast, api_as: ApiAs) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    elsewhere = complete_draft(client=a_client_of(cast, cast.case_manager), by=cast.case_manager)
    foreign_goal = elsewhere.goals.get()
    http = api_as(cast.case_manager)
    response = http.post(
        f"{detail(plan)}parts/",
        {
            "kind": "objective",
            "goal_id": foreign_goal.pk,
            "text": "x",
            "measure": "y",
            "target_on": plan.starts_on.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "This plan has no goal with this id.", "field": "goal_id"}
    changed = http.post(
        f"{detail(plan)}parts/",
        {"kind": "goal", "id": foreign_goal.pk, "text": "Mine now"},
        format="json",
    )
    assert changed.status_code == 400 and changed.json()["field"] == "id"
    assert PlanGoal.objects.get(pk=foreign_goal.pk).text != "Mine now"


def test_removing_a_part_removes_what_hangs_under_it(cast: Cast, api_as: ApiAs) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager, goals=2)
    goal = plan.goals.order_by("position").first()
    assert goal is not None
    http = api_as(cast.case_manager)
    response = http.delete(f"{detail(plan)}parts/goal/{goal.pk}/")
    assert response.status_code == 200, response.json()
    assert len(response.json()["goals"]) == 1
    assert response["ETag"] == f'"{response.json()["revision"]}"'
    assert not PlanObjective.objects.filter(goal_id=goal.pk).exists()
    assert http.delete(f"{detail(plan)}parts/goal/{goal.pk}/").status_code == 404
    assert http.delete(f"{detail(plan)}parts/wish/1/").status_code == 404
    assert http.delete(f"{detail(plan)}parts/goal/abc/").status_code == 404


def test_a_stale_if_match_is_412_and_saves_nothing(cast: Cast, api_as: ApiAs) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    http, colleague = api_as(cast.case_manager), api_as(cast.colleague)
    etag = http.get(detail(plan))["ETag"]
    assert (
        colleague.patch(detail(plan), {"barriers": "No bus pass"}, format="json").status_code == 200
    )
    stale = http.patch(
        detail(plan), {"barriers": "No phone"}, format="json", headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert "If-Match" in stale.json()["detail"]
    garbage = http.patch(
        detail(plan), {"barriers": "No phone"}, format="json", headers={"If-Match": '"9999"'}
    )
    assert garbage.status_code == 412
    plan.refresh_from_db()
    assert (plan.barriers, plan.status) == ("No bus pass", "draft")


def test_a_part_added_meanwhile_is_no_conflict_for_the_fields_but_is_for_signing(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    http = api_as(cast.case_manager)
    etag = http.get(detail(plan))["ETag"]
    added = api_as(cast.colleague).post(
        f"{detail(plan)}parts/", {"kind": "need", "area": "food", "text": "Food"}, format="json"
    )
    assert added.status_code == 201
    saved = http.patch(
        detail(plan), {"barriers": "No phone"}, format="json", headers={"If-Match": etag}
    )
    assert saved.status_code == 200, saved.json()
    stale_sign = http.post(
        f"{detail(plan)}sign/", client_signature(cast), format="json", headers={"If-Match": etag}
    )
    assert stale_sign.status_code == 412
    plan.refresh_from_db()
    assert (plan.barriers, plan.status) == ("No phone", "draft")


# --- signed means locked -------------------------------------------------------------------------


def test_a_signed_plan_refuses_every_change_with_409_and_the_reason(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    goal = plan.goals.get()
    http = api_as(cast.case_manager)
    responses = [
        http.patch(detail(plan), {"barriers": "No phone"}, format="json"),
        http.post(
            f"{detail(plan)}parts/", {"kind": "need", "area": "food", "text": "x"}, format="json"
        ),
        http.post(
            f"{detail(plan)}parts/", {"kind": "goal", "id": goal.pk, "text": "x"}, format="json"
        ),
        http.delete(f"{detail(plan)}parts/goal/{goal.pk}/"),
        http.post(f"{detail(plan)}sign/", client_signature(cast), format="json"),
    ]
    for response in responses:
        assert response.status_code == 409
        assert response.json() == {"detail": SIGNED_MESSAGE, "field": None}
    assert ServicePlan.objects.get(pk=plan.pk).barriers == ""
    assert PlanGoal.objects.filter(pk=goal.pk).exists()
    assert not PlanNeed.objects.filter(plan=plan, area="food").exists()


def test_an_unfinished_draft_is_not_signed_and_says_what_is_missing(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    plan_id = http.post(LIST, {"client_id": cast.client.pk}, format="json").json()["id"]
    response = http.post(f"{detail(plan_id)}sign/", client_signature(cast), format="json")
    assert response.status_code == 400
    assert "Write the client's strengths" in response.json()["detail"]
    assert "Add at least one goal." in response.json()["detail"]
    unticked = http.post(
        f"{detail(plan_id)}sign/", client_signature(cast, attest=False), format="json"
    )
    assert unticked.status_code == 400 and unticked.json() == {
        "attest": ["Tick the attestation to sign."]
    }
    assert ServicePlan.objects.get(pk=plan_id).status == "draft"


def test_a_declined_client_signature_needs_a_reason(cast: Cast, api_as: ApiAs) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    http = api_as(cast.case_manager)
    refused = http.post(
        f"{detail(plan)}sign/", client_signature(cast, method="declined"), format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Say why the plan was not signed.", "field": "reason"}
    future = (cast.agency.today() + datetime.timedelta(days=2)).isoformat()
    dated = http.post(
        f"{detail(plan)}sign/", client_signature(cast, signed_on=future), format="json"
    )
    assert dated.status_code == 400 and dated.json()["field"] == "signed_on"
    done = http.post(
        f"{detail(plan)}sign/",
        client_signature(cast, method="declined", reason="Wants to read it at home first."),
        format="json",
    )
    assert done.status_code == 200, done.json()


# --- after signing: signatures, progress, review ---------------------------------------------


def test_the_supervisor_signs_after_and_a_case_manager_cannot_sign_as_supervisor(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    refused = api_as(cast.colleague).post(
        f"{detail(plan)}signatures/", {"role": "supervisor"}, format="json"
    )
    assert refused.status_code == 403
    done = api_as(cast.supervisor).post(
        f"{detail(plan)}signatures/", {"role": "supervisor"}, format="json"
    )
    assert done.status_code == 201, done.json()
    assert (done.json()["role"], done.json()["user_id"]) == ("supervisor", cast.supervisor.pk)
    again = api_as(cast.supervisor).post(
        f"{detail(plan)}signatures/", {"role": "supervisor"}, format="json"
    )
    assert again.status_code == 400
    assert again.json() == {
        "detail": "The supervisor's signature is already recorded.",
        "field": "role",
    }


def test_a_draft_takes_no_later_signature(cast: Cast, api_as: ApiAs) -> None:
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    response = api_as(cast.case_manager).post(
        f"{detail(plan)}signatures/",
        {"role": "guardian", "method": "paper", "name": "Ann"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Sign the plan first; other signatures follow."


def test_progress_is_recorded_on_an_objective_of_the_signed_plan(cast: Cast, api_as: ApiAs) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    objective = plan.objectives.get()
    http = api_as(cast.colleague)
    url = f"{detail(plan)}objective-progress/"
    response = http.post(
        url, {"objective_id": objective.pk, "status": "met", "comment": "Both sent."}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["status_comment"]) == ("met", "Both sent.")
    assert http.get(detail(plan)).json()["goals"][0]["objectives"][0]["status"] == "met"
    other = signed_plan(client=a_client_of(cast, cast.case_manager), by=cast.case_manager)
    foreign = http.post(
        url, {"objective_id": other.objectives.get().pk, "status": "met"}, format="json"
    )
    assert foreign.status_code == 400 and foreign.json()["field"] == "objective_id"
    bad = http.post(url, {"objective_id": objective.pk, "status": "done"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()
    draft = complete_draft(client=a_client_of(cast, cast.case_manager), by=cast.case_manager)
    on_draft = http.post(
        f"{detail(draft)}objective-progress/",
        {"objective_id": draft.objectives.get().pk, "status": "met"},
        format="json",
    )
    assert on_draft.status_code == 400 and "draft is not in effect" in on_draft.json()["detail"]
    assert ObjectiveProgress.objects.count() == 1


def test_a_review_copies_the_plan_and_progress_follows_the_objective(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    objective = plan.objectives.get()
    objective_status_set(
        client=cast.client, by=cast.case_manager, objective_key=objective.key, status="progressing"
    )
    http = api_as(cast.case_manager)
    review = http.post(f"{detail(plan)}review/", {}, format="json")
    assert review.status_code == 201, review.json()
    body = review.json()
    assert (body["number"], body["previous_id"], body["status"]) == (2, plan.pk, "draft")
    copied = body["goals"][0]["objectives"][0]
    assert (copied["key"], copied["status"]) == (str(objective.key), "progressing")
    again = http.post(f"{detail(plan)}review/", {}, format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    review_plan = ServicePlan.objects.get(pk=body["id"])
    http.patch(detail(review_plan), {"participation": "Reviewed it together."}, format="json")
    sign(ServicePlan.objects.get(pk=body["id"]), cast.case_manager)
    old = http.post(f"{detail(plan)}review/", {}, format="json")
    assert old.status_code == 400
    assert old.json()["detail"] == "Only the current signed plan can be reviewed."


# --- list --------------------------------------------------------------------------------------


def test_the_list_filters_by_client_and_status(cast: Cast, api_as: ApiAs) -> None:
    signed = signed_plan(client=cast.client, by=cast.case_manager)
    other_client = a_client_of(cast, cast.case_manager)
    draft = complete_draft(client=other_client, by=cast.case_manager)
    http = api_as(cast.case_manager)
    assert ids(http.get(LIST)) == {signed.pk, draft.pk}
    assert ids(http.get(LIST, {"client": other_client.pk})) == {draft.pk}
    assert ids(http.get(LIST, {"status": "signed"})) == {signed.pk}
    assert ids(http.get(LIST, {"client": cast.outsider_client.pk})) == set()
    for bad in ({"client": "x"}, {"status": "done"}, {"client": ""}):
        assert http.get(LIST, bad).status_code == 400
    events = AuditEvent.objects.filter(action="view", actor_id=cast.case_manager.pk)
    assert set(events.values_list("client_id", flat=True)) == {cast.client.pk, other_client.pk}


def _list_queries(http: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_list_runs_the_same_number_of_queries_for_1_and_5_plans(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    http.get(LIST)  # first use of the token records last_used_at
    first = signed_plan(client=cast.client, by=cast.case_manager, goals=2)
    objective_status_set(
        client=cast.client,
        by=cast.case_manager,
        objective_key=first.objectives.first().key,  # type: ignore[union-attr]
        status="progressing",
    )
    with_1 = _list_queries(http, LIST)
    plan_review_start(plan=first, by=cast.case_manager, starts_on=cast.agency.today())
    for goals in (1, 2, 3):
        signed_plan(client=a_client_of(cast, cast.case_manager), by=cast.case_manager, goals=goals)
    assert len(http.get(LIST).json()["results"]) == 5
    assert _list_queries(http, LIST) == with_1


def test_the_schema_documents_the_part_routes(cast: Cast) -> None:
    from django.test import Client as HttpClient

    schema = HttpClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    add = schema["paths"]["/api/v1/plans/{id}/parts/"]["post"]
    remove = schema["paths"]["/api/v1/plans/{id}/parts/{kind}/{item_id}/"]["delete"]
    assert "409" in add["responses"] and "409" in remove["responses"]
    kind = next(p for p in remove["parameters"] if p["name"] == "kind")
    assert sorted(kind["schema"]["enum"]) == ["goal", "intervention", "need", "objective"]
    assert "412" in schema["paths"]["/api/v1/plans/{id}/"]["patch"]["responses"]
