"""Question packs in a real browser: the host's form offers the sample packs of the kind of game chosen,
a Kahoot! spreadsheet imported there turns the form into a quiz with its questions and time, and the
host console downloads the game's questions as a pack. Headless Chromium, 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import expect

from engagements.packs import sample_packs
from engagements.plugins import load_types
from tests.browsers import Watch, local_only
from tests.conftest import ADMIN_SECRET
from tests.test_packs import KAHOOT_ROWS, MIXED_PACK, kahoot
from web.keys import GAMES

pytestmark = pytest.mark.browser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def titles(kind: str) -> list[str]:
    return [f"{p['title']} ({p['count']})" for p in sample_packs(load_types(), kind)]


async def test_the_form_offers_packs_of_the_chosen_kind_and_imports_a_kahoot_quiz(server, browser, tmp_path):
    base = str(server.make_url("/")).rstrip("/")
    watch = Watch()
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    await local_only(context, base)
    host = watch.page(await context.new_page(), "host")
    await host.goto(f"{base}/host#admin={ADMIN_SECRET}")
    await expect(host.locator("#type")).to_have_value("answer-vote")
    offered = host.locator("#pack option:not([value=''])")
    await expect(offered).to_have_text(titles("answer-vote"))
    await host.select_option("#type", "quiz")
    await expect(offered).to_have_text(titles("quiz"))
    await host.select_option("#pack", "quiz-science")
    await expect(host.locator("#prompts")).to_have_value(re.compile(r"^What is H2O\? \| \*Water"))

    # A Kahoot! spreadsheet, imported while the form says answer-vote, makes it a quiz with its time.
    await host.select_option("#type", "answer-vote")
    await expect(offered).to_have_text(titles("answer-vote"))
    host.once("dialog", lambda dialog: dialog.accept())
    sheet = {"name": "kahoot-export.xlsx", "mimeType": XLSX, "buffer": kahoot(KAHOOT_ROWS)}
    await host.set_input_files("#import", files=[sheet])
    await expect(host.locator("#prompt-count")).to_have_text("3 prompts")
    await expect(host.locator("#type")).to_have_value("quiz")
    await expect(offered).to_have_text(titles("quiz"))
    await expect(host.locator("#quiz_seconds")).to_have_value("30")
    await expect(host.locator("#title")).to_have_value("Space and places")
    await host.get_by_role("button", name="Create game").click()
    await host.wait_for_url(re.compile(r"/host/[^/]+$"))
    game = server.app[GAMES].loaded(host.url.rsplit("/", 1)[1])
    assert (game.type, game.settings["quiz_seconds"], len(game.prompts)) == ("quiz", 30, 3)

    # The console's download is the game's questions as a pack.
    async with host.expect_download() as download:
        await host.click("#download-pack")
    saved = await (await download.value).path()
    assert (await download.value).suggested_filename == f"questions-{game.code}.json"
    pack = json.loads(saved.read_text())
    assert (pack["type"], pack["settings"], pack["prompts"][1]) == (
        "quiz",
        {"quiz_seconds": 30},
        {"question": "The sun is a star", "answer": True},
    )
    assert not watch.problems, watch.problems


async def test_a_mixed_pack_and_typed_kind_marks_make_a_mixed_game_with_each_kinds_settings(server, browser):
    base = str(server.make_url("/")).rstrip("/")
    watch = Watch()
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    await local_only(context, base)
    host = watch.page(await context.new_page(), "host")
    await host.goto(f"{base}/host#admin={ADMIN_SECRET}")
    await expect(host.locator("#type")).to_have_value("answer-vote")
    await expect(host.locator("#quiz_seconds")).to_have_count(0)

    # Typing a line for another kind brings that kind's settings into the form, keeping what was typed.
    await host.fill("#vote_seconds", "25")
    await host.fill("#prompts", "A bad name for a cat\n[quiz] 2 + 2? | 3 | *4")
    await expect(host.locator("#quiz_seconds")).to_have_count(1)
    await expect(host.locator("#vote_seconds")).to_have_value("25")

    pack = {**MIXED_PACK, "settings": {"quiz_seconds": 12, "vote_seconds": 40}}
    host.once("dialog", lambda dialog: dialog.accept())
    upload = {"name": "pub-night.json", "mimeType": "application/json", "buffer": json.dumps(pack).encode()}
    await host.set_input_files("#import", files=[upload])
    await expect(host.locator("#prompt-count")).to_have_text("3 prompts")
    await expect(host.locator("#type")).to_have_value("quiz")
    lines = "\n".join(
        [
            "Capital of France? | Lyon | *Paris",
            "[poll] Best snack? | Crisps | Nuts",
            "[answer-vote] A bad name for a pub",
        ]
    )
    await expect(host.locator("#prompts")).to_have_value(lines)
    await expect(host.locator("#quiz_seconds")).to_have_value("12")
    await expect(host.locator("#vote_seconds")).to_have_value("40")
    await host.get_by_role("button", name="Create game").click()
    await host.wait_for_url(re.compile(r"/host/[^/]+$"))
    game = server.app[GAMES].loaded(host.url.rsplit("/", 1)[1])
    assert [game.round_type(r) for r in range(3)] == ["quiz", "poll", "answer-vote"]
    assert (game.settings["quiz_seconds"], game.settings["vote_seconds"]) == (12, 40)
    assert not watch.problems, watch.problems
