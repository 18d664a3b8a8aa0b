"""API Gateway's management API for WebSocket connections: `POST`, `GET` and `DELETE /@connections/{id}`.

Errors carry `x-amzn-ErrorType` as AWS's do, so boto3's `apigatewaymanagementapi` client raises its real
modelled exceptions: `GoneException` (410) for a connection that is not open, `LimitExceededException` (429)
when the throttle says so, `PayloadTooLargeException` (413) past 128 KB. The throttle is the knob tests turn
to make a fan-out meet throttling: refuse the next N calls, or hold calls to a rate like the account's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from .state import GATEWAY


def aws_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})


def _iso(epoch_ms: int) -> str:
    return (
        datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


async def post(request: web.Request) -> web.Response:
    state = request.app[GATEWAY]
    data = await request.read()
    if len(data) > state.connections.limits.message_bytes:
        return aws_error(413, "PayloadTooLargeException", "Message too long")
    if not state.throttle.allow():
        return aws_error(429, "LimitExceededException", "Rate exceeded")
    connection = state.connections.get(request.match_info["id"])
    if connection is None or connection.ws.closed:
        return aws_error(410, "GoneException", "Connection is gone")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    try:
        await (connection.ws.send_bytes(data) if text is None else connection.ws.send_str(text))
    except ConnectionError:  # the client went away between the lookup and the send
        return aws_error(410, "GoneException", "Connection is gone")
    connection.touch()
    state.traffic.add(len(data), posted=True)
    return web.Response(status=200)


async def get(request: web.Request) -> web.Response:
    connection = request.app[GATEWAY].connections.get(request.match_info["id"])
    if connection is None or connection.ws.closed:
        return aws_error(410, "GoneException", "Connection is gone")
    peer = connection.peer
    return web.json_response(
        {
            "connectedAt": _iso(peer.connected_at),
            "identity": {"sourceIp": peer.source_ip, "userAgent": peer.user_agent},
            "lastActiveAt": _iso(connection.last_active_ms),
        }
    )


async def delete(request: web.Request) -> web.Response:
    connection = request.app[GATEWAY].connections.get(request.match_info["id"])
    if connection is None or connection.ws.closed:
        return aws_error(410, "GoneException", "Connection is gone")
    await connection.close(1000, "Connection deleted")
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    """At the root and under any stage, since a management endpoint URL may carry the stage path."""
    for prefix in ("", "/{stage}"):
        app.router.add_post(prefix + "/@connections/{id}", post)
        app.router.add_get(prefix + "/@connections/{id}", get)
        app.router.add_delete(prefix + "/@connections/{id}", delete)
