"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright, one per test.

The `browser` fixture lives in tests/conftest.py; the constants and helpers here are what every browser test
shares.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"  # screenshots, kept by CI
TIMEOUT = 15_000  # ms a page gets for what a test waits for
PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1600, "height": 900}


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make chromium` (or `make test`) installs it")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


# The QR code's image has loaded. Written as a function, never a bare expression: Playwright polls an
# expression through eval, which the pages' Content Security Policy refuses (a load-dependent failure).
QR_DRAWN = "() => document.querySelector('.qr-img')?.naturalWidth > 0"

# Animations that end (the reveal, the podium rising) have finished; endless ones (confetti) don't count.
ANIMATIONS_DONE = """() => document.getAnimations().every(a => {
  const t = a.effect && a.effect.getComputedTiming();
  return a.playState !== 'running' || (t && t.iterations === Infinity);
})"""


class Watch:
    """Collects page errors and console errors of every page, to fail on any but the expected ones."""

    # The browser logs every 4xx fetch; the whole-game tests provoke one 409 (a taken nickname) on purpose.
    EXPECTED = re.compile(r"Failed to load resource: .* 409 \(Conflict\)")

    def __init__(self, expected: re.Pattern[str] | None = EXPECTED) -> None:
        self.expected = expected  # None: every console error is a problem
        self.problems: list[str] = []

    def page(self, page: Any, name: str) -> Any:
        page.on("pageerror", lambda e: self.problems.append(f"{name}: {e}"))
        page.on("console", lambda m: self._console(name, m))
        page.set_default_timeout(TIMEOUT)
        return page

    def _console(self, name: str, message: Any) -> None:
        if message.type == "error" and not (self.expected and self.expected.search(message.text)):
            self.problems.append(f"{name} console: {message.text}")


async def local_only(context: Any, *bases: str) -> None:
    """Refuse every request that is not to the servers under test on 127.0.0.1 (`bases`)."""

    async def guard(route: Any) -> None:
        if route.request.url.startswith(bases):
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", guard)


async def settle(page: Any) -> None:
    await page.wait_for_function(ANIMATIONS_DONE, timeout=TIMEOUT)
