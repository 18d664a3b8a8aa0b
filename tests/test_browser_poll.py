"""The poll in real browsers, in rooms of 8, 40 and 300 players: the phone (390x844), the big screen
(1920x1080 and 1280x720) and the host console (1920x1080). A single-choice question, then a
multiple-choice one with eight long options: live bars with counts and percentages on the big screen,
nothing overlapping, no page scrolling, the host's controls of the phase on screen, the phone's
options big enough to tap, phase announcements for screen readers, and no leaderboard or podium (a
poll keeps no scores). axe-core finds no serious violation at 40 players.

Screenshots land in artifacts/ (poll-screen-open-300-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from engagements.types.poll import round_percent
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

WHERE = "Where should the team offsite be this year, given the budget and everyone's calendars?"
PLACES = ["The seaside", "A cabin in the woods", "The office, with pizza", "A city break"]
SNACKS = [f"Snack {i}: something long enough to fill the whole line on a phone!"[:60] for i in range(8)]

SCREEN = {
    "inside": [".poll-prompt", ".poll-timer", ".poll-bar", ".poll-voted"],
    "apart": [
        [".poll-board-head", ".poll-bar"],
        [".poll-bar", ".poll-voted"],
        [".poll-timer", ".poll-prompt"],
        [".screen-top", ".poll-screen"],
    ],
}
SCREEN_RESULTS = {**SCREEN, "inside": [".poll-prompt", ".poll-bar", ".poll-voted"]}
# Odd and even rows against each other: every pair of neighbours, and no element against itself.
ODD, EVEN = ":nth-child(odd)", ":nth-child(even)"
PHONE_VOTE = {
    "inside": [".poll-option"],
    "apart": [
        [f".poll-option{ODD}", f".poll-option{EVEN}"],
        [".poll-prompt", ".poll-option"],
        [".poll-how", ".poll-option"],
    ],
}
BARS_APART = [
    [f".poll-bar{ODD}", f".poll-bar{EVEN}"],
    [".poll-count", ".poll-text"],
    [".poll-track", ".poll-text"],
]


def host_controls(*ids: str) -> dict:
    return {"inside": [*ids, ".poll-prompt", ".poll-bar"], "apart": [*HOST_APART, *BARS_APART]}


@pytest.mark.parametrize("n", [8, 40, 300])
async def test_a_poll_keeps_every_view_in_shape(n, server, sockets, browser) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch(expected=None)
    axe = n == 40
    questions = [
        {"question": WHERE, "options": PLACES},
        {"question": "Which snacks for the trip?", "options": SNACKS, "multiple": True},
    ]
    body = {"title": "Team poll", "prompts": questions, "type": "poll", "vote_seconds": 300}
    views = await open_views(browser, sockets, base, watch, body, n)
    host, screens, clients, phone = views.host, views.screens, views.clients, views.phone
    await expect(host.locator("#player-count")).to_have_text(f"{n:,}")

    # -- a single-choice question: the phone taps once, the room votes, the bars move live ---------
    await host.click("#start")
    await expect(phone.locator(".poll-prompt")).to_have_text(WHERE)
    await expect(phone.locator("#announcer")).to_contain_text("Question 1 of 2. " + WHERE + " Choose one.")
    await assert_layout(phone, PHONE_VOTE, f"phone vote {n}")
    heights = await phone.locator(".poll-option").evaluate_all("(els) => els.map((e) => e.offsetHeight)")
    assert min(heights) >= 48, heights  # big enough to tap
    await expect(phone.locator("#score")).to_be_hidden()
    await shot(phone, f"poll-phone-open-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's poll")
    await phone.locator(".poll-option[data-option='2']").click()
    await expect(phone.locator(".poll-done-title")).to_have_text("Vote in!")

    *most, last = clients
    await asyncio.gather(*(c.ok("vote", round=0, choices=[i % 3]) for i, c in enumerate(most)))
    votes = [0, 0, 1, 0]
    for i in range(len(most)):
        votes[i % 3] += 1
    voted = len(most) + 1
    for page, size in screens:
        await expect(page.locator(".poll-voted")).to_have_text(f"{voted:,} of {n:,} players voted")
        share = round_percent(votes[0], voted)
        await expect(page.locator(".poll-bar[data-option='0'] .poll-count")).to_have_text(
            f"{votes[0]:,} · {share}%"
        )
        await expect(page.locator("#announcer")).to_contain_text("The poll is open")
        await assert_layout(page, {**SCREEN, "apart": [*SCREEN["apart"], *BARS_APART]}, f"open {n} {size}")
        await shot(page, f"poll-screen-open-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's poll")
    await assert_layout(host, host_controls("#end-phase", "#skip", "#end-game"), f"host open {n}")
    await expect(host.locator("#end-phase")).to_have_text("Close the poll now")
    await shot(host, f"poll-host-open-{n}")
    if axe:
        await no_serious_violations(host, "the host's poll")

    await last.ok("vote", round=0, choices=[3])  # the last vote closes the question
    votes[3] += 1
    voted += 1
    for page, size in screens:
        await expect(page.locator(".poll-phase")).to_have_text("Results")
        await expect(page.locator(".poll-bar[data-option='3'] .poll-count")).to_have_text(
            f"{votes[3]:,} · {round_percent(votes[3], voted)}%"
        )
        assert await page.locator(".screen-board").is_hidden(), "a poll shows no leaderboard"
        await assert_layout(
            page, {**SCREEN_RESULTS, "apart": SCREEN["apart"] + BARS_APART}, f"results {n} {size}"
        )
        await shot(page, f"poll-screen-results-{n}-{size}")
    await expect(phone.locator(".poll-bar.mine .poll-yours")).to_have_text(" · your choice")
    await expect(phone.locator(".poll-bar[data-option='2'] .poll-count")).to_have_text(
        f"{votes[2]:,} · {round_percent(votes[2], voted)}%"
    )
    await expect(phone.locator("#announcer")).to_contain_text("The poll has closed")
    await shot(phone, f"poll-phone-results-{n}")
    await assert_layout(host, host_controls("#next", "#end-game"), f"host results {n}")
    await shot(host, f"poll-host-results-{n}")

    # -- a multiple-choice question with eight long options: the phone ticks two and sends ---------
    await host.click("#next")
    await expect(phone.locator(".poll-how")).to_have_text("Choose all that apply, then send.")
    await phone.locator(".poll-option[data-option='1']").click()
    await phone.locator(".poll-option[data-option='6']").click()
    await expect(phone.locator(".poll-send")).to_have_text("Send 2 choices")
    await shot(phone, f"poll-phone-multiple-{n}")
    await phone.locator(".poll-send").click()
    await expect(phone.locator(".poll-mine li")).to_have_count(2)
    # All but one: the question stays open.
    await asyncio.gather(*(c.ok("vote", round=1, choices=[0, 1 + i % 7]) for i, c in enumerate(most)))
    for page, size in screens:
        await expect(page.locator(".poll-bar")).to_have_count(8)
        await expect(page.locator(".poll-bar[data-option='0'] .poll-count")).to_have_text(
            f"{n - 2:,} · {round_percent(n - 2, n - 1)}%"
        )
        await assert_layout(
            page, {**SCREEN, "apart": [*SCREEN["apart"], *BARS_APART]}, f"multiple {n} {size}"
        )
        await shot(page, f"poll-screen-multiple-{n}-{size}")
    await assert_layout(host, host_controls("#end-phase", "#skip", "#end-game"), f"host multiple {n}")
    await shot(host, f"poll-host-multiple-{n}")

    # -- the end: thanks, no podium ------------------------------------------------------------------
    await host.click("#end-phase")
    await expect(host.locator("#next")).to_have_text("Finish")
    await host.click("#next")
    for page, _ in screens:
        await expect(page.locator(".finale-title")).to_have_text("Thanks for taking part!")
        assert await page.locator(".podium").count() == 0
    await expect(phone.locator(".play-rank")).to_have_text("Thanks for taking part!")
    assert watch.problems == []
    for c in clients:
        await c.ws.close()
