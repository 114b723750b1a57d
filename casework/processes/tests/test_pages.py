"""The pages of guided processes: the chart card, My day, a step's form, the board and the
admin's definitions, with query counts that do not grow with the number of processes."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.processes.models import ProcessDefinition, ProcessInstance, ProcessStep
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast
from casework.testing.processes import install_standard, start

KEY = "involuntary_treatment_referral"


def _queries(http: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_a_case_manager_starts_a_process_from_the_chart_and_sees_its_first_step(
    cast: Cast, http_as: Any
) -> None:
    install_standard(cast)
    http = http_as(cast.case_manager)
    definition = ProcessDefinition.objects.get(agency=cast.agency, key=KEY)
    response = http.post(f"/clients/{cast.client.pk}/processes/", {"definition": definition.pk})
    instance = ProcessInstance.objects.get(client=cast.client)
    assert response["Location"] == f"/processes/{instance.pk}/"
    body = http.get(response["Location"]).content.decode()
    assert "Document what you observed" in body and "Call the designated crisis responder" in body
    chart = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert "Involuntary-treatment referral" in chart and "Document what you observed" in chart
    assert f"/automation/clients/{cast.client.pk}/" in chart  # reminders and automation switches
    my_day = http.get("/").content.decode()
    assert "Document what you observed" in my_day
    assert "Involuntary-treatment referral step" in my_day


def test_starting_twice_opens_the_running_process(cast: Cast, http_as: Any) -> None:
    install_standard(cast)
    http = http_as(cast.case_manager)
    definition = ProcessDefinition.objects.get(agency=cast.agency, key=KEY)
    url = f"/clients/{cast.client.pk}/processes/"
    first = http.post(url, {"definition": definition.pk})
    second = http.post(url, {"definition": definition.pk})
    assert first["Location"] == second["Location"]
    assert ProcessInstance.objects.filter(client=cast.client).count() == 1


def test_a_step_form_keeps_what_was_typed_and_names_what_is_missing(
    cast: Cast, http_as: Any
) -> None:
    install_standard(cast)
    instance = start(cast, KEY)
    step = instance.steps.get()
    http = http_as(cast.case_manager)
    url = f"/processes/{instance.pk}/steps/{step.pk}/"
    response = http.post(
        url, {"behaviour": "Pacing, talking to «voices» 🙉", "danger_to_self": "no"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Pacing, talking to «voices» 🙉" in body
    assert "This field is required" in body
    step.refresh_from_db()
    assert step.status == ProcessStep.Status.OPEN


def test_a_double_submitted_step_is_done_once(cast: Cast, http_as: Any) -> None:
    install_standard(cast)
    instance = start(cast, KEY)
    step = instance.steps.get()
    http = http_as(cast.case_manager)
    answers = {
        "observed_at": "2026-12-03T09:30",
        "behaviour": "Refusing food",
        "danger_to_self": "no",
        "danger_to_others": "no",
        "grave_disability": "yes",
    }
    url = f"/processes/{instance.pk}/steps/{step.pk}/"
    assert http.post(url, answers).status_code == 302
    again = http.post(url, answers, follow=True)
    assert "already finished by" in again.content.decode()
    assert instance.steps.filter(status=ProcessStep.Status.DONE).count() == 1
    assert instance.steps.count() == 2
    step.refresh_from_db()
    assert step.answers["grave_disability"] is True
    body = http.get(url).content.decode()
    assert "Refusing food" in body  # the answers of a finished step are shown, not a form
    assert "Behaviour observed" in body  # under the labels of the diagram's version


def test_the_chart_card_and_my_day_cost_the_same_queries_for_one_process_as_for_six(
    cast: Cast, http_as: Any
) -> None:
    install_standard(cast)
    http = http_as(cast.case_manager)
    start(cast, KEY)
    chart = f"/clients/{cast.client.pk}/"
    _queries(http, "/")
    one_day, one_chart = _queries(http, "/"), _queries(http, chart)
    for _ in range(5):
        client = ClientFactory(agency=cast.agency)
        assign(client, cast.case_manager)
        start(cast, KEY, client=client)
    assert _queries(http, "/") == one_day
    assert _queries(http, chart) == one_chart


def test_the_board_lists_open_steps_in_scope_only(cast: Cast, http_as: Any) -> None:
    install_standard(cast)
    start(cast, KEY)
    assert (
        "Document what you observed" in http_as(cast.supervisor).get("/processes/").content.decode()
    )
    assert (
        "Document what you observed"
        not in http_as(cast.outsider_admin).get("/processes/").content.decode()
    )


def test_an_admin_uploading_a_bad_file_sees_each_problem_with_its_line(
    cast: Cast, http_as: Any
) -> None:
    http = http_as(cast.admin)
    bad = SimpleUploadedFile(
        "bad.bpmn",
        b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
        b'<bpmn:process id="bad_one" name="Bad">\n'
        b'<bpmn:callActivity id="elsewhere" />\n'
        b"</bpmn:process></bpmn:definitions>",
    )
    response = http.post("/processes/definitions/", {"file": bad})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was changed" in body
    assert "Line 3" in body and "elsewhere" in body and "callActivity is not supported" in body
    assert not ProcessDefinition.objects.filter(agency=cast.agency).exists()


def test_the_standard_processes_are_added_with_one_click_and_described(
    cast: Cast, http_as: Any
) -> None:
    http = http_as(cast.admin)
    assert http.post("/processes/definitions/standard/").status_code == 302
    definition = ProcessDefinition.objects.get(agency=cast.agency, key=KEY)
    body = http.get(f"/processes/definitions/{definition.pk}/").content.decode()
    assert "Call the designated crisis responder" in body and "due within 1 hour" in body
    download = http.get(f"/processes/definitions/{definition.pk}/download/")
    assert download.content.decode() == definition.bpmn
    assert http_as(cast.case_manager).get("/processes/definitions/").status_code == 403


def test_lists_never_load_a_processs_stored_workflow_or_its_diagram(
    cast: Cast, http_as: Any
) -> None:
    install_standard(cast)
    start(cast, KEY)
    http = http_as(cast.case_manager)
    for url in (
        "/",
        f"/clients/{cast.client.pk}/",
        "/processes/",
        f"/clients/{cast.client.pk}/processes/",
    ):
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
        heavy = [
            sql
            for sql in selects
            if '"processes_processinstance"."state"' in sql or '"bpmn"' in sql
        ]
        assert not heavy, (url, heavy)
