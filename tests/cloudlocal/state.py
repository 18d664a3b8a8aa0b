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

FRAME_METER = 32 * 1024  # API Gateway bills WebSocket messages in 32 KB increments


@dataclass
class Traffic:
    """The WebSocket API's messages, as API Gateway meters them for its bill: received from clients and
    posted to them through the management API, each counted once per started 32 KB."""

    received: int = 0
    posted: int = 0
    posted_bytes: int = 0
    billed: int = 0

    def add(self, size: int, *, posted: bool) -> None:
        if posted:
            self.posted += 1
            self.posted_bytes += size
        else:
            self.received += 1
        self.billed += max(1, -(-size // FRAME_METER))


@dataclass
class GatewayState:
    runtime: LambdaRuntime
    connections: Connections
    throttle: Throttle
    websocket_api: Api | None
    http_api: Api | None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    traffic: Traffic = field(default_factory=Traffic)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Work that outlives the request that started it (a message's invocation), awaited at shutdown."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


GATEWAY = web.AppKey("gateway", GatewayState)
