"""Rooms of any size, in real browsers: every view keeps its size from 8 players to hundreds.

For 8, 40 and 300 players (one of them a phone in Chromium, the others WebSocket clients from
Python), a round goes question → voting → results → podium with the big screen open at 1920x1080
and 1280x720 and the host console at 1920x1080. The element boxes are checked: nothing covers the
prompt, the timer, the counts or the controls, every control of the phase is on screen, neither
page scrolls, the first result card is on screen within 2 s of the results opening and the reveal
ends within 15 s. The phone votes from its ballot (at most 8 answers, never its own). axe-core
finds no serious or critical violation on the phone, the big screen and the host console.

Screenshots land in artifacts/ (screen-voting-300-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from tests.browsers import ARTIFACTS, QR_DRAWN, Watch
from tests.conftest import ADMIN, Client

pytestmark = pytest.mark.browser

TO = "\u2013"  # the en dash of ranges: "Showing 1-50" is written with it
PHONE = {"width": 390, "height": 844}
HOST = {"width": 1920, "height": 1080}
SCREENS = [{"width": 1920, "height": 1080}, {"width": 1280, "height": 720}]

PROMPT = (
    "The worst thing to say when the projector breaks in the middle of the company's all-hands "
    "meeting, in front of everyone"
)
LONG = (
    "Extraordinarily-long-hyphenated-words and run-on sentences that fill all one hundred and forty "
    "characters the appliance allows for an answer!"
)[:140]


def answer_text(i: int) -> str:
    if i % 7 == 0:
        return LONG
    if i % 3 == 0:
        return f"Answer {i}: let's take this offline and circle back after lunch"
    return f"Answer {i}: nobody panic"


# Every element of `inside` that is shown lies within the viewport; no element of a pair's first
# selector overlaps one of its second; the page does not scroll.
LAYOUT = """(spec) => {
  const vw = innerWidth, vh = innerHeight;
  const boxes = (sel) => [...document.querySelectorAll(sel)]
    .filter((el) => !el.closest('[hidden]') && getComputedStyle(el).visibility !== 'hidden')
    .map((el) => {
      const r = el.getBoundingClientRect();
      const text = (el.textContent || '').trim().slice(0, 30);
      return { text, x: r.left, y: r.top, r: r.right, b: r.bottom };
    })
    .filter((b) => b.r - b.x > 0 && b.b - b.y > 0);
  const problems = [];
  for (const sel of spec.inside) {
    const found = boxes(sel);
    if (!found.length) problems.push(`${sel}: not shown`);
    for (const b of found) {
      if (b.x < -1 || b.y < -1 || b.r > vw + 1 || b.b > vh + 1) {
        problems.push(`${sel} "${b.text}" is off screen: ${JSON.stringify(b)}`);
      }
    }
  }
  for (const [a, c] of spec.apart) {
    for (const p of boxes(a)) {
      for (const q of boxes(c)) {
        if (p.x < q.r - 1 && q.x < p.r - 1 && p.y < q.b - 1 && q.y < p.b - 1) {
          problems.push(`${a} "${p.text}" overlaps ${c} "${q.text}"`);
        }
      }
    }
  }
  const height = document.scrollingElement.scrollHeight;
  if (height > vh) problems.push(`the page scrolls: ${height} > ${vh}`);
  return problems;
}"""

# The card the reveal shows first (the last listed) is on screen and mostly opaque.
FIRST_CARD_SHOWN = """() => {
  const cards = document.querySelectorAll('.av-results.reveal .av-result');
  const card = cards[cards.length - 1];
  if (!card) return false;
  const r = card.getBoundingClientRect();
  const inside = r.height > 0 && r.top >= 0 && r.left >= 0
    && r.bottom <= innerHeight && r.right <= innerWidth;
  return inside && Number(getComputedStyle(card).opacity) >= 0.5;
}"""

FINISH_ANIMATIONS = """() => document.getAnimations().forEach((a) => {
  const t = a.effect && a.effect.getComputedTiming();
  if (t && t.iterations !== Infinity) a.finish();
})"""

SCREEN_VOTING = {
    "inside": [".av-prompt", ".av-timer", ".av-progress", ".av-card"],
    "apart": [
        [".av-screen-head", ".av-card"],
        [".av-prompt", ".av-card"],
        [".av-timer", ".av-card"],
        [".av-progress", ".av-card"],
        [".av-screen-foot", ".av-card"],
        [".screen-top", ".av-screen"],
    ],
}
SCREEN_RESULTS = {
    "inside": [".av-prompt", ".av-result", ".screen-board"],
    "apart": [
        [".av-screen-head", ".av-result"],
        [".screen-board", ".av-result"],
        [".av-more", ".av-result"],
        [".screen-top", ".av-screen"],
    ],
}
HOST_APART = [
    [".control-bar", ".console-side"],
    [".control-bar", ".console-main"],
    [".control-bar", ".console-board"],
    [".console-top", ".control-bar"],
]


@pytest.fixture
def settings(settings):
    """Hundreds of players from one loopback address is not a venue: its join limit is lifted here."""
    return dataclasses.replace(settings, limits=dataclasses.replace(settings.limits, join_burst=1000))


@pytest.fixture
async def sockets(server) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session without a connection limit: hundreds of players' sockets at once."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base_url=str(server.make_url("/")), connector=connector) as session:
        yield session


async def new_context(browser: Any, base: str, storage: dict[str, str], **options: Any) -> Any:
    """A browser context that holds `storage` in localStorage and reaches only the appliance."""
    ctx = await browser.new_context(**options)
    setup = "".join(f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});" for k, v in storage.items())
    await ctx.add_init_script(setup)

    async def guard(route: Any) -> None:
        if route.request.url.startswith(base):
            await route.continue_()
        else:
            await route.abort()

    await ctx.route("**/*", guard)
    return ctx


async def layout(page: Any, spec: dict[str, Any]) -> list[str]:
    return await page.evaluate(LAYOUT, spec)


async def assert_layout(page: Any, spec: dict[str, Any], what: str) -> None:
    problems = await layout(page, spec)
    assert problems == [], f"{what}: {problems}"


async def shot(page: Any, name: str) -> None:
    await page.evaluate(FINISH_ANIMATIONS)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def no_serious_violations(page: Any, what: str) -> None:
    results = await Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe on {what}: {bad}"


async def join(http: aiohttp.ClientSession, code: str, nickname: str) -> dict[str, Any]:
    async with http.post("/api/join", json={"code": code, "nickname": nickname}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def connect(http: aiohttp.ClientSession, game_id: str, token: str) -> Client:
    client = Client(await http.ws_connect(f"/ws/{game_id}"))
    await client.send("hello", token=token, view="player")
    await client.expect("snapshot")
    return client


async def ballot_of(client: Client) -> list[dict[str, Any]]:
    """This player's ballot: from the `you` that opens the vote (or a snapshot, after a sync)."""
    for m in client.inbox:
        if m["type"] == "you" and m.get("ballot") is not None:
            return m["ballot"]
    return (await client.you("ballot", timeout=15))["ballot"]


@dataclasses.dataclass
class Views:
    """A game's views in their own browsers (the host console, both big screens, one phone) and the
    rest of its room as WebSocket clients."""

    host: Any
    screens: list[tuple[Any, str]]
    clients: list[Client]
    phone: Any


async def open_views(
    browser: Any, sockets: aiohttp.ClientSession, base: str, watch: Watch, body: dict[str, Any], n: int
) -> Views:
    """Create the game of `body`; open its host console and big screens (each its own browser
    process); fill the room with n - 1 players over HTTP and WebSocket, all at once, and the phone's
    player last: the newest name in the lobby."""
    async with sockets.post("/api/games", json=body, headers=ADMIN) as r:
        assert r.status == 201, await r.text()
        game = await r.json()
    game_id, code = game["game_id"], game["code"]
    host_key = {f"engagements:host:{game_id}": game["host_token"]}
    host = watch.page(await (await new_context(browser, base, host_key, viewport=HOST)).new_page(), "host")
    await host.goto(f"{base}/host/{game_id}")
    screens = []
    for size in SCREENS:
        ctx = await new_context(browser, base, host_key, viewport=size)
        page = watch.page(await ctx.new_page(), "screen")
        await page.goto(f"{base}/screen/{game_id}")
        screens.append((page, f"{size['width']}x{size['height']}"))
    joined = await asyncio.gather(*(join(sockets, code, f"Player {i:03d}") for i in range(n - 1)))
    clients = await asyncio.gather(*(connect(sockets, game_id, j["player_token"]) for j in joined))
    me = await join(sockets, code, "Phone Person")
    phone_ctx = await new_context(
        browser, base, {f"engagements:player:{game_id}": me["player_token"]},
        viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
    )  # fmt: skip
    phone = watch.page(await phone_ctx.new_page(), "phone")
    await phone.goto(f"{base}/play/{game_id}")
    return Views(host, screens, list(clients), phone)


@pytest.mark.parametrize("n", [8, 40, 300])
async def test_every_view_keeps_its_size(n, server, sockets, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch(expected=None)
    axe = n == 40  # one room size is enough for the accessibility checks

    body = {"title": "Rooms night", "prompts": [PROMPT], "question_seconds": 300, "vote_seconds": 300}
    views = await open_views(browser, sockets, base, watch, body, n)
    host, screens, clients, phone = views.host, views.screens, views.clients, views.phone

    count = f"{n:,}"
    for page, size in screens:
        await expect(page.locator(".lobby-count-n")).to_have_text(count)
        await expect(page.locator(".chips-screen .chip-name").first).to_have_text(
            "Phone Person"
        )  # newest first
        assert await page.locator(".chips-screen .chip").count() <= 24
        await assert_layout(
            page,
            {"inside": [".qr-img", ".lobby-code", ".lobby-count-n", ".chips-screen .chip"], "apart": []},
            f"lobby {n} {size}",
        )
        await page.wait_for_function(QR_DRAWN)
        await shot(page, f"screen-lobby-{n}-{size}")
    await expect(phone.locator(".play-pill")).to_have_text(f"{count} players in the lobby")
    await expect(phone.locator(".play-kicker")).to_have_text("You're in!")
    await expect(host.locator("#player-count")).to_have_text(count)
    await expect(host.locator("#players .player-row")).to_have_count(min(n, 50))
    await expect(host.locator("#start")).to_be_enabled()
    await assert_layout(
        host, {"inside": ["#start", ".control-bar .switch"], "apart": HOST_APART}, f"host lobby {n}"
    )
    await shot(host, f"host-lobby-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's lobby")
        await no_serious_violations(screens[0][0], "the big screen's lobby")
        await no_serious_violations(host, "the host's lobby")

    # -- question -----------------------------------------------------------------------------------
    await host.click("#start")
    await expect(phone.locator(".av-prompt")).to_have_text(PROMPT)
    await expect(phone.locator("#announcer")).to_contain_text("Answer time")
    await phone.fill("textarea.av-input", "Is this thing on?")
    await phone.get_by_role("button", name="Send answer").click()
    await expect(phone.locator(".av-done-title")).to_have_text("Answer in!")
    for page, size in screens:
        await expect(page.locator(".av-progress-text")).to_have_text(f"1 of {count} answers in")
        await assert_layout(
            page,
            {
                "inside": [".av-prompt", ".av-timer", ".av-progress"],
                "apart": [[".av-screen-head", ".av-prompt"]],
            },
            f"question {n} {size}",
        )
        await shot(page, f"screen-question-{n}-{size}")
    await assert_layout(
        host,
        {"inside": ["#end-phase", "#skip", "#end-game", ".control-bar .switch"], "apart": HOST_APART},
        "host q",
    )
    await asyncio.gather(*(c.ok("answer", round=0, text=answer_text(i)) for i, c in enumerate(clients)))

    # -- voting -------------------------------------------------------------------------------------
    options = phone.locator(".av-option")
    await expect(options.first).to_be_visible()
    texts = await options.all_text_contents()
    assert len(texts) == min(8, n - 1), texts
    assert not any("Is this thing on?" in t for t in texts)
    await expect(phone.locator("#announcer")).to_have_text("Voting is open: pick your favourite answer.")
    # No option looks chosen before a tap (no hover left over from the "Send answer" tap).
    assert await phone.locator(".av-option.chosen, .av-option[aria-pressed='true']").count() == 0
    borders = await options.evaluate_all("(els) => els.map((el) => getComputedStyle(el).borderColor)")
    assert len(set(borders)) == 1, borders  # the spot the last tap left looks like every other option
    await shot(phone, f"phone-vote-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's ballot")

    showcase = min(24, n)
    for page, size in screens:
        await expect(page.locator(".av-card").first).to_be_visible()
        cards = await page.locator(".av-card").count()
        assert cards == (showcase if showcase <= 8 else 6), cards
        await page.evaluate(FINISH_ANIMATIONS)
        await assert_layout(page, SCREEN_VOTING, f"voting {n} {size}")
        await shot(page, f"screen-voting-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's vote")
    await assert_layout(
        host,
        {"inside": ["#end-phase", "#skip", "#end-game", ".control-bar .switch"], "apart": HOST_APART},
        f"host voting {n}",
    )
    await shot(host, f"host-voting-{n}")
    if axe:
        await no_serious_violations(host, "the host's vote")

    # The host's players: a page of 50 at most, searched and paged by the server.
    if n > 50:
        status = host.locator("#players-status")
        await expect(status).to_have_text(f"Showing 1{TO}50 of {count}")
        await host.click("#players-next")
        await expect(status).to_have_text(f"Showing 51{TO}100 of {count}")
        await expect(host.locator("#players .player-row").first).to_contain_text("Player 049")
        await host.fill("#player-search", "player 01")
        await expect(status).to_contain_text("10 matches")
        await expect(host.locator("#players .player-row")).to_have_count(10)
        await host.fill("#player-search", "")
        await expect(status).to_have_text(f"Showing 1{TO}50 of {count}")
        # The big screen pages through the showcase.
        page = screens[0][0]
        await expect(page.locator(".av-page-text")).to_have_text(f"Answers 1{TO}6 of 24")
        await expect(page.locator(".av-page-text")).to_have_text(f"Answers 7{TO}12 of 24", timeout=10_000)
        await assert_layout(page, SCREEN_VOTING, f"voting {n} second page")

    # The phone votes from its ballot; the others vote from theirs, the last one closes the vote.
    await options.first.click()
    await expect(phone.locator(".av-done-title")).to_have_text("Vote in!")
    ballots = await asyncio.gather(*(ballot_of(c) for c in clients))
    assert all(0 < len(b) <= 8 for b in ballots)
    *most, last = list(zip(clients, ballots, strict=True))
    await asyncio.gather(
        *(c.ok("vote", round=0, option=b[i % len(b)]["id"]) for i, (c, b) in enumerate(most))
    )
    opened = time.monotonic()
    await last[0].ok("vote", round=0, option=last[1][0]["id"])

    # -- results: the first card within 2 s, the best last, the whole reveal within 15 s ------------
    await asyncio.gather(*(page.wait_for_function(FIRST_CARD_SHOWN, polling=50) for page, _ in screens))
    first_card = time.monotonic() - opened
    assert first_card < 2.0, f"the first result card took {first_card:.2f} s"
    listed = min(8, n)
    for page, size in screens:
        cards = page.locator(".av-results.reveal .av-result")
        await expect(cards).to_have_count(listed)
        delays = await cards.evaluate_all(
            "(els) => els.map((el) => parseFloat(getComputedStyle(el).animationDelay))"
        )
        assert delays == sorted(delays, reverse=True), delays  # the best (listed first) comes last
        assert delays[0] + 0.7 <= 15, delays
        more = page.locator(".av-more")
        if n > 8:
            await expect(more).to_have_text(f"and {n - 8:,} more answers")
        else:
            await expect(more).to_have_count(0)
        await page.evaluate(FINISH_ANIMATIONS)
        await assert_layout(page, SCREEN_RESULTS, f"results {n} {size}")
        await shot(page, f"screen-results-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's results")

    await expect(phone.locator(".av-summary-line")).to_contain_text("Your answer got")
    assert await phone.locator(".av-results.top .av-result").count() <= 3
    if n > 3:
        await expect(phone.locator(".av-results-view .av-more")).to_have_text(f"and {n - 3:,} more answers")
    await expect(phone.locator(".av-rank")).to_have_text(re.compile(r"#\d"))
    await expect(phone.locator(".av-rank-of")).to_have_text(f" of {count} players")
    await shot(phone, f"phone-results-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's results")

    # The host: controls in view, the full results 20 a page, and the CSV.
    rows = host.locator(".av-table tbody tr")
    await expect(rows).to_have_count(min(20, n))
    await expect(host.locator(".av-pager-text")).to_have_text(f"1{TO}{min(20, n)} of {count} answers")
    if n > 20:
        await host.click(".av-pager >> text=Next")
        await expect(host.locator(".av-pager-text")).to_have_text(f"21{TO}{min(40, n)} of {count} answers")
        await expect(rows.first.locator("td").first).not_to_have_text("1")
    await assert_layout(
        host,
        {"inside": ["#next", "#download", "#end-game", ".av-pager", ".av-host-scroll"], "apart": HOST_APART},
        f"host results {n}",
    )
    await shot(host, f"host-results-{n}")
    if axe:
        await no_serious_violations(host, "the host's results")
    async with host.expect_download() as download:
        await host.click("#download")
    saved = await (await download.value).path()
    table = list(csv.DictReader(io.StringIO(Path(saved).read_text())))
    assert len(table) == n
    assert {row["answer"] for row in table} >= {"Is this thing on?", LONG}

    # -- the podium ---------------------------------------------------------------------------------
    await expect(host.locator("#next")).to_have_text("Show the podium")
    await host.click("#next")
    for page, size in screens:
        await expect(page.locator(".finale-title")).to_be_visible()
        await page.evaluate(FINISH_ANIMATIONS)
        await assert_layout(page, {"inside": [".finale-title", ".podium"], "apart": []}, f"podium {n} {size}")
        if n == 300:
            await shot(page, f"screen-podium-{n}-{size}")
    await expect(phone.locator(".play-rank")).to_be_visible()
    podium = {"inside": ["#download", "#download-export"], "apart": HOST_APART}
    await assert_layout(host, podium, f"host podium {n}")

    for client in clients:
        await client.ws.close()
    assert watch.problems == []


async def test_host_finds_and_kicks_a_player(server, sockets, browser) -> None:
    """The host searches 60 players, kicks one from the list; the kicked phone is told, the count drops."""
    base = str(server.make_url("/")).rstrip("/")
    watch = Watch(expected=None)
    body = {"title": "Kick night", "prompts": [PROMPT]}
    async with sockets.post("/api/games", json=body, headers=ADMIN) as r:
        game = await r.json()
    game_id, code = game["game_id"], game["code"]
    joined = await asyncio.gather(*(join(sockets, code, f"Guest {i:02d}") for i in range(59)))
    clients = await asyncio.gather(*(connect(sockets, game_id, j["player_token"]) for j in joined))
    me = await join(sockets, code, "Rowdy Rita")

    host_key = {f"engagements:host:{game_id}": game["host_token"]}
    host = watch.page(await (await new_context(browser, base, host_key, viewport=HOST)).new_page(), "host")
    await host.goto(f"{base}/host/{game_id}")
    phone_key = {f"engagements:player:{game_id}": me["player_token"]}
    phone_ctx = await new_context(browser, base, phone_key, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = watch.page(await phone_ctx.new_page(), "phone")
    await phone.goto(f"{base}/play/{game_id}")
    await expect(phone.locator(".play-pill")).to_have_text("60 players in the lobby")

    await expect(host.locator("#players-status")).to_have_text(f"Showing 1{TO}50 of 60")
    await host.fill("#player-search", "rita")
    rows = host.locator("#players .player-row")
    await expect(rows).to_have_count(1)
    await expect(host.locator("#players-status")).to_have_text(f"Showing 1{TO}1 of 1 match · 60 players")
    host.once("dialog", lambda dialog: dialog.accept())
    await rows.first.get_by_role("button", name="Kick Rowdy Rita").click()
    await expect(host.locator("#player-count")).to_have_text("59")
    await expect(rows).to_have_count(0)
    await expect(host.locator("#players-status")).to_have_text("No nickname contains “rita”")
    await expect(phone.locator(".notice h2")).to_have_text("You've been removed")
    await host.fill("#player-search", "")
    await expect(host.locator("#players-status")).to_have_text(f"Showing 1{TO}50 of 59")
    await expect(phone.locator(".play-pill")).to_have_count(0)

    for client in clients:
        await client.ws.close()
    # The phone's closed socket (4003) is not an error; nothing else may be.
    assert watch.problems == []
