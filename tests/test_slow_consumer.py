"""A phone that stops reading never holds up the others, and later catches up with a fresh snapshot.

One player's socket stops reading (its transport is paused and its buffers are small, as a phone
that went to sleep mid-game) while the others play a whole game. The others get every event, in
order, and the game reaches the podium; the server drops the sleeper's backlog instead of holding
it, and once the phone reads again it gets a snapshot of the game as it now is.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from typing import Any

import web.connection
from web.keys import ROOMS, SOCKETS
from web.settings import Limits

NORMAL = 8
PROMPTS = [f"Prompt number {i}" for i in range(8)]  # more than the sleeper's buffers hold


class StalledPhone:
    """A raw WebSocket client that reads its snapshot, then stops reading altogether."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, game_id: str, token: str) -> tuple[StalledPhone, dict[str, Any]]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills fast
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET /ws/{game_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        phone = cls(reader, writer)
        phone.send({"type": "hello", "view": "player", "token": token})
        snapshot = await phone.receive()
        assert snapshot["type"] == "snapshot", snapshot
        writer.transport.pause_reading()  # the phone sleeps: nothing more is read from the socket
        return phone, snapshot

    def send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes((0x81, 0x80 | len(payload))) + mask + masked)

    async def receive(self) -> dict[str, Any]:
        while True:
            b0, b1 = await self.reader.readexactly(2)
            length = b1 & 0x7F
            if length == 126:
                length = int.from_bytes(await self.reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await self.reader.readexactly(8), "big")
            payload = await self.reader.readexactly(length)
            if b0 & 0x0F == 0x1:
                return json.loads(payload)

    def wake(self) -> None:
        self.writer.transport.resume_reading()

    def close(self) -> None:
        self.writer.close()


def assert_in_order(messages: list[dict[str, Any]]) -> None:
    """From its snapshot on, a socket's events carry every seq, one after the other."""
    expected = None
    for m in messages:
        if m["type"] == "snapshot":
            expected = m["seq"] + 1
        elif "seq" in m:
            assert m["seq"] == expected, f"expected seq {expected}, got {m}"
            expected += 1


async def test_a_phone_that_stops_reading_does_not_hold_up_the_game(table_factory, http, server, monkeypatch):
    # Small limits, so a few kilobytes of game fill the sleeper's share of the server.
    monkeypatch.setattr(web.connection, "HIGH_WATER", 2048)
    monkeypatch.setattr(web.connection, "LOW_WATER", 1024)
    monkeypatch.setattr(web.connection, "QUEUE_LIMIT", 4)
    table = await table_factory(prompts=PROMPTS)
    nicks = [f"Player{i}" for i in range(NORMAL)]
    for nick in nicks:
        await table.join(nick)
    async with http.post("/api/join", json={"code": table.created["code"], "nickname": "Sleepy"}) as r:
        sleepy = await r.json()
    phone, first = await StalledPhone.open(server.port, table.game_id, sleepy["player_token"])
    (sleeper,) = server.app[ROOMS].rooms[table.game_id].players[sleepy["player_id"]]
    sleeper.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

    await table.host.ok("start")
    for r in range(len(PROMPTS)):
        options = {}
        for nick in nicks:
            ack = await table.players[nick].ok("answer", round=r, text=f"{nick}: " + "ha" * 64)
            options[nick] = ack["option"]
        await table.host.ok("end_phase", round=r, phase="question")
        for i, nick in enumerate(nicks):
            await table.players[nick].expect("phase_changed", phase="voting")
            await table.players[nick].ok("vote", round=r, option=options[nicks[(i + 1) % NORMAL]])
        await table.host.ok("end_phase", round=r, phase="voting")
        await table.host.phase("results")
        await table.host.ok("next", round=r)
    final = await table.host.phase("finished")

    # Everyone awake saw the whole game, every event in order, each within the helpers' 5 s.
    for nick in nicks:
        client = table.players[nick]
        await client.phase("finished")
        assert_in_order(client.seen)
    assert_in_order(table.host.seen)
    # The sleeper's backlog was dropped rather than kept: at most a few frames wait for it (its
    # kernel buffers may have taken enough for it to catch up with a snapshot mid-game, then fall
    # behind again).
    assert len(sleeper.queue) <= web.connection.QUEUE_LIMIT and sleeper.queued <= sleeper.limits.owed_bytes

    phone.wake()
    caught_up = []
    async with asyncio.timeout(5):  # up to the podium: the last snapshot owed, or the events after one
        while not caught_up or caught_up[-1].get("seq", -1) < final["seq"]:
            caught_up.append(await phone.receive())
    fresh = [m for m in caught_up if m["type"] == "snapshot"][-1]
    assert fresh["you"]["player"]["id"] == sleepy["player_id"]
    last = caught_up[-1]
    assert (last["game"] if last["type"] == "snapshot" else last)["phase"] == "finished"
    assert_in_order([first, *caught_up])  # what it got, between snapshots, was in order
    events = [m for m in caught_up if "seq" in m and m["type"] != "snapshot"]
    assert len(events) < final["seq"] - first["seq"]  # and it did miss events, for a snapshot
    phone.close()
    await table.close()


async def test_a_phone_that_asks_sync_and_never_reads_is_owed_one_snapshot_not_a_backlog(
    table_factory, http, server, monkeypatch
):
    monkeypatch.setattr(web.connection, "HIGH_WATER", 2048)
    monkeypatch.setattr(web.connection, "LOW_WATER", 1024)
    # Lift the rate limits, so only the bytes owed bound what this socket costs.
    server.app[SOCKETS].limits = Limits(
        message_burst=10_000, messages_per_second=10_000, sync_burst=10_000, owed_bytes=16 * 1024
    )
    table = await table_factory(prompts=["A prompt " + "long " * 38])
    await table.join("Awake")
    async with http.post("/api/join", json={"code": table.created["code"], "nickname": "Greedy"}) as r:
        greedy = await r.json()
    phone, _ = await StalledPhone.open(server.port, table.game_id, greedy["player_token"])
    try:
        (conn,) = server.app[ROOMS].rooms[table.game_id].players[greedy["player_id"]]
        conn.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        await table.host.ok("start")
        owed = []
        for _ in range(300):
            phone.send({"type": "sync"})
            await asyncio.sleep(0.002)
            owed.append(conn.queued + conn.transport.get_write_buffer_size())
        assert conn.behind, "it fell behind: its backlog was dropped"
        assert max(owed) <= 16 * 1024 + 2048 + 4096, max(owed)  # owed_bytes, the high water, one frame
        assert (await table.players["Awake"].ok("answer", round=0, text="still quick"))["type"] == "ack"
        phone.wake()
        async with asyncio.timeout(5):
            while (m := await phone.receive())["type"] != "snapshot" or m["game"]["phase"] != "question":
                pass
    finally:
        phone.close()
    await table.close()
