"""Content-Security-Policy on every response: the browser runs and styles only what we serve.

Scripts and styles come from our own static files; no inline script, style attribute or
`<style>` element is allowed, so markup that slips into a page (a client's name that was not
escaped, say) can neither run code nor restyle the page. The policy is static, so a small
middleware sends it; a view that sends its own (a document served with `sandbox`) keeps it.

Pages we do not write (the API reference pages, DRF's browsable API, Django's debug pages) get
a policy relaxed only as far as each needs, for the reason given with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.renderers import BrowsableAPIRenderer

HEADER = "Content-Security-Policy"
Directives = Mapping[str, Sequence[str]]

# Swagger UI (drf-spectacular's split view: its start-up script is a file, so scripts stay
# strict on a page where "Try it out" shows client data) writes a few style rules into the page,
# and its stylesheet draws its icons from data: URIs.
SWAGGER_UI: Directives = {
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
}
# Redoc (from its file, no inline script) styles itself with styled-components, which adds
# <style> elements at run time (without them it stops with "Something went wrong"), builds its
# search index in a worker made from a blob: and draws icons from data: URIs.
REDOC: Directives = {
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "worker-src": ["'self'", "blob:"],
}
# DRF's browsable API lays itself out with style attributes; its scripts are files, so
# `script-src` stays strict on a page that shows API answers (client data).
BROWSABLE_API: Directives = {"style-src": ["'self'", "'unsafe-inline'"]}
# Django's debug pages (DEBUG only: the yellow 404 and 500 pages) style and script themselves inline.
DEBUG_PAGES: Directives = {
    "script-src": ["'self'", "'unsafe-inline'"],
    "style-src": ["'self'", "'unsafe-inline'"],
}


def policy_header(directives: Directives) -> str:
    """The header's value: `directive source source; …` in the order given."""
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


def _relaxation(response: HttpResponse) -> Directives | None:
    context = getattr(response, "renderer_context", None) or {}
    view = context.get("view")
    if isinstance(view, SpectacularSwaggerView):
        return SWAGGER_UI
    if isinstance(view, SpectacularRedocView):
        return REDOC
    if isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer):
        return BROWSABLE_API
    if settings.DEBUG and response.status_code in (404, 500):
        return DEBUG_PAGES
    return None


class ContentSecurityPolicyMiddleware:
    """Sends settings.CASEWORK_CONTENT_SECURITY_POLICY unless the view has sent a policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.directives: Directives = settings.CASEWORK_CONTENT_SECURITY_POLICY
        self.header = policy_header(self.directives)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER in response:
            return response
        relaxed = _relaxation(response)
        response[HEADER] = (
            self.header if relaxed is None else policy_header({**self.directives, **relaxed})
        )
        return response
