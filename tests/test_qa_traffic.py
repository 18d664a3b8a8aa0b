"""What one phone receives during a Q&A on the real appliance, in a room of 30 and of 300 players who
all ask and upvote at once: at most one list update every three seconds, each the same size whatever
the room (the lists are bounded), and no message near 32 KB. The figures are printed."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from tests.conftest import ADMIN, Client
from tests.test_browser_rooms import connect, join, settings, sockets  # noqa: F401  (fixtures)
from web.wire import MAX_FRAME

PHONE_INTERVAL = 3.0  # web/rooms.py: INTERVAL[PHONES]


async def listen(ws: aiohttp.ClientWebSocketResponse, frames: list[tuple[float, str, int]]) -> None:
    """Every frame the watching phone receives: when, its type and its size in bytes."""
    async for msg in ws:
        if msg.type != aiohttp.WSMsgType.TEXT:
            return
        frames.append((time.monotonic(), json.loads(msg.data)["type"], len(msg.data.encode())))


async def play(http: aiohttp.ClientSession, players: int) -> dict[str, Any]:
    body = {"title": "Town hall", "prompts": ["Questions for the panel"], "type": "qa", "qa_questions": 3}
    async with http.post("/api/games", json=body, headers=ADMIN) as r:
        game = await r.json()
    host = Client(await http.ws_connect(f"/ws/{game['game_id']}"))
    await host.send("hello", token=game["host_token"], view="host")
    await host.expect("snapshot")
    joined = await asyncio.gather(*(join(http, game["code"], f"P{i:04d}") for i in range(players)))
    room = await asyncio.gather(*(connect(http, game["game_id"], j["player_token"]) for j in joined))
    watcher = await http.ws_connect(f"/ws/{game['game_id']}")
    await watcher.send_json({"type": "hello", "token": joined[0]["player_token"], "view": "player"})
    frames: list[tuple[float, str, int]] = []
    listening = asyncio.ensure_future(listen(watcher, frames))
    await host.ok("start")
    opened = time.monotonic()
    asked = await asyncio.gather(
        *(
            c.ok("ask", round=0, text=f"Question {i}: when does the new office open, and who decides?")
            for i, c in enumerate(room)
        )
    )
    ids = [a["question"] for a in asked]

    async def upvote(i: int) -> None:
        for k in (1, 2, 3):
            await room[i].ok("upvote", round=0, question=ids[(i + k) % len(ids)])

    await asyncio.gather(*(upvote(i) for i in range(players)))
    await asyncio.sleep(PHONE_INTERVAL + 0.5)  # the last coalesced update reaches the phones
    await host.ok("end_phase", round=0, phase="open")
    await host.expect("phase_changed", phase="closed")
    await asyncio.sleep(0.5)
    closed = time.monotonic()
    listening.cancel()
    for c in [host, *room]:
        await c.ws.close()
    await watcher.close()
    during = [f for f in frames if opened <= f[0] <= closed]
    progress = [size for _, kind, size in during if kind == "progress"]
    return {
        "players": players,
        "seconds": round(closed - opened, 1),
        "messages": len(during),
        "bytes": sum(size for *_, size in during),
        "progress": len(progress),
        "progress_bytes_mean": sum(progress) // max(1, len(progress)),
        "progress_bytes_last": progress[-1] if progress else 0,
        "largest": max(size for *_, size in frames),
    }


@pytest.mark.parametrize("sizes", [(30, 300)])
async def test_a_phones_qa_traffic_is_bounded_by_time_not_by_the_room(sizes, sockets) -> None:  # noqa: F811
    figures = [await play(sockets, n) for n in sizes]
    for f in figures:
        print("Q&A, one phone:", f)
        assert f["largest"] < MAX_FRAME
        assert f["progress"] <= f["seconds"] / PHONE_INTERVAL + 2, f  # coalesced: one per interval, at most
    small, large = figures
    # The lists are full (20 + 5 questions) in both rooms: the last update is the same size, within a
    # few bytes (nicknames and counts of other lengths).
    assert (
        abs(large["progress_bytes_last"] - small["progress_bytes_last"]) < 0.1 * small["progress_bytes_last"]
    )
