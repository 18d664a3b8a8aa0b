"""The quiz in real browsers at 8, 40 and 300 players: a phone in Chromium taps an option (colour and
shape, big targets), the big screen shows the question, its options and the answers-in count, then the
counts per option and the leaderboard; the host console keeps its controls in view. Nothing overlaps,
nothing leaves the screen, no page scrolls; axe-core finds no serious violation (at 40 players).

Screenshots land in artifacts/ (quiz-screen-question-300-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.browsers import ARTIFACTS
from tests.test_browser_rooms import (  # noqa: F401  (settings and sockets are fixtures)
    FINISH_ANIMATIONS,
    HOST,
    HOST_APART,
    PHONE,
    SCREENS,
    Watch,
    assert_layout,
    connect,
    join,
    no_serious_violations,
    open_views,
    settings,
    shot,
    sockets,
)

pytestmark = pytest.mark.browser

QUESTION = "Which of these planets has the most moons known to astronomers as of the start of this decade?"
OPTIONS = ["Mercury", "Saturn", "Jupiter, the largest planet of the solar system", "Venus", "Mars", "Neptune"]
HOST_CONTROLS = ["#end-phase", "#skip", "#end-game", ".control-bar .switch"]


@pytest.mark.parametrize("n", [8, 40, 300])
async def test_quiz_views_keep_their_size(n, server, sockets, browser) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch(expected=None)
    axe = n == 40
    prompt = {"question": QUESTION, "options": OPTIONS, "answer": 1}
    body = {"title": "Quiz night", "type": "quiz", "prompts": [prompt], "quiz_seconds": 300}
    views = await open_views(browser, sockets, base, watch, body, n)
    host, screens, clients, phone = views.host, views.screens, views.clients, views.phone
    await expect(host.locator("#start")).to_be_enabled()

    # -- question -----------------------------------------------------------------------------------
    await host.click("#start")
    await expect(phone.locator(".qz-prompt")).to_have_text(QUESTION)
    await expect(phone.locator("#announcer")).to_contain_text("Tap your answer")
    buttons = phone.locator(".qz-option")
    await expect(buttons).to_have_count(6)
    heights = await buttons.evaluate_all("(els) => els.map((el) => el.getBoundingClientRect().height)")
    assert min(heights) >= 48, heights  # big tap targets
    shapes = await buttons.locator(".qz-shape").all_text_contents()
    assert len(set(shapes)) == 6, "each option has a shape of its own, not only a colour"
    await assert_layout(
        phone, {"inside": [".qz-prompt", ".qz-timer", ".qz-option"], "apart": [[".qz-prompt", ".qz-option"]]},
        f"phone question {n}",
    )  # fmt: skip
    await shot(phone, f"quiz-phone-question-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's question")
    await phone.get_by_role("button", name=f"diamond: {OPTIONS[1]}").click()
    await expect(phone.locator(".qz-done-title")).to_have_text("Answer locked in")

    count = f"{n:,}"
    screen_question = {
        "inside": [".qz-prompt", ".qz-timer", ".qz-card", ".qz-count"],
        "apart": [[".qz-prompt", ".qz-card"], [".qz-count", ".qz-card"], [".qz-timer", ".qz-card"],
                  [".screen-top", ".qz-screen"]],
    }  # fmt: skip
    for page, size in screens:
        await expect(page.locator(".qz-count")).to_have_text(f"1 of {count} answered")
        await expect(page.locator(".qz-card")).to_have_count(6)
        await assert_layout(page, screen_question, f"screen question {n} {size}")
        await shot(page, f"quiz-screen-question-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's question")
    await assert_layout(host, {"inside": HOST_CONTROLS, "apart": HOST_APART}, f"host question {n}")
    await shot(host, f"quiz-host-question-{n}")
    if axe:
        await no_serious_violations(host, "the host's question")

    await asyncio.gather(*(c.ok("answer", round=0, choice=i % 6) for i, c in enumerate(clients)))

    # -- reveal: the counts per option, the correct one marked, the leaderboard -------------------
    await expect(phone.locator(".qz-verdict-title")).to_have_text("Correct!")
    await expect(phone.locator("#announcer")).to_contain_text(f"The answer is {OPTIONS[1]}")
    await expect(phone.locator(".qz-bar")).to_have_count(6)
    await phone.evaluate(FINISH_ANIMATIONS)
    await shot(phone, f"quiz-phone-reveal-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's reveal")
    right = sum(1 for i in range(n - 1) if i % 6 == 1) + 1
    screen_reveal = {
        "inside": [".qz-prompt", ".qz-bar", ".qz-fastest", ".screen-board"],
        "apart": [[".qz-prompt", ".qz-bar"], [".screen-board", ".qz-bar"], [".qz-fastest", ".qz-bar"],
                  [".screen-board", ".qz-fastest"], [".screen-top", ".qz-screen"]],
    }  # fmt: skip
    for page, size in screens:
        correct = page.locator(".qz-bar.right .qz-bar-count")
        await expect(correct).to_contain_text(f"{right:,}")
        await expect(page.locator(".screen-board .lb-row")).not_to_have_count(0)
        await page.evaluate(FINISH_ANIMATIONS)
        await assert_layout(page, screen_reveal, f"screen reveal {n} {size}")
        await shot(page, f"quiz-screen-reveal-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's reveal")
    await expect(host.locator(".qz-table tbody tr")).to_have_count(min(n, 20))
    await shot(host, f"quiz-host-reveal-{n}")
    await assert_layout(
        host,
        {"inside": ["#next", "#end-game", ".control-bar .switch"], "apart": HOST_APART},
        f"host reveal {n}",
    )
    if axe:
        await no_serious_violations(host, "the host's reveal")
    assert watch.problems == []
    for c in clients:
        await c.ws.close()
