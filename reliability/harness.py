"""The machinery of the fault-injection run (reliability/faults.py): a private PostgreSQL
cluster, the app server and worker as killable process groups, a small HTTP client, an HTML
form reader, a fake SMS provider that counts what it receives, and the report.

Nothing here knows Casework's models: the scenarios in faults.py do.
"""

# ruff: noqa: S603, T201 - a harness that starts programs and prints its report

from __future__ import annotations

import contextlib
import glob
import http.client
import http.server
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- report -----------------------------------------------------------------------------------


@dataclass
class Report:
    """One line per check, PASS or FAIL; the run fails if any check failed."""

    failures: list[str] = field(default_factory=list)
    checks: int = 0
    started: float = field(default_factory=time.monotonic)

    def check(self, scenario: str, name: str, ok: bool, detail: str = "") -> bool:
        self.checks += 1
        verdict = "PASS" if ok else "FAIL"
        print(f"{verdict} [{scenario}] {name}" + (f": {detail}" if detail else ""), flush=True)
        if not ok:
            self.failures.append(f"[{scenario}] {name}")
        return ok

    def note(self, text: str) -> None:
        """Progress, not a check (prefixed so that a reader can tell them apart)."""
        print(f"  ... {time.monotonic() - self.started:5.1f} s  {text}", flush=True)


# --- private PostgreSQL -----------------------------------------------------------------------


class ClusterError(Exception):
    pass


def _postgres_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ClusterError(
        "No PostgreSQL server programs (initdb, pg_ctl) found: install the Debian package "
        "postgresql (they are in /usr/lib/postgresql/<version>/bin)."
    )


class Cluster:
    """A throw-away PostgreSQL cluster on a free loopback port, in its own temporary folder.

    Restarting or crashing it never touches the shared server the test suite uses. initdb
    refuses to run as root, so as root the cluster runs as the `postgres` OS user (`runuser`)
    in a folder handed to that user; otherwise as the current user.
    """

    def __init__(self, root: Path) -> None:
        self.bin = _postgres_bin()
        self.root = root
        self.data = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterError(
                    "Running as root, and there is no `postgres` OS user to run the private "
                    "cluster as (initdb refuses root)."
                ) from None
            os.chown(root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/casework"

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise ClusterError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-500:]}")

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *args, timeout=timeout)

    def create(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",  # only initdb's own final flush; the server runs with fsync=on
        )
        self.start()
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE casework")

    def dsn(self, database: str = "casework") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database} connect_timeout=5"

    def restart(self, mode: str) -> None:
        """`pg_ctl restart -m MODE`: fast ends sessions cleanly, immediate is a crash."""
        # -l: without a log file the new postmaster would keep our output pipe open.
        self._pg_ctl("-m", mode, "-l", str(self.log), "-w", "-t", "30", "restart")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("-m", mode, "-w", "-t", "30", "stop")

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=on "
            "-c max_connections=60 -c shared_buffers=32MB"
        )
        self._pg_ctl("-l", str(self.log), "-o", options, "-w", "-t", "30", "start")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError, subprocess.TimeoutExpired):
                self.stop("immediate")
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():  # pg_ctl could not stop it: end the postmaster by its own pid
            with contextlib.suppress(ValueError, OSError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)


# --- processes --------------------------------------------------------------------------------


class Proc:
    """A program in its own process group, so that `kill()` ends it and every child it forked
    (gunicorn's workers) at once, as `kill -9` of a whole service would."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log_path = log
        self._log = log.open("ab")
        self.popen = subprocess.Popen(
            args,
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: no handler runs, no transaction is committed."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        # Forked workers are not our children: wait until none of the group is left.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.popen.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        self._log.close()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- HTTP -------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    body: str
    headers: dict[str, str]
    seconds: float
    error: str = ""

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """One signed-in person: the session cookie, the CSRF cookie, plain http.client calls
    (one connection per request, a hard timeout, redirects not followed)."""

    def __init__(self, port: int, session_cookie: str, timeout: float = 15) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies = {"sessionid": session_cookie}
        self._lock = threading.Lock()

    def request(self, method: str, path: str, data: list[tuple[str, str]] | None = None) -> Answer:
        with self._lock:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers = {"Cookie": cookie, "Host": "127.0.0.1", "User-Agent": "casework-faults"}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            for raw in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = raw.partition("=")
                if name.strip() == "csrftoken":
                    with self._lock:
                        self.cookies["csrftoken"] = rest.split(";", 1)[0]
            return Answer(response.status, text, answer_headers, time.monotonic() - started)
        except (OSError, http.client.HTTPException) as error:
            return Answer(0, "", {}, time.monotonic() - started, type(error).__name__)
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data: list[tuple[str, str]]) -> Answer:
        return self.request("POST", path, data)


class _FormReader(HTMLParser):
    """The fields of each <form> on a page, as a browser would send them (without buttons)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: tuple[str, bool, list[tuple[str, bool]]] | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "fields": []}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name", "")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self._form["fields"].append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = (name, "multiple" in a, [])
        elif tag == "option" and self._select is not None:
            self._end_option()
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option["text"].append(data)

    def _end_option(self) -> None:
        if self._option is not None and self._select is not None:
            value = self._option["value"]
            if value is None:
                value = "".join(self._option["text"]).strip()
            self._select[2].append((value, self._option["selected"]))
        self._option = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._end_option()
        elif tag == "select" and self._select is not None and self._form is not None:
            self._end_option()
            name, multiple, options = self._select
            chosen = [v for v, selected in options if selected]
            if not chosen and not multiple and options:
                chosen = [options[0][0]]
            self._form["fields"].extend((name, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            self._form["fields"].append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def page_form(html: str, action: str) -> list[tuple[str, str]]:
    """The fields of the form that posts to `action` (a path), as the browser would send them;
    the page is expected to be at `action` too when its form names no action."""
    reader = _FormReader()
    reader.feed(html)
    for form in reader.forms:
        if form["action"] in {action, ""}:
            return list(form["fields"])
    raise LookupError(f"No form posting to {action} on the page.")


def replace_field(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fields if k != name] + [(name, value)]


# --- fake SMS provider ------------------------------------------------------------------------


class FakeSms:
    """A loopback stand-in for Twilio's Messages API that counts every message it receives,
    keyed by (To, Body). From the `hold_from`-th message on it holds its answer for `hold`
    seconds (and sets `received`), so that a worker can be killed while the provider has the
    message but has not answered yet."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.hold = 0.0
        self.hold_from = 0  # 0: answer every message at once
        self.received = threading.Event()
        self.refused = 0
        self._lock = threading.Lock()
        expected_path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        import base64

        expected_auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if self.path != expected_path or self.headers.get("Authorization") != expected_auth:
                    with fake._lock:
                        fake.refused += 1
                    self._answer(401, {"code": 20003})
                    return
                key = (form.get("To", [""])[0], form.get("Body", [""])[0])
                with fake._lock:
                    fake.counts[key] += 1
                    held = bool(fake.hold_from) and sum(fake.counts.values()) >= fake.hold_from
                if held:
                    fake.received.set()
                    time.sleep(fake.hold)
                self._answer(201, {"sid": f"SM{uuid.uuid4().hex}", "status": "queued"})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                with contextlib.suppress(OSError):  # the worker may be dead by now
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the numbers are synthetic, but a provider log is no place for them

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def snapshot(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self.counts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
