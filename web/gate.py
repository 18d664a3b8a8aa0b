"""Who may hold a connection: a cap per address and in all, below the process's open-file limit.

One client once held 1,100 half-sent requests open, exhausted the 1,024 open files and locked
everyone else out (newcomers, `/healthz`), while the failing `accept()` logged a traceback each
time. So: the server raises its own open-file limit at start; the gate caps the connections in all
below it (so `accept()` never fails for want of a file) and per address (so one client cannot take
them all); a connection over a cap is answered `429` at once and closed. How long a connection may
take over its request's headers is aiohttp's `keepalive_timeout`, whose timer aiohttp (3.14 here)
also starts the moment a connection opens (tests/test_admission.py fails on an aiohttp that does not);
over its body, `body_deadline` below.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from engagements.model import Rejected
from web.refusals import Refusals

FILES_KEPT = 128  # open files kept for the rest of the process: the store, logs, mDNS, sync clients
REFUSAL = json.dumps(
    {"error": {"code": "rate_limited", "message": "Too many connections from your address: try again soon."}}
).encode()
REFUSED = (
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(REFUSAL), REFUSAL)
)


def raise_file_limit() -> int:
    """Raise the soft open-file limit to the hard one (as far as the system lets us): the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    for limit in (target, 1 << 16):
        if limit <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
            return limit
        except (ValueError, OSError):
            continue
    return soft


def file_limit() -> int:
    """The process's open-file limit now (the soft one: what `accept()` runs into)."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connection_cap(wanted: int, file_limit: int) -> int:
    """The connections the server may hold: as many as wanted, while files remain for the rest."""
    return max(1, min(wanted, file_limit - FILES_KEPT))


class Gate:
    """Counts the open connections by address and refuses one over either cap."""

    def __init__(self, total: int, per_address: int, refusals: Refusals) -> None:
        self.total = total
        self.per_address = per_address
        self.refusals = refusals
        self.by_address: Counter[str] = Counter()
        self.count = 0

    def admit(self, address: str) -> bool:
        if self.count >= self.total or self.by_address[address] >= self.per_address:
            self.refusals.note(address, "connections")
            return False
        self.count += 1
        self.by_address[address] += 1
        return True

    def release(self, address: str) -> None:
        self.count -= 1
        self.by_address[address] -= 1
        if not self.by_address[address]:
            del self.by_address[address]

    def factory(self, inner: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for `loop.create_server`: aiohttp's, behind the gate."""
        return lambda: _Gated(self, inner)


class _Gated(asyncio.Protocol):
    """aiohttp's protocol for one connection, once the gate admitted it (else a 429 and goodbye).

    aiohttp's protocol is made only for an admitted connection: a flood of refused ones costs an
    accept, a write and a close each, nothing more.
    """

    __slots__ = ("address", "gate", "inner", "make", "received")

    def __init__(self, gate: Gate, make: Callable[[], asyncio.Protocol]) -> None:
        self.gate = gate
        self.make = make
        self.inner: asyncio.Protocol | None = None
        self.address = ""
        self.received: float | None = None  # time.monotonic() when its latest bytes came in (`arrival`)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) and peer else "?"
        if not self.gate.admit(address):
            if isinstance(transport, asyncio.WriteTransport):
                transport.write(REFUSED)
            transport.close()
            return
        self.address = address
        self.inner = self.make()
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.inner is not None:
            self.gate.release(self.address)
            self.inner.connection_lost(exc)
            self.inner = None

    def data_received(self, data: bytes) -> None:
        self.received = time.monotonic()
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()


def arrival(transport: asyncio.BaseTransport | None) -> float | None:
    """When (time.monotonic()) the latest bytes on this connection came in, if it passed the gate.

    A message read from it now arrived no later than that: what its command is judged by, rather
    than by when a loop busy with a burst got to it."""
    protocol = transport.get_protocol() if transport is not None else None
    return protocol.received if isinstance(protocol, _Gated) else None


class GatedSite(web.TCPSite):
    """aiohttp's TCP site with every connection passing the gate first.

    `TCPSite.start` hands the runner's protocol factory straight to `create_server`, with no hook
    between; this is the same start with the factory wrapped (its attributes are aiohttp's own).
    """

    def __init__(
        self, runner: web.BaseRunner, gate: Gate, *args: Any, handshake_timeout: float = 10.0, **kwargs: Any
    ) -> None:
        super().__init__(runner, *args, **kwargs)
        self.gate = gate
        self.handshake_timeout = handshake_timeout  # with TLS: the gate sees a connection only after it

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        tls = {"ssl_handshake_timeout": self.handshake_timeout} if self._ssl_context is not None else {}
        self._server = await asyncio.get_running_loop().create_server(
            self.gate.factory(server),
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
            **tls,
        )
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


def body_deadline(seconds: float) -> Callable[..., Awaitable[web.StreamResponse]]:
    """A middleware: a request's body must arrive within `seconds`, else `408 timeout`.

    The body is read here (up to the app's `client_max_size`) and kept by aiohttp, so the handlers'
    own reads return at once. Placed inside the middleware that turns refusals into JSON errors.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                raise Rejected("timeout", "The request's body came too slowly.") from None
        return await handler(request)

    return middleware
