"""API test fixtures: an HTTP client that carries a real personal token of a given person."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from casework.api.authentication import token_generate
from casework.core.models import ApiToken, User


def make_token(
    user: User, *, expires_in: datetime.timedelta = datetime.timedelta(days=30)
) -> tuple[ApiToken, str]:
    raw, prefix, digest = token_generate()
    token = ApiToken.objects.create(
        agency=user.agency,
        user=user,
        name="test",
        prefix=prefix,
        digest=digest,
        expires_at=timezone.now() + expires_in,
    )
    return token, raw


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> Iterator[None]:
    """Throttle history lives in the cache; start every test with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_as(db: None) -> Callable[[User | None], APIClient]:
    """`api_as(cast.case_manager)` is an API client sending that person's token; `api_as(None)` is anonymous."""

    def _client(user: User | None) -> APIClient:
        http = APIClient()
        if user is not None:
            _, raw = make_token(user)
            http.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return http

    return _client
