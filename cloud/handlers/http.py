"""The HTTP API (payload format 2.0): every route goes to cloud.routes."""

from __future__ import annotations

from typing import Any

from cloud.invocations import observed
from cloud.runtime import runtime


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rt = runtime()
    return rt.run(rt.routes.handle(event))
