"""The history pages in headless Chromium against `cloud-local`: a game played on the appliance and synced
to the cloud's table is listed for the admin, and its page shows the podium and a page of a round's
results; its host opens it with the host key the appliance's page offers, given after "#" in a link.
A screenshot lands in artifacts/ (cloud-history-game.png)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from engagements.service import now_ms
from engagements.store.dynamodb import DynamoStore
from sync.cloud import Retention, sync_all
from tests.browsers import ARTIFACTS, Watch, local_only, settle
from tests.conftest import ADMIN_SECRET, create_game
from tests.test_history import to_the_podium
from web.keys import GAMES, STORE

pytestmark = pytest.mark.browser


async def test_the_cloud_history_page_shows_a_synced_games_podium(
    server, http, cloud_pages, cloud_table, moto_endpoint, browser
) -> None:
    played = await create_game(http, prompts=["A bad name for a cat"])
    await to_the_podium(played)
    await played.close()
    await asyncio.sleep(0.2)  # the finished game settles (the server's keep_delay)
    cloud = await DynamoStore.open(cloud_table, endpoint_url=moto_endpoint)
    try:
        retention, types = Retention(local_days=7), server.app[GAMES].types
        await sync_all(server.app[STORE], cloud, now_ms=now_ms(), retention=retention, types=types)
    finally:
        await cloud.close()
    settings, game_id = cloud_pages.settings, played.game_id
    pages = settings.pages_url
    watch = Watch()

    # The admin: every finished game, then this one.
    ctx = await browser.new_context(viewport={"width": 1200, "height": 900})
    await local_only(ctx, pages, settings.http_url, cloud_pages.websocket_url)
    page = watch.page(await ctx.new_page(), "admin")
    await page.goto(f"{pages}/history#admin={ADMIN_SECRET}")
    assert page.url == f"{pages}/history", "the secret left the address bar"
    row = page.locator(f'#history-list [data-game="{game_id}"]')
    await expect(row).to_contain_text("Synced")
    await row.get_by_role("link", name="Quiz night").click()
    await page.wait_for_url(f"{pages}/history/{game_id}")
    await expect(page.locator(".podium-slot.first .podium-name")).to_have_text("Ann")
    await expect(page.locator(".podium-slot.second .podium-name")).to_have_text("Bob")
    await page.get_by_role("button", name="Show results (3)").click()
    await expect(page.locator(".history-table tbody tr")).to_have_count(3)
    await expect(page.locator(".history-table tbody tr").first).to_contain_text("Ann")
    ARTIFACTS.mkdir(exist_ok=True)
    await settle(page)  # the podium's rise
    await page.screenshot(path=str(ARTIFACTS / "cloud-history-game.png"), full_page=True)
    await ctx.close()

    # The host, in a browser that never signed in: the appliance's page of the synced game hands over its
    # host key (here through a link; the host's own browser keeps it), which opens it in the cloud.
    ctx = await browser.new_context()
    appliance = str(server.make_url("")).rstrip("/")
    await local_only(ctx, pages, settings.http_url, cloud_pages.websocket_url, appliance)
    page = watch.page(await ctx.new_page(), "host")
    await page.goto(f"{appliance}/history/{game_id}#host={played.created['host_token']}")
    await expect(page.locator(".podium-slot.first .podium-name")).to_have_text("Ann")
    await expect(page.get_by_role("button", name="Copy the host key")).to_be_visible()
    await page.goto(f"{pages}/history/{game_id}#host={played.created['host_token']}")
    await expect(page.locator(".podium-slot.first .podium-name")).to_have_text("Ann")
    assert page.url == f"{pages}/history/{game_id}"
    await page.goto(f"{pages}/history")
    await expect(page.locator(f'#mine-list [data-game="{game_id}"]')).to_be_visible()
    await expect(page.locator("#admin-login")).to_be_visible()  # the listing itself stays the admin's
    await ctx.close()
    assert watch.problems == []
