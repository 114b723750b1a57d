"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Never `playwright install`: the browser is the system `chromium` (ARCHITECTURE, tests row).
Without it these tests are skipped, unless CASEWORK_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM
# calls made from the test body (building data, reading the database) while it runs.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
E2E_DIR = Path(__file__).resolve().parent
DEFAULT_TIMEOUT_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    # WhiteNoise looks for collected static files; the live server serves them from the apps.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium, headless, with the flags every Casework browser run uses."""
    return playwright.chromium.launch(
        executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_FLAGS
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if shutil.which("chromium") is None:
        reason = (
            "Debian's chromium is not on PATH (apt-get install chromium); "
            "the browser tests need it. Never `playwright install`."
        )
        if os.environ.get("CASEWORK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CASEWORK_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


# Every page reports what the Content-Security-Policy blocked (an inline style or script, a
# stylesheet from elsewhere) as a console error the fixture below collects: any e2e test that
# meets a violation fails, so every browser test is also a check of the policy.
CSP_MARK = "CSP violation:"
REPORT_CSP_VIOLATIONS = f"""
document.addEventListener("securitypolicyviolation", function (e) {{
  console.error("{CSP_MARK} " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline")
    + " in " + e.documentURI + (e.sample ? " (" + e.sample + ")" : "")
    + (e.lineNumber ? " line " + e.lineNumber : ""));
}});
"""


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """`new_page(width=360, height=740)`: a page in a fresh browser context (own cookies).
    The test fails if any page of it reports a Content-Security-Policy violation."""
    contexts: list[Any] = []
    violations: list[str] = []

    def _collect(message: Any) -> None:
        if message.text.startswith(CSP_MARK):
            violations.append(message.text)

    def _new_page(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", _collect)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()
    if violations:
        pytest.fail(
            "The page reported Content-Security-Policy violations:\n" + "\n".join(violations),
            pytrace=False,
        )


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


def totp_code(user: Any) -> str:
    """The current code of the user's confirmed authenticator (as the phone app would show it)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(totp.token()).zfill(device.digits)


@pytest.fixture(name="totp_code")
def _totp_code_fixture() -> Callable[[Any], str]:
    return totp_code


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """`sign_in(page, email, password)`: the login form, then the two-factor code if asked."""

    def _sign_in(page: Any, email: str, password: str) -> None:
        from casework.core.models import User

        if "/login/" not in page.url:
            page.goto("/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if "/account/two-factor/verify/" in page.url:
            page.get_by_label("6-digit code").fill(totp_code(User.objects.get(email=email)))
            page.get_by_role("button", name="Continue").click()
            page.wait_for_load_state()

    return _sign_in
