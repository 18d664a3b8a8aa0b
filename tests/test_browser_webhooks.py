"""The admin's webhooks page in Chromium: add a webhook (its secret shown once), send a test event, watch
the delivery log fill in (a retry, then delivered), remove it. Nothing leaves the screen sideways or
overlaps, at 1920x1080, 1280x720 and on a phone; axe-core finds no serious violation. Screenshots land in
artifacts/ (webhooks-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import dataclasses
import re

import aiohttp
import pytest
from playwright.async_api import expect

from engagements.deliveries import Retry
from tests.browsers import ARTIFACTS, TIMEOUT, Watch, local_only
from tests.conftest import ADMIN_SECRET
from tests.hooks import Script, play_to_the_podium, receivers
from tests.test_browser_rooms import no_serious_violations
from web.app import create_app
from web.keys import GAMES

pytestmark = pytest.mark.browser

SIZES = [{"width": 1920, "height": 1080}, {"width": 1280, "height": 720}, {"width": 390, "height": 844}]

# Shown elements stay within the viewport's width (the page may scroll down, never sideways; a wide log
# scrolls inside its own box), and no two of a pair's selectors overlap.
LAYOUT = """(apart) => {
  const shown = (sel) => [...document.querySelectorAll(sel)]
    .filter((el) => !el.closest('[hidden]'))
    .map((el) => ({ text: (el.textContent || '').trim().slice(0, 30), r: el.getBoundingClientRect() }))
    .filter((b) => b.r.width > 0 && b.r.height > 0);
  const problems = [];
  for (const b of shown('main, .card, .hook-head, .hook-url, .hook-actions, .hook-log-wrap, .hook-secret')) {
    if (b.r.left < -1 || b.r.right > innerWidth + 1) problems.push(`"${b.text}" leaves the screen sideways`);
  }
  for (const [a, c] of apart) {
    for (const p of shown(a)) for (const q of shown(c)) {
      const r = p.r, s = q.r;
      if (r.left < s.right - 1 && s.left < r.right - 1 && r.top < s.bottom - 1 && s.top < r.bottom - 1) {
        problems.push(`${a} "${p.text}" overlaps ${c} "${q.text}"`);
      }
    }
  }
  if (document.scrollingElement.scrollWidth > innerWidth + 1) problems.push('the page scrolls sideways');
  return problems;
}"""
APART = [[".hook-url", ".hook-actions"], [".hook-head", ".hook-log-wrap"], ["#hook-form", ".games-card"]]


async def test_the_admin_adds_a_webhook_tests_it_watches_its_log_and_removes_it(
    aiohttp_server, settings, browser
) -> None:
    app = create_app(dataclasses.replace(settings, webhooks=Retry(first=0.3, timeout=2.0, attempts=5)))
    server = await aiohttp_server(app, host="127.0.0.1", port=settings.port)
    server.app[GAMES].keep_delay = 0.01
    base = str(server.make_url("/")).rstrip("/")
    watch = Watch(re.compile(r"Failed to load resource: .* 400 \(Bad Request\)"))  # the ftp:// URL
    async with receivers() as make:
        r, url = await make(Script(500, 200))
        ctx = await browser.new_context(viewport=SIZES[0])
        await local_only(ctx, base, "http://127.0.0.1")
        page = watch.page(await ctx.new_page(), "webhooks")
        page.on("dialog", lambda dialog: dialog.accept())
        await page.goto(f"{base}/admin/webhooks#admin={ADMIN_SECRET}")
        await expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        await expect(page.locator("#hooks-empty")).to_be_visible()

        await page.fill("#hook-url", "ftp://example.org/")
        await page.get_by_role("button", name="Add webhook").click()
        await expect(page.locator("#hook-form .form-error")).to_contain_text("http:// or https://")

        await page.fill("#hook-url", url)
        await page.get_by_role("button", name="Add webhook").click()
        await expect(page.locator("#hook-secret")).to_be_visible()
        secret = (await page.locator("#hook-secret-value").inner_text()).strip()
        assert len(secret) >= 40
        r.secret = secret
        hook = page.locator(".hook")
        await expect(hook.locator(".hook-url")).to_have_text(url)

        await hook.get_by_role("button", name="Send test event").click()
        rows = hook.locator(".hook-log tbody tr")
        await expect(rows.first).to_contain_text("webhook.test")
        await expect(rows.first).to_contain_text("Delivered", timeout=TIMEOUT)  # after one 500
        await expect(rows.first.locator("td.num")).to_have_text("2")
        assert [got.event["type"] for got in r.received] == ["webhook.test", "webhook.test"]

        async with aiohttp.ClientSession(base_url=base) as http:
            table = await play_to_the_podium(http)
            await table.close()
        await expect(rows).to_have_count(2, timeout=TIMEOUT)
        await expect(rows.first).to_contain_text("game.finished")
        await expect(rows.first).to_contain_text("Delivered", timeout=TIMEOUT)

        await no_serious_violations(page, "the webhooks page")
        for size in SIZES:
            await page.set_viewport_size(size)
            assert await page.evaluate(LAYOUT, APART) == [], size
            name = f"webhooks-{size['width']}x{size['height']}.png"
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / name), full_page=True)

        await page.reload()  # the secret was shown once: not after a reload
        await expect(hook.locator(".hook-url")).to_have_text(url)
        assert secret not in await page.content()
        await hook.get_by_role("button", name="Remove").click()
        await expect(page.locator("#hooks-empty")).to_be_visible()
        await expect(page.locator(".hook")).to_have_count(0)
        await ctx.close()
    assert watch.problems == []
