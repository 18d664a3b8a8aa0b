"""A Q&A alongside an answer-then-vote round, in real browsers: the phone (390x844) opens the questions
from its header while the round asks for an answer, asks one and goes back to the round's controls;
the host console (1920x1080, still one screen) highlights it from the queue beside its round controls;
both big screens (1920x1080, 1280x720) show it in a banner that overlaps none of the round's prompt,
timer or counts (element boxes), and no page scrolls.

Screenshots land in artifacts/ (qa-alongside-screen-1920x1080.png, …). Only 127.0.0.1 is reached.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browsers import ARTIFACTS
from tests.conftest import ADMIN_SECRET
from tests.test_browser_rooms import (  # the rooms test's helpers and fixtures: one way to check a layout
    HOST_APART,
    PROMPT,
    Watch,
    assert_layout,
    new_context,
    open_views,
    settings,  # noqa: F401  (a fixture: the join limit lifted on loopback)
    shot,
    sockets,  # noqa: F401  (a fixture: a session without a connection limit)
)

pytestmark = pytest.mark.browser

ASKED = "Will the slides be shared after the session, and where can we find them?"
ROUND = [".av-prompt", ".av-timer", ".av-progress"]  # the round's prompt, timer and counts on the big screen


async def test_a_phone_asks_during_a_round_and_the_big_screen_shows_it_beside_the_round(
    server,
    sockets,  # noqa: F811
    browser,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    base = str(server.make_url("/")).rstrip("/")
    assert base.startswith("http://127.0.0.1:")
    watch = Watch(expected=None)

    # -- the "new game" form offers it whatever the kind of game, and then the Q&A's own settings ----
    form = watch.page(await (await new_context(browser, base, {})).new_page(), "form")
    await form.goto(f"{base}/host#admin={ADMIN_SECRET}")
    await expect(form.locator("#qa_alongside")).not_to_be_checked()
    await expect(form.locator("#qa_questions")).to_have_count(0)
    await form.check("#qa_alongside")
    await expect(form.locator("#qa_questions")).to_have_value("3")
    await expect(form.locator("#qa_anonymous")).not_to_be_checked()
    await form.uncheck("#qa_alongside")
    await expect(form.locator("#qa_questions")).to_have_count(0)
    await form.context.close()

    body = {"title": "Town hall", "prompts": [PROMPT], "question_seconds": 300, "qa_alongside": True}
    views = await open_views(browser, sockets, base, watch, body, 8)
    host, screens, phone = views.host, views.screens, views.phone
    await expect(host.locator("#player-count")).to_have_text("8")
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
    await shot(phone, "qa-alongside-phone-drawer")
    await phone.click("#lane-close")
    await expect(drawer).to_be_hidden()
    await expect(phone.locator(".av-input")).to_be_visible()
    await expect(opener.locator(".lane-count")).to_have_text("1")
    await shot(phone, "qa-alongside-phone-round")

    # -- the host: the lane's queue beside the round's controls, on one 1080p screen -----------------
    row = host.locator("#lane .qa-host-row", has_text=ASKED)
    await expect(row).to_be_visible()
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
        ],
    }
    await assert_layout(host, host_spec, "host console")
    await shot(host, "qa-alongside-host-1920x1080")

    # -- the big screens: the highlighted question in a banner, clear of the round ------------------
    for page, size in screens:
        await expect(page.locator("#lane .qa-lane-text")).to_have_text(ASKED)
        await expect(page.locator("#lane .qa-lane-meta")).to_contain_text("Phone Person")
        spec = {
            "inside": [*ROUND, ".qa-lane-banner"],
            "apart": [*([".qa-lane-banner", sel] for sel in [*ROUND, ".round-root", ".screen-top"])],
        }
        await assert_layout(page, spec, f"big screen {size}")
        await shot(page, f"qa-alongside-screen-{size}")

    # -- answered: the banner goes, and the round has the screen to itself again ---------------------
    await host.locator("#lane .qa-host-now").get_by_role("button", name="Mark answered").click()
    for page, _ in screens:
        await expect(page.locator("#lane")).to_be_hidden()
    assert watch.problems == []
