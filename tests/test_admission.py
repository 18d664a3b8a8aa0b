"""Admission control: one client, or one address, cannot take the appliance from everyone else.

The appliance runs as `engagements serve` runs it (its gate, its timeouts), in this process, with
small limits so a test reaches them quickly. Other clients come from other loopback addresses
(all of 127.0.0.0/8 is loopback), as other phones on the venue's Wi-Fi would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import ADMIN, Appliance, Client, create_game, serving
from web.refusals import Refusals
from web.settings import Limits

SMALL = Limits(
    header_timeout=0.5,
    body_timeout=0.5,
    connections_per_address=6,
    join_burst=4,
    joins_per_minute=0.5,
    wrong_code_burst=2,
    wrong_codes_per_minute=0.5,
    sync_burst=2,
    syncs_per_minute=1,
)


@pytest.fixture
async def appliance(settings) -> AsyncIterator[Appliance]:
    async with serving(dataclasses.replace(settings, limits=SMALL)) as app:
        yield app


async def join(
    http: aiohttp.ClientSession, code: str, nickname: str, **extra: Any
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with http.post("/api/join", json={"code": code, "nickname": nickname, **extra}) as r:
        return r.status, await r.json(), dict(r.headers)


def read_all(sock: socket.socket) -> bytes | None:
    """What the server sends until it closes the connection; None if it is still open after 5 s."""
    out = b""
    try:
        while chunk := sock.recv(4096):
            out += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return out


# -- connections ----------------------------------------------------------------------------------


async def test_connections_over_the_per_address_cap_get_429_while_other_addresses_get_in(appliance):
    held = [appliance.raw("127.0.0.9") for _ in range(SMALL.connections_per_address)]
    try:
        await asyncio.sleep(0.1)  # the server has accepted them
        extra = appliance.raw("127.0.0.9")
        reply = await asyncio.to_thread(read_all, extra)
        extra.close()
        assert reply is not None and reply.startswith(b"HTTP/1.1 429"), reply
        assert b'"rate_limited"' in reply
        async with appliance.session("127.0.0.10") as other, other.get("/healthz") as r:
            assert r.status == 200, "another address is not refused"
    finally:
        for sock in held:
            sock.close()
    await asyncio.sleep(0.1)
    async with appliance.session("127.0.0.9") as again, again.get("/healthz") as r:
        assert r.status == 200, "closed connections give their place back"


async def test_a_half_sent_request_is_closed_after_the_header_timeout(appliance):
    sock = appliance.raw()
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    reply = await asyncio.to_thread(read_all, sock)  # read_all gives up after 5 s: 10 header timeouts
    sock.close()
    assert reply == b"", f"the server closed it without an answer (None: still open), got {reply!r}"


async def test_a_body_that_never_arrives_is_refused_with_408(appliance):
    sock = appliance.raw()
    sock.sendall(
        b"POST /api/join HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 200\r\n\r\n{"code": '
    )
    reply = await asyncio.to_thread(read_all, sock)
    sock.close()
    assert reply is not None and reply.startswith(b"HTTP/1.1 408"), reply
    assert b'"timeout"' in reply


# -- joins ----------------------------------------------------------------------------------------


async def test_joins_from_one_address_are_limited_and_other_addresses_still_join(appliance):
    async with appliance.session() as host_http:
        table = await create_game(host_http)
        code = table.created["code"]
        async with appliance.session("127.0.0.20") as spammer:
            statuses = [(await join(spammer, code, f"Spam {i}"))[0] for i in range(SMALL.join_burst + 3)]
            assert statuses[: SMALL.join_burst] == [200] * SMALL.join_burst
            assert statuses[SMALL.join_burst :] == [429] * 3
            status, body, headers = await join(spammer, code, "Once more")
            assert (status, body["error"]["code"]) == (429, "rate_limited")
            assert int(headers["Retry-After"]) > 0
        async with appliance.session("127.0.0.21") as newcomer:
            status, body, _ = await join(newcomer, code, "Newcomer")
            assert status == 200, body
        await table.close()


async def test_a_wrong_code_guesser_does_not_lock_out_a_neighbour_behind_the_same_address(appliance):
    async with appliance.session() as host_http:
        table = await create_game(host_http)
        code = table.created["code"]
        guesser, neighbour = "g" * 32, "n" * 32
        async with appliance.session("127.0.0.30") as nat:
            for _ in range(SMALL.wrong_code_burst):
                status, _, _ = await join(nat, "QQQQQQQ", "Guess", device_id=guesser)
                assert status == 404
            status, body, _ = await join(nat, code, "Guess", device_id=guesser)
            assert (status, body["error"]["code"]) == (429, "rate_limited"), "the guesser waits, right or not"
            status, body, _ = await join(nat, code, "Neighbour", device_id=neighbour)
            assert status == 200, body
        await table.close()


async def test_a_retried_join_with_its_client_id_gets_the_same_seat_not_nickname_taken(appliance):
    async with appliance.session() as http:
        table = await create_game(http)
        code = table.created["code"]
        first = await join(http, code, "Ann", client_id="c" * 32, device_id="d" * 32)
        again = await join(http, code, "Ann", client_id="c" * 32, device_id="d" * 32)
        assert first[0] == again[0] == 200, (first, again)
        assert again[1]["player_id"] == first[1]["player_id"]
        assert again[1]["player_token"] == first[1]["player_token"]
        other = await join(http, code, "Ann", client_id="x" * 32)
        assert (other[0], other[1]["error"]["code"]) == (409, "nickname_taken")
        ws = await http.ws_connect(f"/ws/{table.game_id}")
        ann = Client(ws)
        await ann.send("hello", token=again[1]["player_token"], view="player")
        snap = await ann.expect("snapshot")
        assert snap["game"]["room"]["players"] == 1, "one seat, not a ghost and a seat"
        await ws.close()
        await table.close()


async def test_sync_requests_are_rate_limited_per_socket(appliance):
    async with appliance.session() as http:
        table = await create_game(http)
        client = await table.join("Ann")
        for _ in range(SMALL.sync_burst):
            await client.send("sync")
            await client.expect("snapshot")
        await client.send("sync")
        refused = await client.expect("error")
        assert refused["code"] == "rate_limited"
        await client.send("ping", t=1)
        assert (await client.expect("pong"))["t"] == 1, "the socket stays open and answers"
        await table.close()


# -- the game's own rules -------------------------------------------------------------------------


async def test_the_player_cap_and_late_joins_are_settings_of_the_game(appliance):
    async with appliance.session() as http:
        body = {"title": "T", "prompts": ["P"], "max_players": 0}
        async with http.post("/api/games", json=body, headers=ADMIN) as r:
            assert (r.status, (await r.json())["error"]["code"]) == (400, "invalid")
        table = await create_game(http, max_players=2, late_join=False)
        code = table.created["code"]
        await table.join("Ann")
        async with appliance.session("127.0.0.40") as bob_http:
            assert (await join(bob_http, code, "Bob"))[0] == 200
            status, body, _ = await join(bob_http, code, "Cy")
            assert (status, body["error"]["code"]) == (403, "full")
        await table.host.ok("kick", player=table.ids["Ann"])
        await table.host.ok("start")
        async with appliance.session("127.0.0.41") as late_http:
            status, body, _ = await join(late_http, code, "Late")
            assert (status, body["error"]["code"]) == (403, "started")
        open_table = await create_game(http)
        await open_table.join("Dee")
        await open_table.host.ok("start")
        async with appliance.session("127.0.0.42") as late_http:
            assert (await join(late_http, open_table.created["code"], "Late"))[0] == 200, (
                "late joins by default"
            )
        await open_table.close()


async def test_a_seat_that_never_connected_does_not_hold_the_round_open(appliance):
    async with appliance.session() as http:
        table = await create_game(http, prompts=["Only"])
        await table.join("Ann")
        await table.join("Bob")
        assert (await join(http, table.created["code"], "Ghost"))[0] == 200  # never connects
        await table.host.ok("start")
        await table.players["Ann"].ok("answer", round=0, text="one")
        await table.players["Bob"].ok("answer", round=0, text="two")
        voting = await table.host.phase("voting")  # at once: the 60 s deadline is far away
        assert voting["round"]["eligible"] == 2
        await table.close()


async def test_a_kicked_device_cannot_come_back_under_a_new_nickname(appliance):
    async with appliance.session() as http:
        table = await create_game(http)
        code = table.created["code"]
        phone = {"device_id": "k" * 32}
        async with appliance.session("127.0.0.50") as kicked_http:
            status, body, _ = await join(kicked_http, code, "Troll", **phone)
            assert status == 200
            await table.host.ok("kick", player=body["player_id"])
            status, body, _ = await join(kicked_http, code, "Angel", **phone)
            assert (status, body["error"]["code"]) == (403, "kicked")
            # The storage wiped: a new device id from the same address is caught by the fallback.
            status, body, _ = await join(kicked_http, code, "Angel", device_id="w" * 32)
            assert (status, body["error"]["code"]) == (403, "kicked")
        async with appliance.session("127.0.0.50") as same_address_no_device:
            status, body, _ = await join(same_address_no_device, code, "Script")
            assert (status, body["error"]["code"]) == (403, "kicked")
        async with appliance.session("127.0.0.51") as other_http:
            assert (await join(other_http, code, "Angel", device_id="o" * 32))[0] == 200
        await table.close()


# -- the log ----------------------------------------------------------------------------------


def test_refusals_are_logged_once_per_client_per_interval_with_their_counts(caplog):
    now = [0.0]
    refusals = Refusals(interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="engagements.refusals"):
        for _ in range(1000):
            refusals.note("10.0.0.7", "connections")
        refusals.note("10.0.0.8", "joins")
        now[0] = 30.0
        refusals.note("10.0.0.7", "joins")
        assert len(caplog.records) == 2, "one line per client"
        now[0] = 61.0
        refusals.note("10.0.0.7", "connections")
    assert len(caplog.records) == 3
    last = caplog.records[-1].getMessage()
    assert "10.0.0.7" in last and "connections 1000" in last and "joins 1" in last, last
