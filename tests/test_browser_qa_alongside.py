"""A Q&A alongside an answer-then-vote round, in real browsers, in rooms of 8, 40 and 300 players: the
phone (390x844) opens the questions from its header while the round asks for an answer, asks one and
goes back to the round's controls; the room asks and upvotes; the host console (1920x1080, still one
screen) highlights the phone's question from the queue beside its round controls, the queue bounded
whatever the room; both big screens (1920x1080, 1280x720) show it in a banner that overlaps none of the
round's prompt, timer or counts (element boxes), no page scrolls, and axe-core finds no serious
violation at 40 players.

Screenshots land in artifacts/ (qa-alongside-screen-300-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from engagements.model import LANE
from engagements.types.qa import TOP
from tests.browsers import ARTIFACTS
from tests.conftest import ADMIN_SECRET, Client
from tests.test_browser_rooms import (  # the rooms test's helpers and fixtures: one way to check a layout
    HOST_APART,
    PROMPT,
    Watch,
    assert_layout,
    new_context,
    no_serious_violations,
    open_views,
    settings,  # noqa: F401  (a fixture: the join limit lifted on loopback)
    shot,
    sockets,  # noqa: F401  (a fixture: a session without a connection limit)
)
from tests.test_qa_alongside_game import lane_until

pytestmark = pytest.mark.browser

ASKED = "Will the slides be shared after the session, and where can we find them?"
ROUND = [".av-prompt", ".av-timer", ".av-progress"]  # the round's prompt, timer and counts on the big screen


async def test_the_new_game_form_offers_a_qa_alongside_any_game_with_its_own_settings(
    server, browser
) -> None:
    base = str(server.make_url("/")).rstrip("/")
    form = await (await new_context(browser, base, {})).new_page()
    await form.goto(f"{base}/host#admin={ADMIN_SECRET}")
    await expect(form.locator("#qa_alongside")).not_to_be_checked()
    await expect(form.locator("#qa_questions")).to_have_count(0)
    await form.check("#qa_alongside")
    await expect(form.locator("#qa_questions")).to_have_value("3")
    await expect(form.locator("#qa_anonymous")).not_to_be_checked()
    await form.uncheck("#qa_alongside")
    await expect(form.locator("#qa_questions")).to_have_count(0)


@pytest.mark.parametrize("n", [8, 40, 300])
async def test_a_phone_asks_during_a_round_and_the_big_screen_shows_it_beside_the_round(
    n,
    server,
    sockets,  # noqa: F811
    browser,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch(expected=None)
    axe = n == 40  # one room size is enough for the accessibility checks

    body = {"title": "Town hall", "prompts": [PROMPT], "question_seconds": 300, "qa_alongside": True}
    views = await open_views(browser, sockets, base, watch, body, n)
    host, screens, clients, phone = views.host, views.screens, views.clients, views.phone
    await expect(host.locator("#player-count")).to_have_text(f"{n:,}")
    await host.click("#start")

    # -- the phone: the round's controls, and the questions a tap away in its header -----------------
    await expect(phone.locator(".av-input")).to_be_visible()
    opener = phone.locator("#lane-open")
    await expect(opener).to_contain_text("Questions")
    await assert_layout(
        phone, {"inside": ["#lane-open", ".av-input"], "apart": [[".play-top", ".round-root"]]}, "phone"
    )
    await opener.click()
    drawer = phone.locator("#lane")
    await expect(drawer).to_be_visible()
    await drawer.locator(".qa-input").fill(ASKED)
    await drawer.get_by_role("button", name="Ask", exact=True).click()
    await expect(drawer.locator(".qa-tab[data-tab='mine']")).to_have_text("Yours (1)")
    await assert_layout(
        phone, {"inside": [".qa-input", ".qa-tab", "#lane-close"], "apart": []}, "phone drawer"
    )
    await shot(phone, f"qa-alongside-phone-drawer-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's questions beside the round")
    await phone.click("#lane-close")
    await expect(drawer).to_be_hidden()
    await expect(phone.locator(".av-input")).to_be_visible()
    await expect(opener.locator(".lane-count")).to_have_text("1")
    await shot(phone, f"qa-alongside-phone-round-{n}")
    if axe:
        await no_serious_violations(phone, "the phone's round with its questions a tap away")

    # -- the room asks too, and upvotes the phone's question to the top of the queue -----------------
    lane = await lane_until(clients[0], lambda m: ASKED in [q["text"] for q in (*m["top"], *m["fresh"])])
    mine = next(q["id"] for q in (*lane["top"], *lane["fresh"]) if q["text"] == ASKED)

    async def ask_and_upvote(i: int, client: Client) -> None:  # each phone in turn, the room at once
        await client.ok("ask", round=LANE, text=f"Question {i} from the room: what comes after the break?")
        await client.ok("upvote", round=LANE, question=mine)

    await asyncio.gather(*(ask_and_upvote(i, c) for i, c in enumerate(clients)))

    # -- the host: the lane's queue beside the round's controls, on one 1080p screen -----------------
    await expect(host.locator("#lane .qa-host-row")).to_have_count(min(n, TOP + 5), timeout=15_000)
    row = host.locator("#lane .qa-host-row").first
    await expect(row).to_contain_text(ASKED)
    await row.locator("button[data-state='highlighted']").click()
    await expect(host.locator("#lane .qa-host-now .qa-now-text")).to_have_text(ASKED)
    await expect(host.locator(".av-prompt").first).to_be_visible()
    host_spec = {
        "inside": ["#controls .btn", "#lane .qa-host-now", "#lane .qa-tab", ".board-panel", ".stage-card"],
        "apart": [
            *HOST_APART,
            ["#lane", ".board-panel"],
            ["#lane", ".console-main"],
            ["#lane", ".console-side"],
            ["#lane .qa-host-row:nth-child(odd)", "#lane .qa-host-row:nth-child(even)"],
            ["#lane .qa-q-body", "#lane .qa-actions"],
            ["#lane .qa-votes", "#lane .qa-q-body"],
        ],
    }
    await assert_layout(host, host_spec, f"host console {n}")
    widths = await host.locator("#lane .qa-q-text").evaluate_all("(els) => els.map((e) => e.offsetWidth)")
    assert min(widths) >= 200, f"the queue's questions are squeezed: {widths}"  # a line reads as words
    await shot(host, f"qa-alongside-host-{n}-1920x1080")
    if axe:
        await no_serious_violations(host, "the host's round beside its questions")

    # -- the big screens: the highlighted question in a banner, clear of the round ------------------
    for page, size in screens:
        await expect(page.locator("#lane .qa-lane-text")).to_have_text(ASKED)
        await expect(page.locator("#lane .qa-lane-meta")).to_contain_text("Phone Person")
        spec = {
            "inside": [*ROUND, ".qa-lane-banner"],
            "apart": [*([".qa-lane-banner", sel] for sel in [*ROUND, ".round-root", ".screen-top"])],
        }
        await assert_layout(page, spec, f"big screen {n} {size}")
        await shot(page, f"qa-alongside-screen-{n}-{size}")
        if axe and size == "1920x1080":
            await no_serious_violations(page, "the big screen's round with its highlighted question")

    # -- answered: the banner goes, and the round has the screen to itself again ---------------------
    await host.locator("#lane .qa-host-now").get_by_role("button", name="Mark answered").click()
    for page, _ in screens:
        await expect(page.locator("#lane")).to_be_hidden()
    assert watch.problems == []
