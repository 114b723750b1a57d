"""Fixtures shared by every test: the cast of personas and signed-in HTTP clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from casework.core.models import User
from casework.testing.personas import Cast, build_cast, sign_in


@pytest.fixture(autouse=True, scope="session")
def _documents_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded documents of the tests go to a folder of their own, never the developer's."""
    settings.CASEWORK_DOCUMENTS_ROOT = tmp_path_factory.mktemp("documents")


@pytest.fixture
def cast(db: None) -> Cast:
    return build_cast()


@pytest.fixture
def http_as(client: HttpClient) -> Callable[[User], HttpClient]:
    """`http_as(cast.case_manager)` returns the test HTTP client signed in as that person."""

    def _sign_in(user: User) -> HttpClient:
        client.logout()
        return sign_in(client, user)

    return _sign_in
