"""Personal tokens and browser sessions at the API's door."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.test import Client as HttpClient
from django.utils import timezone
from rest_framework.test import APIClient

from casework.api.authentication import token_digest
from casework.api.tests.conftest import make_token
from casework.core.models import ApiToken, User
from casework.testing.personas import Cast

LIST = "/api/v1/clients/"


def bearer(raw: str, keyword: str = "Bearer") -> APIClient:
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
    return http


def test_a_valid_token_authenticates_and_records_its_use(cast: Cast) -> None:
    token, raw = make_token(cast.case_manager)
    response = bearer(raw).get(LIST)
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_token_keyword_works_too(cast: Cast) -> None:
    _, raw = make_token(cast.case_manager)
    assert bearer(raw, "Token").get(LIST).status_code == 200


def test_only_a_digest_of_the_token_is_stored(cast: Cast) -> None:
    token, raw = make_token(cast.case_manager)
    assert token.digest == token_digest(raw)
    assert not ApiToken.objects.filter(digest=raw).exists()
    assert raw.startswith("cw_") and raw[3:11] == token.prefix


def test_an_expired_token_is_401_with_a_message_saying_so(cast: Cast) -> None:
    _, raw = make_token(cast.case_manager, expires_in=-datetime.timedelta(seconds=1))
    response = bearer(raw).get(LIST)
    assert response.status_code == 401
    assert response.json()["detail"] == (
        "This token has expired; make a new one on your account page."
    )


def test_a_revoked_token_is_401(cast: Cast) -> None:
    token, raw = make_token(cast.case_manager)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    response = bearer(raw).get(LIST)
    assert response.status_code == 401
    assert response.json()["detail"] == "This token is not valid."


def test_a_deactivated_persons_token_is_401(cast: Cast) -> None:
    _, raw = make_token(cast.case_manager)
    User.objects.filter(pk=cast.case_manager.pk).update(is_active=False)
    response = bearer(raw).get(LIST)
    assert response.status_code == 401
    assert response.json()["detail"] == "This account is deactivated."


def test_an_unknown_token_is_401(cast: Cast) -> None:
    assert bearer("cw_not-a-real-token").get(LIST).status_code == 401


def test_a_malformed_authorization_header_is_401_with_how_to_send_it(cast: Cast) -> None:
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION="Bearer two words")
    response = http.get(LIST)
    assert response.status_code == 401
    assert "Authorization: Bearer <token>" in response.json()["detail"]


def test_a_token_works_for_two_factor_roles_without_a_browser_session(cast: Cast) -> None:
    _, raw = make_token(cast.billing)
    assert bearer(raw).get(LIST).status_code == 200


def test_a_verified_browser_session_may_use_the_api(
    cast: Cast, http_as: Callable[[User], HttpClient]
) -> None:
    assert http_as(cast.billing).get(LIST).status_code == 200


def test_an_unverified_session_of_a_two_factor_role_is_refused(cast: Cast) -> None:
    http = HttpClient()
    http.force_login(cast.billing)
    response = http.get(LIST)
    assert response.status_code == 401
    assert "two-factor" in response.json()["detail"]


def test_session_writes_need_the_csrf_token(
    cast: Cast, http_as: Callable[[User], HttpClient]
) -> None:
    http = http_as(cast.case_manager)
    http.handler.enforce_csrf_checks = True  # type: ignore[attr-defined]
    response = http.patch(
        f"/api/v1/clients/{cast.client.pk}/", {"city": "X"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
