"""The open WebSocket connections, by API Gateway connection id, and the limits that close them.

API Gateway closes an idle connection after 10 minutes and any connection after 2 hours; both are settings
here so tests can use fractions of a second. One sweeper task checks every connection, rather than one timer
per connection, so a thousand connections cost one task.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, web

from .events import Peer, now_ms

KB = 1024


@dataclass(frozen=True)
class Limits:
    """API Gateway's WebSocket limits; the defaults are AWS's."""

    frame_bytes: int = 32 * KB
    message_bytes: int = 128 * KB
    idle_seconds: float = 10 * 60
    max_age_seconds: float = 2 * 60 * 60


@dataclass
class Connection:
    """One browser socket and what API Gateway tracks about it."""

    peer: Peer
    ws: web.WebSocketResponse
    opened: float = field(default_factory=time.monotonic)
    last_active: float = field(default_factory=time.monotonic)
    last_active_ms: int = field(default_factory=now_ms)
    closed_by_gateway: tuple[int, str] | None = None  # code and reason, for the $disconnect event

    def touch(self) -> None:
        """Traffic either way keeps a connection from counting as idle."""
        self.last_active, self.last_active_ms = time.monotonic(), now_ms()

    async def close(self, code: int, reason: str) -> None:
        if self.closed_by_gateway is None:
            self.closed_by_gateway = (code, reason)
        await self.ws.close(code=code, message=reason.encode())


class Connections:
    """The registry the WebSocket handler fills and the management API reads."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: dict[str, Connection] = {}

    @staticmethod
    def new_id() -> str:
        """An id shaped like API Gateway's (16 characters of base64, often ending in '='), so code that
        forgets to URL-encode it fails here as it would on AWS."""
        return base64.b64encode(secrets.token_bytes(11)).decode()

    def add(self, connection: Connection) -> None:
        self.open[connection.peer.connection_id] = connection

    def remove(self, connection_id: str) -> None:
        self.open.pop(connection_id, None)

    def get(self, connection_id: str) -> Connection | None:
        return self.open.get(connection_id)

    async def sweep(self) -> None:
        """Closes connections past the idle or age limit, forever (cancelled at shutdown).

        Each close runs as a task of its own: it waits for the client's close frame, and one unresponsive
        client must not hold up the others.
        """
        period = min(max(min(self.limits.idle_seconds, self.limits.max_age_seconds) / 10, 0.01), 1.0)
        closing: set[asyncio.Task[None]] = set()
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for connection in list(self.open.values()):
                if connection.closed_by_gateway is not None or connection.ws.closed:
                    continue
                if now - connection.opened >= self.limits.max_age_seconds:
                    why = "Connection max duration reached"
                elif now - connection.last_active >= self.limits.idle_seconds:
                    why = "Going away (idle timeout)"
                else:
                    continue
                task = asyncio.create_task(connection.close(WSCloseCode.GOING_AWAY, why))
                closing.add(task)
                task.add_done_callback(closing.discard)
