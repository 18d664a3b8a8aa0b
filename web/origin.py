"""Which pages may drive the appliance: its own, never another site's.

A page from another site (a captive portal, an ad on a phone in the room) could otherwise make every
visitor's browser post joins or open sockets here, from as many addresses as there are phones. Browsers
say where a request comes from in ``Origin``; scripts and the bench send none and are let through,
since they need no browser to reach the appliance anyway.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from web.keys import ORIGINS
from web.routes import error

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_PORTS = {"http": 80, "https": 443}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Origins:
    """The appliance's own origins: the address a page was loaded from, when that address is ours."""

    def __init__(self, public_url: str | None) -> None:
        self.public = _origin(public_url) if public_url else None
        # Names a page may be loaded under. Any other name pointing here is DNS rebinding: a foreign
        # site whose name now resolves to the appliance, whose pages would otherwise be "same-origin".
        self.names = {"localhost", socket.gethostname().lower()}
        if public_url:
            self.names.add((urlsplit(public_url).hostname or "").lower())

    def allows(self, request: web.Request) -> bool:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None:
            return True  # not a browser: nothing a foreign page could forge
        origin = origin.lower()
        if origin == self.public:
            return True
        return origin == f"{request.scheme}://{request.host}".lower() and self._ours(request.host)

    def _ours(self, host: str) -> bool:
        name = (urlsplit(f"//{host}").hostname or "").lower()
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return name in self.names or name.endswith(".local")  # .local: mDNS, only this network's
        return True  # an address typed or scanned: no site can own it


def _origin(url: str) -> str:
    """``url``'s origin as a browser writes it in ``Origin``: no default port, no path."""
    parts = urlsplit(url.lower())
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = "" if parts.port in (None, DEFAULT_PORTS.get(parts.scheme)) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


@web.middleware
async def same_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a foreign page's POSTs and WebSockets (the socket handshake is a GET browsers never guard)."""
    websocket = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
    if (websocket or request.method not in SAFE_METHODS) and not request.app[ORIGINS].allows(request):
        return error("bad_origin", "Open this page from the appliance's own address, not another site.", 403)
    return await handler(request)
