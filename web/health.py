"""Health: `/healthz` says the process answers; `/readyz` says it can run a game now.

Ready means the store takes a write (a real one: a probe item, saved as any command's writes are,
durably; a full disk, a read-only file system or a stuck database all fail it) and, when the
appliance announces itself over mDNS, that the announcement is up (phones that find the appliance
by name need it). Both answer anyone, and say no more than that: the venue's Wi-Fi may ask too.

A flood of `/readyz` costs at most one store write a second: concurrent calls share one probe, and
its result is reused for PROBE_EVERY seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from engagements import __version__
from engagements.store.base import PK, SK, TTL, Store, StoreError, now_epoch
from web.keys import HEALTH

PROBE = "PROBE#readyz"  # the probe item's key: no game, join code or index reads it
PROBE_EVERY = 1.0  # seconds a probe's result is reused
PROBE_TIMEOUT = 2.0  # seconds a probe may take before the store counts as not writable
PROBE_TTL = 3600  # the probe item expires like any other


class Announcer(Protocol):
    @property
    def announced(self) -> bool: ...


@dataclass
class Check:
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


class Health:
    """What `/readyz` checks: the store (set once it is open) and the mDNS announcement (set by `serve`)."""

    def __init__(self, mdns: bool) -> None:
        self.mdns = mdns
        self.store: Store | None = None
        self.advertiser: Announcer | None = None
        self._probed: tuple[float, Check] | None = None
        self._probing: asyncio.Future[Check] | None = None

    async def store_check(self) -> Check:
        if self._probed is not None and time.monotonic() - self._probed[0] < PROBE_EVERY:
            return self._probed[1]
        if self._probing is None or self._probing.done():
            self._probing = asyncio.ensure_future(self._probe())
        check = await asyncio.shield(self._probing)  # a caller that goes away leaves it to the others
        self._probed = (time.monotonic(), check)
        return check

    async def _probe(self) -> Check:
        if self.store is None:
            return Check(False, "the store is not open")
        started = time.perf_counter()
        now = now_epoch()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await self.store.put({PK: PROBE, SK: PROBE, "at": now, TTL: now + PROBE_TTL})
        except TimeoutError:
            return Check(False, f"a write took longer than {PROBE_TIMEOUT:g} s")
        except StoreError as e:
            return Check(False, f"a write failed: {' '.join(str(e).split())[:200]}")
        return Check(True, f"a write took {(time.perf_counter() - started) * 1000:.1f} ms")

    def mdns_check(self) -> Check:
        if not self.mdns:
            return Check(True, "off (--no-mdns)")
        if self.advertiser is None or not self.advertiser.announced:
            return Check(False, "not announced")
        return Check(True, "announced")


async def healthz(request: web.Request) -> web.Response:
    """Alive: the event loop answers. Nothing else is checked (a restart would not fix the store)."""
    return web.json_response({"ok": True, "version": __version__})


async def readyz(request: web.Request) -> web.Response:
    health = request.app[HEALTH]
    checks = {"store": await health.store_check(), "mdns": health.mdns_check()}
    ready = all(c.ok for c in checks.values())
    body = {"ready": ready, "checks": {name: c.as_json() for name, c in checks.items()}}
    return web.json_response(body, status=200 if ready else 503)
