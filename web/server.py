"""Running the appliance: bind HTTP, then announce it over mDNS, then serve until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable

from aiohttp import web

from engagements import __version__
from web.admin import SECRET_FILE
from web.app import create_app
from web.gate import GatedSite, raise_file_limit
from web.keys import ADMIN, GAMES, GATE, HEALTH
from web.mdns import Advertiser
from web.network import join_base_url, lan_addresses
from web.settings import Settings
from web.tls import server_context

log = logging.getLogger(__name__)


async def serve(settings: Settings, ready: asyncio.Event | None = None) -> None:
    stop = asyncio.Event()
    # Caught from the very start, so that a Ctrl-C or SIGTERM while the server is still starting (mDNS
    # probing takes a second) stops it as promptly as later on.
    _stop_on_signals(stop)
    files = raise_file_limit()  # before the app sizes its connection cap by it
    tls = None
    if settings.certfile is not None and settings.keyfile is not None:
        tls = server_context(settings.certfile, settings.keyfile)  # a bad file stops us before binding
    app = create_app(settings)
    gate = app[GATE]
    # aiohttp closes a connection that has not sent a whole request's headers within its keep-alive
    # timeout, counted from the moment it opens: that is our header timeout. After an answer to a
    # request whose body did not all arrive (a 408, a 413) it reads on for `lingering_time` so the
    # client sees the answer: `linger`, not aiohttp's ten seconds, for a client slow on purpose.
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        keepalive_timeout=settings.limits.header_timeout,
        lingering_time=settings.limits.linger,
    )
    await runner.setup()
    site = GatedSite(
        runner,
        gate,
        settings.host,
        settings.port,
        ssl_context=tls,
        handshake_timeout=settings.limits.header_timeout,
    )
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the real one when 0
    games = app[GAMES]
    games.join_base = join_base_url(settings.public_url, settings.host, port, settings.scheme)
    advertiser = None
    try:
        if settings.mdns and not stop.is_set():
            # Announced only now that HTTP listens: a phone that finds us can connect at once.
            advertiser = Advertiser(
                settings.mdns_interfaces,
                name=settings.instance_name,
                port=port,
                addresses=_announced_addresses(settings),
                path="/",
                version=__version__,
                scheme=settings.scheme,
                on_rename=lambda name: print(f"  mDNS name clash: now announced as {name!r}", flush=True),
            )
            if not await _unless_stopped(advertiser.start(), stop):
                advertiser = None  # a start cut short has already withdrawn what it announced
            app[HEALTH].advertiser = advertiser
        if stop.is_set():
            return
        print(f"Engagements {__version__} is running.", flush=True)
        console = _console_base(settings, port, games.join_base)
        if settings.admin_secret is None:
            # The one place the secret we made is shown: in the link, after '#', which no browser sends.
            print(f"  Host console:  {app[ADMIN].console_link(console)}", flush=True)
        else:
            print(f"  Host console:  {console}/host (sign in with the admin secret you chose)", flush=True)
        print(f"  Players join:  {games.join_base}/join", flush=True)
        if settings.admin_secret is None:
            print(f"  Admin secret:  kept in {settings.data_dir / SECRET_FILE}", flush=True)
        if advertiser is not None:
            where = ", ".join(settings.mdns_interfaces) if settings.mdns_interfaces else "all interfaces"
            print(f"  Announced over mDNS as {advertiser.name!r} on {where}", flush=True)
        print(f"  Data:          {settings.database}", flush=True)
        print(
            f"  Open files:    {files} (connections capped at {gate.total}, {gate.per_address} per address)",
            flush=True,
        )
        log.info("Engagements %s serving on port %d", __version__, port, extra={"join": games.join_base})
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        if advertiser is not None:
            await advertiser.stop()
        await runner.cleanup()


def _stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop``; after the first, they get their default action back.

    So the first Ctrl-C shuts down cleanly (goodbye packets, sockets closed, games flushed), and a
    second one interrupts a shutdown that hangs. Closing the loop removes the handlers.
    """
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)

    def on_signal() -> None:
        stop.set()
        for sig in signals:
            loop.remove_signal_handler(sig)

    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # no add_signal_handler on Windows
            loop.add_signal_handler(sig, on_signal)


async def _unless_stopped(start: Awaitable[None], stop: asyncio.Event) -> bool:
    """Run ``start`` unless ``stop`` is set first, which cancels it; True when it completed."""
    task = asyncio.ensure_future(start)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False
    task.result()  # raises what start raised
    return True


def _console_base(settings: Settings, port: int, join_base: str) -> str:
    """Where the host opens the console: this machine over plain HTTP, else the certificate's name."""
    if settings.scheme == "https":
        return join_base  # https://127.0.0.1 would not match the certificate's name
    local = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host
    return f"http://{local}:{port}"


def _announced_addresses(settings: Settings) -> list[str]:
    if settings.mdns_interfaces:
        return list(settings.mdns_interfaces)
    if settings.host not in ("0.0.0.0", "", "::"):
        return [settings.host]
    return lan_addresses() or ["127.0.0.1"]
