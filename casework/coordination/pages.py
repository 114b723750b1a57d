"""What every care-coordination page of a client's chart renders with."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from casework.clients.models import Client
from casework.clients.selectors import client_flags


def chart_page(
    request: HttpRequest, template: str, client: Client, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A page under the client's chart header (name, pronouns, safety flags)."""
    return render(
        request,
        template,
        {"client": client, "flags": client_flags(client=client), **context},
        status=status,
    )
