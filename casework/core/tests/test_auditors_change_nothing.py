"""Auditors read the audit log and change nothing: every route, every write method.

Every route's empty POST is in the access matrix (docs/ACCESS.md, which its test keeps true to
the application): the auditor's column must show a refusal for each, but for their own account.
The API's other write methods are walked here: each API route is sent a PUT, PATCH and DELETE
as the auditor, to rows of the home agency that exist (`casework.testing.routes`); every answer
must be a refusal, and no write may reach the audit log. Each request runs in a rolled-back
savepoint, so one request never prepares the ground for the next.

What an auditor may still change is their own: their password, two-factor device, sessions and
API tokens (`SELF_SERVICE`).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client as HttpClient

from casework.core.models import AuditEvent
from casework.core.tests.test_access_matrix import _committed_column
from casework.testing.personas import Cast, sign_in
from casework.testing.routes import all_routes, route_values, url_for

SELF_SERVICE = {
    "login",
    "logout",
    "account",
    "sign_out_everywhere",
    "two_factor_setup",
    "two_factor_verify",
    "session_keepalive",
    "password_reset",
    "password_reset_confirm",
    "api_tokens",
    "api_token_revoke",
}
REFUSED = {401, 403, 404, 405}
WRITES = (
    AuditEvent.Action.CREATE,
    AuditEvent.Action.UPDATE,
    AuditEvent.Action.DELETE,
    AuditEvent.Action.MERGE,
    AuditEvent.Action.BREAK_GLASS,
)
ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def test_the_matrix_shows_every_post_of_an_auditor_refused() -> None:
    refused = {str(code) for code in REFUSED} | {"login"}
    wrote = [
        f"{name} {pattern}: {cell}"
        for (name, pattern), cell in _committed_column("auditor").items()
        if name not in SELF_SERVICE and cell.partition(" / ")[2] not in refused
    ]
    assert not wrote, "\n".join(wrote)


@pytest.mark.django_db
@pytest.mark.skipif(ON_POSTGRESQL, reason="decided in Python, the same on every database")
def test_auditors_api_writes_are_refused_and_change_nothing(cast: Cast) -> None:
    session_key = sign_in(HttpClient(), cast.auditor).session.session_key
    known = route_values(cast)
    wrote: list[str] = []
    for route in all_routes():
        url = url_for(route, cast, known)
        if not url.startswith("/api/"):
            continue
        for method in ("post", "put", "patch", "delete"):
            http = HttpClient(raise_request_exception=False)
            http.cookies[settings.SESSION_COOKIE_NAME] = session_key
            with transaction.atomic():
                response = getattr(http, method)(url, {}, content_type="application/json")
                written = AuditEvent.objects.filter(
                    actor_id=cast.auditor.pk, action__in=WRITES
                ).exists()
                transaction.set_rollback(True)
            where = f"{method.upper()} {route.name} ({url})"
            if response.status_code not in REFUSED:
                wrote.append(f"{where}: {response.status_code}")
            if written:
                wrote.append(f"{where}: wrote to the audit log")
    assert not wrote, "\n".join(wrote)


@pytest.mark.django_db
def test_an_auditor_cannot_snooze_or_bring_back_my_day_items(cast: Cast) -> None:
    from casework.worklist.models import Snooze

    http = sign_in(HttpClient(), cast.auditor)
    snoozed = http.post(
        "/my-day/snooze/", {"item_key": "credential:1", "until": "2099-01-01", "label": "x"}
    )
    assert snoozed.status_code == 403
    own = Snooze.objects.create(
        agency=cast.agency, user=cast.auditor, item_key="credential:1", until="2099-01-01"
    )
    assert http.post(f"/my-day/snoozed/{own.pk}/bring-back/").status_code == 403
    assert Snooze.objects.filter(pk=own.pk).exists()
    assert not Snooze.objects.filter(user=cast.auditor).exclude(pk=own.pk).exists()


@pytest.mark.django_db
def test_pages_that_only_read_refuse_a_post(cast: Cast) -> None:
    """My day, the put-aside list and the audit log read; a POST to them is a 405, not a page."""
    for user, url in (
        (cast.case_manager, "/"),
        (cast.case_manager, "/my-day/put-aside/"),
        (cast.auditor, "/my-day/put-aside/"),
        (cast.auditor, "/audit/"),
    ):
        http = sign_in(HttpClient(), user)
        assert http.post(url).status_code == 405, url
        assert http.get(url).status_code == 200, url
