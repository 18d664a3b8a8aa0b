"""The browser side of the WebSocket API: `$connect`, a route per message, `$disconnect`.

As API Gateway does: the connection is accepted only when `$connect`'s integration answers 2xx; each message
is one invocation, run concurrently with the others (API Gateway guarantees no order between them); a failed
invocation sends the client API Gateway's `Internal server error` message; `$disconnect` runs after the
socket is gone and its answer goes nowhere.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from .connections import Connection
from .events import Peer, connect_event, disconnect_event, message_event, now_ms, status_of
from .frames import limit_frames
from .state import GATEWAY, GatewayState
from .template import Api

log = logging.getLogger(__name__)


async def handle(request: web.Request) -> web.StreamResponse:
    state = request.app[GATEWAY]
    api = state.websocket_api
    assert api is not None
    peer = Peer(
        connection_id=state.connections.new_id(),
        connected_at=now_ms(),
        source_ip=request.remote or "127.0.0.1",
        user_agent=request.headers.get("User-Agent", ""),
        domain_name=request.host,
        headers=request.headers,
        query=request.query,
    )
    if "$connect" in api.routes:
        outcome = await state.runtime.invoke(
            api.routes["$connect"], connect_event(peer, api.api_id, api.stage)
        )
        status = status_of(outcome.result) if outcome.ok else 500
        if not 200 <= status < 300:
            return web.Response(status=status if 400 <= status < 600 else 500)

    limits = state.connections.limits
    ws = web.WebSocketResponse(max_msg_size=limits.message_bytes, compress=False)
    await ws.prepare(request)
    limit_frames(ws, request, limits.frame_bytes)
    connection = Connection(peer, ws)
    state.connections.add(connection)
    client_close: tuple[int, str] | None = None
    try:
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                connection.touch()
                size = len(msg.data.encode()) if isinstance(msg.data, str) else len(msg.data)
                state.traffic.add(size, posted=False)
                state.spawn(_route(state, api, connection, msg.data))
            elif msg.type == WSMsgType.ERROR and isinstance(msg.data, WebSocketError):
                # aiohttp has sent the close frame (1009 for a frame or message too big)
                connection.closed_by_gateway = connection.closed_by_gateway or (msg.data.code, str(msg.data))
            elif msg.type == WSMsgType.CLOSE and connection.closed_by_gateway is None:
                client_close = (msg.data, f"Client-side close frame status code '{msg.data}'")
            elif msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.CLOSE, WSMsgType.ERROR):
                break
    finally:
        state.connections.remove(peer.connection_id)
    code, reason = connection.closed_by_gateway or client_close or (1006, "Connection lost")
    if "$disconnect" in api.routes:
        event = disconnect_event(peer, api.api_id, api.stage, code, reason)
        await state.runtime.invoke(api.routes["$disconnect"], event)
    return ws


def select_route(api: Api, data: str | bytes) -> str | None:
    """The route key for one message: the route selection expression's value when a route has it, else
    `$default` (None when there is no `$default` either)."""
    expression = api.route_selection or ""
    if expression.startswith("$request.body.") and isinstance(data, str):
        value: Any
        try:
            value = json.loads(data)
            for part in expression[len("$request.body.") :].split("."):
                value = value[part]
        except (ValueError, KeyError, TypeError, IndexError):
            value = None
        if isinstance(value, str) and value in api.routes and not value.startswith("$"):
            return value
    return "$default" if "$default" in api.routes else None


async def _route(state: GatewayState, api: Api, connection: Connection, data: str | bytes) -> None:
    route_key = select_route(api, data)
    peer = connection.peer
    if route_key is None:
        await _tell(connection, "Forbidden", "")
        return
    event = message_event(peer, api.api_id, api.stage, route_key, data)
    outcome = await state.runtime.invoke(api.routes[route_key], event)
    if not outcome.ok:
        await _tell(connection, "Internal server error", outcome.request_id)


async def _tell(connection: Connection, message: str, request_id: str) -> None:
    """API Gateway's own error message to the client, as it sends it for a failed integration."""
    if connection.ws.closed:
        return
    body = {"message": message, "connectionId": connection.peer.connection_id, "requestId": request_id}
    try:
        await connection.ws.send_str(json.dumps(body))
    except ConnectionError:
        log.debug("client gone before the error message")
