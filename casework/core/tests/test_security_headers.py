"""Browser-facing defences: security headers, CSRF on every POST, session fixation, lockout.

The Content-Security-Policy has its own tests: test_csp.py."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client as HttpClient

from casework.testing.factories import PASSWORD
from casework.testing.personas import Cast, sign_in
from casework.testing.routes import all_routes, route_values, url_for

API_PREFIX = "api/"


def _sign_in_by_form(http: HttpClient, email: str, password: str = PASSWORD) -> int:
    return int(http.post("/login/", {"username": email, "password": password}).status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/", "/clients/"])
def test_pages_carry_the_security_headers(cast: Cast, path: str) -> None:
    http = HttpClient() if path == "/login/" else sign_in(HttpClient(), cast.case_manager)
    response = http.get(path)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_same_site_and_secure_in_production(
    cast: Cast,
) -> None:
    http = HttpClient()
    http.get("/login/")
    assert _sign_in_by_form(http, "cm@home.example") == 302
    session_cookie = http.cookies[settings.SESSION_COOKIE_NAME]
    assert session_cookie["httponly"] and session_cookie["samesite"] == "Lax"
    assert http.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"
    # Tests run over plain HTTP; production (not DEBUG, not TESTING) turns these on.
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def _post_routes(cast: Cast) -> list[tuple[str, str]]:
    known = route_values(cast)
    return [(route.name, url_for(route, cast, known)) for route in all_routes()]


@pytest.mark.django_db
def test_every_post_without_a_csrf_token_is_refused(cast: Cast) -> None:
    """Forms and htmx requests alike: a POST with a session but no token never does anything.
    Walked as an admin, who may do the most; the CSRF check comes before any role check."""
    http = sign_in(HttpClient(enforce_csrf_checks=True), cast.admin)
    let_through = []
    for name, url in _post_routes(cast):
        for headers in ({}, {"HX-Request": "true"}):
            response = http.post(url, {"anything": "x"}, headers=headers)
            body = response.content.decode(errors="replace")
            if url.startswith("/" + API_PREFIX):
                # DRF answers "CSRF Failed" (403) to a session; 404/405 where nothing is posted.
                refused = response.status_code in (401, 403, 404, 405)
            else:
                refused = response.status_code == 403 and "CSRF" in body
            if not refused:
                let_through.append(f"{name} {url} {headers}: {response.status_code}")
    assert not let_through, "\n".join(let_through)


@pytest.mark.django_db
def test_an_anonymous_sign_in_without_a_csrf_token_is_refused(cast: Cast) -> None:
    http = HttpClient(enforce_csrf_checks=True)
    response = http.post("/login/", {"username": "cm@home.example", "password": PASSWORD})
    assert response.status_code == 403
    assert (
        settings.SESSION_COOKIE_NAME not in http.cookies
        or not http.cookies[settings.SESSION_COOKIE_NAME].value
    )


@pytest.mark.django_db
def test_the_session_key_changes_at_sign_in(cast: Cast) -> None:
    """Session fixation: a session planted before sign-in is not the one signed in."""
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    http = HttpClient()
    http.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert _sign_in_by_form(http, "cm@home.example") == 302
    after = http.cookies[settings.SESSION_COOKIE_NAME].value
    assert after and after != planted.session_key
    assert not SessionStore().exists(planted.session_key)
    assert http.get("/").status_code == 200
    # The planted key alone is not signed in.
    stranger = HttpClient()
    stranger.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert stranger.get("/").status_code == 302


@pytest.mark.django_db
def test_a_made_up_session_key_is_not_adopted(cast: Cast) -> None:
    http = HttpClient()
    http.cookies[settings.SESSION_COOKIE_NAME] = "attackerchosen0123456789abcdefgh"
    assert _sign_in_by_form(http, "cm@home.example") == 302
    assert http.cookies[settings.SESSION_COOKIE_NAME].value != "attackerchosen0123456789abcdefgh"


@pytest.mark.django_db
def test_sign_out_ends_the_session_on_the_server(cast: Cast) -> None:
    http = HttpClient()
    assert _sign_in_by_form(http, "cm@home.example") == 302
    key = http.cookies[settings.SESSION_COOKIE_NAME].value
    http.post("/logout/")
    assert not SessionStore().exists(key)
    replay = HttpClient()
    replay.cookies[settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/").status_code == 302


@pytest.mark.django_db
def test_sign_in_locks_after_the_failure_limit_until_the_cool_off_ends(cast: Cast) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    http = HttpClient()
    with time_machine.travel(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)) as clock:
        for _ in range(limit - 1):
            assert _sign_in_by_form(http, "cm@home.example", "wrong") == 200
        # One short of the limit, the right password still works (and resets the count).
        assert _sign_in_by_form(HttpClient(), "cm@home.example") == 302
        for _ in range(limit):
            _sign_in_by_form(http, "cm@home.example", "wrong")
        locked = HttpClient().post("/login/", {"username": "cm@home.example", "password": PASSWORD})
        assert locked.status_code == 429
        assert "Account locked" in locked.content.decode()
        assert settings.SESSION_COOKIE_NAME not in locked.cookies
        # Another person is not locked out by someone else's failures.
        assert _sign_in_by_form(HttpClient(), "colleague@home.example") == 302
        clock.shift(datetime.timedelta(hours=settings.AXES_COOLOFF_TIME) / 2)
        assert _sign_in_by_form(HttpClient(), "cm@home.example") == 429
        clock.shift(datetime.timedelta(hours=settings.AXES_COOLOFF_TIME))
        assert _sign_in_by_form(HttpClient(), "cm@home.example") == 302


@pytest.mark.django_db
def test_the_lockout_cannot_be_dodged_by_changing_the_case_of_the_email(cast: Cast) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in_by_form(HttpClient(), "cm@home.example", "wrong")
    assert _sign_in_by_form(HttpClient(), "CM@home.example") == 429
