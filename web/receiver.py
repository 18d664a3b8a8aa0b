"""A webhook receiver for trying webhooks out: `engagements webhooks test-receiver --port 9000`.

It does what any receiver should before trusting a delivery: read the body as bytes, check the
signature over the timestamp and those bytes with the webhook's secret, refuse a timestamp more than
five minutes away (a replayed delivery), then parse the JSON. Refused deliveries get `400` and a line
saying why; accepted ones `200` (or whatever `answer` says: the tests script failures and hangs with
it) and the event, printed. Nothing it prints can drive the terminal (sync.show.shown).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from engagements import webhooks
from sync.show import shown

MAX_BODY = 256 * 1024


@dataclass
class Received:
    """One delivery whose signature held."""

    event: dict[str, Any]
    headers: dict[str, str]
    signed_at: int  # the signature's timestamp, unix seconds
    arrived: float  # time.monotonic() when it arrived


@dataclass
class Receiver:
    secret: str
    answer: Callable[[Received], Awaitable[int]] | None = None  # the status to answer; 200 without it
    out: Callable[[str], None] | None = None  # where to print what came; nowhere without it
    tolerance: int = webhooks.TOLERANCE
    clock: Callable[[], float] = time.time
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/{path:.*}", self.handle)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; the port it listens on (a free one for port 0)."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            signed_at = webhooks.verify(
                self.secret,
                request.headers.get(webhooks.SIGNATURE_HEADER),
                body,
                int(self.clock()),
                self.tolerance,
            )
            event = json.loads(body)
        except (webhooks.BadSignature, ValueError) as e:
            reason = str(e) if isinstance(e, webhooks.BadSignature) else "the body is not JSON"
            self.refused.append(reason)
            self._print(f"refused a delivery: {reason}")
            return web.json_response({"error": reason}, status=400)
        got = Received(event, dict(request.headers), signed_at, time.monotonic())
        self.received.append(got)
        self._print(
            f"{event.get('type')} {event.get('id')}: signature verified, signed "
            f"{int(self.clock()) - signed_at} s ago\n{json.dumps(event, indent=2, ensure_ascii=False)}"
        )
        status = 200 if self.answer is None else await self.answer(got)
        return web.json_response({"received": event.get("id")}, status=status)

    def _print(self, text: str) -> None:
        if self.out is not None:
            self.out("\n".join(shown(line) for line in text.splitlines()))
