"""The OpenAPI schema generates cleanly and the docs load their assets from our own server."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from casework.testing.personas import Cast


def test_the_schema_validates_without_warnings(tmp_path: object) -> None:
    out = f"{tmp_path}/schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", out)


def test_the_schema_declares_bearer_tokens_and_the_idempotency_header(cast: Cast) -> None:
    schema = HttpClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token from /account/api-tokens/ (shown once when made).",
    }
    create = schema["paths"]["/api/v1/clients/"]["post"]
    assert {"bearerToken": []} in create["security"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "delete" not in schema["paths"]["/api/v1/clients/{id}/"]
    listing = schema["paths"]["/api/v1/clients/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"q", "include_inactive"}


@pytest.mark.parametrize(
    ("page", "script"), [("/api/docs/", "swagger-ui-bundle.js"), ("/api/redoc/", "redoc")]
)
def test_the_docs_pages_load_their_scripts_from_static_not_a_cdn(
    cast: Cast, page: str, script: str
) -> None:
    response = HttpClient().get(page)
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(script in s and s.endswith(".js") for s in sources), sources
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
    assert all(s.startswith("/static/") or s.startswith("/api/") for s in sources), sources
    for asset in (s for s in sources if s.startswith("/static/")):
        assert HttpClient().get(asset).status_code == 200, asset


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/clients/not-a-number/",
        "/api/v1/clients/1.5/",
        "/api/v1/nothing-here/",
        "/api/v1/clients",
    ],
)
def test_unknown_api_addresses_answer_404_in_json(cast: Cast, path: str) -> None:
    from rest_framework.test import APIClient

    from casework.api.tests.conftest import make_token

    _, raw = make_token(cast.case_manager)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = http.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"].startswith("Not found")
