"""The per-user rate limit from settings applies to the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from casework.api.views import AgencyApiThrottle, ClientViewSet, ProgramViewSet, StaffViewSet
from casework.core.models import User
from casework.testing.personas import Cast


def test_every_viewset_uses_the_user_rate_from_settings() -> None:
    for viewset in (ClientViewSet, StaffViewSet, ProgramViewSet):
        assert viewset.throttle_classes == [AgencyApiThrottle]
    assert AgencyApiThrottle.scope == "user"
    assert (
        AgencyApiThrottle().get_rate() == settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]
    )


def test_going_over_the_rate_is_429_per_person(
    cast: Cast, api_as: Callable[[User | None], APIClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AgencyApiThrottle, "THROTTLE_RATES", {"user": "3/min"})
    http = api_as(cast.case_manager)
    codes = [http.get("/api/v1/programs/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Retry-After" in http.get("/api/v1/programs/")
    assert api_as(cast.colleague).get("/api/v1/programs/").status_code == 200
