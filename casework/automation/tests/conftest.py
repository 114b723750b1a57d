"""Automation tests: messages go to the in-memory outbox, never to a console or a network."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from casework.automation.messaging import MemoryBackend

MEMORY = "casework.automation.messaging.MemoryBackend"


@pytest.fixture(autouse=True)
def _messages_in_memory(settings: Any) -> Iterator[list[Any]]:
    settings.CASEWORK_SMS_BACKEND = MEMORY
    settings.CASEWORK_EMAIL_REMINDER_BACKEND = MEMORY
    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


@pytest.fixture
def outbox() -> list[Any]:
    return MemoryBackend.outbox
