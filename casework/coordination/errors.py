"""The one error the coordination services raise: its message is shown to the person as is."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model

M = TypeVar("M", bound=Model)


class CoordinationError(Exception):
    """Something the person asked cannot be done; the message says why and what to do."""


class SubmissionReused(CoordinationError):
    """A submission key (a form's, or an API Idempotency-Key) sent again for another record."""


def earlier_submission(model: type[M], pk: int, **scope: object) -> M:
    """The record a repeated submission key made before, within `scope` (this client, this
    agency); a key sent again for another record is refused rather than answered with it."""
    found = model._default_manager.filter(pk=pk, **scope).first()
    if found is None:
        raise SubmissionReused(
            "This form (or Idempotency-Key) was already used for another record; reload the "
            "page, or send a new key."
        )
    return found
