"""A bare aiohttp WebSocket server with the appliance's message pattern: no game logic, no storage.

It speaks just enough of docs/protocol.md for the benchmark's players and host (create a game, join,
hello, answer, vote, start, end_phase, next, the question deadline) and sends the same messages in
the same pattern and of about the same size: `player_joined` and `player_presence` to everyone, a
snapshot with the player list, `progress` at most PROGRESS_HZ times a second, `phase_changed` with
the options and results, a `you` to each player after scoring. Nothing is validated, scored
properly or written anywhere, and each broadcast is encoded once and sent to the sockets one after
the other with aiohttp's public API: the limit of this stack on this machine, not a game server.

    python -m bench.baseline --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

PROGRESS_HZ = 4.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(eq=False)
class Game:
    id: str
    code: str
    title: str
    prompts: list[str]
    question_seconds: int
    vote_seconds: int
    seq: int = 0
    phase: str = "lobby"
    round: int = -1
    deadline: int | None = None
    players: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {id, nickname, score, connected}
    tokens: dict[str, str] = field(default_factory=dict)  # token -> player id ("" for the host)
    sockets: dict[web.WebSocketResponse, str] = field(default_factory=dict)  # ws -> player id or ""
    answers: dict[str, tuple[str, str]] = field(default_factory=dict)  # player -> (option, text)
    votes: dict[str, str] = field(default_factory=dict)  # player -> option
    timer: asyncio.TimerHandle | None = None
    progress_due: asyncio.TimerHandle | None = None
    progress_sent: float = 0.0
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)  # one broadcast at a time keeps seq order

    def round_view(self) -> dict[str, Any] | None:
        if self.round < 0 or self.phase in ("lobby", "finished"):
            return None
        options = None
        if self.phase in ("voting", "results"):
            options = sorted(({"id": o, "text": t} for o, t in self.answers.values()), key=lambda o: o["id"])
        results = None
        if self.phase == "results":
            tally: dict[str, list[str]] = {o: [] for o, _ in self.answers.values()}
            for voter, option in self.votes.items():
                tally.setdefault(option, []).append(self.players[voter]["nickname"])
            results = [
                {
                    "option": o,
                    "text": t,
                    "author": {"id": p, "nickname": self.players[p]["nickname"]},
                    "votes": len(tally[o]),
                    "voters": sorted(tally[o])[:12],
                    "points": 100 * len(tally[o]),
                }
                for p, (o, t) in self.answers.items()
            ]
            results.sort(key=lambda r: (-r["votes"], r["option"]))
        return {
            "index": self.round,
            "phase": self.phase,
            "prompt": self.prompts[self.round],
            "deadline": self.deadline,
            "answered": len(self.answers),
            "voted": len(self.votes),
            "eligible": len(self.players),
            "options": options,
            "results": results,
        }

    def leaderboard(self) -> list[dict[str, Any]]:
        top = sorted(self.players.values(), key=lambda p: -p["score"])[:10]
        return [{"id": p["id"], "nickname": p["nickname"], "score": p["score"], "rank": 1} for p in top]


class Server:
    def __init__(self) -> None:
        self.games: dict[str, Game] = {}
        self.codes: dict[str, str] = {}
        self.ids = itertools.count()

    # -- HTTP -----------------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        n = next(self.ids)
        game = Game(
            f"g{n}",
            f"C{n:06d}",
            body.get("title", ""),
            list(body["prompts"]),
            body.get("question_seconds", 60),
            body.get("vote_seconds", 45),
        )
        host_token = secrets.token_urlsafe(16)
        game.tokens[host_token] = ""
        self.games[game.id], self.codes[game.code] = game, game.id
        return web.json_response(
            {"game_id": game.id, "code": game.code, "host_token": host_token}, status=201
        )

    async def join(self, request: web.Request) -> web.Response:
        body = await request.json()
        game = self.games[self.codes[body["code"]]]
        player = f"p{next(self.ids)}"
        token = secrets.token_urlsafe(16)
        game.tokens[token] = player
        game.players[player] = {"id": player, "nickname": body["nickname"], "score": 0, "connected": False}
        await self.broadcast(game, {"type": "player_joined", "player": dict(game.players[player])})
        return web.json_response({"game_id": game.id, "player_id": player, "player_token": token})

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    # -- the socket -----------------------------------------------------------------------------

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=25, compress=False, max_msg_size=64 * 1024)
        await ws.prepare(request)
        game = self.games[request.match_info["game_id"]]
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self.receive(game, ws, json.loads(msg.data))
        finally:
            player = game.sockets.pop(ws, None)
            if player:
                game.players[player]["connected"] = False
                await self.broadcast(game, {"type": "player_presence", "player": player, "connected": False})
        return ws

    async def receive(self, game: Game, ws: web.WebSocketResponse, msg: dict[str, Any]) -> None:
        type_, cmd = msg.get("type"), msg.get("id", "")
        if type_ == "ping":
            return await ws.send_frame(
                dumps({"type": "pong", "t": msg.get("t"), "now": now_ms()}), WSMsgType.TEXT
            )
        if type_ == "hello":
            player = game.tokens[msg["token"]]
            snapshot = {
                "type": "snapshot",
                "seq": game.seq,
                "now": now_ms(),
                "game": {
                    "id": game.id,
                    "code": game.code,
                    "title": game.title,
                    "status": "playing" if game.round >= 0 else "lobby",
                    "phase": game.phase,
                    "players": list(game.players.values()),
                    "round": game.round_view(),
                    "leaderboard": game.leaderboard(),
                },
                "you": {"view": msg["view"], "player": game.players.get(player), "answer_option": None},
            }
            game.sockets[ws] = player
            await ws.send_frame(dumps(snapshot), WSMsgType.TEXT)
            if player:
                game.players[player]["connected"] = True
                await self.broadcast(game, {"type": "player_presence", "player": player, "connected": True})
            return
        player = game.sockets[ws]
        ack: dict[str, Any] = {"type": "ack", "id": cmd}
        if type_ == "answer":
            option = "o" + secrets.token_hex(8)
            game.answers[player] = (option, msg["text"])
            ack["option"] = option
            self.progress(game)
        elif type_ == "vote":
            game.votes[player] = msg["option"]
            self.progress(game)
        elif type_ in ("start", "next"):
            if game.round + 1 < len(game.prompts):
                game.round += 1
                game.answers, game.votes = {}, {}
                await self.phase(game, "question", game.question_seconds)
            else:
                game.phase, game.round, game.deadline = "finished", -1, None
                await self.phase(game, "finished", None)
        elif type_ == "end_phase":
            await self.close_phase(game)
        await ws.send_frame(dumps(ack), WSMsgType.TEXT)

    # -- game flow ------------------------------------------------------------------------------

    async def phase(self, game: Game, phase: str, seconds: int | None) -> None:
        if game.timer is not None:
            game.timer.cancel()
            game.timer = None
        game.phase = phase
        game.deadline = now_ms() + seconds * 1000 if seconds else None
        if seconds:
            loop = asyncio.get_running_loop()
            game.timer = loop.call_later(seconds, lambda: asyncio.ensure_future(self.close_phase(game)))
        status = "finished" if phase == "finished" else "playing"
        message = {
            "type": "phase_changed",
            "status": status,
            "phase": phase,
            "round": game.round_view(),
            "leaderboard": game.leaderboard(),
        }
        await self.broadcast(game, message)

    async def close_phase(self, game: Game) -> None:
        if game.phase == "question":
            await self.phase(game, "voting", game.vote_seconds)
        elif game.phase == "voting":
            for option in game.votes.values():  # "scoring": 100 a vote, enough for the message sizes
                for author, (o, _) in game.answers.items():
                    if o == option:
                        game.players[author]["score"] += 100
                        break
            await self.phase(game, "results", None)
            for ws, player in list(game.sockets.items()):
                if player:
                    p = game.players[player]
                    you = {"id": player, "nickname": p["nickname"], "score": p["score"], "rank": 1}
                    await ws.send_frame(dumps({"type": "you", "player": you}), WSMsgType.TEXT)

    def progress(self, game: Game) -> None:
        """At most PROGRESS_HZ a second, the last one always sent: the appliance's pattern."""
        if game.progress_due is not None:
            return
        wait = game.progress_sent + 1 / PROGRESS_HZ - time.monotonic()
        game.progress_due = asyncio.get_running_loop().call_later(
            max(0.0, wait), lambda: asyncio.ensure_future(self.send_progress(game))
        )

    async def send_progress(self, game: Game) -> None:
        game.progress_due = None
        game.progress_sent = time.monotonic()
        message = {
            "type": "progress",
            "round": game.round,
            "answered": len(game.answers),
            "voted": len(game.votes),
            "eligible": len(game.players),
        }
        await self.broadcast(game, message)

    async def broadcast(self, game: Game, message: dict[str, Any]) -> None:
        async with game.sending:
            game.seq += 1
            data = dumps({**message, "seq": game.seq})
            for ws in list(game.sockets):
                if not ws.closed:
                    await ws.send_frame(data, WSMsgType.TEXT)


def app() -> web.Application:
    server = Server()
    application = web.Application()
    application.router.add_post("/api/games", server.create)
    application.router.add_post("/api/join", server.join)
    application.router.add_get("/healthz", server.healthz)
    application.router.add_get("/ws/{game_id}", server.socket)
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    web.run_app(app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
