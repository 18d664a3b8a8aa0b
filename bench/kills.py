"""The kill -9 campaign: the appliance is killed during joins, answers, votes, phase changes and
results, again and again, and after every restart the campaign checks what the players were told.

    python -m bench.kills                 30 kills, six of each stage (about two minutes)
    python -m bench.kills --kills 100     more

Each kill plays a fresh game of PLAYERS players on a real `engagements serve` (its SQLite store, on
127.0.0.1, mDNS off), kills the server with SIGKILL at a random moment of one stage while commands are
in flight, starts it again on the same data directory, reconnects every view and checks:

- **lost**: every acknowledged command is still there: an acked join's seat opens with its token, an
  acked answer is the player's answer (same option id), an acked vote is the player's vote, an acked
  host command sent again gets the same ack;
- **ghost seats**: every join whose reply was lost is sent again with its `client_id` (as the join page
  does); afterwards the game holds exactly one seat per player that joined, none that nobody holds;
- **rollbacks**: no view was shown something the restart took back: each view's snapshot after the
  restart has a `seq` at least the last one it saw, and the phase it last saw is still the phase or
  an earlier one of the game's course (never undone).

It prints a table and exits 1 when any of the three is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.run import ServerProcess

PLAYERS = 12
STAGES = ("joins", "answers", "votes", "phase changes", "results")
ORDER = ["lobby", "question", "voting", "results", "finished"]  # a round's course, then the podium


@dataclass
class View:
    """One socket (host, screen or phone): what it was shown, and the acks of what it sent."""

    token: str
    role: str
    ws: aiohttp.ClientWebSocketResponse | None = None
    seq: int = 0
    phase: tuple[int, int] = (-1, 0)  # (round, position in ORDER) last shown
    you: dict[str, Any] = field(default_factory=dict)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # command id -> ack (or error)
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None
    snapshot: asyncio.Future[dict[str, Any]] | None = None
    sending: set[asyncio.Future[None]] = field(default_factory=set)
    changed: asyncio.Event = field(default_factory=asyncio.Event)  # a phase change was shown

    async def open(self, http: aiohttp.ClientSession, url: str, game_id: str) -> dict[str, Any]:
        self.ws = await http.ws_connect(f"{url}/ws/{game_id}")
        self.snapshot = asyncio.get_running_loop().create_future()
        self.reader = asyncio.create_task(self._read())
        await self.ws.send_json({"type": "hello", "view": self.role, "token": self.token})
        return await asyncio.wait_for(self.snapshot, 10)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            m = msg.json()
            if m["type"] == "snapshot":
                self.seq = m["seq"]
                self._shown(m["game"])
                self.you = m.get("you") or {}
                if self.snapshot is not None and not self.snapshot.done():
                    self.snapshot.set_result(m)
            elif m["type"] == "phase_changed":
                self.seq = max(self.seq, m["seq"])
                self._shown(m)
                self.changed.set()
            elif "seq" in m:
                self.seq = max(self.seq, m["seq"])
            elif m["type"] == "you":
                self.you.update(m)
            elif m.get("id") in self.waiting:  # an ack, an error, or a reply to a request (`players`)
                self.acks[m["id"]] = m
                future = self.waiting.pop(m["id"])
                if not future.done():
                    future.set_result(m)

    def _shown(self, game: dict[str, Any]) -> None:
        round_ = game["round"]["index"] if isinstance(game.get("round"), dict) else -1
        self.phase = max(
            self.phase, (round_ if game["phase"] != "finished" else 10**6, ORDER.index(game["phase"]))
        )

    def send(self, type_: str, cmd_id: str = "", **fields: Any) -> asyncio.Future[dict[str, Any]]:
        """Send a command; its future resolves with the ack or error (never, if the server dies first)."""
        assert self.ws is not None
        cmd_id = cmd_id or f"{type_}-{secrets.token_hex(4)}"
        future = asyncio.get_running_loop().create_future()
        self.waiting[cmd_id] = future
        sending = asyncio.ensure_future(self.ws.send_json({"type": type_, "id": cmd_id, **fields}))
        self.sending.add(sending)
        sending.add_done_callback(self.sending.discard)
        return future

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


@dataclass
class Seat:
    nickname: str
    client_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    view: View | None = None  # once its join was acked
    option: str | None = None  # the acked answer's option id
    vote: str | None = None  # the acked vote's option id


@dataclass
class Tally:
    kills: Counter[str] = field(default_factory=Counter)
    checked: Counter[str] = field(default_factory=Counter)  # acked commands checked after a restart
    lost: list[str] = field(default_factory=list)
    ghosts: list[str] = field(default_factory=list)
    rollbacks: list[str] = field(default_factory=list)


class Campaign:
    def __init__(self, server: ServerProcess, rng: random.Random) -> None:
        self.server = server
        self.rng = rng
        self.tally = Tally()

    # -- the server ---------------------------------------------------------------------------------

    async def kill_and_restart(self) -> None:
        self.server.kill()
        await self.server.start()

    async def kill_during(
        self, pending: list[asyncio.Future[Any]], stage: str, shown: asyncio.Event | None = None
    ) -> None:
        """Kill while commands are in flight: after a random moment of up to 30 ms, or as soon as `shown`
        is set (a view was shown the command's phase change: the moment a rollback would be seen)."""
        self.tally.kills[stage] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for((shown or asyncio.Event()).wait(), self.rng.uniform(0.0, 0.03))
        await self.kill_and_restart()
        for future in pending:
            if not future.done():
                future.cancel()

    # -- one game -------------------------------------------------------------------------------------

    async def game(self, http: aiohttp.ClientSession, stage: str) -> None:
        url = self.server.url
        body = {"title": f"Kill during {stage}", "prompts": ["First prompt", "Second prompt"]}
        body["settings"] = {"question_seconds": 600, "vote_seconds": 600}
        async with http.post(f"{url}/api/games", json=body, headers=self.server.admin()) as r:
            assert r.status == 201, await r.text()
            created = await r.json()
        game_id = created["game_id"]
        host = View(created["host_token"], "host")
        screen = View(created["host_token"], "screen")
        for view in (host, screen):
            await view.open(http, url, game_id)
        seats = [Seat(f"Player {i}") for i in range(PLAYERS)]

        async def join(seat: Seat) -> None:
            payload = {"code": created["code"], "nickname": seat.nickname, "client_id": seat.client_id}
            async with http.post(f"{url}/api/join", json=payload) as r:
                assert r.status == 200, await r.text()
                joined = await r.json()
            seat.view = View(joined["player_token"], "player")
            await seat.view.open(http, url, game_id)

        if stage == "joins":
            joins = [asyncio.ensure_future(join(seat)) for seat in seats]
            await self.kill_during(joins, stage)
            await asyncio.gather(*joins, return_exceptions=True)
            self.tally.checked["join"] += sum(seat.view is not None for seat in seats)
            await self.reopen(http, game_id, [host, screen], seats)
            for seat in seats:  # a lost reply: the join page sends the same join again
                if seat.view is None:
                    await join(seat)
            await self.count_seats(host, seats)
        else:
            await asyncio.gather(*(join(seat) for seat in seats))
        players = {seat.nickname: seat.view for seat in seats if seat.view is not None}

        started = await host.send("start")
        assert started["type"] == "ack", started
        await asyncio.sleep(0.05)
        answering = {
            seat.nickname: players[seat.nickname].send("answer", round=0, text=f"{seat.nickname} answers")
            for seat in seats
        }
        if stage == "answers":
            await self.kill_during(list(answering.values()), stage)
            await self.reopen(http, game_id, [host, screen], seats)
            for seat in seats:
                ack = self.acked(answering[seat.nickname])
                if ack is not None:
                    self.tally.checked["answer"] += 1
                    if seat.view is None or seat.view.you.get("answer_option") != ack["option"]:
                        self.tally.lost.append(f"{game_id}: {seat.nickname}'s answer {ack['option']}")
                    seat.option = ack["option"]
            for seat in seats:
                if seat.option is None and seat.view is not None:
                    reply = await seat.view.send("answer", round=0, text=f"{seat.nickname} again")
                    # saved but not acknowledged before the kill: the answer is there, under its first id
                    seat.option = (
                        reply["option"] if reply["type"] == "ack" else seat.view.you.get("answer_option")
                    )
        else:
            for seat in seats:
                reply = await answering[seat.nickname]
                seat.option = reply.get("option")
        await self.until_phase(host, "voting")
        await asyncio.sleep(0.1)  # every phone's `you` brings its ballot

        voting = {}
        for seat in seats[:-1]:  # one player does not vote, so the host's end_phase closes the vote
            assert seat.view is not None
            ballot = [o["id"] for o in seat.view.you.get("ballot") or [] if o["id"] != seat.option]
            if ballot:
                voting[seat.nickname] = (seat.view.send("vote", round=0, option=ballot[0]), ballot[0])
        if stage == "votes":
            await self.kill_during([future for future, _ in voting.values()], stage)
            await self.reopen(http, game_id, [host, screen], seats)
            for seat in seats:
                future, option = voting.get(seat.nickname, (None, None))
                if future is not None and self.acked(future) is not None:
                    self.tally.checked["vote"] += 1
                    if seat.view is None or seat.view.you.get("vote") != option:
                        self.tally.lost.append(f"{game_id}: {seat.nickname}'s vote for {option}")
        else:
            await asyncio.gather(*(future for future, _ in voting.values()))

        screen.changed.clear()
        ending = host.send("end_phase", "end-round-0", round=0, phase="voting")
        if stage == "phase changes":
            await self.kill_during([ending], stage, screen.changed)
            await self.reopen(http, game_id, [host, screen], seats)
            await self.check_host_ack(host, ending, "end_phase", "end-round-0", round=0, phase="voting")
        else:
            await ending
        await self.until_phase(host, "results")

        screen.changed.clear()
        nexting = host.send("next", "next-round-0", round=0)
        if stage == "results":
            await self.kill_during([nexting], stage, screen.changed)
            await self.reopen(http, game_id, [host, screen], seats)
            await self.check_host_ack(host, nexting, "next", "next-round-0", round=0)
        else:
            await nexting
        await self.until_phase(host, "question")
        for view in [host, screen, *players.values()]:
            await view.close()

    # -- checks ---------------------------------------------------------------------------------------

    async def reopen(
        self, http: aiohttp.ClientSession, game_id: str, boards: list[View], seats: list[Seat]
    ) -> None:
        """Reconnect every view after the restart and compare its snapshot with what it was shown."""
        for view in boards + [seat.view for seat in seats if seat.view is not None]:
            seen_seq, seen_phase = view.seq, view.phase
            view.seq, view.phase = 0, (-1, 0)
            if view.reader is not None:
                view.reader.cancel()
            view.waiting.clear()
            try:
                snapshot = await view.open(http, self.server.url, game_id)
            except TimeoutError:  # its token no longer opens the game: an acknowledged join was lost
                self.tally.lost.append(f"{game_id} {view.role}: its token opens nothing after the restart")
                continue
            if snapshot["seq"] < seen_seq or view.phase < seen_phase:
                self.tally.rollbacks.append(
                    f"{game_id} {view.role}: shown seq {seen_seq} {seen_phase}, "
                    f"then seq {snapshot['seq']} {view.phase} after the restart"
                )

    async def count_seats(self, host: View, seats: list[Seat]) -> None:
        reply = await host.send("players", query="", offset=0)
        names = [p["nickname"] for p in reply.get("items", [])]
        expected = sorted(seat.nickname for seat in seats)
        if sorted(names) != expected:
            extra = Counter(names) - Counter(expected)
            missing = Counter(expected) - Counter(names)
            self.tally.ghosts.append(f"seats {sorted(names)}: extra {dict(extra)}, missing {dict(missing)}")

    async def check_host_ack(
        self, host: View, future: asyncio.Future[dict[str, Any]], type_: str, cmd_id: str, **fields: Any
    ) -> None:
        """The console sends an unacknowledged command again with its id: whether or not the kill came
        before the ack, and whether or not it was saved, the answer must be an ack (the first one)."""
        first = self.acked(future)
        self.tally.checked[type_] += first is not None
        again = await asyncio.wait_for(host.send(type_, cmd_id, **fields), 10)
        if again["type"] != "ack" or (first is not None and again != first):
            self.tally.lost.append(f"host {type_}: acked {first}, sent again: {again}")

    @staticmethod
    def acked(future: asyncio.Future[dict[str, Any]]) -> dict[str, Any] | None:
        if future.done() and not future.cancelled() and future.result()["type"] == "ack":
            return future.result()
        return None

    @staticmethod
    async def until_phase(view: View, phase: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while ORDER[view.phase[1]] != phase and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if ORDER[view.phase[1]] != phase:
            raise RuntimeError(f"the host never saw {phase} (last {ORDER[view.phase[1]]})")


async def main(kills: int, seed: int) -> int:
    server = ServerProcess("engagements")
    campaign = Campaign(server, random.Random(seed))
    started = time.monotonic()
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            for i in range(kills):
                await campaign.game(http, STAGES[i % len(STAGES)])
    finally:
        server.stop()
    t = campaign.tally
    print(
        f"kill -9 campaign: {sum(t.kills.values())} kills in {time.monotonic() - started:.0f} s (seed {seed})"
    )
    print()
    print("| stage | kills |")
    print("|---|---|")
    for stage in STAGES:
        print(f"| {stage} | {t.kills[stage]} |")
    print()
    checked = ", ".join(f"{n} {kind}" for kind, n in sorted(t.checked.items()))
    print(f"acknowledged commands checked after a restart: {sum(t.checked.values())} ({checked})")
    print(f"lost acknowledged commands: {len(t.lost)}")
    print(f"ghost seats: {len(t.ghosts)}")
    print(f"visible rollbacks: {len(t.rollbacks)}")
    for line in t.lost + t.ghosts + t.rollbacks:
        print(f"  {line}")
    return 1 if t.lost or t.ghosts or t.rollbacks else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.kills, args.seed if args.seed is not None else random.randrange(10**6))))
