"""Running the appliance: bind HTTP, then announce it over mDNS, then serve until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aiohttp import web

from engagements import __version__
from web.app import create_app
from web.keys import GAMES
from web.mdns import Advertiser
from web.network import join_base_url, lan_addresses
from web.settings import Settings


async def serve(settings: Settings, ready: asyncio.Event | None = None) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the real one when 0
    games = app[GAMES]
    games.join_base = join_base_url(settings.public_url, settings.host, port)
    advertiser = None
    if settings.mdns:
        # Announced only now that HTTP listens: a phone that finds us can connect at once.
        addresses = _announced_addresses(settings)
        advertiser = Advertiser(
            settings.mdns_interfaces,
            name=settings.instance_name,
            port=port,
            addresses=addresses,
            path="/",
            version=__version__,
        )
        await advertiser.start()
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    print(f"Engagements {__version__} is running.", flush=True)
    print(f"  Host console:  http://{local}:{port}/host", flush=True)
    print(f"  Players join:  {games.join_base}/join", flush=True)
    if advertiser is not None:
        where = ", ".join(settings.mdns_interfaces) if settings.mdns_interfaces else "all interfaces"
        print(f"  Announced over mDNS as {advertiser.name!r} on {where}", flush=True)
    print(f"  Data:          {settings.database}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        if advertiser is not None:
            await advertiser.stop()
        await runner.cleanup()


def _announced_addresses(settings: Settings) -> list[str]:
    if settings.mdns_interfaces:
        return list(settings.mdns_interfaces)
    if settings.host not in ("0.0.0.0", "", "::"):
        return [settings.host]
    return lan_addresses() or ["127.0.0.1"]
