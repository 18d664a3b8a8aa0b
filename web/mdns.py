"""mDNS/DNS-SD advertising and discovery of Engagements servers on the venue LAN.

Advertising lets the host's other devices (a second laptop, the projector box,
``engagements discover``) find the server without anyone typing an address.
Players never rely on it: phones resolve ``.local`` names poorly, so the join
QR code carries a plain IPv4 URL instead (see :mod:`web.network`).

Nothing here depends on a unicast reply. A "QU" question asks responders to
answer by unicast to port 5353 of the asker's address, and when several sockets
share that address and port (avahi, any other mDNS program on the machine, a
browser and an advertiser in one process, every program on loopback) the
kernel hands each unicast datagram to one of them only, often not the one that
asked, so the answer is lost. Browsing and resolving therefore ask "QM"
questions, answered by multicast, which every socket receives; and the
uniqueness probe is our own, asked with QM questions too: zeroconf's probe asks
QU and so misses the very answer that says the name is taken.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from zeroconf import (
    DNSOutgoing,
    DNSQuestion,
    DNSQuestionType,
    DNSText,
    InterfaceChoice,
    RecordUpdate,
    RecordUpdateListener,
    ServiceStateChange,
    Zeroconf,
    current_time_millis,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf
from zeroconf.const import _CLASS_IN, _FLAGS_QR_QUERY, _TYPE_ANY

SERVICE_TYPE = "_engagements._tcp.local."
HTTP_TYPE = "_http._tcp.local."
HTTPS_TYPE = "_https._tcp.local."  # instead of HTTP_TYPE when the appliance serves TLS

log = logging.getLogger(__name__)

# Resolution normally hits the cache filled while browsing; this only bounds a
# responder that vanished between being seen and being asked. Two seconds: a
# responder delays a multicast answer by a second when it multicast the same
# record in the last second (RFC 6762 section 14).
_RESOLVE_TIMEOUT_MS = 2000

# Probing (RFC 6762 section 8.1): a random wait of up to 250 ms so appliances
# powered on together do not probe in step, then three probes 250 ms apart,
# each followed by 250 ms to hear a defence.
_PROBE_DELAY = (0.0, 0.25)
_PROBE_INTERVAL = 0.25
_PROBES = 3
# A cache-flush announcement only evicts records received more than a second
# ago (RFC 6762 section 10.2), so the winner of a late conflict waits that long
# before announcing again to evict the loser's records from every cache.
_REANNOUNCE_DELAY = 1.5
_MAX_LABEL = 63  # bytes in one DNS label, the instance name included

# The TXT key carrying a random number drawn at start: it tells two appliances
# announcing the same name apart, and decides which of them keeps it.
ID_KEY = "id"


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
    label = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_MAX_LABEL].strip("-")
    return label or "engagements"


def _numbered(name: str, number: int) -> str:
    """``name`` for the first claim, then ``name-2``, ``name-3``…, cut to fit one DNS label."""
    if number == 1:
        return name
    suffix = f"-{number}"
    room = _MAX_LABEL - len(suffix.encode())
    return name.encode()[:room].decode(errors="ignore").rstrip() + suffix


def _txt_value(text: bytes, key: str) -> str | None:
    """The value of ``key`` in TXT record data (length-prefixed ``key=value`` strings)."""
    wanted = key.encode().lower() + b"="
    i = 0
    while i < len(text):
        length = text[i]
        item = text[i + 1 : i + 1 + length]
        if item.lower().startswith(wanted):
            return item[len(wanted) :].decode(errors="replace")
        i += 1 + length
    return None


class _ConflictWatcher(RecordUpdateListener):
    """Hands every record zeroconf receives to the advertiser, which looks for clashes."""

    def __init__(self, on_records: Callable[[list[RecordUpdate]], None]) -> None:
        super().__init__()
        self._on_records = on_records

    def async_update_records(self, zc: Zeroconf, now: float, records: list[RecordUpdate]) -> None:
        try:
            self._on_records(records)
        except Exception:  # never let our bookkeeping break zeroconf's receive path
            log.exception("mDNS conflict check failed")

    def async_update_records_complete(self) -> None:
        pass


class Advertiser:
    """Owns the process's single AsyncZeroconf and the server's two registrations.

    The service is published under its own type, so ``discover`` finds only
    Engagements servers, and under ``_http._tcp`` (``_https._tcp`` with TLS) so
    generic browsers (Safari Bonjour, avahi-browse, Android network scanners)
    list it as a web page; TXT ``scheme`` tells ``discover`` which it is.
    Both carry the same instance name, and the host name is made from it, so
    two appliances never share a host name either. Call :meth:`start` only once
    the HTTP server is listening, or clients that react to the announcement hit
    a closed port.

    Names are kept unique the RFC 6762 way, with multicast only:

    - before announcing, :meth:`start` probes: it asks, by multicast, for any
      record under the instance names and the host name, and takes the first of
      ``name``, ``name-2``, ``name-3``… that nobody defends;
    - after announcing, it keeps watching: when another responder announces one
      of our instance names (two appliances powered on together probe at the
      same time and neither defends), the one whose TXT ``id`` is lower, or
      that is not an Engagements server at all, renames itself by probing
      again, silently (a goodbye for the shared PTR record would make browsers
      drop the other one too); the other announces again so that every cache
      drops the loser's records. ``on_rename`` is called with the new name.

    ``probe=False`` skips both (about 1 s of the ~1.5 s a start takes). That is
    only safe when the name cannot collide, as in tests on loopback with unique
    names.
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
        scheme: str = "http",
        probe: bool = True,
        on_rename: Callable[[str], None] | None = None,
    ) -> None:
        self._interfaces = interfaces
        self._requested = name
        self._port = port
        self._addresses = addresses
        self._probe = probe
        self._on_rename = on_rename
        self._id = secrets.token_hex(8)
        self._properties = {
            "txtvers": "1",
            "path": path,
            "version": version,
            "scheme": scheme,
            ID_KEY: self._id,
        }
        self._web_type = HTTPS_TYPE if scheme == "https" else HTTP_TYPE
        self._infos = self._make_infos(name)
        self._zc: AsyncZeroconf | None = None
        self._watcher: _ConflictWatcher | None = None
        self._published: dict[str, bytes] = {}  # key -> TXT data of each registration on the air
        self._announcing: list[asyncio.Future] = []
        self._renaming: asyncio.Task | None = None
        self._reannouncing: asyncio.Task | None = None

    @property
    def name(self) -> str:
        """The instance name actually published, which differs from the requested one after a clash."""
        return self._infos[0].get_name()

    @property
    def announced(self) -> bool:
        """Our records are on the air (between a start and a stop; not while a rename probes)."""
        return self._zc is not None and bool(self._published)

    async def start(self) -> None:
        """Probe, register and announce both service types; returns once the announcements are sent."""
        if self._zc is not None:
            return
        self._zc = AsyncZeroconf(interfaces=_zeroconf_interfaces(self._interfaces))
        try:
            await self._zc.zeroconf.async_wait_for_start()
            if self._probe:
                self._watcher = _ConflictWatcher(self._check_conflicts)
                self._zc.zeroconf.async_add_listener(self._watcher, None)
                self._infos = self._make_infos(await self._claim_name())
            await self._register()
            # wait, not gather: losing a clash meanwhile cancels these announcements, not the start.
            await asyncio.wait(self._announcing)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Send goodbye packets so browsers drop the server at once, then close; safe to repeat."""
        zc, self._zc = self._zc, None
        if zc is None:
            return
        self._published = {}
        tasks = [self._renaming, self._reannouncing, *self._announcing]
        pending = [task for task in tasks if task is not None and not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._watcher is not None:
            zc.zeroconf.async_remove_listener(self._watcher)
            self._watcher = None
        await zc.async_unregister_all_services()
        await zc.async_close()

    def _make_infos(self, name: str) -> list[AsyncServiceInfo]:
        return [
            AsyncServiceInfo(
                type_,
                f"{name}.{type_}",
                port=self._port,
                properties=self._properties,
                server=f"{_host_label(name)}.local.",
                parsed_addresses=self._addresses,
            )
            for type_ in (SERVICE_TYPE, self._web_type)
        ]

    async def _register(self) -> None:
        """Publish the current infos; the announcements go on in the background (``_announcing``)."""
        assert self._zc is not None
        # The probe is ours (_claim_name): zeroconf's asks QU questions, whose answers can be lost.
        self._announcing = [
            await self._zc.async_register_service(info, cooperating_responders=True) for info in self._infos
        ]
        self._published = {info.key: info.text for info in self._infos}

    async def _claim_name(self) -> str:
        """Probe until a name is free (RFC 6762 section 8.1, with QM questions); return it."""
        assert self._zc is not None
        zc = self._zc.zeroconf
        loop = asyncio.get_running_loop()
        await asyncio.sleep(random.uniform(*_PROBE_DELAY))
        number = 1
        infos = self._make_infos(self._requested)
        probes, next_probe_at = 0, loop.time()
        while True:
            if self._taken(infos):
                number += 1
                infos = self._make_infos(_numbered(self._requested, number))
                probes, next_probe_at = 0, loop.time()
                continue
            remaining = next_probe_at - loop.time()
            if remaining > 0:
                # Woken early whenever records arrive, so a defence is seen at once.
                await zc.async_wait(remaining * 1000)
                continue
            if probes == _PROBES:
                return infos[0].get_name()
            zc.async_send(_probe(infos, probes))
            probes += 1
            next_probe_at += _PROBE_INTERVAL

    def _taken(self, infos: list[AsyncServiceInfo]) -> bool:
        """Whether someone else holds a record under these instance names or their host name."""
        assert self._zc is not None
        cache = self._zc.zeroconf.cache
        now = current_time_millis()
        keys = {info.key for info in infos} | {infos[0].server_key}
        if any(not record.is_expired(now) for key in keys for record in cache.async_entries_with_name(key)):
            return True
        return any(cache.current_entry_with_name_and_alias(info.type, info.name) for info in infos)

    def _check_conflicts(self, records: list[RecordUpdate]) -> None:
        """React to another responder's TXT record under one of our instance names (RFC 6762 section 9)."""
        ours = self._published
        if not ours or (self._renaming is not None and not self._renaming.done()):
            return
        for update in records:
            record = update.new
            if not isinstance(record, DNSText) or record.ttl == 0 or record.key not in ours:
                continue
            if record.text == ours[record.key]:
                continue  # our own announcement, heard back
            theirs = _txt_value(record.text, ID_KEY)
            if theirs == self._id:
                continue
            if theirs is not None and theirs < self._id:
                if self._reannouncing is None or self._reannouncing.done():
                    log.info("mDNS name %r also announced by another server, which will rename", self.name)
                    self._reannouncing = asyncio.get_running_loop().create_task(self._reannounce())
                continue
            log.warning("mDNS name %r is taken by another server: choosing another", self.name)
            self._renaming = asyncio.get_running_loop().create_task(self._rename())
            return

    async def _rename(self) -> None:
        assert self._zc is not None
        for task in self._announcing:
            task.cancel()
        self._published = {}
        # No goodbye: the PTR records of both servers are the same record, and
        # a goodbye would make every browser forget the one keeping the name.
        self._zc.zeroconf.registry.async_remove(self._infos)
        self._infos = self._make_infos(await self._claim_name())
        await self._register()
        log.warning("mDNS name is now %r", self.name)
        if self._on_rename is not None:
            self._on_rename(self.name)

    async def _reannounce(self) -> None:
        assert self._zc is not None
        await asyncio.sleep(_REANNOUNCE_DELAY)
        broadcasts: list[Awaitable] = [await self._zc.async_update_service(info) for info in self._infos]
        await asyncio.gather(*broadcasts)


def _probe(infos: list[AsyncServiceInfo], number: int) -> DNSOutgoing:
    """A probe for the instance names and their host name, asked as QM questions.

    A responder defends a name against a probe at once and by multicast
    when the question is QM, so the prober hears it whatever else listens on
    its port. The ID differs between the three probes only so that zeroconf
    responders, which ignore an identical packet repeated within 0.8 s, answer
    each of them.
    """
    out = DNSOutgoing(_FLAGS_QR_QUERY, True, number + 1)
    for name in [info.name for info in infos] + [infos[0].server]:
        out.add_question(DNSQuestion(name, _TYPE_ANY, _CLASS_IN))
    # The records we intend to publish go in the authority section (RFC 6762
    # section 8.2); add_authorative_answer is typed for PTR records only.
    for info in infos:
        out.authorities += [info.dns_service(), info.dns_text()]
    out.authorities += infos[0].dns_addresses()
    return out


@dataclass(frozen=True)
class Found:
    """An Engagements server seen on the network."""

    name: str
    host: str
    addresses: tuple[str, ...]
    port: int
    path: str
    version: str
    scheme: str = "http"  # https when the appliance serves TLS (TXT ``scheme``)

    @property
    def url(self) -> str:
        """URL on the first published address; zeroconf lists IPv4 first, which phones handle best."""
        address = self.addresses[0]
        host = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{host}:{self.port}{self.path}"


async def discover(interfaces: list[str] | None, timeout: float = 3.0) -> list[Found]:
    """Browse for Engagements servers for ``timeout`` seconds and resolve each one found.

    Uses its own short-lived AsyncZeroconf: it is meant for the CLI, which runs
    in a process that is not also advertising. Every question is QM, so the
    answers come by multicast (see the module's docstring); a server that
    announced in the last second answers a second later, so ``timeout`` should
    be at least 2 s.
    """
    names: set[str] = set()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            names.discard(name)
        else:
            names.add(name)

    async with AsyncZeroconf(interfaces=_zeroconf_interfaces(interfaces)) as aiozc:
        browser = AsyncServiceBrowser(
            aiozc.zeroconf, SERVICE_TYPE, handlers=[on_change], question_type=DNSQuestionType.QM
        )
        try:
            await asyncio.sleep(timeout)
        finally:
            await browser.async_cancel()
        infos = [AsyncServiceInfo(SERVICE_TYPE, name) for name in names]
        resolved = await asyncio.gather(
            *(
                info.async_request(aiozc.zeroconf, _RESOLVE_TIMEOUT_MS, question_type=DNSQuestionType.QM)
                for info in infos
            )
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
                scheme="https" if properties.get("scheme") == "https" else "http",
            )
        )
    return sorted(found, key=lambda item: item.name)
