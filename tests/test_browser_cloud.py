"""The same pages against the cloud: a whole game in headless Chromium through `cloud-local`.

The pages are rendered once for the stack (web/pages.py) and served from a third origin, as S3 and
CloudFront will serve them; they call the HTTP API on another origin (CORS) and open the WebSocket API's
`ws://…/<stage>?game=<id>`: deploy/realtime.yaml and deploy/http.yaml run by the local gateway, on moto.
The host signs in with the admin secret, creates a game and opens the big screen; three phones join
through the QR code's link, answer, vote and see the results of both prompts, and the podium appears.
Screenshots land in artifacts/ (cloud-*.png).
"""

from __future__ import annotations

import re
from typing import Any

import PIL.Image
import pytest
import zxingcpp
from playwright.async_api import expect

from tests.browsers import ARTIFACTS, PHONE, QR_DRAWN, SCREEN, Watch, local_only, settle
from tests.conftest import ADMIN_SECRET

pytestmark = pytest.mark.browser

PROMPTS = ["A bad name for a cat", "The worst pizza topping"]
# Bob's answer wins both prompts, Ann's gets one vote in each, Cy's none: the podium is Bob, Ann, Cy.
ANSWERS = [
    {"Ann": "Sir Hairball", "Bob": "Mr Mittens", "Cy": "Captain Fluff"},
    {"Ann": "Pineapple jelly", "Bob": "Toothpaste", "Cy": "Regret"},
]
VOTES = {"Ann": "Bob", "Bob": "Ann", "Cy": "Bob"}
EXPECTED_RANK = {"Bob": 1, "Ann": 2, "Cy": 3}


async def test_whole_game_through_cloud_local(cloud_pages, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    settings = cloud_pages.settings
    pages = settings.pages_url
    assert pages is not None and len({pages, settings.http_url, settings.url}) == 3, "three origins"
    allowed = (pages, settings.http_url, cloud_pages.websocket_url)
    watch = Watch()

    # -- the host signs in with the admin secret and creates the game -----------------------------
    host_ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    await local_only(host_ctx, *allowed)
    host = watch.page(await host_ctx.new_page(), "host")
    await host.goto(f"{pages}/host#admin={ADMIN_SECRET}")
    await expect(host.locator("#create-form")).to_be_visible()  # the HTTP API took the secret
    assert host.url == f"{pages}/host"
    await expect(host.locator("#pack option")).not_to_have_count(1)  # the sample packs, from the API
    csv = ("prompt\n" + "\n".join(PROMPTS) + "\n").encode()
    await host.set_input_files("#import", files=[{"name": "two.csv", "mimeType": "text/csv", "buffer": csv}])
    await expect(host.locator("#prompts")).to_have_value("\n".join(PROMPTS))  # parsed by the cloud
    await host.fill("#title", "Cloud night")
    await host.screenshot(path=str(ARTIFACTS / "cloud-host-new.png"), full_page=True)
    await host.get_by_role("button", name="Create game").click()
    await host.wait_for_url(re.compile(rf"^{re.escape(pages)}/host/[^/]+$"))
    game_id = host.url.rsplit("/", 1)[1]
    await expect(host.locator("#title")).to_have_text("Cloud night")
    await expect(host.locator("#phase")).to_have_text("Lobby")
    code = (await host.locator("#code").text_content()).strip()
    join_url = await host.locator("#join-url").get_attribute("href")
    assert join_url == f"{pages}/j/{code}", "join links lead to the pages, not to the API"

    # -- the big screen, and its QR code -----------------------------------------------------------
    async with host_ctx.expect_page() as popup:
        await host.click("#open-screen")
    screen = watch.page(await popup.value, "screen")
    await screen.set_viewport_size(SCREEN)
    await screen.wait_for_load_state()
    assert screen.url == f"{pages}/screen/{game_id}"
    await expect(screen.locator(".lobby-code")).to_have_attribute("aria-label", f"Game code {code}")
    await screen.wait_for_function(QR_DRAWN)
    await settle(screen)
    lobby_png = ARTIFACTS / "cloud-screen-lobby.png"
    await screen.screenshot(path=str(lobby_png))
    assert [r.text for r in zxingcpp.read_barcodes(PIL.Image.open(lobby_png))] == [join_url]

    # -- three phones join through the join page ---------------------------------------------------
    phones: dict[str, Any] = {}
    for name in ("Ann", "Bob", "Cy"):
        ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        await local_only(ctx, *allowed)
        phone = watch.page(await ctx.new_page(), name)
        await phone.goto(join_url)
        await expect(phone.locator("#code")).to_have_value(code)  # from the address: the page is static
        await phone.fill("#nickname", name)
        await phone.get_by_role("button", name="Join game").click()
        await phone.wait_for_url(f"{pages}/play/{game_id}")
        await expect(phone.locator(".play-nick")).to_have_text(name)
        phones[name] = phone
    await expect(screen.locator(".lobby-count-n")).to_have_text("3")
    await expect(host.locator("#players .player-row")).to_have_count(3)
    await settle(phones["Cy"])
    await phones["Cy"].screenshot(path=str(ARTIFACTS / "cloud-phone-lobby.png"))
    await host.screenshot(path=str(ARTIFACTS / "cloud-host-lobby.png"))

    # -- both prompts: answers, votes, results -------------------------------------------------------
    await expect(host.locator("#start")).to_be_enabled()
    await host.click("#start")
    for index, prompt in enumerate(PROMPTS):
        await expect(screen.locator(".av-prompt")).to_have_text(prompt)
        for name, phone in phones.items():
            await expect(phone.locator(".av-prompt")).to_have_text(prompt)
            await phone.fill("textarea.av-input", ANSWERS[index][name])
            if index == 0 and name == "Ann":
                await phone.screenshot(path=str(ARTIFACTS / "cloud-phone-answer.png"))
            await phone.get_by_role("button", name="Send answer").click()
        if index == 1:  # a phone that reloads gets its seat back from the cloud
            await phones["Cy"].reload()

        await expect(screen.locator(".av-card")).to_have_count(3)
        await expect(host.locator("#phase")).to_have_text("Voting")
        for name, phone in phones.items():
            ballot = phone.locator(".av-option")
            await expect(ballot).to_have_count(2)
            assert ANSWERS[index][name] not in await ballot.all_text_contents()
            if index == 0 and name == "Ann":
                await phone.screenshot(path=str(ARTIFACTS / "cloud-phone-vote.png"))
            await ballot.filter(has_text=ANSWERS[index][VOTES[name]]).click()

        await expect(host.locator("#phase")).to_have_text("Results")
        results = screen.locator(".av-results .av-result")
        await expect(results).to_have_count(3)
        await expect(results.first.locator(".av-result-text")).to_have_text(ANSWERS[index]["Bob"])
        await expect(results.first.locator(".av-votes")).to_have_text("2 votes")
        for name, phone in phones.items():
            await expect(phone.locator(".av-rank")).to_have_text(f"#{EXPECTED_RANK[name]}")
        if index == 0:
            await settle(screen)
            await screen.screenshot(path=str(ARTIFACTS / "cloud-screen-results.png"))
            await settle(phones["Ann"])
            await phones["Ann"].screenshot(path=str(ARTIFACTS / "cloud-phone-results.png"))
        await host.click("#next")

    # -- the podium ------------------------------------------------------------------------------------
    await expect(host.locator("#phase")).to_have_text("Final results")
    await expect(screen.locator(".finale-title")).to_have_text("Bob wins!")
    for slot, name in (("first", "Bob"), ("second", "Ann"), ("third", "Cy")):
        await expect(screen.locator(f".podium-slot.{slot} .podium-name")).to_have_text(name)
    for name, phone in phones.items():
        await expect(phone.locator(".play-rank")).to_have_attribute("data-rank", str(EXPECTED_RANK[name]))
    await settle(screen)
    await screen.screenshot(path=str(ARTIFACTS / "cloud-screen-podium.png"))
    await settle(phones["Ann"])
    await phones["Ann"].screenshot(path=str(ARTIFACTS / "cloud-phone-podium.png"), full_page=True)
    await host.screenshot(path=str(ARTIFACTS / "cloud-host-podium.png"))

    assert watch.problems == []
