"""The instruments and assessments API from every side: instruments as data, drafts and their
computed scores, stale saves, answers an item does not take, signing, addenda, who sees what,
and what each read leaves in the audit log."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from casework.assessments.models import Assessment, AssessmentAddendum
from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.clients.models import Client, SafetyFlag
from casework.core.models import Agency, AuditEvent, User
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast

ApiAs = Callable[[User | None], APIClient]
LIST = "/api/v1/assessments/"
INSTRUMENTS = "/api/v1/instruments/"
PHQ9_MILD = {f"q{n}": 1 for n in range(1, 8)} | {"q8": 0, "q9": 0}  # total 7: Mild


def detail(assessment: Assessment | int) -> str:
    return f"{LIST}{assessment if isinstance(assessment, int) else assessment.pk}/"


def ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def a_draft(cast: Cast, *, author: User | None = None, client: Client | None = None) -> Assessment:
    return assessment_start(
        client=client or cast.client,
        author=author or cast.case_manager,
        instrument_key="phq9",
        administered_on=cast.agency.today(),
        mode="in_person",
    )


def a_signed(
    cast: Cast, *, client: Client | None = None, answers: dict[str, int] | None = None
) -> Assessment:
    draft = a_draft(cast, client=client)
    draft, _ = assessment_save(
        assessment=draft, by=cast.case_manager, answers=answers or PHQ9_MILD, expected_version=1
    )
    return assessment_sign(assessment=draft, by=cast.case_manager)


# --- instruments -------------------------------------------------------------------------------


def test_instruments_are_listed_with_items_options_scores_and_bands(
    cast: Cast, api_as: ApiAs
) -> None:
    response = api_as(cast.case_manager).get(INSTRUMENTS)
    assert response.status_code == 200
    by_key = {i["key"]: i for i in response.json()}
    assert {"phq9", "gad7", "auditc", "dast10", "psychosocial", "ssm"} <= set(by_key)
    phq9 = by_key["phq9"]
    assert [i["key"] for i in phq9["items"]] == [f"q{n}" for n in range(1, 10)]
    assert phq9["items"][0]["options"][3] == {"value": 3, "label": "Nearly every day", "score": 3}
    assert phq9["bands"][0] == {"min": 0, "max": 4, "label": "Minimal", "severity": "none"}
    assert phq9["flags"][0]["kind"] == "suicide_risk" and phq9["flags"][0]["urgent"] is True
    assert set(by_key["auditc"]["bands_by_sex"]) == {"F", "M", "U"}


def test_a_reverse_scored_option_shows_what_it_scores(cast: Cast, api_as: ApiAs) -> None:
    dast = api_as(cast.case_manager).get(f"{INSTRUMENTS}dast10/").json()
    reversed_item = next(
        i for i in dast["items"] if any(o["score"] != o["value"] for o in i["options"])
    )
    assert sorted(o["score"] for o in reversed_item["options"]) == sorted(
        o["value"] for o in reversed_item["options"]
    )


def test_any_staff_member_reads_instruments_but_nobody_outside_an_agency(
    cast: Cast, api_as: ApiAs
) -> None:
    for user in (cast.auditor, cast.billing, cast.outsider_cm):
        assert api_as(user).get(f"{INSTRUMENTS}phq9/").status_code == 200
    assert api_as(None).get(INSTRUMENTS).status_code == 401
    assert api_as(cast.case_manager).get(f"{INSTRUMENTS}nope/").status_code == 404
    assert api_as(cast.case_manager).post(INSTRUMENTS, {}, format="json").status_code == 405


# --- who may see and change what -------------------------------------------------------------


def test_anonymous_gets_401_on_every_assessment_route(cast: Cast, api_as: ApiAs) -> None:
    signed = a_signed(cast)
    http = api_as(None)
    responses = [
        http.get(LIST),
        http.post(LIST, {"client_id": cast.client.pk, "instrument": "phq9"}, format="json"),
        http.get(detail(signed)),
        http.patch(detail(signed), {"answers": {}}, format="json"),
        http.post(f"{detail(signed)}sign/"),
        http.post(f"{detail(signed)}addenda/", {"text": "x"}, format="json"),
    ]
    assert [r.status_code for r in responses] == [401] * len(responses)


@pytest.mark.parametrize("persona", ["auditor", "billing"])
def test_roles_that_may_not_read_narratives_get_403(
    cast: Cast, api_as: ApiAs, persona: str
) -> None:
    signed = a_signed(cast)
    http = api_as(getattr(cast, persona))
    for response in (
        http.get(LIST),
        http.get(detail(signed)),
        http.post(LIST, {"client_id": cast.client.pk, "instrument": "phq9"}, format="json"),
        http.post(f"{detail(signed)}addenda/", {"text": "x"}, format="json"),
    ):
        assert response.status_code == 403
        assert "assessments" in response.json()["detail"]
    assert "PHQ" not in http.get(detail(signed)).content.decode()


def test_billing_reads_but_does_not_write_where_the_agency_allows_narratives(
    cast: Cast, api_as: ApiAs
) -> None:
    signed = a_signed(cast)
    Agency.objects.filter(pk=cast.agency.pk).update(billing_sees_narratives=True)
    http = api_as(cast.billing)
    assert http.get(detail(signed)).status_code == 200
    refused = http.post(f"{detail(signed)}addenda/", {"text": "x"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Your role can read assessments but not change them."


def test_another_agency_and_another_team_get_404_and_see_nothing(cast: Cast, api_as: ApiAs) -> None:
    signed = a_signed(cast)
    draft = a_draft(cast)
    for user in (cast.outsider_cm, cast.outsider_admin, cast.other_team_cm):
        http = api_as(user)
        listed = http.get(LIST)
        assert listed.status_code == 200 and ids(listed) == set(), user
        assert ids(http.get(LIST, {"client": cast.client.pk})) == set()
        for target in (signed, draft):
            assert http.get(detail(target)).status_code == 404
            assert (
                http.patch(detail(target), {"answers": {"q1": 3}}, format="json").status_code == 404
            )
            assert http.post(f"{detail(target)}sign/").status_code == 404
            assert (
                http.post(f"{detail(target)}addenda/", {"text": "x"}, format="json").status_code
                == 404
            )
        started = http.post(
            LIST, {"client_id": cast.client.pk, "instrument": "phq9"}, format="json"
        )
        assert started.status_code == 400
        assert started.json() == {"client_id": ["No client you may see has this id."]}
    assert Assessment.objects.get(pk=draft.pk).answers == {}
    assert not AssessmentAddendum.objects.exists()
    assert Assessment.objects.count() == 2


def test_a_colleague_sees_signed_assessments_but_not_someone_elses_draft(
    cast: Cast, api_as: ApiAs
) -> None:
    signed = a_signed(cast)
    draft = a_draft(cast)
    http = api_as(cast.colleague)
    assert ids(http.get(LIST)) == {signed.pk}
    assert http.get(detail(signed)).status_code == 200
    assert http.get(detail(draft)).status_code == 404
    assert http.patch(detail(draft), {"answers": {"q1": 3}}, format="json").status_code == 404
    assert ids(api_as(cast.case_manager).get(LIST)) == {signed.pk, draft.pk}


# --- reading is a chart read -------------------------------------------------------------------


def test_reading_an_assessment_is_audited_as_a_chart_read(cast: Cast, api_as: ApiAs) -> None:
    signed = a_signed(cast)
    response = api_as(cast.supervisor).get(detail(signed))
    assert response.status_code == 200
    assert response["ETag"] == f'"{signed.version}"'
    event = AuditEvent.objects.filter(
        action="view", actor_id=cast.supervisor.pk, client_id=cast.client.pk
    ).get()
    assert f"api assessment {signed.pk}" in event.detail


def test_listing_audits_each_client_shown_once(cast: Cast, api_as: ApiAs) -> None:
    a_signed(cast)
    a_signed(cast)
    api_as(cast.case_manager).get(LIST)
    events = AuditEvent.objects.filter(action="view", actor_id=cast.case_manager.pk)
    assert list(events.values_list("client_id", flat=True)) == [cast.client.pk]


# --- starting, saving, signing -----------------------------------------------------------------


def test_a_case_manager_starts_a_draft_with_answers_and_sees_the_computed_score(
    cast: Cast, api_as: ApiAs
) -> None:
    day = cast.agency.today() - datetime.timedelta(days=1)
    response = api_as(cast.case_manager).post(
        LIST,
        {
            "client_id": cast.client.pk,
            "instrument": "phq9",
            "administered_on": day.isoformat(),
            "mode": "phone",
            "answers": PHQ9_MILD,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assessment = Assessment.objects.get(pk=body["id"])
    assert response["ETag"] == f'"{assessment.version}"'
    assert (body["status"], body["author_id"], body["mode"]) == (
        "draft",
        cast.case_manager.pk,
        "phone",
    )
    assert body["administered_on"] == day.isoformat()
    assert (body["total"], body["band"], body["complete"], body["missing"]) == (7, "Mild", True, [])
    assert body["instrument_name"] == "Patient Health Questionnaire (PHQ-9)"
    assert assessment.answers == PHQ9_MILD
    assert AuditEvent.objects.filter(action="create", object_id=str(assessment.pk)).exists()


def test_a_partial_draft_has_no_total_and_names_what_is_missing(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST,
        {"client_id": cast.client.pk, "instrument": "phq9", "answers": {"q1": 2}},
        format="json",
    )
    body = response.json()
    assert (body["total"], body["band"], body["complete"]) == (None, None, False)
    assert body["missing"] == [f"q{n}" for n in range(2, 10)]
    assert body["administered_on"] == cast.agency.today().isoformat()
    assert body["mode"] == "in_person"


def test_an_urgent_answer_puts_the_flag_on_the_chart_at_once(cast: Cast, api_as: ApiAs) -> None:
    response = api_as(cast.case_manager).post(
        LIST,
        {"client_id": cast.client.pk, "instrument": "phq9", "answers": {"q9": 2}},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["flags"][0]["kind"] == "suicide_risk"
    assert response.json()["flags"][0]["item"] == "q9"
    assert SafetyFlag.objects.filter(
        client=cast.client, kind="suicide_risk", is_active=True
    ).exists()


def test_the_same_idempotency_key_twice_starts_one_assessment(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    headers = {"Idempotency-Key": "phq9-2026-11-retry"}
    body = {"client_id": cast.client.pk, "instrument": "phq9", "answers": {"q1": 1}}
    first = http.post(LIST, body, format="json", headers=headers)
    second = http.post(LIST, body, format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Assessment.objects.count() == 1
    other = http.post(LIST, body, format="json", headers={"Idempotency-Key": "another"})
    assert other.status_code == 201 and Assessment.objects.count() == 2
    bad = http.post(LIST, body, format="json", headers={"Idempotency-Key": "a b"})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()


def test_patch_saves_answers_and_moves_the_etag_on(cast: Cast, api_as: ApiAs) -> None:
    draft = a_draft(cast)
    http = api_as(cast.case_manager)
    etag = http.get(detail(draft))["ETag"]
    first = http.patch(
        detail(draft), {"answers": {"q1": 3, "q2": 2}}, format="json", headers={"If-Match": etag}
    )
    assert first.status_code == 200, first.json()
    assert first["ETag"] == '"2"' != etag
    second = http.patch(
        detail(draft), {"answers": {"q2": 0}}, format="json", headers={"If-Match": first["ETag"]}
    )
    assert second.status_code == 200
    assert Assessment.objects.get(pk=draft.pk).answers == {"q1": 3, "q2": 0}


def test_a_stale_if_match_is_412_and_saves_nothing(cast: Cast, api_as: ApiAs) -> None:
    draft = a_draft(cast)
    http = api_as(cast.case_manager)
    etag = http.get(detail(draft))["ETag"]
    assert http.patch(detail(draft), {"answers": {"q1": 1}}, format="json").status_code == 200
    stale = http.patch(
        detail(draft), {"answers": {"q1": 3}}, format="json", headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert "If-Match" in stale.json()["detail"]
    garbage = http.patch(
        detail(draft), {"answers": {"q1": 3}}, format="json", headers={"If-Match": '"x"'}
    )
    assert garbage.status_code == 412
    assert Assessment.objects.get(pk=draft.pk).answers == {"q1": 1}


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"q1": 4}, "answers.q1", "Choose one of the answers offered"),
        ({"q1": -1}, "answers.q1", "0 (Not at all)"),
        ({"q1": "2"}, "answers.q1", "by its value"),
        ({"q1": True}, "answers.q1", "by its value"),
        ({"q1": 1.0}, "answers.q1", "by its value"),
        ({"q1": None}, "answers.q1", "by its value"),
        ({"q10": 1}, "answers.q10", "has no item “q10”"),
    ],
)
def test_an_answer_the_item_does_not_take_is_a_400_naming_the_item(
    cast: Cast, api_as: ApiAs, answers: dict[str, Any], field: str, message: str
) -> None:
    draft = a_draft(cast)
    http = api_as(cast.case_manager)
    patched = http.patch(detail(draft), {"answers": answers}, format="json")
    assert patched.status_code == 400
    assert patched.json()["field"] == field
    assert message in patched.json()["detail"]
    created = http.post(
        LIST, {"client_id": cast.client.pk, "instrument": "phq9", "answers": answers}, format="json"
    )
    assert created.status_code == 400 and created.json()["field"] == field
    assert Assessment.objects.get().answers == {}  # only the draft made above, unchanged


def test_text_answers_are_checked_for_type_and_length(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    body = {"client_id": cast.client.pk, "instrument": "psychosocial"}
    numeric = http.post(LIST, {**body, "answers": {"presenting_issues": 5}}, format="json")
    assert numeric.status_code == 400 and numeric.json()["field"] == "answers.presenting_issues"
    long = http.post(LIST, {**body, "answers": {"presenting_issues": "x" * 20_001}}, format="json")
    assert long.status_code == 400 and "20,000" in long.json()["detail"]
    fine = http.post(
        LIST, {**body, "answers": {"presenting_issues": "Lost my flat."}}, format="json"
    )
    assert fine.status_code == 201
    assert fine.json()["answers"] == {"presenting_issues": "Lost my flat."}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"instrument": "nope"}, "instrument"),
        ({"mode": "telepathy"}, "mode"),
        ({"administered_on": "2026-13-01"}, "administered_on"),
        ({"administered_on": "2999-01-01"}, "administered_on"),
        ({"client_id": "1"}, "client_id"),
        ({"answers": ["q1"]}, "answers"),
    ],
)
def test_bad_start_input_is_a_400_naming_the_field(
    cast: Cast, api_as: ApiAs, extra: dict[str, Any], field: str
) -> None:
    body = {"client_id": cast.client.pk, "instrument": "phq9", **extra}
    response = api_as(cast.case_manager).post(LIST, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Assessment.objects.exists()


def test_signing_fixes_the_score_and_locks_the_answers(cast: Cast, api_as: ApiAs) -> None:
    draft = a_draft(cast)
    http = api_as(cast.case_manager)
    http.patch(detail(draft), {"answers": PHQ9_MILD}, format="json")
    signed = http.post(f"{detail(draft)}sign/")
    assert signed.status_code == 200, signed.json()
    body = signed.json()
    assert (body["status"], body["total"], body["band"]) == ("signed", 7, "Mild")
    assert body["signed_at"] is not None
    assert http.post(f"{detail(draft)}sign/").json() == body  # signing again changes nothing
    locked = http.patch(detail(draft), {"answers": {"q1": 3}}, format="json")
    assert locked.status_code == 409
    assert locked.json() == {
        "detail": "This assessment is signed and cannot change; add an addendum instead.",
        "field": None,
    }
    assert Assessment.objects.get(pk=draft.pk).answers == PHQ9_MILD


def test_an_incomplete_assessment_is_not_signed_and_the_first_missing_item_is_named(
    cast: Cast, api_as: ApiAs
) -> None:
    draft = a_draft(cast)
    http = api_as(cast.case_manager)
    http.patch(detail(draft), {"answers": {"q1": 1}}, format="json")
    response = http.post(f"{detail(draft)}sign/")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "8 question(s) still need an answer.",
        "field": "answers.q2",
    }
    assert Assessment.objects.get(pk=draft.pk).status == "draft"


def test_an_addendum_is_added_to_a_signed_assessment_and_not_to_a_draft(
    cast: Cast, api_as: ApiAs
) -> None:
    signed = a_signed(cast)
    http = api_as(cast.colleague)
    added = http.post(
        f"{detail(signed)}addenda/", {"text": "Client says q3 was worse."}, format="json"
    )
    assert added.status_code == 201, added.json()
    assert added.json()["text"] == "Client says q3 was worse."
    assert added.json()["author_id"] == cast.colleague.pk
    assert [a["text"] for a in http.get(detail(signed)).json()["addenda"]] == [
        "Client says q3 was worse."
    ]
    blank = http.post(f"{detail(signed)}addenda/", {"text": "  "}, format="json")
    assert blank.status_code == 400 and blank.json() == {
        "detail": "Write the addendum.",
        "field": "text",
    }
    draft = a_draft(cast)
    refused = api_as(cast.case_manager).post(
        f"{detail(draft)}addenda/", {"text": "x"}, format="json"
    )
    assert refused.status_code == 400 and "addenda are for signed" in refused.json()["detail"]


# --- list --------------------------------------------------------------------------------------


def test_the_list_filters_by_client_instrument_and_status(cast: Cast, api_as: ApiAs) -> None:
    signed = a_signed(cast)
    draft = a_draft(cast)
    second_client = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    assign(second_client, cast.case_manager)
    other = a_signed(cast, client=second_client)
    http = api_as(cast.case_manager)
    assert ids(http.get(LIST, {"client": cast.client.pk})) == {signed.pk, draft.pk}
    assert ids(http.get(LIST, {"client": second_client.pk})) == {other.pk}
    assert ids(http.get(LIST, {"status": "draft"})) == {draft.pk}
    assert ids(http.get(LIST, {"instrument": "gad7"})) == set()
    assert ids(http.get(LIST, {"client": cast.outsider_client.pk})) == set()
    for bad in ({"client": "x"}, {"status": "done"}, {"instrument": ""}):
        assert http.get(LIST, bad).status_code == 400


def _list_queries(http: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_list_runs_the_same_number_of_queries_for_1_and_5_assessments(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    http.get(LIST)  # first use of the token records last_used_at
    a_signed(cast)
    with_1 = _list_queries(http, LIST)
    for _ in range(2):
        a_signed(cast)
        a_draft(cast)
    assert len(http.get(LIST).json()["results"]) == 5
    assert _list_queries(http, LIST) == with_1
