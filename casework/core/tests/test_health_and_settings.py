"""Health check, production settings that refuse to start wrong, and check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as HttpClient

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers() -> None:
    response = HttpClient().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def _run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO", "CASEWORK", "DEBUG", "SECRET", "PYTEST"))
    }
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _run_manage("check", env={"ALLOWED_HOSTS": "casework.example.org"})
    assert result.returncode != 0 and "Set the environment variable SECRET_KEY" in result.stderr


def test_production_refuses_a_malformed_boolean() -> None:
    result = _run_manage("check", env={"DEBUG": "maybe"})
    assert result.returncode != 0 and "DEBUG must be true or false" in result.stderr


def test_deploy_check_is_clean_with_production_settings() -> None:
    env = {
        "SECRET_KEY": "k" * 20 + "production-secret-for-the-deploy-check-only-0123456789",
        "ALLOWED_HOSTS": "casework.example.org",
        "DATABASE_URL": "sqlite:////tmp/casework-deploy-check.sqlite3",
    }
    result = _run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cache_url_chooses_the_backend() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from casework.settings import cache_from_url

    assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")
    assert cache_from_url("redis://127.0.0.1:6379/1") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/1",
    }
    assert cache_from_url("db://shared_cache")["LOCATION"] == "shared_cache"
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must start with"):
        cache_from_url("memcached://x")
