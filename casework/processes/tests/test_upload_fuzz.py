"""Ugly BPMN uploads, posted through the definitions page as an agency admin.

Whatever the file holds (no XML, another encoding, entity tricks, a process picked apart
element by element), the page answers: the process is stored as a new version, or the form
says what is wrong and nothing changes. Never a 500, never a file read from the server's disk.
"""

from __future__ import annotations

import html
import os
import random
import uuid
from collections.abc import Callable

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client as HttpClient
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import etree

from casework.core.models import User
from casework.processes import services
from casework.processes.models import ProcessDefinition
from casework.processes.tests.test_definitions import SIMPLE, _file
from casework.testing.personas import Cast

pytestmark = pytest.mark.django_db

HttpAs = Callable[[User], HttpClient]
URL = "/processes/definitions/"
FUZZ = hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STANDARD = services.standard_files()

# Seeded: test ids are made from the bytes, and every xdist worker must collect the same ones.
NOISE = random.Random(2026)


def post_bpmn(http: HttpClient, content: bytes, name: bytes = b"process.bpmn") -> HttpResponse:
    """The upload form as a client may send it, the file's name as raw bytes."""
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + name
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return http.generic(  # type: ignore[return-value]
        "POST", URL, body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def page_text(response: HttpResponse) -> str:
    return html.unescape(response.content.decode())


def assert_refused(http: HttpClient, content: bytes, why: str) -> None:
    before = list(ProcessDefinition.objects.values_list("pk", "is_active"))
    response = post_bpmn(http, content)
    assert response.status_code == 400, response.status_code
    assert why in page_text(response), page_text(response)[-3000:]
    assert list(ProcessDefinition.objects.values_list("pk", "is_active")) == before


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
    + _file(SIMPLE, name="&lol9;").split(b"\n", 1)[1]
)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "The submitted file is empty"),
        (NOISE.randbytes(1024), "Save the file as UTF-8"),
        (b"just some text", "This is not valid XML"),
        (b"<bpmn:definitions", "This is not valid XML"),
        ("<?xml version='1.0' encoding='utf-16'?><x/>".encode("utf-16"), "Save the file as UTF-8"),
        (b"<notbpmn/>", "This is not a BPMN 2.0 file"),
        (b"<a>" * 5000 + b"</a>" * 5000, "This is not valid XML"),
        (b"<a/>" + b" " * 1_000_001, "over 1 MB"),
        (
            _file(SIMPLE).replace(b"bpmn:userTask", b"bpmn:scriptTask"),
            "bpmn:scriptTask is not supported",
        ),
        (_file(SIMPLE, process_id="x"), "The process id must be"),
        (_file(SIMPLE + "\x00"), "This is not valid XML"),
        (LAUGHS, "This is not valid XML"),  # entities expanding a billion times
    ],
)
def test_a_broken_or_hostile_file_is_refused_with_why_and_nothing_changes(
    cast: Cast, http_as: HttpAs, content: bytes, why: str
) -> None:
    assert_refused(http_as(cast.admin), content, why)


def test_a_file_on_the_server_is_never_read_into_the_process(
    cast: Cast, http_as: HttpAs, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
        + _file(SIMPLE, name="&x;").split(b"\n", 1)[1]
    )
    response = post_bpmn(http_as(cast.admin), hostile)
    assert response.status_code in (302, 400)
    assert "TOP-SECRET" not in page_text(response)
    assert not ProcessDefinition.objects.filter(name__contains="TOP-SECRET").exists()


@pytest.mark.parametrize("name", [b"../../etc/passwd", b"x" * 800, "\u202egnp.bpmn".encode()])
def test_a_valid_file_goes_in_whatever_it_is_called_and_again_is_unchanged(
    cast: Cast, http_as: HttpAs, name: bytes
) -> None:
    http = http_as(cast.admin)
    first = post_bpmn(http, STANDARD[0], name)
    assert first.status_code == 302 and first["Location"] == URL
    again = post_bpmn(http, STANDARD[0], name)
    assert again.status_code == 302
    assert ProcessDefinition.objects.filter(agency=cast.agency).count() == 1
    assert "is unchanged" in page_text(http.get(URL))


def test_a_case_manager_cannot_upload(cast: Cast, http_as: HttpAs) -> None:
    response = post_bpmn(http_as(cast.case_manager), STANDARD[0])
    assert response.status_code == 403
    assert not ProcessDefinition.objects.exists()


# -- Hypothesis ---------------------------------------------------------------------------------


@st.composite
def picked_apart(draw: st.DrawFn) -> bytes:
    """A standard process with elements removed, attributes dropped or rewritten, text changed."""
    root = etree.fromstring(draw(st.sampled_from(STANDARD)))
    chooser = random.Random(draw(st.integers(min_value=0, max_value=2**32)))
    elements = list(root.iter(etree.Element))
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        element = chooser.choice(elements)
        how = draw(st.sampled_from(["remove", "drop attribute", "rewrite attribute", "text"]))
        if how == "remove" and element.getparent() is not None:
            element.getparent().remove(element)
            elements = list(root.iter(etree.Element))
        elif how == "drop attribute" and element.attrib:
            del element.attrib[chooser.choice(sorted(element.attrib))]
        elif how == "rewrite attribute" and element.attrib:
            value = draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])))
            element.set(chooser.choice(sorted(element.attrib)), value)
        elif how == "text":
            element.text = draw(
                st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]))
            )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def answered_sensibly(http: HttpClient, content: bytes) -> None:
    with transaction.atomic():
        response = post_bpmn(http, content)
        event(f"answered {response.status_code}")
        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            text = page_text(response)
            assert (
                "Nothing was changed" in text
                or 'class="error-text"' in text
                or "error-summary" in text
            )
        transaction.set_rollback(True)


@FUZZ
@given(content=picked_apart())
def test_a_process_picked_apart_is_stored_or_refused_with_its_problems(
    cast: Cast, http_as: HttpAs, content: bytes
) -> None:
    answered_sensibly(http_as(cast.admin), content)


@FUZZ
@given(content=st.one_of(st.binary(max_size=2048), st.text(max_size=500).map(str.encode)))
def test_random_files_never_break_the_page(cast: Cast, http_as: HttpAs, content: bytes) -> None:
    answered_sensibly(http_as(cast.admin), content)
