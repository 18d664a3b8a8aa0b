"""The WebSocket endpoint: accepts a view's socket, reads it, and closes every socket at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSCloseCode, WSMsgType, web

from engagements.codes import is_id, new_id
from engagements.telemetry import context
from engagements.telemetry.metrics import CONNECTIONS_CLOSED, CONNECTIONS_OPENED
from web.connection import Conn, Outbox
from web.dispatch import Dispatcher, error
from web.keys import FAULTS
from web.settings import Limits

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 2.0  # seconds a phone gets to answer the closing handshake at shutdown
# Messages up to this size are read and refused with `too_large` (the limit is 4 KB), the socket kept
# open; a larger one is not even read into memory: the socket is closed with 1009 (protocol.md).
MAX_FRAME_IN = 64 * 1024


class Sockets:
    def __init__(self, dispatcher: Dispatcher, outbox: Outbox, limits: Limits) -> None:
        self.dispatcher = dispatcher
        self.outbox = outbox
        self.limits = limits
        self.open: set[web.WebSocketResponse] = set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(
            heartbeat=25, compress=False, max_msg_size=MAX_FRAME_IN, timeout=CLOSE_TIMEOUT
        )
        await ws.prepare(request)
        faults = request.app[FAULTS]
        conn = Conn(
            ws,
            request.match_info["game_id"],
            request.transport,
            self.outbox,
            limits=self.limits,
            client=request.remote or "?",
        )
        self.open.add(ws)
        telemetry = self.dispatcher.telemetry
        telemetry.count(CONNECTIONS_OPENED)
        # Every line this socket's messages cause carries its ids (its task's context; the game's id
        # only when it is one: the path is the client's).
        token = context.bind(
            connection_id=new_id("k", 10), game_id=conn.game_id if is_id(conn.game_id) else None
        )
        log.debug("socket opened")
        writer = asyncio.create_task(conn.drain())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        await self.dispatcher.receive(conn, msg.data)
                    except Exception as e:  # a bug: answered and logged, and the socket stays open
                        faults.unexpected("a WebSocket message", e)
                        error(conn, "internal", "That went wrong on the appliance; it has been logged.")
                elif msg.type == WSMsgType.BINARY:
                    error(conn, "bad_json", "Messages are JSON text.")
        finally:
            self.dispatcher.leave(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self.open.discard(ws)
            telemetry.count(CONNECTIONS_CLOSED)
            log.debug("socket closed")
            context.reset(token)
        return ws

    async def close(self) -> None:
        """Close every socket at once: a room of thousands stops in about CLOSE_TIMEOUT, not minutes."""
        await asyncio.gather(
            *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in list(self.open)),
            return_exceptions=True,
        )
