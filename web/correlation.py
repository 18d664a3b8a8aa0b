"""Each HTTP request gets an id: in every log line written while it is handled, in the answer's
`X-Request-Id` header (a client or a proxy may send its own, which is kept when it looks like an id),
and, with tracing on, in a span of its own. Requests are counted by route and status class.

Requests are logged at DEBUG only (a room of phones joining is thousands of them), except a slow one
(over SLOW seconds: a WARNING, what an on-call engineer looks for). The path is never logged, only
the route's name: a query string could carry anything.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from aiohttp import web

from engagements.codes import is_id
from engagements.telemetry import context
from engagements.telemetry.metrics import HTTP_REQUESTS
from web.keys import TELEMETRY

log = logging.getLogger(__name__)

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
SLOW = 1.0  # seconds
LONG_LIVED = frozenset({"ws"})  # a WebSocket's request lasts as long as the socket


@web.middleware
async def correlate(request: web.Request, handler: Any) -> web.StreamResponse:
    given = request.headers.get("X-Request-Id", "")
    request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    route = request.match_info.route.name or "unmatched"
    game_id = request.match_info.get("game_id", "")
    token = context.bind(request_id=request_id, game_id=game_id if is_id(game_id) else None)
    telemetry = request.app[TELEMETRY]
    started = time.perf_counter()
    status = 500
    try:
        with telemetry.span(f"http {route}", **{"http.request.method": request.method, "http.route": route}):
            response = await handler(request)
        status = response.status
        if not response.prepared:
            response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as e:
        status = e.status
        e.headers["X-Request-Id"] = request_id
        raise
    finally:
        elapsed = time.perf_counter() - started
        telemetry.count(HTTP_REQUESTS, route=route, status=f"{status // 100}xx")
        if elapsed > SLOW and route not in LONG_LIVED:
            log.warning("slow request: %s %s answered %d in %.2f s", request.method, route, status, elapsed)
        else:
            log.debug("%s %s answered %d in %.1f ms", request.method, route, status, elapsed * 1000)
        context.reset(token)
