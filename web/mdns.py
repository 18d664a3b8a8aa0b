"""mDNS/DNS-SD advertising and discovery of Engagements servers on the venue LAN.

Advertising lets the host's other devices (a second laptop, the projector box,
``engagements discover``) find the server without anyone typing an address.
Players never rely on it: phones resolve ``.local`` names poorly, so the join
QR code carries a plain IPv4 URL instead (see :mod:`web.network`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import unicodedata
from dataclasses import dataclass

from zeroconf import InterfaceChoice, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

SERVICE_TYPE = "_engagements._tcp.local."
HTTP_TYPE = "_http._tcp.local."

# Resolution normally hits the cache filled while browsing; this only bounds a
# responder that vanished between being seen and being asked.
_RESOLVE_TIMEOUT_MS = 1000


def parse_interfaces(value: str | None) -> list[str] | None:
    """Parse a comma separated interface address list; None means every interface.

    Tests and development machines pass ``127.0.0.1`` so that nothing they do
    is multicast onto a real network.
    """
    if value is None or value.strip().lower() in ("", "all"):
        return None
    parts = [part.strip() for part in value.split(",") if part.strip()]
    for part in parts:
        try:
            ipaddress.ip_address(part)
        except ValueError:
            raise ValueError(
                f"invalid mDNS interface address {part!r}: expected 'all' or a comma separated "
                "list of IP addresses such as '127.0.0.1'"
            ) from None
    return parts


def _zeroconf_interfaces(interfaces: list[str] | None) -> list[str] | InterfaceChoice:
    return InterfaceChoice.All if interfaces is None else interfaces


def _host_label(name: str) -> str:
    """Turn a free-form instance name into a DNS host label (RFC 1123, at most 63 bytes)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    label = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    return label or "engagements"


class Advertiser:
    """Owns the process's single AsyncZeroconf and the server's two registrations.

    The service is published under its own type, so ``discover`` finds only
    Engagements servers, and under ``_http._tcp`` so generic browsers (Safari
    Bonjour, avahi-browse, Android network scanners) list it as a web page.
    Call :meth:`start` only once the HTTP server is listening, or clients that
    react to the announcement hit a closed port.

    ``probe=False`` skips the RFC 6762 uniqueness probe (about 1.2 s of the
    ~1.7 s a registration takes). That is only safe when the name cannot
    collide, as in tests on loopback with unique names; without the probe,
    ``allow_name_change`` cannot rename on a clash.
    """

    def __init__(
        self,
        interfaces: list[str] | None,
        *,
        name: str,
        port: int,
        addresses: list[str],
        path: str = "/",
        version: str,
        probe: bool = True,
    ) -> None:
        self._interfaces = interfaces
        self._probe = probe
        server = f"{_host_label(name)}.local."
        properties = {"txtvers": "1", "path": path, "version": version}
        self._infos = [
            AsyncServiceInfo(
                type_,
                f"{name}.{type_}",
                port=port,
                properties=properties,
                server=server,
                parsed_addresses=addresses,
            )
            for type_ in (SERVICE_TYPE, HTTP_TYPE)
        ]
        self._zc: AsyncZeroconf | None = None

    @property
    def name(self) -> str:
        """The instance name actually published, which differs from the requested one after a clash."""
        return self._infos[0].get_name()

    async def start(self) -> None:
        """Probe, register and announce both service types; returns once the announcements are sent."""
        if self._zc is not None:
            return
        self._zc = AsyncZeroconf(interfaces=_zeroconf_interfaces(self._interfaces))
        try:
            # Registering returns once probing is done; the announcements are a
            # separate task that must finish before clients can rely on them.
            announcements = await asyncio.gather(
                *(
                    self._zc.async_register_service(
                        info, allow_name_change=True, cooperating_responders=not self._probe
                    )
                    for info in self._infos
                )
            )
            await asyncio.gather(*announcements)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Send goodbye packets so browsers drop the server at once, then close; safe to repeat."""
        zc, self._zc = self._zc, None
        if zc is None:
            return
        await zc.async_unregister_all_services()
        await zc.async_close()


@dataclass(frozen=True)
class Found:
    """An Engagements server seen on the network."""

    name: str
    host: str
    addresses: tuple[str, ...]
    port: int
    path: str
    version: str

    @property
    def url(self) -> str:
        """URL on the first published address; zeroconf lists IPv4 first, which phones handle best."""
        address = self.addresses[0]
        host = f"[{address}]" if ":" in address else address
        return f"http://{host}:{self.port}{self.path}"


async def discover(interfaces: list[str] | None, timeout: float = 3.0) -> list[Found]:
    """Browse for Engagements servers for ``timeout`` seconds and resolve each one found.

    Uses its own short-lived AsyncZeroconf: it is meant for the CLI, which runs
    in a process that is not also advertising.
    """
    names: set[str] = set()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            names.discard(name)
        else:
            names.add(name)

    async with AsyncZeroconf(interfaces=_zeroconf_interfaces(interfaces)) as aiozc:
        browser = AsyncServiceBrowser(aiozc.zeroconf, SERVICE_TYPE, handlers=[on_change])
        try:
            await asyncio.sleep(timeout)
        finally:
            await browser.async_cancel()
        infos = [AsyncServiceInfo(SERVICE_TYPE, name) for name in names]
        resolved = await asyncio.gather(
            *(info.async_request(aiozc.zeroconf, _RESOLVE_TIMEOUT_MS) for info in infos)
        )
    found = []
    for info, ok in zip(infos, resolved, strict=True):
        if not ok or info.port is None or info.server is None:
            continue
        properties = info.decoded_properties
        found.append(
            Found(
                name=info.get_name(),
                host=info.server,
                addresses=tuple(info.parsed_addresses()),
                port=info.port,
                path=properties.get("path") or "/",
                version=properties.get("version") or "",
            )
        )
    return sorted(found, key=lambda item: item.name)
