"""Turns of the event loop for commands: read promptly, handle in the order read, a bounded time a turn.

The event loop reads sockets only between its turns, and runs in one turn every handler that the
previous turn's reads woke. In a burst (10,000 phones answering within a second) one turn read
thousands of answers and the next ran all their handlers: a second or more in which nothing was read,
so answers sent before the deadline waited unread in the kernel, and were judged by a read after it.

So commands take at most BUDGET of a turn. Past it, a command waits in line, and the line is let
through a few commands a turn, first read first, so the loop reads the sockets between them. A
command is judged by when it was read (`web/gate.py`, `arrival`), not by when its turn came; a
deadline's tick waits in the same line (`web/deadlines.py`), so every answer read before the deadline
is handled before the phase closes. While the room keeps up, nobody waits and this costs nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

BUDGET = 0.02  # seconds of commands per turn of the event loop


class Turns:
    def __init__(self, budget: float = BUDGET) -> None:
        self.budget = budget
        self.line: deque[asyncio.Future[None]] = deque()
        self.turn_began: float | None = None  # when this turn's first command ran
        self.turn_commands = 0  # commands run at once this turn
        self.cost = max(budget, 1e-6)  # one command, in seconds: measured as the line forms, then per group
        self.group = 0  # commands let through and not yet measured
        self.group_began: float | None = None
        self.releasing = False  # `_next_group` is due

    def busy(self) -> bool:
        """Commands are waiting, or a group let through has not run yet."""
        return bool(self.line) or self.group > 0

    async def wait(self) -> None:
        """Until this command's turn: at once while nobody waits and this turn has time left."""
        if not self.busy() and self._time_left():
            return
        waiting = asyncio.get_running_loop().create_future()
        self.line.append(waiting)
        if not self.releasing:
            self.releasing = True
            asyncio.get_running_loop().call_soon(self._next_group)
        await waiting

    def _time_left(self) -> bool:
        now = time.perf_counter()
        if self.turn_began is None:
            self.turn_began, self.turn_commands = now, 1
            asyncio.get_running_loop().call_soon(self._turn_over)  # runs early in the next turn
            return True
        spent = now - self.turn_began
        if spent < self.budget:
            self.turn_commands += 1
            return True
        self.cost = max(1e-6, spent / self.turn_commands)  # what the line's first group is sized by
        return False

    def _turn_over(self) -> None:
        self.turn_began = None

    def _group_begins(self) -> None:
        self.group_began = time.perf_counter()

    def _next_group(self) -> None:
        """Lets through as many as fit a turn's budget. They run in the next turn, between a mark
        (`_group_begins`) and this, called again, which so learns what they cost."""
        if self.group and self.group_began is not None:
            self.cost = max(1e-6, (time.perf_counter() - self.group_began) / self.group)
        self.group, self.group_began = 0, None
        while self.line and self.line[0].done():  # its socket closed while it waited
            self.line.popleft()
        if not self.line:
            self.releasing = False
            return
        loop = asyncio.get_running_loop()
        loop.call_soon(self._group_begins)
        for _ in range(min(len(self.line), max(1, int(self.budget / self.cost)))):
            waiting = self.line.popleft()
            if not waiting.done():
                waiting.set_result(None)
                self.group += 1
        loop.call_soon(self._next_group)
