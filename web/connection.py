"""One view's socket: what is sent to it, written once per loop turn, queued when the phone lags.

What one turn of the event loop sends to a socket is written to its transport in one go at the end
of the turn (the `Outbox`): one system call per socket however many messages that turn made. A socket
whose transport holds more than HIGH_WATER bytes gets its frames on its own bounded queue instead,
drained by its own task (`drain`) once the phone reads again, so a phone that stops reading never
stalls a broadcast to the others; one that falls QUEUE_LIMIT frames or `owed_bytes` behind gets a
fresh snapshot instead of its backlog, so what a socket that does not read costs is bounded. Only
the handler task reads a socket.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from engagements.model import Actor
from web.gate import arrival
from web.settings import Limits

QUEUE_LIMIT = 256  # frames a socket may have waiting; past that it gets a snapshot instead
HIGH_WATER = 256 * 1024  # bytes a socket's transport may hold before its frames wait in its queue
LOW_WATER = 64 * 1024  # the queue drains once the transport holds less than this
DRAIN_POLL = 0.05  # seconds between looks at a backed-up socket's transport


class Outbox:
    """The sockets sent something during this turn of the event loop, written at its end."""

    def __init__(self) -> None:
        self.dirty: list[Conn] = []

    def add(self, conn: Conn) -> None:
        if not self.dirty:
            asyncio.get_running_loop().call_soon(self.flush)
        self.dirty.append(conn)

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, []
        for conn in dirty:
            conn.flush()


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    game_id: str
    transport: asyncio.Transport | None
    outbox: Outbox
    limits: Limits = field(default_factory=Limits)
    client: str = ""  # the address it came from, for the refusals' log
    actor: Actor | None = None
    view: str = ""
    resync: Callable[[], Awaitable[bytes | None]] | None = None  # a fresh snapshot frame, once authenticated
    pending: list[bytes] = field(default_factory=list)  # sent this turn, written at its end
    pending_bytes: int = 0
    queue: deque[bytes] = field(default_factory=deque)  # frames waiting for a backed-up socket
    queued: int = 0  # bytes in `queue`
    behind: bool = False  # the queue overflowed: the writer sends a snapshot instead of the backlog
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    allowance: float = -1.0  # message tokens; starts full (below)
    syncs: float = -1.0  # `sync` tokens; starts full
    checked: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.allowance = float(self.limits.message_burst)
        self.syncs = float(self.limits.sync_burst)

    def send(self, data: bytes) -> None:
        if self.behind:
            return
        if not self.pending:
            self.outbox.add(self)
        self.pending.append(data)
        self.pending_bytes += len(data)

    def flush(self) -> None:
        """Straight to the socket while it keeps up; else onto its queue, which its writer drains."""
        frames, self.pending, self.pending_bytes = self.pending, [], 0
        transport = self.transport
        if not frames or self.behind or transport is None or transport.is_closing() or self.ws.closed:
            return
        if not self.queue and transport.get_write_buffer_size() <= HIGH_WATER:
            transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
            return
        for data in frames:
            if len(self.queue) >= QUEUE_LIMIT or self.queued + len(data) > self.limits.owed_bytes:
                self.fall_behind()
                break
            self.queue.append(data)
            self.queued += len(data)
        self.wake.set()

    def backed_up(self) -> bool:
        """The phone is not reading what it was sent (or this turn sent it plenty already): anything
        more would only wait in memory."""
        if self.behind or self.queue:
            return True
        buffered = self.transport.get_write_buffer_size() if self.transport is not None else 0
        return buffered + self.pending_bytes > HIGH_WATER

    def fall_behind(self) -> None:
        """Drop the backlog: once the phone reads again, one fresh snapshot replaces all of it."""
        self.behind = True
        self.queue.clear()
        self.queued = 0
        self.wake.set()

    def flushed(self) -> bool:
        return (
            not self.pending
            and not self.queue
            and not self.behind
            and (self.transport is None or self.transport.get_write_buffer_size() == 0)
        )

    def arrived_ms_ago(self) -> int:
        """How long ago the message being read now reached the appliance, at least (0 when unknown)."""
        received = arrival(self.transport)
        return 0 if received is None else max(0, round((time.monotonic() - received) * 1000))

    def allow(self) -> bool:
        """A token bucket: bursts are fine, a flood is not."""
        now = time.monotonic()
        elapsed, self.checked = now - self.checked, now
        limits = self.limits
        self.allowance = min(limits.message_burst, self.allowance + elapsed * limits.messages_per_second)
        self.syncs = min(limits.sync_burst, self.syncs + elapsed * limits.syncs_per_minute / 60)
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    def allow_sync(self) -> bool:
        """`sync` builds a whole snapshot: its own, smaller bucket (refilled by `allow`)."""
        if self.syncs < 1:
            return False
        self.syncs -= 1
        return True

    async def drain(self) -> None:
        """Drain the queue of a socket that fell behind, once its phone reads again (its own task)."""
        transport = self.transport
        if transport is None:
            return
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue or self.behind:
                while transport.get_write_buffer_size() > LOW_WATER and not transport.is_closing():
                    await asyncio.sleep(DRAIN_POLL)
                if transport.is_closing() or self.ws.closed:
                    return
                if self.behind:  # the snapshot has everything the dropped frames had
                    snapshot = await self.resync() if self.resync is not None else None
                    if snapshot is None or transport.is_closing():
                        return
                    self.behind = False
                    transport.write(snapshot)
                else:
                    data = self.queue.popleft()
                    self.queued -= len(data)
                    transport.write(data)
