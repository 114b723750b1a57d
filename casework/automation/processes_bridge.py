"""The two calls automation makes into guided processes (`casework.processes`).

Looked up lazily, so that automation works (without its process trigger and action) where that
app is not installed, and so that neither app imports the other at start-up:

- the agency's processes are its active `processes.ProcessDefinition` rows (key, name);
- `casework.processes.services.process_start(*, client, key, by, owner, rule_name, depth)`
  starts one and returns the instance; it raises `ProcessError` (a message for a person) when
  it refuses, e.g. the same process is already running for the client.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from casework.clients.models import Client
from casework.core.models import User


class ProcessesUnavailable(Exception):
    """Guided processes are not installed in this Casework."""


class ProcessRefused(Exception):
    """The processes app refused to start the process (its message says why)."""


def process_choices(*, agency_id: int) -> list[tuple[str, str]]:
    """The agency's active guided processes as (key, name), by name; none without the app."""
    try:
        definition = apps.get_model("processes", "ProcessDefinition")
    except LookupError:
        return []
    names: dict[str, str] = {}
    rows = (
        definition.objects.filter(agency_id=agency_id, is_active=True)
        .order_by("key", "-version")
        .values_list("key", "name")
    )
    for key, name in rows:
        names.setdefault(str(key), str(name))
    return sorted(names.items(), key=lambda item: (item[1].lower(), item[0]))


def process_start(*, client: Client, key: str, owner: User, rule_name: str, depth: int) -> Any:
    """Start the process `key` for the client, owned by `owner`, on behalf of a rule."""
    try:
        from casework.processes import services
    except ImportError:
        raise ProcessesUnavailable("Guided processes are not installed.") from None
    refused: type[Exception] = getattr(services, "ProcessError", ProcessRefused)
    try:
        return services.process_start(
            client=client, key=key, by=None, owner=owner, rule_name=rule_name, depth=depth
        )
    except refused as error:
        raise ProcessRefused(str(error)) from None
