"""One client process of the benchmark: many simulated players, each with its own real WebSocket.

Driven by `bench.run` over stdin/stdout, one JSON object a line each way. Commands:

    {"cmd": "join", "url", "socket", "players": [[game, game_id, code, player_index], ...], "concurrency"}
                                         `url`: where /api/join is; `socket`: a game's WebSocket URL
                                         with `{game_id}` in it
    {"cmd": "record", "on": bool}        timings of events are kept only while recording (not joins)
    {"cmd": "answer", "round", "t0", "spread", "total", "abstain": [player_index], "options"?}
                                         `options`: a quiz question's count (answers are choices)
    {"cmd": "vote", "round", "t0", "spread", "total", "abstain": [player_index]}
    {"cmd": "wait", "seqs": {game_index: seq}, "you": bool, "timeout"}
    {"cmd": "report"}                    everything measured, then the process exits

Every reply is {"ok": ...} plus figures. Each player checks that event `seq`s (`phase_changed`,
`lobby_locked`) grow by exactly one from its snapshot on (a gap is a lost event, a step back one out
of order); updates (`progress`, `room`, `you`) carry no seq. A player votes for an option of the
ballot its private `you` brought when the vote opened. Each player also counts the payload bytes it
receives from a question's opening to the end of its results (the per-question budget), and the
process keeps the largest message any of its players received. Times are wall-clock seconds
(time.time()), comparable across the processes of one machine and with the server's deadlines.

Each player connects from an address of its own block of loopback (PLAYERS_PER_ADDRESS share one,
as phones behind a small router would), so the appliance's per-address limits see a room, not one
client. Joins are HTTP requests through aiohttp. The sockets are a small RFC 6455 client of our own
(`Socket`): frames are parsed and handled as they arrive, with no task per message, and a broadcast
that every player of the process receives is parsed once, so the client processes spend their two
shared cores on receiving rather than on bookkeeping, and the server is what the figures measure.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import sys
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import aiohttp

PLAYERS_PER_ADDRESS = 50


def address_of(index: int) -> str:
    """The loopback address player `index` connects from (all of 127.0.0.0/8 is loopback)."""
    block = index // PLAYERS_PER_ADDRESS
    return f"127.1.{block // 250}.{block % 250 + 1}"


ANSWER_TIMEOUT = 60.0
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455 section 5.3)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    mask = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big") if n else b""
    return header + key + masked


class Socket(asyncio.Protocol):
    """One player's WebSocket: the upgrade handshake, then server frames handed to `on_message`."""

    def __init__(self, client: Client, player: Player, host: str, path: str) -> None:
        self.client, self.player = client, player
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def send(self, text: str) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionError("socket closed")
        self.transport.write(client_frame(TEXT, text.encode()))

    def data_received(self, data: bytes) -> None:
        at = time.time()
        buf = self.buffer
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[: end + 4]
            if b" 101 " not in status + b" ":
                self.ready.set_exception(ConnectionError(status.decode(errors="replace")))
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.ready.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            opcode = b0 & 0x0F
            if opcode == TEXT:
                self.client.on_message(self.player, payload, at)
            elif opcode == PING:
                assert self.transport is not None
                self.transport.write(client_frame(PONG, payload))
            elif opcode == CLOSE:
                assert self.transport is not None
                if not self.transport.is_closing():
                    self.transport.write(client_frame(CLOSE, payload[:2]))
                    self.transport.close()
            elif opcode != PONG:
                self.client.error_codes[f"frame_opcode_{opcode}"] += 1
        if pos:
            del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during the handshake"))
        self.client.lost_socket(self.player)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(CLOSE, (1000).to_bytes(2, "big")))
            self.transport.close()


class Player:
    __slots__ = (
        "acks",
        "ballot",
        "bytes",
        "code",
        "errors",
        "expect",
        "game",
        "game_id",
        "index",
        "last_seq",
        "lost",
        "messages",
        "option",
        "options",
        "out_of_order",
        "pending",
        "qbytes",
        "resyncs",
        "round",
        "snapshot",
        "token",
        "ws",
        "you_seq",
    )

    def __init__(self, game: int, game_id: str, code: str, index: int) -> None:
        self.game, self.game_id, self.code, self.index = game, game_id, code, index
        self.token = ""
        self.ws: Socket | None = None
        self.snapshot: asyncio.Future[None] | None = None
        self.expect = -1  # the next seq this socket should see; -1 before the snapshot
        self.last_seq = -1
        self.lost = self.out_of_order = self.resyncs = self.errors = 0
        self.messages = self.bytes = 0
        self.round = -1
        self.option: str | None = None  # this round's answer option
        self.ballot: list[dict[str, Any]] = []  # this round's ballot, from `you`
        self.pending: dict[str, tuple[str, float, asyncio.Future[None]]] = {}
        self.acks = 0
        self.you_seq = -1  # the last event seen when the latest `you` arrived (it follows its event)
        self.qbytes = -1  # payload bytes received since this question opened; -1 between questions


class Client:
    def __init__(self) -> None:
        self.players: list[Player] = []
        self.sessions: dict[str, aiohttp.ClientSession] = {}  # by the address they connect from
        self.recording = False
        # (game, seq) -> [type, [delivery times]] while recording
        self.deliveries: dict[tuple[int, int], list[Any]] = {}
        self.latency: dict[str, list[float]] = defaultdict(list)  # "answer"/"vote" -> ack latencies (s)
        self.acked: dict[str, int] = defaultdict(int)  # "<kind>:<game>:<round>" -> acks
        self.error_codes: dict[str, int] = defaultdict(int)
        self.join_times: list[float] = []
        self.join_failures = 0
        self.round_messages: dict[int, int] = defaultdict(int)  # round -> messages to players in it
        self.round_bytes: dict[int, int] = defaultdict(int)
        self.question_bytes: list[int] = []  # per player per question: payload bytes, opening to results
        self.largest = 0  # the largest message any player received (bytes)
        self.parsed: dict[str, Any] = {}  # big broadcasts are parsed once per process, not per player
        self.closed_early = 0  # sockets the server closed before the end
        self.closing = False

    # -- messages -------------------------------------------------------------------------------

    def parse(self, data: bytes) -> dict[str, Any]:
        """A broadcast reaches every player here in the same bytes: parse it once. Its length, head and
        tail tell it apart from any other; snapshots and `you` are each player's own and are parsed."""
        if len(data) < 1024 or data.startswith((b'{"type":"snapshot"', b'{"type":"you"')):
            return json.loads(data)
        key = (len(data), data[:96], data[-96:])
        found = self.parsed.get(key)
        if found is None:
            if len(self.parsed) > 64:
                self.parsed.clear()
            found = self.parsed[key] = json.loads(data)
        return found

    def on_message(self, p: Player, text: bytes, at: float) -> None:
        m = self.parse(text)
        n = len(text)
        p.messages += 1
        p.bytes += n
        if n > self.largest:
            self.largest = n
        if p.round >= 0:
            self.round_messages[p.round] += 1
            self.round_bytes[p.round] += n
        type_ = m.get("type")
        if (
            type_ is None
        ):  # API Gateway's own `{"message": "Internal server error", ...}`: a failed invocation
            p.errors += 1
            self.error_codes[f"gateway:{m.get('message', '?')}"] += 1
            return
        seq = m.get("seq")
        if type_ == "phase_changed":  # a question's bytes run from its opening to the end of its results
            phase = m["phase"]
            if phase not in ("voting", "results", "reveal"):  # a question runs until the next one
                if p.qbytes >= 0:
                    self.question_bytes.append(p.qbytes)
                p.qbytes = 0 if phase == "question" else -1
        if p.qbytes >= 0:
            p.qbytes += n
        if type_ == "snapshot":
            if p.expect >= 0:
                p.resyncs += 1
            p.expect = seq + 1
            p.last_seq = seq
            self._track_round(p, m["game"].get("round"))
            if p.snapshot is not None and not p.snapshot.done():
                p.snapshot.set_result(None)
            return
        if seq is not None:
            if p.expect < 0:
                p.out_of_order += 1  # an event before the snapshot
            elif seq > p.expect:
                p.lost += seq - p.expect
            elif seq < p.expect:
                p.out_of_order += 1
            if seq >= p.expect:
                p.expect = seq + 1
                p.last_seq = seq
            if self.recording and type_ in ("phase_changed", "progress"):
                rec = self.deliveries.get((p.game, seq))
                if rec is None:
                    rec = self.deliveries[(p.game, seq)] = [type_, []]
                rec[1].append(at)
            if type_ == "phase_changed":
                self._track_round(p, m.get("round"))
            return
        if type_ == "ack" or type_ == "error":
            pending = p.pending.pop(m.get("id", ""), None)
            if type_ == "error":
                p.errors += 1
                self.error_codes[m.get("code", "?")] += 1
            if pending is not None:
                kind, sent, done = pending
                if type_ == "ack":
                    self.latency[kind].append(at - sent)
                    self.acked[f"{kind}:{p.game}:{p.round}"] += 1
                    p.acks += 1
                    if kind == "answer":
                        p.option = m.get("option")
                done.set_result(None)
        elif type_ == "you":
            p.you_seq = p.last_seq
            if m.get("ballot") is not None:
                p.ballot = m["ballot"]

    @staticmethod
    def _track_round(p: Player, view: dict[str, Any] | None) -> None:
        if view is None:
            return
        if view["index"] != p.round:
            p.round, p.option, p.ballot = view["index"], None, []

    def lost_socket(self, p: Player) -> None:
        if p.snapshot is not None and not p.snapshot.done():
            p.snapshot.set_exception(ConnectionError("socket closed before the snapshot"))
        if not self.closing:
            self.closed_early += 1

    # -- commands -------------------------------------------------------------------------------

    async def join(self, cmd: dict[str, Any]) -> dict[str, Any]:
        url, socket = cmd["url"], cmd["socket"]
        todo = [Player(g, gid, code, i) for g, gid, code, i in cmd["players"]]
        gate = asyncio.Semaphore(cmd.get("concurrency", 32))
        started = time.time()

        async def one(p: Player) -> None:
            async with gate:
                t = time.time()
                try:
                    await self._join_one(url, socket, p)
                except (aiohttp.ClientError, ConnectionError, TimeoutError, OSError) as e:
                    self.join_failures += 1
                    self.error_codes[f"join:{type(e).__name__}"] += 1
                    return
                self.join_times.append(time.time() - t)
                self.players.append(p)

        await asyncio.gather(*(one(p) for p in todo))
        return {
            "ok": True,
            "joined": len(self.players),
            "failed": self.join_failures,
            "started": started,
            "finished": time.time(),
        }

    async def _join_one(self, url: str, socket: str, p: Player) -> None:
        address = address_of(p.index)
        session = self.sessions.get(address)
        if session is None:
            session = self.sessions[address] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0, local_addr=(address, 0)),
                timeout=aiohttp.ClientTimeout(total=None, connect=60),
            )
        # as web/static/join.js joins: with the browser's device id and this join's client id
        joining = {"code": p.code, "nickname": f"Player {p.index}"}
        joining |= {"device_id": os.urandom(16).hex(), "client_id": os.urandom(16).hex()}
        for attempt in range(5):
            async with session.post(f"{url}/api/join", json=joining) as r:
                if r.status == 200:
                    body = await r.json()
                    break
                if r.status in (429, 503) and attempt < 4:
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                raise ConnectionError(f"join answered {r.status}: {await r.text()}")
        p.token = body["player_token"]
        where = urlsplit(socket.format(game_id=body["game_id"]))
        path = where.path + (f"?{where.query}" if where.query else "")
        loop = asyncio.get_running_loop()
        _, sock = await loop.create_connection(
            lambda: Socket(self, p, where.netloc, path),
            where.hostname,
            where.port,
            local_addr=(address, 0),
        )
        await asyncio.wait_for(sock.ready, 60)
        p.ws = sock
        p.snapshot = loop.create_future()
        sock.send(json.dumps({"type": "hello", "view": "player", "token": p.token}))
        await asyncio.wait_for(p.snapshot, 60)

    async def act(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Every player answers (or votes) at its own moment, spread evenly over `spread` seconds."""
        kind, r = cmd["cmd"], cmd["round"]
        abstain = set(cmd["abstain"])
        t0, spread, total = cmd["t0"], cmd["spread"], max(1, cmd["total"])
        options = cmd.get("options", 0)  # a quiz question's options; none: a free-text answer
        plan = sorted(
            ((t0 + spread * p.index / total, p) for p in self.players if p.index not in abstain),
            key=lambda planned: planned[0],
        )
        waits: list[asyncio.Future[None]] = []
        skipped = 0
        loop = asyncio.get_running_loop()
        for at, p in plan:
            delay = at - time.time()
            if delay > 0.001:
                await asyncio.sleep(delay)
            message: dict[str, Any] = {"type": kind, "id": f"{kind}{r}-{p.index}", "round": r}
            if kind == "answer" and options:  # a quiz: an option, the players spread over them all
                message["choice"] = (p.index * 7 + r) % options
            elif kind == "answer":
                message["text"] = f"Answer {p.index} to prompt {r}: a bad name for a cat"
            else:
                choice = self._vote_for(p, r)
                if choice is None:
                    skipped += 1
                    continue
                message["option"] = choice
            done = loop.create_future()
            p.pending[message["id"]] = (kind, time.time(), done)
            assert p.ws is not None
            try:
                p.ws.send(json.dumps(message))
            except ConnectionError:
                p.pending.pop(message["id"], None)
                self.error_codes["send_failed"] += 1
                continue
            waits.append(done)
        late = 0
        if waits:
            _, unfinished = await asyncio.wait(waits, timeout=ANSWER_TIMEOUT)
            late = len(unfinished)
        return {"ok": True, "sent": len(waits), "unanswered": late, "skipped": skipped}

    @staticmethod
    def _vote_for(p: Player, r: int) -> str | None:
        """A spread of votes over one's ballot with a few favourites, never one's own answer."""
        options = [o["id"] for o in p.ballot if o["id"] != p.option]
        if not options:
            return None
        favourite = (p.index * 7919 + r) % 10
        pick = favourite if favourite < 6 else (p.index * 31 + r) % len(options)
        return options[pick % len(options)]

    async def wait(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Until every player has seen its game's `seq` (and, with `you`, the `you` that follows it)."""
        seqs = {int(g): s for g, s in cmd["seqs"].items()}
        you = cmd.get("you", False)
        deadline = time.time() + cmd.get("timeout", 60)

        def behind() -> list[Player]:
            return [
                p
                for p in self.players
                if p.last_seq < seqs.get(p.game, -1) or (you and p.you_seq < seqs.get(p.game, -1))
            ]

        missing = behind()
        while missing and time.time() < deadline:
            await asyncio.sleep(0.02)
            missing = behind()
        return {"ok": not missing, "behind": len(missing)}

    def report(self) -> dict[str, Any]:
        lost = sum(p.lost for p in self.players)
        for p in self.players:  # a question still open (no podium yet) counts as far as it went
            if p.qbytes >= 0:
                self.question_bytes.append(p.qbytes)
                p.qbytes = -1
        return {
            "ok": True,
            "players": len(self.players),
            "lost": lost,
            "out_of_order": sum(p.out_of_order for p in self.players),
            "resyncs": sum(p.resyncs for p in self.players),
            "errors": sum(p.errors for p in self.players),
            "error_codes": dict(self.error_codes),
            "join_failures": self.join_failures,
            "closed_early": self.closed_early,
            "join_times": self.join_times,
            "latency": dict(self.latency),
            "acked": dict(self.acked),
            "last_seqs": {str(g): s for g, s in self._last_seqs().items()},
            "deliveries": [[g, s, t, times] for (g, s), (t, times) in self.deliveries.items()],
            "round_messages": dict(self.round_messages),
            "round_bytes": dict(self.round_bytes),
            "question_bytes": {
                "sum": sum(self.question_bytes),
                "count": len(self.question_bytes),
                "max": max(self.question_bytes, default=0),
            },
            "largest_message": self.largest,
            "messages": sum(p.messages for p in self.players),
            "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
        }

    def _last_seqs(self) -> dict[int, int]:
        """The lowest last seq per game: every player of the game saw at least this far."""
        out: dict[int, int] = {}
        for p in self.players:
            out[p.game] = min(out.get(p.game, p.last_seq), p.last_seq)
        return out

    async def close(self) -> None:
        self.closing = True
        for p in self.players:
            if p.ws is not None:
                p.ws.close()
        for session in self.sessions.values():
            await session.close()


async def main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    client = Client()

    def reply(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        name = cmd["cmd"]
        if name == "join":
            reply(await client.join(cmd))
        elif name == "record":
            client.recording = cmd["on"]
            reply({"ok": True})
        elif name in ("answer", "vote"):
            reply(await client.act(cmd))
        elif name == "wait":
            reply(await client.wait(cmd))
        elif name == "report":
            report = client.report()
            await client.close()
            reply(report)
            break


if __name__ == "__main__":
    asyncio.run(main())
