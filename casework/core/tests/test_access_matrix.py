"""Who reaches what: every route, every persona, GET and an empty POST, written to docs/ACCESS.md.

The routes come from the URL resolver and their parameters name real rows of the home agency
(`casework.testing.routes`), so a refusal means refusal and not "no such row". The client is
enrolled in a 42 CFR Part 2 program. Each request runs in a savepoint that is rolled back, so
what one request changes (an empty POST that revokes a token, signs out, ...) never colours the
next, and the matrix does not depend on the order of the walk.

The rules asserted here hold whatever the matrix says: anonymous visitors never get a page
other than the public ones; staff of another agency never get a 2xx from a route that names a
row of the home agency; nothing answers 5xx; nobody but the staff of the 42 CFR Part 2 program
sees the narrative of the note written under it. The outcomes themselves are compared with the
committed docs/ACCESS.md, so a change of access shows up in review; regenerate it with

    CASEWORK_WRITE_ACCESS_DOC=1 .venv/bin/pytest -q casework/core/tests/test_access_matrix.py
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import Client as HttpClient

from casework.testing.personas import Cast, sign_in
from casework.testing.routes import PUBLIC, Route, all_routes, route_values, url_for

DOC = Path(__file__).resolve().parents[3] / "docs" / "ACCESS.md"
WRITE_ENV = "CASEWORK_WRITE_ACCESS_DOC"
REGENERATE = f"{WRITE_ENV}=1 .venv/bin/pytest -q casework/core/tests/test_access_matrix.py"

# Column order of the matrix: (attribute of the cast or "anonymous", column heading).
PERSONAS: tuple[tuple[str, str], ...] = (
    ("anonymous", "anonymous"),
    ("case_manager", "case manager (client's)"),
    ("colleague", "colleague (same team)"),
    ("other_team_cm", "case manager (other team)"),
    ("supervisor", "supervisor"),
    ("billing", "billing"),
    ("auditor", "auditor"),
    ("admin", "admin"),
    ("outsider_admin", "other agency's admin"),
    ("outsider_cm", "other agency's case manager"),
)
OUTSIDERS = ("outsider_admin", "outsider_cm")
# URL parameters that name no row of the home agency.
NOT_AN_OBJECT = {"section", "kind", "instrument", "format", "uidb64", "token"}
# Routes whose id names an entry of a catalogue every agency shares (the PHQ-9 instrument).
SHARED_CATALOGUES = ("v1/^instruments/",)
# Text of the Part 2 client's note narrative (written by casework.testing.billing.draft_note).
NARRATIVE = ("Met at home.", "Visit Tuesday.")
# The note is written under the Part 2 program by the client's case manager, who works in it:
# everyone else, the colleague on the client's care team and the team's supervisor included, is
# outside the program and never reads it.
PART2_READERS = ("case_manager",)

LEGEND = """\
Each cell is `GET / POST` (the POST has an empty body and a valid CSRF token), as answered to a
person signed in with that role; the client named in the URL is on the caseload of the North
team's case manager and enrolled in a 42 CFR Part 2 program.

| outcome | meaning |
|---|---|
| `2xx` | answered (a page, a fragment, JSON, a file; for a POST possibly a form with errors) |
| `3xx` | redirected elsewhere than the sign-in page (a POST done, or sent to another page) |
| `login` | redirected to the sign-in page |
| `400` | refused as bad input (e.g. the empty POST) |
| `401` | not signed in (API) |
| `403` | refused: signed in but not allowed (or no CSRF token) |
| `404` | not found: outside the person's scope, so they learn nothing |
| `405` | method not allowed |
| other | the HTTP status as answered |

Personas (all of the home agency unless said): the client's case manager; a colleague on the
same team; a case manager of another team; the team's supervisor; billing; an auditor; an agency
admin; an admin and a case manager of another agency.

42 CFR Part 2. The client's case manager also works in the Part 2 program (on its team), and the
note the URLs name was written under it. Its narrative is the program's record: shown to the
case manager only. The colleague (on the client's care team), the North team's supervisor and
the admin are outside the program: they see the note's service facts and that the narrative is
withheld ("Part 2 record — restricted to the program's staff"), so its print page is 403 to them
(billing reads no narratives at all; auditors no charts). The test fails if the narrative appears
in any answer to anyone but the case manager.

Why the other team's case manager gets 403 on the chart but 404 on the client's other routes:
the chart is the one door to a chart outside one's caseload. Its 403 page offers to break the
glass (emergency access with a reason, time-limited, audited, reviewed by a supervisor), so it
must say which client it opens. Every other route that names the client or one of its records
answers 404, as to someone of another agency: a second door would only let staff probe which
records exist. Once the glass is broken, the client's routes open as for the care team.

Auditors read the audit log and change nothing: every write they send is refused (403, or 404
where the row is not theirs to see), their own password, two-factor device, sessions and API
tokens aside (`test_auditors_change_nothing.py`). They may read the staff and program lists of
the API: auditing who did what needs to know who is who."""


@dataclass(frozen=True)
class Row:
    route: Route
    url: str


def _outcome(response: HttpResponse) -> str:
    code = response.status_code
    if 200 <= code < 300:
        return "2xx"
    if 300 <= code < 400:
        return "login" if response["Location"].startswith("/login/") else "3xx"
    return str(code)


def _part2_enrolment(cast: Cast) -> None:
    """The client is admitted to a 42 CFR Part 2 (substance-use) program of the agency, and the
    client's case manager works in it too: the note the walk signs is the program's record."""
    import datetime

    from casework.clients.models import Episode
    from casework.core.models import Program
    from casework.testing.factories import TeamFactory, add_to_team

    program = Program.objects.create(agency=cast.agency, name="SUD outpatient", is_part2=True)
    add_to_team(cast.case_manager, TeamFactory(agency=cast.agency, name="SUD", program=program))
    Episode.objects.create(
        agency=cast.agency,
        client=cast.client,
        program=program,
        admitted_on=cast.agency.today() - datetime.timedelta(days=30),
    )


def _rows(cast: Cast) -> list[Row]:
    _part2_enrolment(cast)
    known = route_values(cast)
    return [Row(route, url_for(route, cast, known)) for route in all_routes()]


def _names_a_home_row(route: Route) -> bool:
    if any(catalogue in route.pattern for catalogue in SHARED_CATALOGUES):
        return False
    return any(param not in NOT_AN_OBJECT for param in route.params)


def _walk_as(cast: Cast, persona: str, rows: list[Row]) -> dict[Route, tuple[str, str]]:
    """GET and an empty POST of every route as the persona, each in a rolled-back savepoint."""
    session_key = None
    if persona != "anonymous":
        session_key = sign_in(HttpClient(), getattr(cast, persona)).session.session_key
    outcomes: dict[Route, tuple[str, str]] = {}
    broken: list[str] = []
    for row in rows:
        pair = []
        for method in ("get", "post"):
            http = HttpClient(raise_request_exception=False)
            if session_key:
                http.cookies[settings.SESSION_COOKIE_NAME] = session_key
            with transaction.atomic():
                response = getattr(http, method)(row.url)
                transaction.set_rollback(True)
            pair.append(_outcome(response))
            broken += _broken_rules(row.route, persona, method, response)
        outcomes[row.route] = (pair[0], pair[1])
    assert not broken, "\n".join(broken)
    return outcomes


def _broken_rules(route: Route, persona: str, method: str, response: HttpResponse) -> list[str]:
    where = f"{method.upper()} {route.name} ({route.pattern}) as {persona}"
    code, answered = response.status_code, 200 <= response.status_code < 300
    broken = []
    if code >= 500:
        broken.append(f"{where}: {code}")
    if persona == "anonymous" and route.name not in PUBLIC and answered:
        broken.append(f"{where}: {code} to an anonymous visitor")
    if persona in OUTSIDERS and _names_a_home_row(route) and answered:
        broken.append(f"{where}: {code} for a row of another agency")
    if persona not in PART2_READERS and not response.streaming:
        body = response.content.decode(errors="replace")
        if any(text in body for text in NARRATIVE):
            broken.append(f"{where}: the Part 2 program's note narrative was shown")
    return broken


# -- docs/ACCESS.md ------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _render(matrix: dict[str, dict[Route, tuple[str, str]]], routes: list[Route]) -> str:
    heads = [heading for _, heading in PERSONAS]
    lines = [
        "# Access matrix",
        "",
        "Generated by `casework/core/tests/test_access_matrix.py` from the URL resolver; do not",
        "edit by hand. The test fails when this file and the application disagree. Regenerate:",
        "",
        f"    {REGENERATE}",
        "",
        LEGEND,
        "",
        "| route | pattern | " + " | ".join(heads) + " |",
        "|---|---|" + "---|" * len(heads),
    ]
    for route in routes:
        cells = [" / ".join(matrix[persona][route]) for persona, _ in PERSONAS]
        lines.append(
            f"| {_cell(route.name)} | `{_cell(route.pattern)}` | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def _committed_column(persona: str) -> dict[tuple[str, str], str]:
    """The persona's column of the committed table, by (route name, `pattern`)."""
    assert DOC.exists(), f"{DOC} is missing; generate it: {REGENERATE}"
    index = 2 + [p for p, _ in PERSONAS].index(persona)
    column: dict[tuple[str, str], str] = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 2 + len(PERSONAS) and cells[0] != "route" and cells[1].startswith("`"):
            column[(cells[0], cells[1])] = cells[index]
    return column


writing = pytest.mark.skipif(
    bool(os.environ.get(WRITE_ENV)), reason=f"{WRITE_ENV} is set: the matrix is being written"
)


# Who may reach what is decided in Python, the same on every database; the suite's second run
# (PostgreSQL) walks every route as outsiders in test_every_route_as_outsider and skips this
# table, which keeps CI well inside its time limit.
ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


@writing
@pytest.mark.django_db
@pytest.mark.skipif(ON_POSTGRESQL, reason="the same on every database; run on SQLite")
@pytest.mark.parametrize("persona", [p for p, _ in PERSONAS])
def test_the_access_matrix_holds_and_matches_the_committed_doc(cast: Cast, persona: str) -> None:
    rows = _rows(cast)
    outcomes = _walk_as(cast, persona, rows)
    computed = {(r.name, f"`{r.pattern}`"): " / ".join(o) for r, o in outcomes.items()}
    committed = _committed_column(persona)
    changed = sorted(
        f"{name} {pattern}: committed {committed.get((name, pattern))}, now {now}"
        for (name, pattern), now in computed.items()
        if committed.get((name, pattern)) != now
    )
    gone = sorted(f"{n} {p}" for n, p in committed.keys() - computed.keys())
    assert not changed and not gone, (
        f"docs/ACCESS.md is out of date for {persona} (regenerate: {REGENERATE}):\n"
        + "\n".join(changed + [f"{g}: no longer a route" for g in gone])
    )


@writing
@pytest.mark.django_db
def test_the_committed_doc_is_the_rendering_of_its_own_table(cast: Cast) -> None:
    """Heading, legend and row order come from this module, not from a hand edit."""
    routes = all_routes()
    matrix: dict[str, dict[Route, tuple[str, str]]] = {}
    for persona, _ in PERSONAS:
        column = _committed_column(persona)
        matrix[persona] = {}
        for route in routes:
            get, _, post = column.get((route.name, f"`{route.pattern}`"), "? / ?").partition(" / ")
            matrix[persona][route] = (get, post)
    assert _render(matrix, routes) == DOC.read_text(), f"regenerate: {REGENERATE}"


@pytest.mark.skipif(
    not os.environ.get(WRITE_ENV), reason=f"writes docs/ACCESS.md when {WRITE_ENV}=1"
)
@pytest.mark.django_db
def test_write_the_access_matrix(cast: Cast) -> None:
    rows = _rows(cast)
    matrix = {persona: _walk_as(cast, persona, rows) for persona, _ in PERSONAS}
    DOC.write_text(_render(matrix, [row.route for row in rows]))
