"""What the web UI's browser tests share: Debian chromium through Playwright, the marks that
skip them without it, and signing in on the login form."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.xdist_group("server-browser"),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium (scripts/ensure_chromium.sh)"
    ),
]


def launch_chromium() -> Iterator[Any]:
    """A headless chromium for a module's tests (the body of a module-scoped fixture)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def open_page(browser: Any, url: str, *, width: int = 1280, height: int = 900) -> tuple[Any, Any]:
    """A new page at ``url`` that collects uncaught JS errors and CSP violations in
    ``page.js_errors``; returns
    the page and the navigation's response."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # a script or style the Content-Security-Policy blocked is a failure too
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.js_errors = errors
    return page, page.goto(url)


def sign_in(page: Any, key: str, wait_for: str = "#key-name") -> Any:
    """Sign in on the login form shown at the page's URL and wait for ``wait_for``."""
    page.fill("#key", key)
    page.click("#login button[type=submit]")
    page.wait_for_selector(wait_for)
    return page
