"""Refusals shared by the assessments and plans APIs: a domain rule's message with the field it
concerns, and the version a caller last read (If-Match)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response


class DomainRefusal(exceptions.APIException):
    """A refusal by the rules of the record, answered as {"detail": message, "field": field}:
    400 for input the rules refuse, 409 for a change to a signed (locked) record."""

    def __init__(self, message: str, field: str | None = None, code: int = 400) -> None:
        super().__init__(message)
        self.status_code = code
        self.field = field


class DomainErrorsMixin:
    """Views whose refusals name the field they concern (DRF would answer only the detail)."""

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        if isinstance(exc, DomainRefusal):
            response.data = {"detail": str(exc.detail), "field": exc.field}
        return response


def expected_version(request: Request, current: int) -> int:
    """The version (ETag) the caller last read, from If-Match; without one, `current` (no check).

    An ETag that is not one of ours can never match: -1.
    """
    sent = request.headers.get("If-Match", "").strip()
    if sent in ("", "*"):
        return current
    sent = sent.removeprefix("W/").strip().strip('"')
    return int(sent) if sent.isascii() and sent.isdigit() and len(sent) < 10 else -1


class Stale(exceptions.APIException):
    """412: the record was saved elsewhere since the caller read it (If-Match no longer matches)."""

    status_code = 412
    default_detail = (
        "Someone saved this since you read it (from another tab, device or person). Read it "
        "again and send its new ETag as If-Match."
    )
