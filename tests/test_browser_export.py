"""The host console's "Download everything": after a game played over real WebSockets, the finished
console saves the game's spreadsheet, its texts as typed and never a formula. Headless Chromium on
127.0.0.1 only."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect

from tests.browsers import Watch, local_only
from tests.conftest import create_game
from tests.test_export import INJECTION, play

pytestmark = pytest.mark.browser
PROMPTS = [{"type": "answer-vote", "prompt": "A bad name for a cat"}]


async def test_the_finished_console_downloads_the_games_spreadsheet(server, http, browser):
    table = await create_game(http, prompts=PROMPTS)
    scores = await play(table, PROMPTS)
    base = str(server.make_url("/")).rstrip("/")
    watch = Watch(expected=None)
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    await local_only(context, base)
    key = f"engagements:host:{table.game_id}"
    await context.add_init_script(f"localStorage.setItem('{key}', '{table.created['host_token']}')")
    host = watch.page(await context.new_page(), "host")
    await host.goto(f"{base}/host/{table.game_id}")
    button = host.locator("#download-export")
    await expect(button).to_have_text("Download everything (.xlsx)")
    async with host.expect_download() as download:
        await button.click()
    assert (await download.value).suggested_filename == f"export-{table.created['code']}.xlsx"
    saved = await (await download.value).path()  # a name of Playwright's, without the suffix
    workbook = load_workbook(io.BytesIO(saved.read_bytes()))
    assert workbook.sheetnames == ["Game", "Rounds", "Players", "Results"]
    players = {row[1].value: row for row in workbook["Players"].iter_rows(min_row=2)}
    assert {nick: row[2].value for nick, row in players.items()} == scores
    assert players[INJECTION][1].data_type == "s", "a string, not a formula"
    await expect(button).to_be_enabled()
    assert not watch.problems, watch.problems
    await table.close()
