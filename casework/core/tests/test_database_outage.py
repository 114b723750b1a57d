"""While the database is unreachable every page answers 503 "try again", with Retry-After.

Found by reliability/faults.py: during a PostgreSQL restart requests were answered 500 ("Server
Error") or, when the session save lost the connection, 400 ("the session was deleted").
"""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client as Browser
from django.test import RequestFactory

from casework.core.sessions import SessionStore
from casework.core.views_errors import server_error
from casework.testing.personas import Cast


def _answer_while_handling(error: Exception, path: str) -> HttpResponse:
    try:
        raise error
    except Exception:
        return server_error(RequestFactory().get(path))


def test_a_database_error_answers_503_with_retry_after_and_no_detail() -> None:
    response = _answer_while_handling(
        OperationalError('connection to server at "127.0.0.1" failed: Connection refused'),
        "/clients/7/",
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Try again in a minute" in page
    assert "127.0.0.1" not in page  # the error itself is for the log, not the page


def test_the_api_hears_of_an_outage_in_json() -> None:
    response = _answer_while_handling(OperationalError("server closed the connection"), "/api/v1/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "database did not answer" in json.loads(response.content)["detail"]


def test_other_errors_stay_a_500() -> None:
    response = _answer_while_handling(ZeroDivisionError(), "/clients/")
    assert response.status_code == 500
    assert not response.has_header("Retry-After")


@pytest.mark.django_db
def test_a_session_save_that_loses_the_database_is_an_outage_not_a_lost_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = SessionStore()
    store["seen"] = 1
    store.create()

    def lost_connection(*args: object, **kwargs: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Session, "save", lost_connection)
    with pytest.raises(OperationalError):
        store.save()


@pytest.mark.django_db
def test_a_session_deleted_meanwhile_is_still_reported_as_such() -> None:
    store = SessionStore()
    store["seen"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).delete()
    with pytest.raises(UpdateError):
        store.save()


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_page_answers_503_while_postgresql_is_unreachable(cast: Cast) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("An in-memory SQLite test database cannot be made unreachable.")
    browser = Browser(raise_request_exception=False)
    browser.force_login(cast.case_manager)
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: connecting is refused
    try:
        response = browser.get("/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Try again in a minute" in response.content.decode()
