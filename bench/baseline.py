"""A bare aiohttp WebSocket server with the appliance's message pattern: no game logic, no storage.

It speaks just enough of docs/protocol.md for the benchmark's players and host (create a game, join,
hello, answer, vote, start, end_phase, next, results pages, the question deadline) and sends the same
messages in the same pattern and of about the same size, rooms of any size: each `phase_changed` in
two renditions (the board views get a showcase of at most 24 options and the top 8 results, a phone
no options and the top 3), a private `you` to each player after every phase change (its ballot of at
most 8 answers, never its own, in the vote; its answer's result and its standing in the results),
`room` and `progress` updates without seq, coalesced per audience (four a second for the host, one
every two seconds for phones), no message when a player joins or leaves, and a snapshot with the
room's counts rather than the players. Nothing is validated, scored properly or written anywhere,
and each rendition is encoded once and sent to the sockets one after the other with aiohttp's public
API: the limit of this stack on this machine, not a game server.

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

BOARD, PHONE = "board", "phone"
INTERVAL = {BOARD: 0.25, PHONE: 2.0}  # seconds between two count updates to one audience
BALLOT = 8
SHOWCASE = 24
BOARD_RESULTS, PHONE_RESULTS = 8, 3
RECENT = 24
RESULTS_PAGE = 20


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
    ballots: dict[str, list[str]] = field(default_factory=dict)  # player -> options on its ballot
    rows: list[dict[str, Any]] = field(default_factory=list)  # the round's results, best first
    timer: asyncio.TimerHandle | None = None
    due: dict[str, asyncio.TimerHandle | None] = field(default_factory=lambda: {BOARD: None, PHONE: None})
    sent_at: dict[str, float] = field(default_factory=lambda: {BOARD: 0.0, PHONE: 0.0})
    shown: dict[tuple[str, str], Any] = field(default_factory=dict)  # (audience, type) -> last sent
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)  # one fan-out at a time keeps seq order

    def texts(self) -> dict[str, str]:
        return dict(sorted(self.answers.values()))

    def counts(self) -> dict[str, Any]:
        return {
            "answered": len(self.answers),
            "voted": len(self.votes),
            "eligible": len(self.players),
        }

    def deal(self) -> None:
        """Each player's ballot: 8 consecutive answers from a point of its own, never its own."""
        options = sorted(o for o, _ in self.answers.values())
        n = len(options)
        self.ballots = {}
        for i, (pid, _) in enumerate(self.players.items()):
            own = self.answers.get(pid, ("", ""))[0]
            start = (i * BALLOT) % n if n else 0
            pick = [o for o in options[start:] + options[:start] if o != own][:BALLOT]
            self.ballots[pid] = pick

    def score(self) -> None:
        tally: dict[str, list[str]] = {o: [] for o, _ in self.answers.values()}
        for voter, option in self.votes.items():
            tally.setdefault(option, []).append(self.players[voter]["nickname"])
        shown: dict[str, int] = {}
        for ballot in self.ballots.values():
            for o in ballot:
                shown[o] = shown.get(o, 0) + 1
        rows = []
        for p, (o, t) in self.answers.items():
            points = 100 * len(tally[o])
            self.players[p]["score"] += points
            rows.append(
                {
                    "option": o,
                    "text": t,
                    "author": {"id": p, "nickname": self.players[p]["nickname"]},
                    "votes": len(tally[o]),
                    "shown": shown.get(o, 0),
                    "points": points,
                    "rank": 1,
                    "voters": sorted(tally[o])[:12],
                }
            )
        rows.sort(key=lambda r: (-r["votes"], r["option"]))
        for i, row in enumerate(rows):
            row["rank"] = i + 1
        self.rows = rows

    def round_view(self, audience: str) -> dict[str, Any] | None:
        if self.round < 0 or self.phase in ("lobby", "finished"):
            return None
        view: dict[str, Any] = {
            "index": self.round,
            "phase": self.phase,
            "prompt": self.prompts[self.round],
            "deadline": self.deadline,
            **self.counts(),
            "answers": None,
            "ballots": False,
            "options": None,
            "results": None,
            "more": None,
        }
        if self.phase in ("voting", "results"):
            view["answers"] = len(self.answers)
            view["ballots"] = len(self.answers) > BALLOT
            if audience == BOARD:
                view["options"] = [{"id": o, "text": t} for o, t in list(self.texts().items())[:SHOWCASE]]
        if self.phase == "results":
            if audience == BOARD:
                view["results"] = self.rows[:BOARD_RESULTS]
            else:
                view["results"] = [phone_row(r) for r in self.rows[:PHONE_RESULTS]]
            view["more"] = max(0, len(self.rows) - len(view["results"]))
        return view

    def room(self, audience: str) -> dict[str, Any]:
        view: dict[str, Any] = {
            "players": len(self.players),
            "connected": sum(1 for p in self.players.values() if p["connected"]),
        }
        if audience == BOARD:
            view["recent"] = [p["nickname"] for p in list(self.players.values())[-RECENT:][::-1]]
        return view

    def standings(self) -> dict[str, int]:
        ordered = sorted(self.players.values(), key=lambda p: -p["score"])
        return {p["id"]: i + 1 for i, p in enumerate(ordered)}

    def leaderboard(self) -> list[dict[str, Any]]:
        top = sorted(self.players.values(), key=lambda p: -p["score"])[:10]
        return [{"id": p["id"], "nickname": p["nickname"], "score": p["score"], "rank": 1} for p in top]

    def you(self, player: str, ranks: dict[str, int] | None) -> dict[str, Any]:
        answer = self.answers.get(player)
        you: dict[str, Any] = {
            "type": "you",
            "answer_option": answer[0] if answer else None,
            "vote": self.votes.get(player),
            "ballot": None,
            "result": None,
        }
        if self.phase == "voting":
            texts = self.texts()
            you["ballot"] = [{"id": o, "text": texts[o]} for o in self.ballots.get(player, [])]
        elif self.phase == "results" and answer is not None:
            row = next((r for r in self.rows if r["option"] == answer[0]), None)
            you["result"] = phone_row(row) if row else None
        if ranks is not None:
            p = self.players[player]
            you["player"] = {
                "id": player,
                "nickname": p["nickname"],
                "score": p["score"],
                "rank": ranks[player],
            }
        return you


def phone_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "voters"}


def audience_of(player: str) -> str:
    return PHONE if player else BOARD


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
        self.touch(game)  # no message to anyone: the room's counts follow, coalesced
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
                self.touch(game)
        return ws

    async def receive(self, game: Game, ws: web.WebSocketResponse, msg: dict[str, Any]) -> None:
        type_, cmd = msg.get("type"), msg.get("id", "")
        if type_ == "ping":
            return await ws.send_frame(
                dumps({"type": "pong", "t": msg.get("t"), "now": now_ms()}), WSMsgType.TEXT
            )
        if type_ == "hello":
            player = game.tokens[msg["token"]]
            audience = audience_of(player)
            you: dict[str, Any] = {"view": msg["view"], "player": None, "answer_option": None}
            if player:
                you = {**game.you(player, game.standings()), "view": msg["view"]}
                del you["type"]
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
                    "room": game.room(audience),
                    "round": game.round_view(audience),
                    "leaderboard": game.leaderboard(),
                },
                "you": you,
            }
            async with game.sending:
                game.sockets[ws] = player
                await ws.send_frame(dumps(snapshot), WSMsgType.TEXT)
            if player:
                game.players[player]["connected"] = True
                self.touch(game)
            return
        if type_ == "results":
            offset = msg.get("offset", 0)
            page = {
                "type": "results",
                "round": msg.get("round"),
                "offset": offset,
                "total": len(game.rows),
                "items": game.rows[offset : offset + RESULTS_PAGE],
            }
            return await ws.send_frame(dumps(page), WSMsgType.TEXT)
        player = game.sockets[ws]
        ack: dict[str, Any] = {"type": "ack", "id": cmd}
        if type_ == "answer":
            option = "o" + secrets.token_hex(8)
            game.answers[player] = (option, msg["text"])
            ack["option"] = option
            self.touch(game)
        elif type_ == "vote":
            game.votes[player] = msg["option"]
            self.touch(game)
        elif type_ in ("start", "next"):
            if game.round + 1 < len(game.prompts):
                game.round += 1
                game.answers, game.votes, game.ballots, game.rows = {}, {}, {}, []
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
        board = game.leaderboard()
        ranks = game.standings() if phase == "results" else None
        async with game.sending:
            game.seq += 1
            data = {
                audience: dumps(
                    {
                        "type": "phase_changed",
                        "status": status,
                        "phase": phase,
                        "round": game.round_view(audience),
                        "leaderboard": board,
                        "seq": game.seq,
                    }
                )
                for audience in (BOARD, PHONE)
            }
            for audience in (BOARD, PHONE):
                if phase != "finished":
                    game.shown[(audience, "progress")] = {"round": game.round, **game.counts()}
            for ws, player in list(game.sockets.items()):
                if not ws.closed:
                    await ws.send_frame(data[audience_of(player)], WSMsgType.TEXT)
            for ws, player in list(game.sockets.items()):  # then each player's own `you`
                if player and not ws.closed:
                    await ws.send_frame(dumps(game.you(player, ranks)), WSMsgType.TEXT)

    async def close_phase(self, game: Game) -> None:
        if game.phase == "question":
            game.deal()
            await self.phase(game, "voting", game.vote_seconds)
        elif game.phase == "voting":
            game.score()
            await self.phase(game, "results", None)

    # -- coalesced updates ----------------------------------------------------------------------

    def touch(self, game: Game) -> None:
        """The counts changed: each audience hears of it at most once per INTERVAL, the last always."""
        loop = asyncio.get_running_loop()
        for audience in (BOARD, PHONE):
            if game.due[audience] is not None:
                continue
            wait = game.sent_at[audience] + INTERVAL[audience] - time.monotonic()
            game.due[audience] = loop.call_later(
                max(0.0, wait), lambda a=audience: asyncio.ensure_future(self.send_updates(game, a))
            )

    async def send_updates(self, game: Game, audience: str) -> None:
        game.due[audience] = None
        game.sent_at[audience] = time.monotonic()
        updates = [{"type": "room", **game.room(audience)}]
        if game.round >= 0 and game.phase != "finished":
            updates.append({"type": "progress", "round": game.round, **game.counts()})
        async with game.sending:
            for message in updates:
                body = {k: v for k, v in message.items() if k != "type"}
                if game.shown.get((audience, message["type"])) == body:
                    continue
                game.shown[(audience, message["type"])] = body
                data = dumps(message)
                for ws, player in list(game.sockets.items()):
                    if audience_of(player) == audience and not ws.closed:
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
