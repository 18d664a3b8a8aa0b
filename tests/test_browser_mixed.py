"""A mixed game on a phone in Chromium: a quiz question, an answer-then-vote round, a true/false
question. The phone renders each round with its own type's module, loaded when its first round opens,
and ends on the one podium. Two more players play over WebSockets. Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browsers import PHONE, Watch
from tests.conftest import create_game
from tests.test_browser_rooms import ballot_of, new_context
from tests.test_mixed_game import PROMPTS

pytestmark = pytest.mark.browser


async def test_the_phone_switches_modules_between_rounds_of_different_types(server, http, browser) -> None:
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch()
    table = await create_game(http, prompts=PROMPTS)
    bots = [await table.join(nick) for nick in ("Bob", "Cy")]
    async with http.post("/api/join", json={"code": table.created["code"], "nickname": "Ann"}) as r:
        token = (await r.json())["player_token"]
    storage = {f"engagements:player:{table.game_id}": token}
    ctx = await new_context(browser, base, storage, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = watch.page(await ctx.new_page(), "phone")
    await phone.goto(f"{base}/play/{table.game_id}")
    await expect(phone.locator(".play-nick")).to_have_text("Ann")

    # -- round 1, a quiz question -----------------------------------------------------------------
    await table.host.ok("start")
    await expect(phone.locator(".qz-prompt")).to_have_text("Capital of France?")
    await phone.locator(".qz-option").filter(has_text="Paris").click()
    await expect(phone.locator(".qz-done-title")).to_have_text("Answer locked in")
    for bot in bots:
        await bot.ok("answer", round=0, choice=0)
    await expect(phone.locator(".qz-verdict-title")).to_have_text("Correct!")

    # -- round 2, answer then vote: the phone loads answer-vote's module and leaves the quiz's -------
    await table.host.ok("next", round=0)
    await expect(phone.locator(".av-prompt")).to_have_text("A bad name for a cat")
    await expect(phone.locator(".qz-option")).to_have_count(0)
    await phone.fill("textarea.av-input", "Sir Hairball")
    await phone.get_by_role("button", name="Send answer").click()
    await expect(phone.locator(".av-done-title")).to_have_text("Answer in!")
    for i, bot in enumerate(bots):
        await bot.ok("answer", round=1, text=f"cat {i}")
    ballot = phone.locator(".av-option")
    await expect(ballot).to_have_count(2)
    await ballot.first.click()
    for bot in bots:
        await bot.ok("vote", round=1, option=(await ballot_of(bot))[0]["id"])
    await expect(phone.locator(".av-rank")).to_be_visible()

    # -- round 3, a quiz question again: back to the quiz's module -----------------------------------
    await table.host.ok("next", round=1)
    await expect(phone.locator(".qz-prompt")).to_have_text("The sun is a star")
    await expect(phone.locator(".av-prompt")).to_have_count(0)
    await phone.locator(".qz-option").filter(has_text="True").click()
    for bot in bots:
        await bot.ok("answer", round=2, choice=1)
    await expect(phone.locator(".qz-verdict-title")).to_have_text("Correct!")
    await table.host.ok("next", round=2)
    await expect(phone.locator(".play-rank")).to_have_text("You won!")

    loaded = await phone.evaluate("performance.getEntriesByType('resource').map((e) => e.name)")
    assert {url.split("/types/")[1] for url in loaded if "/types/" in url and url.endswith(".js")} == {
        "quiz/round.js",
        "answer-vote/round.js",
    }
    assert watch.problems == []
    await table.close()


async def test_a_game_opened_by_a_poll_ends_on_the_podium_its_quiz_round_scored(server, http, browser):
    """The game's own type keeps no score (a poll), but its quiz round did: the phone shows the podium."""
    base = str(server.make_url("/")).rstrip("/")
    watch = Watch()
    prompts = [
        {"type": "poll", "question": "Tea or coffee?", "options": ["Tea", "Coffee"]},
        {"type": "quiz", "question": "Capital of France?", "options": ["Lyon", "Paris"], "answer": "Paris"},
    ]
    table = await create_game(http, prompts=prompts)
    bot = await table.join("Bob")
    async with http.post("/api/join", json={"code": table.created["code"], "nickname": "Ann"}) as r:
        token = (await r.json())["player_token"]
    storage = {f"engagements:player:{table.game_id}": token}
    ctx = await new_context(browser, base, storage, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = watch.page(await ctx.new_page(), "phone")
    await phone.goto(f"{base}/play/{table.game_id}")
    await expect(phone.locator(".play-nick")).to_have_text("Ann")

    await table.host.ok("start")  # the poll: nobody scores
    await bot.ok("vote", round=0, choices=[0])
    await table.host.ok("end_phase", round=0, phase="open")
    await table.host.ok("next", round=0)  # the quiz: Ann is right, Bob is not
    await phone.locator(".qz-option").filter(has_text="Paris").click()
    await bot.ok("answer", round=1, choice=0)
    await expect(phone.locator(".qz-verdict-title")).to_have_text("Correct!")
    await table.host.ok("next", round=1)
    await expect(phone.locator(".play-rank")).to_have_text("You won!")
    assert watch.problems == []
    await table.close()
