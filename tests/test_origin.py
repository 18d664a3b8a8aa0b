"""Another site's pages cannot drive the appliance: POSTs need JSON and our Origin, sockets our Origin."""

from __future__ import annotations

import aiohttp
import pytest

from tests.conftest import ADMIN, create_game


async def test_cross_site_posts_are_refused_and_same_site_ones_accepted(http, server):
    table = await create_game(http)
    own = str(server.make_url("")).rstrip("/")
    join = {"code": table.created["code"], "nickname": "Forged"}
    # What a foreign page can send without asking first: a "simple" text/plain POST.
    async with http.post(
        "/api/join", data=aiohttp.JsonPayload(join, content_type="text/plain"), headers={"Origin": own}
    ) as r:
        assert r.status == 415 and (await r.json())["error"]["code"] == "not_json"
    for origin in ("http://evil.example", "null", f"{own}.evil.example", own.replace("http:", "https:")):
        async with http.post("/api/join", json=join, headers={"Origin": origin}) as r:
            assert r.status == 403, origin
            assert (await r.json())["error"]["code"] == "bad_origin"
        async with http.post("/api/games", json={"prompts": ["x"]}, headers={**ADMIN, "Origin": origin}) as r:
            assert r.status == 403, origin
    async with http.get("/api/games", headers=ADMIN) as r:
        assert len((await r.json())["games"]) == 1  # nothing was created
    # The appliance's own pages, and clients that are not browsers (no Origin), are served.
    async with http.post("/api/join", json=join, headers={"Origin": own}) as r:
        assert r.status == 200
    async with http.post("/api/join", json={**join, "nickname": "Script"}) as r:
        assert r.status == 200
    await table.close()


async def test_a_foreign_origin_cannot_open_a_socket(http, server):
    table = await create_game(http)
    own = str(server.make_url("")).rstrip("/")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(f"/ws/{table.game_id}", origin="http://evil.example")
    assert refused.value.status == 403
    for origin in (own, None):
        ws = await http.ws_connect(f"/ws/{table.game_id}", origin=origin)
        await ws.send_json({"type": "hello", "view": "host", "token": table.created["host_token"]})
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        await ws.close()
    await table.close()


async def test_a_name_rebound_to_the_appliance_is_not_its_origin(http, server):
    """DNS rebinding: a site whose name now points here would be "same-origin" with us; it is not ours."""
    port = server.port
    for host, allowed in (
        (f"evil.example:{port}", False),
        (f"engagements-on-venue-laptop.local:{port}", True),
        (f"localhost:{port}", True),
        (f"192.168.1.20:{port}", True),
    ):
        headers = {"Host": host, "Origin": f"http://{host}"}
        async with http.post("/api/join", json={"code": "ZZZZZZZ", "nickname": "x"}, headers=headers) as r:
            assert (r.status == 403) is not allowed, host
