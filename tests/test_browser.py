"""A whole game through real browsers: the host creates it in the UI, the big screen shows the QR code,
three phones join and play both prompts, and everyone ends on the podium.

Drives Debian's Chromium (Playwright cannot download its own browser here) against the real server on
127.0.0.1; every other address is refused. Screenshots land in artifacts/ at the repository root.
"""

from __future__ import annotations

import re
from typing import Any

import PIL.Image
import pytest
import zxingcpp
from playwright.async_api import expect

from tests.browsers import ARTIFACTS, PHONE, QR_DRAWN, SCREEN, Watch, local_only, settle
from tests.conftest import ADMIN_SECRET, create_game
from web.keys import GAMES

pytestmark = pytest.mark.browser

PROMPTS = ["A bad name for a cat", "The worst pizza topping"]
# Per prompt: each player's answer, and whose answer they vote for. Bob wins both prompts; Ann gets
# one vote in each, Cy none, so the podium is Bob, Ann, Cy whatever the points per vote are.
ANSWERS = [
    {"Ann": "Sir Hairball", "Bob": "Mr Mittens", "Cy": "Captain Fluff"},
    {"Ann": "Pineapple jelly", "Bob": "Toothpaste", "Cy": "Regret"},
]
VOTES = [
    {"Ann": "Bob", "Bob": "Ann", "Cy": "Bob"},
    {"Ann": "Bob", "Bob": "Ann", "Cy": "Bob"},
]
EXPECTED_RANK = {"Bob": 1, "Ann": 2, "Cy": 3}


async def test_whole_game_in_browsers(server, browser, tmp_path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch()

    # -- the host creates a game through the form ------------------------------------------------
    host_ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    await local_only(host_ctx, base)
    host = watch.page(await host_ctx.new_page(), "host")
    await host.goto(f"{base}/host#admin={ADMIN_SECRET}")  # the console link `serve` prints
    await expect(host.locator("#create-form")).to_be_visible()
    assert host.url == f"{base}/host"  # the secret is kept in the browser, not left in the address bar
    await expect(host.locator("#pack option")).not_to_have_count(1)  # the sample packs loaded
    # A sample pack fills the prompts...
    await host.select_option("#pack", index=1)
    await expect(host.locator("#prompt-count")).not_to_have_text("0 prompts")
    assert await host.input_value("#title")
    # ...and so does an imported CSV file (parsed by the server), which replaces them.
    host.once("dialog", lambda dialog: dialog.accept())  # "replace the prompts you have?" is only for packs
    csv = ("prompt\n" + "\n".join(PROMPTS) + "\n").encode()
    await host.set_input_files("#import", files=[{"name": "two.csv", "mimeType": "text/csv", "buffer": csv}])
    await expect(host.locator("#prompts")).to_have_value("\n".join(PROMPTS))
    await expect(host.locator("#prompt-count")).to_have_text("2 prompts")
    await host.fill("#title", "Browser night")
    await host.fill("#question_seconds", "60")
    await host.fill("#vote_seconds", "45")
    await host.fill("#max_players", "50")
    await host.uncheck("#late_join")
    await host.screenshot(path=str(ARTIFACTS / "host-new.png"), full_page=True)
    await host.get_by_role("button", name="Create game").click()
    await host.wait_for_url(re.compile(r"/host/[^/]+$"))
    game_id = host.url.rsplit("/", 1)[1]
    assert await host.evaluate(f"localStorage.getItem('engagements:host:{game_id}')")
    settings = server.app[GAMES].loaded(game_id).settings
    assert (settings["max_players"], settings["late_join"]) == (50, False)
    await expect(host.locator("#title")).to_have_text("Browser night")
    await expect(host.locator("#phase")).to_have_text("Lobby")
    code = (await host.locator("#code").text_content()).strip()
    join_url = await host.locator("#join-url").get_attribute("href")
    assert join_url == f"{base}/j/{code}"
    await expect(host.locator("#start")).to_be_disabled()  # nobody has joined yet

    # -- the big screen opens from the console ---------------------------------------------------
    async with host_ctx.expect_page() as popup:
        await host.click("#open-screen")
    screen = watch.page(await popup.value, "screen")
    await screen.set_viewport_size(SCREEN)
    await screen.wait_for_load_state()
    assert screen.url == f"{base}/screen/{game_id}"
    await expect(screen.locator(".lobby-code")).to_have_attribute("aria-label", f"Game code {code}")
    await expect(screen.locator(".lobby-url")).to_have_text(join_url)

    # -- three phones join through the QR code's URL ----------------------------------------------
    phones: dict[str, Any] = {}
    for name in ("Ann", "Bob", "Cy"):
        ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        await local_only(ctx, base)
        phone = watch.page(await ctx.new_page(), name)
        await phone.goto(join_url)
        await expect(phone.locator("#code")).to_have_value(code)
        if name == "Cy":  # a taken nickname (case-insensitively) is explained in the form
            await phone.fill("#nickname", "ann")
            await phone.get_by_role("button", name="Join game").click()
            await expect(phone.locator(".form-error")).to_contain_text("already called")
            await phone.screenshot(path=str(ARTIFACTS / "phone-join-error.png"))
        await phone.fill("#nickname", name)
        await phone.get_by_role("button", name="Join game").click()
        await phone.wait_for_url(f"{base}/play/{game_id}")
        await expect(phone.locator(".play-nick")).to_have_text(name)
        phones[name] = phone
    await expect(phones["Cy"].locator(".play-pill")).to_have_text("3 players in the lobby")
    await settle(phones["Cy"])
    await phones["Cy"].screenshot(path=str(ARTIFACTS / "phone-lobby.png"))

    # Reopening the QR link on a phone that joined goes straight back to its game.
    await phones["Ann"].goto(join_url)
    await phones["Ann"].wait_for_url(f"{base}/play/{game_id}")
    await expect(phones["Ann"].locator(".play-nick")).to_have_text("Ann")

    # The big screen shows the count and the latest names (newest first); the host a page of players.
    await expect(screen.locator(".chips-screen .chip")).to_have_count(3)
    await expect(screen.locator(".chips-screen .chip-name").first).to_have_text("Cy")
    await expect(screen.locator(".lobby-count-n")).to_have_text("3")
    await expect(host.locator("#players .player-row")).to_have_count(3)
    await expect(host.locator("#players .player-row.online")).to_have_count(3)
    await expect(host.locator("#player-count")).to_have_text("3")

    # The QR code on the big screen decodes to the join URL.
    await screen.wait_for_function(QR_DRAWN)
    await settle(screen)
    lobby_png = ARTIFACTS / "screen-lobby.png"
    await screen.screenshot(path=str(lobby_png))
    decoded = [r.text for r in zxingcpp.read_barcodes(PIL.Image.open(lobby_png))]
    assert decoded == [join_url]
    await host.screenshot(path=str(ARTIFACTS / "host-lobby.png"))

    # -- the game: both prompts, answered and voted on the phones --------------------------------
    await expect(host.locator("#start")).to_be_enabled()
    await host.click("#start")
    for index, prompt in enumerate(PROMPTS):
        await expect(screen.locator(".av-prompt")).to_have_text(prompt)
        await expect(host.locator("#phase")).to_have_text("Answering")
        for name, phone in phones.items():
            await expect(phone.locator(".av-prompt")).to_have_text(prompt)
            await expect(phone.locator(".av-tag")).to_have_text(f"Prompt {index + 1} of 2")
            await phone.fill("textarea.av-input", ANSWERS[index][name])
            await expect(phone.locator(".av-counter")).to_have_text(f"{len(ANSWERS[index][name])} / 140")
            if index == 0 and name == "Ann":
                await phone.screenshot(path=str(ARTIFACTS / "phone-answer.png"))
            if index == 0 and name == "Cy":
                await expect(screen.locator(".av-progress-text")).to_have_text("2 of 3 answers in")
                await settle(screen)
                await screen.screenshot(path=str(ARTIFACTS / "screen-question.png"))
                await host.screenshot(path=str(ARTIFACTS / "host-question.png"))
            await phone.get_by_role("button", name="Send answer").click()
            if name != "Cy":  # Cy's answer is the last: it closes the phase at once
                await expect(phone.locator(".av-done-title")).to_have_text("Answer in!")

        if index == 1:  # a phone that reloads keeps its seat; its ballot still leaves out its answer
            await phones["Cy"].reload()

        # Voting: everyone's own answer is left out of their ballot.
        await expect(screen.locator(".av-card")).to_have_count(3)
        await expect(host.locator("#phase")).to_have_text("Voting")
        for name, phone in phones.items():
            ballot = phone.locator(".av-option")
            await expect(ballot).to_have_count(2)
            assert ANSWERS[index][name] not in await ballot.all_text_contents()
            if index == 0 and name == "Ann":
                await phone.screenshot(path=str(ARTIFACTS / "phone-vote.png"))
            if index == 0 and name == "Bob":
                await settle(screen)
                await screen.screenshot(path=str(ARTIFACTS / "screen-voting.png"))
            choice = ANSWERS[index][VOTES[index][name]]
            await ballot.filter(has_text=choice).click()
            if name != "Cy":
                await expect(phone.locator(".av-done-title")).to_have_text("Vote in!")

        # Results: each answer with its author, the most votes first.
        await expect(host.locator("#phase")).to_have_text("Results")
        results = screen.locator(".av-results .av-result")
        await expect(results).to_have_count(3)
        await expect(results.first.locator(".av-result-text")).to_have_text(ANSWERS[index]["Bob"])
        await expect(results.first.locator(".av-result-author")).to_contain_text("Bob")
        await expect(results.first.locator(".av-votes")).to_have_text("2 votes")
        await expect(screen.locator(".screen-board .lb-row").first).to_contain_text("Bob")
        for name, phone in phones.items():
            await expect(phone.locator(".av-rank")).to_have_text(f"#{EXPECTED_RANK[name]}")
        if index == 0:
            await settle(screen)
            await screen.screenshot(path=str(ARTIFACTS / "screen-results.png"))
            await settle(phones["Ann"])
            await phones["Ann"].screenshot(path=str(ARTIFACTS / "phone-results.png"))
            await host.screenshot(path=str(ARTIFACTS / "host-results.png"))
        await expect(host.locator("#next")).to_have_text("Next prompt" if index == 0 else "Show the podium")
        await host.click("#next")

    # -- the podium ---------------------------------------------------------------------------------
    await expect(host.locator("#phase")).to_have_text("Final results")
    await expect(screen.locator(".finale-title")).to_have_text("Bob wins!")
    await expect(screen.locator(".podium-slot.first .podium-name")).to_have_text("Bob")
    await expect(screen.locator(".podium-slot.second .podium-name")).to_have_text("Ann")
    await expect(screen.locator(".podium-slot.third .podium-name")).to_have_text("Cy")
    await expect(screen.locator(".podium-slot.first")).to_have_attribute("data-rank", "1")
    for name, phone in phones.items():
        rank = EXPECTED_RANK[name]
        await expect(phone.locator(".play-rank")).to_have_attribute("data-rank", str(rank))
        await expect(phone.locator(".play-rank")).to_have_text(
            "You won!" if rank == 1 else f"You finished {['', '1st', '2nd', '3rd'][rank]}"
        )
    await settle(screen)
    await screen.screenshot(path=str(ARTIFACTS / "screen-podium.png"))
    await settle(phones["Ann"])
    await phones["Ann"].screenshot(path=str(ARTIFACTS / "phone-podium.png"), full_page=True)
    await host.screenshot(path=str(ARTIFACTS / "host-podium.png"))

    assert watch.problems == []


async def test_a_kicked_phone_cannot_join_again_under_another_nickname(server, http, browser) -> None:
    """The join page keeps a device id: once kicked, the same browser is refused under any nickname."""
    base = str(server.make_url("/")).rstrip("/")
    table = await create_game(http)
    code = table.created["code"]
    watch = Watch()
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    await local_only(ctx, base)
    phone = watch.page(await ctx.new_page(), "phone")
    await phone.goto(f"{base}/j/{code}")
    await phone.fill("#nickname", "Troll")
    await phone.get_by_role("button", name="Join game").click()
    await phone.wait_for_url(f"{base}/play/{table.game_id}")
    device = await phone.evaluate("localStorage.getItem('engagements:device')")
    assert device and len(device) == 32, device
    await table.host.send("players", query="troll", offset=0)
    found = await table.host.expect("players")
    troll = found["items"][0]["id"]
    game = server.app[GAMES].loaded(table.game_id)
    assert game.players[troll].device and game.players[troll].client, (
        "the page sent its device and client ids"
    )
    await table.host.ok("kick", player=troll)
    await expect(phone.locator(".notice h2")).to_have_text("You've been removed")
    # Forget the seat, keep the device (a private tab would lose both: the address fallback then).
    await phone.evaluate(
        f"localStorage.removeItem('engagements:player:{table.game_id}');"
        f"localStorage.removeItem('engagements:code:{code}')"
    )
    await phone.goto(f"{base}/j/{code}")
    await phone.fill("#nickname", "Angel")
    await phone.get_by_role("button", name="Join game").click()
    await expect(phone.locator(".form-error")).to_contain_text("removed you")
    assert await phone.evaluate("localStorage.getItem('engagements:device')") == device
    await table.close()
    problems = [p for p in watch.problems if "403 (Forbidden)" not in p and "4003" not in p]
    assert problems == []
