"""One timer per game on its current deadline: the server's clock ends every timed phase."""

from __future__ import annotations

import asyncio
import contextvars

from engagements.model import Game, Rejected
from engagements.service import Games
from engagements.telemetry import context
from web.rooms import Rooms
from web.turns import Turns


class Deadlines:
    def __init__(self, games: Games, rooms: Rooms, turns: Turns) -> None:
        self.games = games
        self.rooms = rooms
        self.turns = turns
        self.timers: dict[str, tuple[int, asyncio.TimerHandle]] = {}
        self._waiting: set[asyncio.Task[None]] = set()  # ticks in line behind the commands read before them

    def schedule(self, game: Game) -> None:
        """Keep the game's timer on its deadline (a no-op when it already is)."""
        current = self.timers.get(game.id)
        if current is not None and current[0] == game.deadline:
            return
        if current is not None:
            current[1].cancel()
            del self.timers[game.id]
        if game.deadline is not None:
            delay = max(0.0, (game.deadline - self.games.clock()) / 1000)
            # In a context of its own: not that of the command that happened to schedule it (its log
            # lines would carry that command's ids).
            loop = asyncio.get_running_loop()
            handle = loop.call_later(delay, self._due, game.id, context=contextvars.Context())
            self.timers[game.id] = (game.deadline, handle)

    def _due(self, game_id: str) -> None:
        """The deadline passed. Commands read before it and still in line (a burst: web/turns.py) are
        handled first, so an answer that arrived in time is not refused because the phase closed."""
        if not self.turns.busy():
            return self._fire(game_id)
        task = asyncio.ensure_future(self._in_turn(game_id))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _in_turn(self, game_id: str) -> None:
        await self.turns.wait()
        self._fire(game_id)

    def _fire(self, game_id: str) -> None:
        context.bind(game_id=game_id)  # the timer's own context (schedule)
        self.timers.pop(game_id, None)
        game = self.games.loaded(game_id)
        if game is None:
            return
        try:
            outcome = self.games.tick(game)
        except Rejected:
            return
        self.rooms.deliver(game, outcome)
        self.schedule(game)

    async def resume(self) -> None:
        """After a restart: load live games so their deadlines fire even before anyone reconnects."""
        for game_id in await self.games.live_games():
            game = await self.games.get(game_id)
            if game is not None:
                self.schedule(game)

    def close(self) -> None:
        for _, handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        for task in self._waiting:
            task.cancel()
