"""The account page for personal API tokens: make one (shown once), list, revoke."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from casework.api.services import MAX_ACTIVE_TOKENS, api_token_create
from casework.api.tests.conftest import make_token
from casework.core.models import ApiToken, AuditEvent, User
from casework.testing.personas import Cast

PAGE = "/account/api-tokens/"
HttpAs = Callable[[User], HttpClient]


@pytest.fixture
def verified_as(http_as: HttpAs) -> HttpAs:
    """Signed in and past two-factor sign-in (a confirmed device is made for anyone)."""

    def _sign_in(user: User) -> HttpClient:
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        return http_as(user)

    return _sign_in


def make(http: HttpClient, name: str = "export script", days: int | str = 90) -> str:
    response = http.post(PAGE, {"name": name, "days": days})
    assert response.status_code == 200, response.content
    return str(response.context["new_token"])


def test_anonymous_is_sent_to_sign_in(cast: Cast) -> None:
    response = HttpClient().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_person_without_two_factor_is_sent_to_set_it_up(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.case_manager).get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/setup/")
    assert http_as(cast.case_manager).post(PAGE, {"name": "x", "days": 9}).status_code == 302
    assert not ApiToken.objects.exists()


def test_the_page_lists_tokens_and_offers_a_form(cast: Cast, verified_as: HttpAs) -> None:
    make_token(cast.case_manager)
    response = verified_as(cast.case_manager).get(PAGE)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert b"Make token" in response.content
    assert len(response.context["tokens"]) == 1


def test_a_new_token_is_shown_once_and_works(cast: Cast, verified_as: HttpAs) -> None:
    http = verified_as(cast.case_manager)
    raw = make(http)
    token = ApiToken.objects.get(user=cast.case_manager)
    assert raw.startswith("cw_")
    assert token.name == "export script"
    assert abs(token.expires_at - (timezone.now() + datetime.timedelta(days=90))) < (
        datetime.timedelta(minutes=1)
    )
    assert raw.encode() not in http.get(PAGE).content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/clients/").status_code == 200


def test_making_and_revoking_a_token_are_audited(cast: Cast, verified_as: HttpAs) -> None:
    http = verified_as(cast.case_manager)
    raw = make(http)
    token = ApiToken.objects.get(user=cast.case_manager)
    response = http.post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    events = AuditEvent.objects.filter(object_type="core.apitoken", object_id=str(token.pk))
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]
    assert not any(raw in e.detail for e in events)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/clients/").status_code == 401


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (366, "less than or equal to 365"),
        (0, "greater than or equal to 1"),
        ("soon", "Enter a whole number"),
    ],
)
def test_expiry_is_between_1_and_365_days(
    cast: Cast, verified_as: HttpAs, days: int | str, message: str
) -> None:
    response = verified_as(cast.case_manager).post(PAGE, {"name": "x", "days": days})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["days"])
    assert not ApiToken.objects.exists()


def test_a_token_needs_a_name(cast: Cast, verified_as: HttpAs) -> None:
    response = verified_as(cast.case_manager).post(PAGE, {"name": "  ", "days": 30})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_a_year_long_token_is_allowed(cast: Cast, verified_as: HttpAs) -> None:
    make(verified_as(cast.case_manager), days=365)
    token = ApiToken.objects.get()
    assert token.expires_at > timezone.now() + datetime.timedelta(days=364)


def test_nobody_can_revoke_someone_elses_token(cast: Cast, verified_as: HttpAs) -> None:
    token, _ = make_token(cast.case_manager)
    response = verified_as(cast.admin).post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_is_post_only(cast: Cast, verified_as: HttpAs) -> None:
    token, _ = make_token(cast.case_manager)
    assert verified_as(cast.case_manager).get(f"{PAGE}{token.pk}/revoke/").status_code == 405


def test_the_page_lists_only_ones_own_tokens(cast: Cast, verified_as: HttpAs) -> None:
    make_token(cast.admin)
    mine, _ = make_token(cast.case_manager)
    response = verified_as(cast.case_manager).get(PAGE)
    assert [t.pk for t in response.context["tokens"]] == [mine.pk]


def test_html_in_a_token_name_is_escaped(cast: Cast, verified_as: HttpAs) -> None:
    http = verified_as(cast.case_manager)
    make(http, name="<script>alert(1)</script>")
    content = http.get(PAGE).content
    assert b"<script>alert(1)</script>" not in content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_there_is_a_cap_on_active_tokens(cast: Cast) -> None:
    for _ in range(MAX_ACTIVE_TOKENS):
        make_token(cast.case_manager)
    from casework.api.services import TokenError

    with pytest.raises(TokenError, match="revoke one"):
        api_token_create(user=cast.case_manager, name="one too many")
