"""The WebSocket API's routes: `$connect`, `$default` and `$disconnect` (Lambda proxy events)."""

from __future__ import annotations

import base64
from typing import Any

from cloud.invocations import observed
from cloud.runtime import runtime


@observed
def connect(event: dict[str, Any], context: Any) -> dict[str, int]:
    """`wss://…/<stage>?game=<id>` from the pages' own site: the connection is recorded; the token comes
    later, in `hello`."""
    rt = runtime()
    ctx = event["requestContext"]
    game_id = (event.get("queryStringParameters") or {}).get("game")
    origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    status = rt.run(rt.sockets.connect(ctx["connectionId"], game_id, ctx["requestTimeEpoch"], origin))
    return {"statusCode": status}


@observed
def default(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Every message; judged by when API Gateway received it (`requestTimeEpoch`), not by now."""
    rt = runtime()
    ctx = event["requestContext"]
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    rt.run(rt.sockets.message(ctx["connectionId"], body, ctx["requestTimeEpoch"]))
    return {"statusCode": 200}


@observed
def disconnect(event: dict[str, Any], context: Any) -> dict[str, int]:
    rt = runtime()
    rt.run(rt.sockets.disconnect(event["requestContext"]["connectionId"]))
    return {"statusCode": 200}
