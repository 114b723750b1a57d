"""Take the README screenshots: a client chart (desktop) and the client list (phone).

    .venv/bin/python e2e/screenshot.py

Seeds the synthetic demo agency into a throwaway SQLite database, serves it, signs in as the
demo case manager with Debian's chromium and writes docs/screenshot-chart.png (1280x900) and
docs/screenshot-phone.png (390x844). No real people: every name comes from casework/clients/demo.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from e2e.conftest import CHROMIUM_FLAGS  # noqa: E402 - the one list of flags for Debian's chromium

DOCS = ROOT / "docs"
CASE_MANAGER = "casemanager@demo.casework.example"
DEMO_PASSWORD = "casework-demo-password"  # casework.clients.demo.DEMO_PASSWORD


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def take(base_url: str) -> None:
    chromium_path = shutil.which("chromium")
    if chromium_path is None:
        sys.exit("Debian's chromium is not on PATH (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS
        )
        desktop = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        page = desktop.new_page()
        page.goto("/login/")
        page.get_by_label("Email").fill(CASE_MANAGER)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base_url}/")
        # A client of the case manager's own with a safety flag shows the chart at its fullest.
        rows = page.locator("#caseload-title ~ .table-wrap tbody tr")
        flagged = rows.filter(has=page.locator(".badge--danger"))
        row = flagged.first if flagged.count() else rows.first
        row.get_by_role("link").first.click()
        page.get_by_role("heading", level=1).wait_for()
        page.screenshot(path=str(DOCS / "screenshot-chart.png"))

        phone = browser.new_context(
            base_url=base_url,
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            storage_state=desktop.storage_state(),
        )
        page = phone.new_page()
        page.goto("/clients/")
        page.get_by_role("heading", name="Clients").wait_for()
        page.screenshot(path=str(DOCS / "screenshot-phone.png"))
        browser.close()


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="casework-screenshot-") as tmp:
        env = {
            **os.environ,
            "DEBUG": "1",  # runserver serves the static files
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'screenshot.sqlite3'}",
        }
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "seed_demo", "--clients", "60", "--seed", "1")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base_url}/healthz")
            take(base_url)
        finally:
            server.terminate()
            server.wait(timeout=10)
    sys.stdout.write(f"Wrote {DOCS / 'screenshot-chart.png'} and {DOCS / 'screenshot-phone.png'}\n")


if __name__ == "__main__":
    main()
