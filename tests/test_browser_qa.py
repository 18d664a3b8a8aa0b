"""The Q&A in real browsers, in rooms of 8, 40 and 300 players: the phone (390x844), the big screen
(1920x1080 and 1280x720) and the host console (1920x1080). The room asks (long questions among
them) and upvotes; the phone asks and upvotes through its page; the host puts a question on the big
screen, hides one and closes the questions. Nothing overlaps, no page scrolls (the phone's list
scrolls inside it, the big screen shows only the rows that fit), the phone's buttons are big enough
to tap, the lists are bounded whatever the room, and axe-core finds no serious violation at 40
players.

Screenshots land in artifacts/ (qa-screen-open-300-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from engagements.types.qa import TEXT_MAX, TOP
from tests.browsers import ARTIFACTS
from tests.test_browser_rooms import (  # the rooms test's helpers and fixtures: one way to check a layout
    HOST_APART,
    Watch,
    assert_layout,
    no_serious_violations,
    open_views,
    settings,  # noqa: F401  (a fixture: the join limit lifted for hundreds of players on loopback)
    shot,
    sockets,  # noqa: F401  (a fixture: a session without a connection limit)
)

pytestmark = pytest.mark.browser

TOPIC = "Questions for the leadership team about next year's plans, the budget and the new office"
ODD, EVEN = ":nth-child(odd)", ":nth-child(even)"
LONG = (
    "Extraordinarily-long-hyphenated-words and run-on sentences 🎤 that fill every one of the "
    "characters a question may hold, " * 2
)[:TEXT_MAX]


def question(i: int) -> str:
    """Every fifth fills a question to its last character; each is its own text, so a question found
    by its text (the one the host hides) is that one."""
    if i % 5 == 0:
        return f"#{i} {LONG}"[:TEXT_MAX]
    return f"Question {i}: when will the new office open, and who decides?"


PHONE = {
    "inside": [".qa-topic", ".qa-tab", ".qa-input", ".qa-send", ".qa-left"],
    "apart": [
        [".qa-head", ".qa-tabs"],
        [".qa-tabs", ".qa-scroll"],
        [".qa-scroll", ".qa-ask"],
        [".qa-now", ".qa-tabs"],
        [f".qa-q{ODD}", f".qa-q{EVEN}"],
        [".qa-q-body", ".qa-vote"],
    ],
}
SCREEN = {
    "inside": [".qa-topic", ".qa-counts", ".qa-rank-row", ".qa-spot"],
    "apart": [
        [".qa-board-head", ".qa-topic"],
        [".qa-topic", ".qa-board-body"],
        [".qa-spot", ".qa-top"],
        [".qa-top-title", ".qa-rank"],
        [f".qa-rank-row{ODD}", f".qa-rank-row{EVEN}"],
        [".qa-votes", ".qa-rank-body"],
        [".screen-top", ".qa-screen"],
    ],
}
HOST_ROWS = [
    [f".qa-host-row{ODD}", f".qa-host-row{EVEN}"],
    [".qa-q-body", ".qa-actions"],
    [".qa-votes", ".qa-q-body"],
]


def host_layout(*ids: str) -> dict:
    return {"inside": [*ids, ".qa-topic", ".qa-tab"], "apart": [*HOST_APART, *HOST_ROWS]}


@pytest.mark.parametrize("n", [8, 40, 300])
async def test_a_qa_keeps_every_view_in_shape(n, server, sockets, browser) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch(expected=None)
    axe = n == 40
    body = {"title": "Town hall", "prompts": [TOPIC], "type": "qa", "qa_questions": 3}
    views = await open_views(browser, sockets, base, watch, body, n)
    host, screens, clients, phone = views.host, views.screens, views.clients, views.phone
    await expect(host.locator("#player-count")).to_have_text(f"{n:,}")

    # -- the questions open: the phone asks through its page -----------------------------------------
    await host.click("#start")
    await expect(phone.locator(".qa-topic")).to_have_text(TOPIC)
    await expect(phone.locator("#announcer")).to_contain_text("Ask a question, or upvote")
    await expect(phone.locator(".qa-empty")).to_have_text("No questions yet. Be the first to ask!")
    await phone.fill(".qa-input", "Will the slides be shared after the session?")
    await phone.get_by_role("button", name="Ask", exact=True).click()
    await expect(phone.locator(".qa-tab[data-tab='mine']")).to_have_text("Yours (1)")
    await expect(phone.locator(".qa-q.mine .qa-q-text")).to_have_text(
        "Will the slides be shared after the session?"
    )
    await expect(phone.locator(".qa-left")).to_have_text("2 questions left")

    # -- the room asks and upvotes; the lists stay bounded ---------------------------------------------
    asked = await asyncio.gather(*(c.ok("ask", round=0, text=question(i)) for i, c in enumerate(clients)))
    ids = [a["question"] for a in asked]
    chosen = {
        i: [ids[(i + 1 + k) % len(ids)] for k in range(min(3, len(ids) - 1))] for i in range(len(clients))
    }

    async def upvote(i: int) -> None:  # each phone's votes one after the other, the room's at once
        for q in chosen[i]:
            await clients[i].ok("upvote", round=0, question=q)

    await asyncio.gather(*(upvote(i) for i in range(len(clients))))
    votes = sum(len(c) for c in chosen.values())
    # every question of the room gets 3 upvotes: the earliest asked lead the list
    top = min(n, TOP)  # the room's questions and the phone's
    counts = f"{n:,} questions · {votes:,} upvotes"
    await expect(phone.locator(".qa-counts")).to_have_text(counts, timeout=15_000)  # the lists settled
    await phone.locator(".qa-tab[data-tab='top']").click()
    await expect(phone.locator(".qa-q")).to_have_count(top, timeout=15_000)
    heights = await phone.locator(".qa-vote").evaluate_all(
        "(els) => els.filter((e) => !e.hidden).map((e) => e.offsetHeight)"
    )
    assert min(heights) >= 48, heights  # big enough to tap
    first = phone.locator(".qa-q").first
    count = int((await first.locator(".qa-votes-n").text_content()).replace(",", ""))
    await first.locator(".qa-vote").click()
    await expect(first.locator(".qa-vote")).to_have_attribute("aria-pressed", "true")
    await expect(first.locator(".qa-votes-n")).to_have_text(f"{count + 1:,}")
    await assert_layout(phone, PHONE, f"phone open {n}")
    await shot(phone, f"qa-phone-open-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's Q&A")

    for page, size in screens:
        await expect(page.locator(".qa-counts")).to_have_text(
            f"{n:,} questions · {votes + 1:,} upvotes", timeout=15_000
        )
        await expect(page.locator(".qa-spot-empty-title")).to_have_text("Ask your questions on your phone")
        rows = await page.locator(".qa-rank-row:not([hidden])").count()
        assert 3 <= rows <= top, rows
        await assert_layout(page, SCREEN, f"open {n} {size}")
        await shot(page, f"qa-screen-open-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's Q&A")
    await expect(host.locator(".qa-host-row")).to_have_count(min(n, TOP + 5), timeout=15_000)
    await assert_layout(host, host_layout("#end-phase", "#skip", "#end-game"), f"host open {n}")
    await expect(host.locator("#end-phase")).to_have_text("Close questions")
    await shot(host, f"qa-host-open-{n}")
    if axe:
        await no_serious_violations(host, "the host's Q&A")

    # -- the host puts the top question on the big screen and hides another -------------------------
    best = host.locator(".qa-host-row").first
    best_text = await best.locator(".qa-q-text").text_content()
    await best.locator("button[data-state='highlighted']").click()
    await expect(host.locator(".qa-host-now .qa-now-text")).to_have_text(best_text)
    hidden_row = host.locator(".qa-host-row").nth(1)
    hidden_text = await hidden_row.locator(".qa-q-text").text_content()
    await hidden_row.locator("button[data-state='hidden']").click()
    for page, size in screens:
        await expect(page.locator(".qa-spot-text")).to_have_text(best_text)
        await expect(page.locator(".qa-rank-text", has_text=hidden_text)).to_have_count(0)
        await assert_layout(
            page,
            {**SCREEN, "inside": [*SCREEN["inside"], ".qa-spot-text", ".qa-spot-meta"]},
            f"spot {n} {size}",
        )
        await shot(page, f"qa-screen-highlight-{n}-{size}")
    await expect(phone.locator(".qa-now-text")).to_have_text(best_text, timeout=15_000)
    await expect(phone.locator(".qa-q-text", has_text=hidden_text)).to_have_count(0)
    await assert_layout(phone, PHONE, f"phone highlight {n}")
    await shot(phone, f"qa-phone-highlight-{n}")
    await host.locator(".qa-tab[data-tab='hidden']").click()
    await expect(host.locator(".qa-host-row .qa-q-text")).to_have_text([hidden_text])
    await assert_layout(host, host_layout("#end-phase", ".qa-host-now"), f"host hidden {n}")
    await shot(host, f"qa-host-hidden-{n}")
    await host.locator(".qa-tab[data-tab='live']").click()

    # -- the host closes the questions and goes through them ---------------------------------------
    await host.click("#end-phase")
    await expect(host.locator("#next")).to_have_text("Finish")
    await expect(phone.locator(".qa-closed")).to_have_text(
        "Questions are closed. The host is going through them."
    )
    await expect(phone.locator(".qa-input")).to_have_count(0)
    await assert_layout(
        phone,
        {"inside": [".qa-topic", ".qa-tab", ".qa-closed"], "apart": PHONE["apart"]},
        f"phone closed {n}",
    )
    await shot(phone, f"qa-phone-closed-{n}")
    await host.locator(".qa-host-now button", has_text="Mark answered").click()
    for page, size in screens:
        await expect(page.locator(".qa-phase")).to_have_text("Questions closed")
        await expect(page.locator(".qa-spot-empty-title")).to_have_text("Questions are closed")
        assert await page.locator(".screen-board").is_hidden(), "a Q&A shows no leaderboard"
        await assert_layout(page, SCREEN, f"closed {n} {size}")
        await shot(page, f"qa-screen-closed-{n}-{size}")
    await assert_layout(host, host_layout("#next", "#end-game"), f"host closed {n}")
    await shot(host, f"qa-host-closed-{n}")
    await host.click("#next")
    for page, _ in screens:
        await expect(page.locator(".finale-title")).to_have_text("Thanks for taking part!")
    assert watch.problems == []
    for c in clients:
        await c.ws.close()
