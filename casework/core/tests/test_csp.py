"""The Content-Security-Policy: sent with every response, strict, and kept by every page.

The policy forbids inline script and inline style, so a page that carries a `style=""`, a
`<style>` element, a `<script>` without `src` or an `on…=` handler would break in the browser.
Every route the route walker knows is rendered as an admin and as a case manager (whole page and
htmx fragment) and its HTML is parsed for those; the template files are scanned too, for the
branches the walk does not reach. The browser tests (e2e/conftest.py) fail on any violation the
browser reports.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.test import RequestFactory, override_settings

from casework.core.csp import ContentSecurityPolicyMiddleware, policy_header
from casework.testing.personas import Cast, sign_in
from casework.testing.routes import Route, all_routes, route_values, url_for

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
TEMPLATES = Path(settings.BASE_DIR) / "web" / "templates"
# Rendered to PDF by WeasyPrint, never sent to a browser: their <style> is for the printer.
PDF_ONLY = {
    "plans/pdf.html",
    "coordination/_document_pdf.html",
    "coordination/accounting_pdf.html",
    "coordination/letter_pdf.html",
    "coordination/packet_pdf.html",
    "coordination/release_pdf.html",
}
COMMENTS = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)
# Pages we do not write, with a relaxed policy (casework/core/csp.py says why); Swagger UI's
# page carries its inline start-up script, Redoc's none.
RELAXED = {"api_docs", "api_redoc"}
INLINE_SCRIPT = {"api_docs"}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = sources
    return parsed


class InlineCode(HTMLParser):
    """Collects what the policy would block: style attributes and elements, inline scripts,
    event-handler attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("a <style> element")
        if tag == "script" and "src" not in names:
            self.found.append("an inline <script>")
        for name, value in attrs:
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            elif name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f'<{tag} {name}="{value}">')

    handle_startendtag = handle_starttag


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize(
    "html",
    [
        '<p style="margin:0">x</p>',
        "<style>p{}</style>",
        "<script>alert(1)</script>",
        '<svg><rect style="fill:red"/></svg>',
        '<input onfocus="this.select()">',
        '<a href="javascript:void(0)">x</a>',
    ],
)
def test_the_page_check_finds_what_the_policy_would_block(html: str) -> None:
    assert inline_code(html)


def test_the_page_check_lets_files_and_classes_through() -> None:
    html = '<script src="/static/x.js" defer></script><p class="m-0">x</p><svg><rect width="50%"/></svg>'
    assert inline_code(html) == []


# -- The header ------------------------------------------------------------------------------


def test_the_policy_allows_only_our_own_files_and_no_inline_code() -> None:
    assert policy_header(settings.CASEWORK_CONTENT_SECURITY_POLICY) == STRICT
    policy = directives(STRICT)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    sources = [source for listed in policy.values() for source in listed]
    assert not [s for s in sources if "unsafe" in s or s in ("*", "data:", "blob:", "https:")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (None, "/login/", 200),  # sign-in
        ("case_manager", "/", 200),  # My day
        ("case_manager", "/clients/{client}/", 200),  # the chart
        ("case_manager", "/clients/{client}/documents/", 200),
        ("case_manager", "/no-such-page/", 404),
        ("case_manager", "/clients/{other}/", 404),  # another agency's client
        ("billing", "/clients/{client}/documents/", 403),  # a role that may not
        (None, "/clients/", 302),  # to sign-in
        (None, "/healthz", 200),
        (None, "/static/casework/casework.css", 200),
    ],
)
def test_pages_errors_and_files_carry_the_strict_policy(
    cast: Cast, who: str | None, path: str, status: int
) -> None:
    http = HttpClient() if who is None else sign_in(HttpClient(), getattr(cast, who))
    response = http.get(path.format(client=cast.client.pk, other=cast.outsider_client.pk))
    assert response.status_code == status
    assert response["Content-Security-Policy"] == STRICT
    if response["Content-Type"].startswith("text/html"):
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_an_htmx_fragment_carries_it_too(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.case_manager)
    fragment = http.get("/clients/", {"q": "x"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert fragment["Content-Security-Policy"] == STRICT


@pytest.mark.django_db
def test_a_refused_form_gets_our_csrf_page_under_the_policy(cast: Cast) -> None:
    http = sign_in(HttpClient(enforce_csrf_checks=True), cast.case_manager)
    response = http.post("/clients/new/", {"legal_first_name": "x"})
    body = response.content.decode()
    assert response.status_code == 403 and "CSRF" in body
    assert "The form was not sent" in body and "casework/casework.css" in body
    assert not inline_code(body)
    assert response["Content-Security-Policy"] == STRICT
    assert settings.CSRF_COOKIE_NAME not in response.cookies  # the refusal hands out no token


def _respond_with(response: HttpResponse) -> ContentSecurityPolicyMiddleware:
    return ContentSecurityPolicyMiddleware(lambda request: response)


def test_a_server_error_carries_the_policy() -> None:
    middleware = _respond_with(HttpResponse("Server Error", status=500))
    assert middleware(RequestFactory().get("/"))["Content-Security-Policy"] == STRICT


@override_settings(DEBUG=True)
def test_django_debug_pages_may_style_themselves_only_when_debugging() -> None:
    request: HttpRequest = RequestFactory().get("/")
    for status in (404, 500):
        policy = directives(
            _respond_with(HttpResponse(status=status))(request)["Content-Security-Policy"]
        )
        assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
        assert policy["frame-ancestors"] == ["'none'"]
    assert _respond_with(HttpResponse(status=400))(request)["Content-Security-Policy"] == STRICT


def test_a_policy_a_view_sent_itself_is_kept() -> None:
    response = HttpResponse()
    response["Content-Security-Policy"] = "sandbox"
    assert (
        _respond_with(response)(RequestFactory().get("/"))["Content-Security-Policy"] == "sandbox"
    )


@pytest.mark.django_db
def test_a_document_shown_in_its_frame_keeps_its_sandbox(cast: Cast) -> None:
    from casework.testing.coordination import document

    shown = document(client=cast.client, by=cast.case_manager)
    http = sign_in(HttpClient(), cast.case_manager)
    response = http.get(f"/clients/{cast.client.pk}/documents/{shown.pk}/view/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.django_db
def test_the_api_reference_pages(cast: Cast) -> None:
    """Redoc and Swagger UI run from files (Swagger's start-up script too: the split view), with
    the styles they add at run time; neither runs inline script, is framed, posts elsewhere or
    fetches from elsewhere."""
    redoc = HttpClient().get("/api/redoc/")
    assert redoc.status_code == 200 and not inline_code(redoc.content.decode())
    policy = directives(redoc["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["worker-src"] == ["'self'", "blob:"]
    swagger = HttpClient().get("/api/docs/")
    assert swagger.status_code == 200
    policy = directives(swagger["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "<script>" not in swagger.content.decode()
    script = HttpClient().get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    for page in (redoc, swagger):
        policy = directives(page["Content-Security-Policy"])
        assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["form-action"] == ["'self'"] and policy["object-src"] == ["'none'"]


@pytest.mark.django_db
def test_the_browsable_api_keeps_scripts_strict(cast: Cast) -> None:
    http = sign_in(HttpClient(), cast.case_manager)
    page = http.get("/api/v1/clients/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    policy = directives(page["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    json = http.get("/api/v1/clients/")
    assert json["Content-Type"] == "application/json" and json["Content-Security-Policy"] == STRICT


# -- htmx under the policy ---------------------------------------------------------------------


@pytest.mark.django_db
def test_htmx_is_told_to_add_no_style_and_evaluate_nothing(cast: Cast) -> None:
    import json

    body = sign_in(HttpClient(), cast.case_manager).get("/").content.decode()
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", body)
    assert meta is not None
    config = json.loads(meta.group(1))
    assert config == {"includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False}
    # The keys are the shipped htmx's own (a renamed key would be silently ignored).
    htmx = re.search(r'src="/static/(django_htmx/htmx-\d[^"]*\.js)"', body)
    assert htmx is not None
    import django_htmx

    shipped = (Path(django_htmx.__file__).parent / "static" / htmx.group(1)).read_text()
    for key in config:
        assert f"{key}:" in shipped.replace(" ", ""), key
    css = (Path(settings.BASE_DIR) / "web/static/casework/casework.css").read_text()
    assert ".htmx-request .htmx-indicator" in css


# -- Every page keeps to it ------------------------------------------------------------------


def _html_templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_the_pdf_only_templates_exist() -> None:
    assert {str(p.relative_to(TEMPLATES)) for p in _html_templates()} >= PDF_ONLY


def test_no_template_has_inline_style_script_or_handlers() -> None:
    """The source, every branch: what the page walk below cannot reach is caught here."""
    found = []
    for path in _html_templates():
        name = str(path.relative_to(TEMPLATES))
        if name in PDF_ONLY:
            continue
        text = COMMENTS.sub(lambda m: "\n" * m.group().count("\n"), path.read_text())
        for pattern in (
            r"\sstyle\s*=",
            r"<style",
            r"<script(?![^>]*\ssrc=)",
            r"\son[a-z]+\s*=",
            r"javascript:",
        ):
            for match in re.finditer(pattern, text, flags=re.IGNORECASE):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {text.splitlines()[line - 1].strip()[:120]}")
        # htmx features that need eval, which the policy (and htmx-config) turn off.
        for pattern in (r"\shx-on", r"hx-vars", r"hx-vals=['\"]\s*js:", r"hx-trigger=\"[^\"]*\["):
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: needs htmx eval")
    assert not found, "\n".join(found)


def _walk(cast: Cast, persona: str) -> tuple[int, list[str]]:
    known = route_values(cast)
    http = sign_in(HttpClient(raise_request_exception=False), getattr(cast, persona))
    pages, broken = 0, []
    for route in all_routes():
        if route.name in INLINE_SCRIPT or route.name == "logout":
            continue
        url = url_for(route, cast, known)
        for headers in ({}, {"HX-Request": "true"}):
            with transaction.atomic():  # a GET changes nothing, but be sure the walk cannot
                response = http.get(url, headers=headers)
                transaction.set_rollback(True)
            broken += _check(route, url, headers, response)
            pages += response.get("Content-Type", "").startswith("text/html")
    return pages, broken


def _check(route: Route, url: str, headers: dict[str, str], response: HttpResponse) -> list[str]:
    where = f"GET {url} ({route.name}){' as htmx' if headers else ''}"
    if response.status_code >= 500:
        return [f"{where}: {response.status_code}"]
    if not response.get("Content-Type", "").startswith("text/html") or response.streaming:
        return []
    problems = []
    if route.name not in RELAXED and response.get("Content-Security-Policy") != STRICT:
        problems.append(f"{where}: policy {response.get('Content-Security-Policy')!r}")
    problems += [f"{where}: {found}" for found in inline_code(response.content.decode())]
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["admin", "case_manager"])
def test_every_page_the_walk_reaches_has_no_inline_code(cast: Cast, persona: str) -> None:
    pages, broken = _walk(cast, persona)
    assert pages > 100, f"only {pages} HTML pages rendered: is the walk signed in?"
    assert not broken, "\n".join(broken)
