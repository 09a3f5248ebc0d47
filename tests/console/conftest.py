"""Browser fixtures for the console tests: Python Playwright driving Debian's Chromium at
/usr/bin/chromium (never a downloaded browser: `playwright install` is not used).

Missing browser or Playwright: the tests are skipped with the reason locally, and fail loudly
under CI=true (.ci/run installs the browser, `make test` installs Playwright)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("YINJI_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Screenshots of every page land in build/console-shots/ (git-ignored); set
# YINJI_SHOTS_DIR=docs/img to refresh the two the README shows.
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("YINJI_SHOTS_DIR") or ROOT / "build" / "console-shots")


def _unavailable() -> str | None:
    if not Path(CHROMIUM).is_file():
        return f"{CHROMIUM} missing (apt-get install chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser():
    why = _unavailable()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"console browser tests cannot run in CI: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    # launch() gives Chromium a fresh temporary user-data-dir of its own (it refuses one in
    # args), and each test gets a fresh context on top of it.
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (own sessionStorage/localStorage) in English; console errors
    (a CSP violation, a script error) fail the test."""
    # nodes serve HTTPS with their own (self-signed) certificates, which Chromium cannot be
    # told to trust per context; clients' verification is tested in tests/node/test_https.py
    ctx = browser.new_context(locale="en-GB", accept_downloads=True, ignore_https_errors=True,
                              viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("console", lambda m: errors.append(f"{m.text} {m.location.get('url', '')}")
         if m.type == "error" else None)
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.errors = errors
    yield p
    ctx.close()
    bad = [e for e in errors if "401" not in e and "403" not in e]
    assert not bad, bad


def shot(page, name: str) -> Path:
    """Write SHOTS/console-<name>.png (the README shows two of them, from docs/img)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def sign_in(page, base: str, token: str) -> None:
    page.goto(f"{base}/console/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#nav").wait_for(state="visible")
