"""Uploading BPMN files: every problem named with its line and element id, nothing stored on a
refusal, versions kept, and running processes staying on the version they started on."""

from __future__ import annotations

import pytest

from casework.processes import bpmn, services
from casework.processes.models import ProcessDefinition
from casework.testing.personas import Cast
from casework.testing.processes import finish, install_standard, start

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" '
    'targetNamespace="https://casework.example">\n'
)


def _file(body: str, process_id: str = "home_visit_check", name: str = "Home visit check") -> bytes:
    return (
        HEAD
        + f'<bpmn:process id="{process_id}" name="{name}" isExecutable="true">\n'
        + body
        + "\n</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


SIMPLE = """<bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="visit" />
<bpmn:userTask id="visit" name="Visit the client">
  <bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="field:went_well" value="yesno | Did it go well?" />
  </spiffworkflow:properties></bpmn:extensionElements>
  <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing></bpmn:userTask>
<bpmn:sequenceFlow id="b" sourceRef="visit" targetRef="end" />
<bpmn:endEvent id="end"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>"""


def _problems(data: bytes) -> list[bpmn.Problem]:
    with pytest.raises(bpmn.DefinitionInvalid) as refused:
        bpmn.read_definition(data)
    return refused.value.problems


def test_a_file_that_is_not_xml_is_refused_with_its_line() -> None:
    [problem] = _problems(b"<a>\n<b>\n</a>")
    assert "not valid XML" in problem.message
    assert problem.line == 3


def test_an_empty_file_and_a_file_of_another_kind_are_refused() -> None:
    assert "empty" in _problems(b"  ")[0].message
    assert (
        "not a BPMN 2.0 file" in _problems(b"<svg xmlns='http://www.w3.org/2000/svg'/>")[0].message
    )


def test_a_process_without_a_start_event_is_refused() -> None:
    body = SIMPLE.split("\n", 1)[1]  # without the start event
    problems = _problems(_file(body))
    assert any(
        "no start event" in p.message and p.element_id == "home_visit_check" for p in problems
    )


def test_a_script_task_is_refused_with_its_line_and_id() -> None:
    body = SIMPLE.replace(
        '<bpmn:endEvent id="end">',
        '<bpmn:scriptTask id="sneaky" name="Run code"><bpmn:script>import os</bpmn:script>'
        '</bpmn:scriptTask>\n<bpmn:endEvent id="end">',
    )
    problems = _problems(_file(body))
    sneaky = [p for p in problems if p.element_id == "sneaky"]
    assert sneaky and "scriptTask is not supported" in sneaky[0].message
    assert sneaky[0].line == 12


@pytest.mark.parametrize(
    ("condition", "why"),
    [
        ("__import__('os').system('id')", "uses Call"),
        ("went_well.__class__", "uses Attribute"),
        ("wentwell == True", "reads “wentwell”, which no step asks for"),
        ("went_well ==", "not a valid expression"),
    ],
)
def test_gateway_conditions_may_only_compare_answers(condition: str, why: str) -> None:
    body = SIMPLE.replace(
        '<bpmn:sequenceFlow id="b" sourceRef="visit" targetRef="end" />',
        f'<bpmn:sequenceFlow id="b" sourceRef="visit" targetRef="end">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>",
    )
    problems = _problems(_file(body))
    assert any(why in p.message and p.element_id == "b" for p in problems), problems


def test_bad_step_properties_are_named() -> None:
    body = SIMPLE.replace("yesno | Did it go well?", "colour | Favourite colour")
    [problem] = _problems(_file(body))
    assert problem.element_id == "visit"
    assert "unknown type “colour”" in problem.message


def test_an_unknown_operation_and_a_bad_timer_are_named() -> None:
    body = SIMPLE.replace(
        '<bpmn:endEvent id="end">',
        '<bpmn:serviceTask id="pay" name="Pay"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="wire_money" resultVariable="paid" />'
        "</bpmn:extensionElements></bpmn:serviceTask>\n"
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>soon</bpmn:timeDuration></bpmn:timerEventDefinition>"
        "</bpmn:intermediateCatchEvent>\n"
        '<bpmn:endEvent id="end">',
    )
    problems = _problems(_file(body))
    assert any(
        p.element_id == "pay" and "Unknown operation “wire_money”" in p.message for p in problems
    )
    assert any(p.element_id == "wait" and "“soon” is not a duration" in p.message for p in problems)


def test_external_entities_are_not_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        + HEAD.split("\n", 1)[1]
        + '<bpmn:process id="leak_check" name="&x;" isExecutable="true">'
        + SIMPLE
        + "</bpmn:process></bpmn:definitions>"
    ).encode()
    try:
        parsed = bpmn.read_definition(data)
    except bpmn.DefinitionInvalid:
        return
    assert "TOP-SECRET" not in parsed.name


def test_a_refused_upload_changes_nothing(cast: Cast) -> None:
    services.definition_upload(by=cast.admin, data=_file(SIMPLE))
    with pytest.raises(bpmn.DefinitionInvalid):
        services.definition_upload(by=cast.admin, data=_file(SIMPLE.replace("yesno", "colour")))
    assert ProcessDefinition.objects.filter(agency=cast.agency).count() == 1


def test_uploading_the_same_file_again_is_not_a_new_version(cast: Cast) -> None:
    first = services.definition_upload(by=cast.admin, data=_file(SIMPLE))
    again = services.definition_upload(by=cast.admin, data=_file(SIMPLE))
    assert first.changed and not again.changed
    assert again.definition == first.definition


def test_running_processes_keep_the_version_they_started_on(cast: Cast) -> None:
    services.definition_upload(by=cast.admin, data=_file(SIMPLE))
    old = start(cast, "home_visit_check")
    changed = SIMPLE.replace("Visit the client", "Visit the client at home")
    uploaded = services.definition_upload(by=cast.admin, data=_file(changed))
    assert uploaded.definition.version == 2
    assert old.steps.get().title == "Visit the client"
    finish(old, "visit", cast.case_manager, went_well=True)
    old.refresh_from_db()
    assert old.status == "completed" and old.definition.version == 1
    new = start(cast, "home_visit_check")
    assert new.definition.version == 2
    assert new.steps.get().title == "Visit the client at home"


def test_only_an_admin_uploads(cast: Cast) -> None:
    with pytest.raises(services.ProcessError):
        services.definition_upload(by=cast.case_manager, data=_file(SIMPLE))


def test_the_standard_processes_are_valid_and_install_once(cast: Cast) -> None:
    install_standard(cast)
    install_standard(cast)
    keys = set(ProcessDefinition.objects.filter(agency=cast.agency).values_list("key", flat=True))
    assert "involuntary_treatment_referral" in keys
    assert ProcessDefinition.objects.filter(agency=cast.agency, version=2).count() == 0


def test_a_file_not_in_utf8_a_doubled_operator_and_an_endless_duration_are_refused() -> None:
    latin = (
        _file(SIMPLE, name="Visite à domicile")
        .decode()
        .replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    )
    assert "UTF-8" in _problems(latin.encode("latin-1"))[0].message
    doubled = SIMPLE.replace(
        '<bpmn:endEvent id="end">',
        '<bpmn:serviceTask id="check" name="Check"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="coverage_check" resultVariable="coverage" />'
        '<spiffworkflow:serviceTaskOperator id="release_check" resultVariable="coverage" />'
        "</bpmn:extensionElements></bpmn:serviceTask>\n"
        '<bpmn:endEvent id="end">',
    )
    assert any(
        "one spiffworkflow:serviceTaskOperator" in p.message for p in _problems(_file(doubled))
    )
    endless = SIMPLE.replace(
        'value="yesno | Did it go well?" />',
        'value="yesno | Did it go well?" />'
        '<spiffworkflow:property name="due_in" value="P9999999999D" />',
    )
    assert "longer than five years" in _problems(_file(endless))[0].message


def test_uploading_a_retired_process_again_brings_it_back(cast: Cast) -> None:
    uploaded = services.definition_upload(by=cast.admin, data=_file(SIMPLE))
    services.definition_retire(by=cast.admin, key=uploaded.definition.key)
    with pytest.raises(services.ProcessError, match="not available"):
        start(cast, "home_visit_check")
    again = services.definition_upload(by=cast.admin, data=_file(SIMPLE))
    assert again.changed and again.definition == uploaded.definition
    assert start(cast, "home_visit_check").definition == uploaded.definition


def test_a_timer_may_count_from_a_date_answer_that_a_step_asks_for() -> None:
    def with_timer(date: str) -> bytes:
        return _file(
            SIMPLE.replace("yesno | Did it go well?", "date | Visit date")
            .replace("field:went_well", "field:visited_on")
            .replace(
                '<bpmn:endEvent id="end">',
                '<bpmn:intermediateCatchEvent id="later"><bpmn:timerEventDefinition>'
                f"<bpmn:timeDate>{date}</bpmn:timeDate></bpmn:timerEventDefinition>"
                '</bpmn:intermediateCatchEvent>\n<bpmn:endEvent id="end">',
            )
        )

    assert bpmn.read_definition(with_timer("visited_on + P30D")).key == "home_visit_check"
    [problem] = _problems(with_timer("admitted_on + P30D"))
    assert problem.element_id == "later" and "no step asks for as a date" in problem.message
    [problem] = _problems(with_timer("2027-01-01"))
    assert "like admission_on + P30D" in problem.message
