"""The fan-out function, invoked asynchronously by the others for a large room (cloud.delivery)."""

from __future__ import annotations

from typing import Any

from cloud.invocations import observed
from cloud.runtime import runtime


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """`{"game_id", "posts": [[connection, [frame]]]}`, or `{"game_id", "audience"|"connections",
    "frames"}` (every frame to each of those connections)."""
    rt = runtime()
    return rt.run(rt.sockets.fanout(event))
