"""Error pages that need more than a template: a database that does not answer means 503."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 30
OUTAGE_MESSAGE = (
    "Casework's database did not answer just now. What you saved before this is safe; "
    "this last action may not have been saved."
)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler, except for a database that could not be reached or did not answer
    in time (OperationalError, InterfaceError: a restart, a lost connection, a lock or statement
    timeout): then 503 with Retry-After, from a page that reads nothing from the database.
    Django calls this while handling the error, so the error is at hand."""
    if not isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return defaults.server_error(request)
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": OUTAGE_MESSAGE}, status=503)
    else:
        page = loader.get_template("503.html").render({"message": OUTAGE_MESSAGE})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
