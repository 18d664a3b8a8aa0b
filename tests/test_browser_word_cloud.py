"""The word cloud in real browsers, in rooms of 8, 40 and 300 players: the phone (390x844), the big
screen (1920x1080 and 1280x720) and the host console (1920x1080). The phone sends its words one at a
time (a repeat is refused), the room sends three each (a few popular words, many rare ones, some of
30 characters), and the big screen's cloud grows live: at most 60 words, the most sent the biggest,
no two words overlapping and none outside the cloud's box or the screen, no page scrolling. The host
hides a word from the console: it leaves both big screens. The results keep the same shape, the
phone lists its own words with their counts, and a word cloud shows no leaderboard or podium. axe-core
finds no serious violation at 40 players.

Screenshots land in artifacts/ (words-screen-open-300-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import pytest
from playwright.async_api import expect

from engagements.types.word_cloud import TOP_SHOWN
from engagements.types.word_cloud.words import WORD_MAX, normalise
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

FEELING = "In one word or two: how does the team feel about the new office, now that we have moved in?"
SEASON = "Your favourite season"
POPULAR = ["Bright", "cramped", "Noisy!", "exciting", "Coffee", "far away", "NEW"]
LONG = [
    "extraordinarily inconvenient!!",
    "surprisingly wonderful, really",
    "Überraschend gemütlich, oder?",
    "\U0001f600 happy happy happy happy hap",
]


def words_of(i: int) -> list[str]:
    """Player i's three words: one popular, one of a few dozen, one rare (or of 30 characters)."""
    rare = LONG[i % len(LONG)] if i % 5 == 0 else f"thought {i}"
    return [POPULAR[i % len(POPULAR)], f"idea {i % 40}", rare]


# No two words of the cloud overlap, and each lies inside the cloud's box.
WORDS_APART = """(sel) => {
  const box = document.querySelector(sel + ' .wc-words').getBoundingClientRect();
  const words = [...document.querySelectorAll(sel + ' .wc-word')].map((el) => {
    const r = el.getBoundingClientRect();
    return { text: el.firstChild.textContent, x: r.left, y: r.top, r: r.right, b: r.bottom };
  });
  const problems = [];
  for (const w of words) {
    if (w.x < box.left - 1 || w.y < box.top - 1 || w.r > box.right + 1 || w.b > box.bottom + 1) {
      problems.push(`"${w.text}" leaves the cloud`);
    }
  }
  for (let i = 0; i < words.length; i++) {
    for (let j = i + 1; j < words.length; j++) {
      const p = words[i], q = words[j];
      if (p.x < q.r - 1 && q.x < p.r - 1 && p.y < q.b - 1 && q.y < p.b - 1) {
        problems.push(`"${p.text}" overlaps "${q.text}"`);
      }
    }
  }
  return problems;
}"""

SIZES = """(sel) => [...document.querySelectorAll(sel + ' .wc-word')]
  .map((el) => [el.firstChild.textContent, parseFloat(el.style.fontSize), Number(el.dataset.count)])"""

SCREEN = {
    "inside": [".wc-prompt", ".wc-timer", ".wc-word", ".wc-stats"],
    "apart": [
        [".wc-board-head", ".wc-word"],
        [".wc-word", ".wc-stats"],
        [".wc-timer", ".wc-prompt"],
        [".screen-top", ".wc-screen"],
    ],
}
SCREEN_RESULTS = {**SCREEN, "inside": [".wc-prompt", ".wc-word", ".wc-stats"]}
PHONE_OPEN = {
    "inside": [".wc-prompt", ".wc-input", ".wc-send", ".wc-left"],
    "apart": [[".wc-input", ".wc-send"], [".wc-prompt", ".wc-form"], [".wc-how", ".wc-form"]],
}


def host_controls(*ids: str) -> dict:
    return {
        "inside": [*ids, ".wc-prompt", ".wc-word"],
        "apart": [*HOST_APART, [".wc-word", ".wc-stats"], [".wc-board-head", ".wc-word"]],
    }


async def check_cloud(page, sel: str, counts: Counter, what: str) -> None:
    """Nothing overlaps; the words shown are the most sent (at most 60, the rest counted as more),
    and a word sent more is never smaller than one sent less."""
    assert await page.evaluate(WORDS_APART, sel) == [], what
    sizes = await page.evaluate(SIZES, sel)
    shown = {text: count for text, _, count in sizes}
    assert len(shown) <= TOP_SHOWN
    assert all(counts[text] == count for text, count in shown.items()), what
    top = sorted(counts.items(), key=lambda p: (-p[1], p[0]))[:TOP_SHOWN]
    more = await page.locator(f"{sel} .wc-more").text_content() if len(shown) < len(top) else ""
    assert len(shown) == len(top) or f"{len(top) - len(shown)} more" in more, (what, len(shown), more)
    assert shown.get(top[0][0]) == top[0][1], f"{what}: the most sent word is shown"
    ordered = sorted(sizes, key=lambda s: -s[2])
    assert all(a[1] >= b[1] - 0.1 for a, b in itertools.pairwise(ordered)), f"{what}: sizes follow counts"


@pytest.mark.parametrize("n", [8, 40, 300])
async def test_a_word_cloud_keeps_every_view_in_shape(n, server, sockets, browser) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch(expected=None)
    axe = n == 40
    body = {
        "title": "Office words",
        "prompts": [FEELING, SEASON],
        "type": "word-cloud",
        "word_seconds": 300,
        "words_per_player": 3,
    }
    views = await open_views(browser, sockets, base, watch, body, n)
    host, screens, clients, phone = views.host, views.screens, views.clients, views.phone
    host.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await expect(host.locator("#player-count")).to_have_text(f"{n:,}")

    # -- the phone sends its words one at a time -----------------------------------------------------
    await host.click("#start")
    await expect(phone.locator(".wc-prompt")).to_have_text(FEELING)
    await expect(phone.locator("#announcer")).to_contain_text("Send up to 3 words.")
    await assert_layout(phone, PHONE_OPEN, f"phone open {n}")
    assert (
        min(
            await phone.locator(".wc-input, .wc-send").evaluate_all("(els) => els.map((e) => e.offsetHeight)")
        )
        >= 48
    )
    await expect(phone.locator("#score")).to_be_hidden()
    if axe:
        await no_serious_violations(phone, "the phone's word cloud")
    await phone.fill(".wc-input", "  Sunshine! ")
    await phone.click(".wc-send")
    await expect(phone.locator(".wc-mine .wc-mine-text")).to_have_text(["sunshine"])
    await expect(phone.locator(".wc-left")).to_have_text("2 of 3 words left")
    await phone.fill(".wc-input", "SUNSHINE")
    await phone.press(".wc-input", "Enter")
    await expect(phone.locator(".wc-error")).to_have_text("You already sent that one: try another.")
    await shot(phone, f"words-phone-open-{n}")

    # -- the room sends three words each: the cloud grows on both big screens ------------------------
    counts: Counter = Counter({"sunshine": 1})
    for i in range(len(clients)):
        counts.update(normalise(w) for w in words_of(i))
    assert all(len(w) <= WORD_MAX for w in counts)

    async def send(i: int, client) -> None:
        for word in words_of(i):
            await client.ok("word", round=0, text=word)

    await asyncio.gather(*(send(i, c) for i, c in enumerate(clients)))
    entries = sum(counts.values())
    for page, size in screens:
        await expect(page.locator(".wc-stats")).to_have_text(f"{entries:,} words from {n:,} of {n:,} players")
        await expect(page.locator("#announcer")).to_contain_text("The word cloud is open")
        await assert_layout(page, SCREEN, f"open {n} {size}")
        await check_cloud(page, ".wc-screen", counts, f"open {n} {size}")
        await shot(page, f"words-screen-open-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's word cloud")
    await expect(host.locator("#end-phase")).to_have_text("Close the cloud now")
    await assert_layout(host, host_controls("#end-phase", "#skip", "#end-game"), f"host open {n}")
    await check_cloud(host, ".wc-host", counts, f"host open {n}")
    await shot(host, f"words-host-open-{n}")
    if axe:
        await no_serious_violations(host, "the host's word cloud")

    # -- the host hides the most sent word: it leaves both big screens -------------------------------
    worst = max(counts, key=lambda w: (counts[w], w))
    await host.locator(".wc-hide-word", has_text=worst).first.click()
    del counts[worst]
    for page, size in screens:
        await expect(page.locator(".wc-stats")).to_contain_text("1 word hidden")
        await expect(page.locator(".wc-word", has_text=worst)).to_have_count(0)
        await check_cloud(page, ".wc-screen", counts, f"hidden {n} {size}")
    await expect(host.locator(".wc-hide-word", has_text=worst)).to_have_count(0)

    # -- the results: the same cloud, the phone's own words with their counts ------------------------
    await host.click("#end-phase")
    for page, size in screens:
        await expect(page.locator(".wc-phase")).to_have_text("Results")
        assert await page.locator(".screen-board").is_hidden(), "a word cloud shows no leaderboard"
        await assert_layout(page, SCREEN_RESULTS, f"results {n} {size}")
        await check_cloud(page, ".wc-screen", counts, f"results {n} {size}")
        await shot(page, f"words-screen-results-{n}-{size}")
    await expect(phone.locator(".wc-mine-count")).to_have_text(["sent 1 time"])
    await expect(phone.locator("#announcer")).to_contain_text("The word cloud has closed")
    await shot(phone, f"words-phone-results-{n}")
    await assert_layout(host, host_controls("#next", "#end-game"), f"host results {n}")
    await shot(host, f"words-host-results-{n}")

    # -- a second cloud, then the end: thanks, no podium ---------------------------------------------
    await host.click("#next")
    await expect(phone.locator(".wc-prompt")).to_have_text(SEASON)
    for word in ("Autumn", "winter", "Spring"):
        await phone.fill(".wc-input", word)
        await phone.click(".wc-send")
        await expect(phone.locator(".wc-mine .wc-mine-text").last).to_have_text(word.lower())
    await expect(phone.locator(".wc-done-title")).to_have_text("All your words are in!")
    await shot(phone, f"words-phone-done-{n}")
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
