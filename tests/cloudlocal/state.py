"""What the gateway's request handlers share, kept on the aiohttp apps under one typed key."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .connections import Connections
from .lambdas import LambdaRuntime
from .template import Api
from .throttle import Throttle


@dataclass
class GatewayState:
    runtime: LambdaRuntime
    connections: Connections
    throttle: Throttle
    websocket_api: Api | None
    http_api: Api | None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Work that outlives the request that started it (a message's invocation), awaited at shutdown."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


GATEWAY = web.AppKey("gateway", GatewayState)
