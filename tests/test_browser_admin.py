"""The admin and the origin checks in Chromium: players see only "Join a game", the host signs in with
the secret, another site's page can neither join nor open a socket, and over HTTPS the pages use WSS.

Real Chromium against real servers on 127.0.0.1 only (every other address is refused).
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import expect

from tests.browsers import TIMEOUT
from tests.conftest import ADMIN, ADMIN_SECRET, create_game
from tests.test_browser_rooms import no_serious_violations
from web.app import create_app
from web.settings import Settings
from web.tls import server_context

pytestmark = pytest.mark.browser

LOCAL = re.compile(r"^(https?|wss?)://127\.0\.0\.1:\d+/")


async def local_page(browser: Any, **options: Any) -> Any:
    """A page that reaches 127.0.0.1 only, failing the test on any script error."""
    ctx = await browser.new_context(**options)

    async def guard(route: Any) -> None:
        await (route.continue_() if LOCAL.match(route.request.url) else route.abort())

    await ctx.route("**/*", guard)
    page = await ctx.new_page()
    page.set_default_timeout(TIMEOUT)
    page.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    return page


async def test_players_see_only_join_and_the_host_signs_in(server, browser) -> None:
    base = str(server.make_url("/")).rstrip("/")
    phone = await local_page(browser, viewport={"width": 390, "height": 844})
    await phone.goto(f"{base}/")
    await expect(phone.get_by_role("heading", name="Join a game")).to_be_visible()
    await no_serious_violations(phone, "the home page")
    assert "host" not in (await phone.locator("main").inner_text()).lower()
    assert await phone.locator("a[href^='/host']").count() == 0
    await phone.goto(f"{base}/play/gnosuchgame")  # the page a stale link lands on
    assert await phone.locator("a[href^='/host']").count() == 0

    host = await local_page(browser, viewport={"width": 1200, "height": 900})
    await host.goto(f"{base}/host")
    login = host.locator("#admin-login")
    await expect(login).to_be_visible()
    await expect(host.locator("#create-form")).to_be_hidden()
    await host.fill("#admin-secret", "not the secret at all")
    await host.get_by_role("button", name="Sign in").click()
    await expect(login.locator(".form-error")).to_have_text("That is not the admin secret.")
    await expect(login.locator(".form-error")).to_be_visible()
    await no_serious_violations(host, "the admin's sign-in")
    await expect(host.locator("#create-form")).to_be_hidden()
    await host.fill("#admin-secret", ADMIN_SECRET)
    await host.get_by_role("button", name="Sign in").click()
    await expect(host.locator("#create-form")).to_be_visible()
    await expect(login).to_be_hidden()
    await host.reload()  # kept in this browser
    await expect(host.locator("#create-form")).to_be_visible()
    await host.get_by_role("button", name="Sign out").click()
    await expect(login).to_be_visible()
    await expect(host.locator("#create-form")).to_be_hidden()
    assert await host.evaluate("localStorage.getItem('engagements:admin')") is None
    # A kept secret the appliance no longer has (deleted and remade, say) asks for the new one.
    await host.evaluate("localStorage.setItem('engagements:admin', 'the secret before the restart')")
    await host.reload()
    await expect(login.locator(".form-error")).to_have_text("The admin secret has changed: sign in again.")
    await expect(host.locator("#create-form")).to_be_hidden()


async def test_another_sites_page_can_neither_join_nor_open_a_socket(server, http, browser) -> None:
    table = await create_game(http)
    base = str(server.make_url("/")).rstrip("/")
    # Another site: a page of its own on another port of 127.0.0.1, so another origin.
    foreign = web.Application()

    async def blank(_: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>Another site</title>", content_type="text/html")

    foreign.router.add_get("/", blank)
    runner = web.AppRunner(foreign)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        page = await local_page(browser)
        await page.goto(f"http://127.0.0.1:{port}/")
        outcome = await page.evaluate(
            """async ([base, gameId, code]) => {
              // A "simple" request: no preflight, so the browser sends it whatever the server thinks.
              const body = JSON.stringify({ code, nickname: 'Forged' });
              await fetch(`${base}/api/join`,
                { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body });
              const socket = await new Promise((resolve) => {
                const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/${gameId}`);
                ws.onopen = () => resolve('open');
                ws.onclose = () => resolve('refused');
              });
              return socket;
            }""",
            [base, table.game_id, table.created["code"]],
        )
    finally:
        await runner.cleanup()
    assert outcome == "refused"
    async with http.post("/api/join", json={"code": table.created["code"], "nickname": "Forged"}) as r:
        assert r.status == 200  # the nickname was free: the forged join never happened
    await table.close()


async def test_over_https_the_pages_use_wss(aiohttp_server, browser, certificate, tmp_path, unused_tcp_port):
    settings = Settings(
        host="127.0.0.1",
        port=unused_tcp_port,
        data_dir=tmp_path / "data",
        mdns=False,
        admin_secret=ADMIN_SECRET,
        certfile=certificate.certfile,
        keyfile=certificate.keyfile,
    )
    tls = server_context(certificate.certfile, certificate.keyfile)
    server = await aiohttp_server(create_app(settings), host="127.0.0.1", port=unused_tcp_port, ssl=tls)
    base = f"https://127.0.0.1:{server.port}"
    host = await local_page(browser, ignore_https_errors=True, viewport={"width": 1200, "height": 900})
    sockets: list[str] = []
    host.on("websocket", lambda ws: sockets.append(ws.url))
    await host.goto(f"{base}/host#admin={ADMIN_SECRET}")
    await host.fill("#title", "Secure night")
    await host.fill("#prompts", "A bad name for a cat")
    await host.get_by_role("button", name="Create game").click()
    await host.wait_for_url(re.compile(r"/host/[^/]+$"))
    await expect(host.locator("#phase")).to_have_text("Lobby")  # the console's socket is up
    code = (await host.locator("#code").text_content()).strip()
    await expect(host.locator("#join-url")).to_have_attribute("href", f"{base}/j/{code}")
    assert sockets and all(url.startswith(f"wss://127.0.0.1:{server.port}/ws/") for url in sockets), sockets
    connector = aiohttp.TCPConnector(ssl=certificate.client)
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(f"{base}/api/games", headers=ADMIN) as r,
    ):
        assert [g["title"] for g in (await r.json())["games"]] == ["Secure night"]
