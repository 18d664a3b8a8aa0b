"""`engagements doctor`: is this machine ready for tonight's game? Each finding says what to do.

Run before the doors open, and by whoever is on call when something is wrong. Every check looks at the
real thing: it binds the port (and asks whoever holds it whether it is us), reads the interface table,
listens for mDNS on the interfaces `serve` would announce on (ENGAGEMENTS_MDNS_INTERFACES), writes a
temporary file in the data directory, reads the store's records of games and syncs, and reads the
process limits. It changes nothing, and sends nothing but one mDNS query and, when the port is taken,
one request to it. The exit status is 1 when a check FAILs, so a script can hold the start on it.
"""

from __future__ import annotations

import asyncio
import datetime
import errno
import ipaddress
import json
import os
import pwd
import resource
import shutil
import socket
import sqlite3
import stat
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import click

from engagements import __version__, items, lifecycle
from engagements.settings import JOIN_DEFAULTS
from engagements.store.base import GSI1, StoreError
from engagements.store.sqlite import SQLiteStore
from engagements.text import printable
from sync.cli import data_dir_option
from web.admin import SECRET_FILE
from web.gate import FILES_KEPT, connection_cap
from web.mdns import discover, parse_interfaces
from web.network import join_base_url, lan_interfaces
from web.settings import Limits, Settings

OK, WARN, FAIL = "OK", "WARN", "FAIL"

ASK_TIMEOUT = 2.0  # seconds for whoever holds the port to answer /healthz
MDNS_LISTEN = 2.0  # seconds to listen for announcements: a server that just announced answers a second later
FAIL_FREE = 100 * 1024**2  # bytes: below this SQLite may fail to grow the WAL, and answers go unacknowledged
WARN_FREE = 1024**3  # bytes: a big game writes megabytes; an evening with the logs, more
EARLIEST_YEAR = 2025  # no appliance ran before this: a clock earlier than it was never set (a Pi has no RTC)
CLOCK_SLACK_MS = 60_000  # how far a record may lie ahead of the clock before the clock went back
SYNC_STALE_MS = 24 * 3600 * 1000  # a finished game left unsynced longer than this is worth a warning
ROOM = int(JOIN_DEFAULTS["max_players"])  # the largest room: one connection per phone at least


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # OK, WARN or FAIL
    detail: str
    fix: str = ""  # what to do about it, for WARN and FAIL


@dataclass(frozen=True)
class Setup:
    """What `serve` would run with: the same options and environment variables."""

    host: str
    port: int
    data_dir: Path
    mdns: bool
    mdns_interfaces: list[str] | None
    public_url: str | None


@dataclass(frozen=True)
class Records:
    """What the store says about time: the last verified sync, games waiting for one, the newest record."""

    last_sync: int | None  # epoch ms
    waiting: list[int]  # epoch ms each finished game not yet in the cloud finished
    newest: int | None  # epoch ms of the latest creation, finish or sync any kept game records


async def examine(setup: Setup) -> list[Finding]:
    """Every check, in the order someone setting up a venue meets them."""
    port, running = await port_finding(setup)
    records = await read_records(setup.data_dir)
    now = time.time_ns() // 1_000_000
    return [
        port,
        lan_finding(setup),
        await mdns_finding(setup, running),
        disk_finding(setup.data_dir),
        clock_finding(now, records.newest if isinstance(records, Records) else None),
        data_dir_finding(setup.data_dir),
        secret_finding(setup.data_dir),
        sync_finding(now, records),
        files_finding(resource.getrlimit(resource.RLIMIT_NOFILE)[1]),
    ]


# -- port --------------------------------------------------------------------------------------------


async def port_finding(setup: Setup) -> tuple[Finding, bool]:
    """Whether `serve` can listen on the port, or an Engagements server already does: (finding, running)."""
    host = setup.host or "*"
    where = f"[{host}]:{setup.port}" if ":" in host else f"{host}:{setup.port}"
    try:
        refused = _bind_error(setup.host, setup.port)
    except socket.gaierror as e:
        return Finding("Port", FAIL, f"{setup.host!r} is not an address: {e.strerror}", "fix --host"), False
    if refused is None:
        return Finding("Port", OK, f"{where} is free: serve can listen there"), False
    if refused.errno == errno.EADDRINUSE:
        version = await _engagements_at(setup.host, setup.port)
        if version is not None:
            return Finding("Port", OK, f"Engagements {version} is running on {where}"), True
        return (
            Finding(
                "Port",
                FAIL,
                f"{where} is taken by another program",
                f"see which with `ss -ltnp 'sport = :{setup.port}'` and stop it, or choose another --port",
            ),
            False,
        )
    if refused.errno == errno.EACCES:
        return (
            Finding(
                "Port",
                FAIL,
                f"{where} needs privileges this user lacks",
                "choose a port above 1023, or run it as a system service (install-service --system)",
            ),
            False,
        )
    return Finding("Port", FAIL, f"cannot listen on {where}: {refused.strerror}", "check --host"), False


def _bind_error(host: str, port: int) -> OSError | None:
    """Bind as asyncio's server does (SO_REUSEADDR, each address of `host`); None when it could."""
    for family, kind, proto, _, address in socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as e:
                return e
    return None


async def _engagements_at(host: str, port: int) -> str | None:
    """The version an Engagements server on this machine's `port` reports, or None when it is not one."""
    address = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in address:
        address = f"[{address}]"
    timeout = aiohttp.ClientTimeout(total=ASK_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        # https second: an appliance with a certificate (for another name) drops a plain request at once.
        for scheme in ("http", "https"):
            try:
                async with session.get(f"{scheme}://{address}:{port}/healthz", ssl=False) as r:
                    body = await r.json(content_type=None)
            except TimeoutError:
                return None  # it took the connection and said nothing: not us
            except (aiohttp.ClientError, ValueError):
                continue
            if isinstance(body, dict) and body.get("ok") is True and "version" in body:
                return printable(str(body["version"]))
    return None


# -- network -----------------------------------------------------------------------------------------


def lan_finding(setup: Setup) -> Finding:
    """Which address phones will be sent to (the QR code's), and on which interface it is."""
    interfaces = lan_interfaces()
    names = dict(interfaces)
    if setup.host in ("127.0.0.1", "::1", "localhost"):
        return Finding(
            "LAN address",
            WARN,
            f"serve listens on {setup.host} only: phones cannot reach it",
            "use --host 0.0.0.0 (the default) or this machine's LAN address",
        )
    join = join_base_url(setup.public_url, setup.host, setup.port) + "/join"
    if setup.public_url:
        named = _literal_address(setup.public_url)
        if named is not None and named not in names:
            return Finding(
                "LAN address",
                WARN,
                f"phones are sent to {join} (--public-url), but {named} is not an address of this machine",
                "fine behind a port forward; otherwise fix --public-url",
            )
        return Finding("LAN address", OK, f"phones are sent to {join} (--public-url)")
    if not interfaces:
        return Finding(
            "LAN address",
            WARN,
            "this machine has no network address but loopback: no phone can reach it",
            "join the venue Wi-Fi (or plug in the router) and run doctor again",
        )
    chosen = _literal_address(join) or interfaces[0][0]
    others = [f"{address} ({name})" for address, name in interfaces if address != chosen]
    detail = f"phones are sent to {join} ({names.get(chosen, 'the --host address')})"
    if others:
        detail += f"; other addresses: {', '.join(others)}"
    if ipaddress.ip_address(chosen).is_link_local:
        return Finding(
            "LAN address",
            WARN,
            detail + f"; {chosen} is link-local: no DHCP server gave this machine an address",
            "check the Wi-Fi or cable, or give the machine a fixed address on the venue network",
        )
    fix = "if phones cannot open it, choose the right one with --public-url" if others else ""
    return Finding("LAN address", OK, detail, fix)


def _literal_address(url: str) -> str | None:
    """The URL's host when it is an IP address (not a name)."""
    try:
        return str(ipaddress.ip_address(urlsplit(url).hostname or ""))
    except ValueError:
        return None


async def mdns_finding(setup: Setup, running: bool) -> Finding:
    """Whether mDNS works where `serve` announces, and whether the running appliance is heard there."""
    where = ", ".join(setup.mdns_interfaces) if setup.mdns_interfaces else "all interfaces"
    if not setup.mdns:
        return Finding(
            "mDNS", OK, "off (--no-mdns): phones use the QR code; `engagements discover` won't list it"
        )
    try:
        found = await discover(setup.mdns_interfaces, MDNS_LISTEN)
    except OSError as e:
        return Finding(
            "mDNS",
            WARN,
            f"cannot listen on UDP 5353 on {where}: {e.strerror or e}",
            "players are not affected (the QR code carries the address); for discovery, allow multicast "
            "or choose addresses with --mdns-interfaces",
        )
    ours = [f for f in found if f.port == setup.port]
    heard = ", ".join(repr(printable(f.name)) for f in found) or "no Engagements server"
    if running and not ours:
        return Finding(
            "mDNS",
            WARN,
            f"listened on {where}; heard {heard}, but not the one running on port {setup.port}",
            "it runs with --no-mdns or other --mdns-interfaces, or a firewall drops UDP 5353 "
            "(players are not affected: the QR code carries the address)",
        )
    if ours:
        return Finding("mDNS", OK, f"announced on {where} as {printable(ours[0].name)!r} ({ours[0].url})")
    return Finding("mDNS", OK, f"can listen on {where}; heard {heard}")


# -- the machine -------------------------------------------------------------------------------------


def disk_finding(data_dir: Path, *, warn_below: int = WARN_FREE, fail_below: int = FAIL_FREE) -> Finding:
    """Free space where the games are written: a full disk stops answers being acknowledged."""
    place = _existing(data_dir)
    usage = shutil.disk_usage(place)
    detail = f"{_size(usage.free)} free of {_size(usage.total)} at {place}"
    if usage.free < fail_below:
        return Finding("Disk", FAIL, detail, "free some space: answers are acknowledged only once written")
    if usage.free < warn_below:
        return Finding("Disk", WARN, detail, f"free some space: below {_size(fail_below)} games stop")
    return Finding("Disk", OK, detail)


def clock_finding(now: int, newest: int | None) -> Finding:
    """The clock times every answer, deadline and expiry; offline, nothing corrects it."""
    shown = _when(now)
    if datetime.datetime.fromtimestamp(now / 1000, datetime.UTC).year < EARLIEST_YEAR:
        return Finding(
            "Clock",
            FAIL,
            f"the clock says {shown}: it was never set (a Raspberry Pi has no battery clock)",
            "set it before the game: connect to a network once (NTP), or `sudo date -s '2026-06-01 19:00'`",
        )
    if newest is not None and newest > now + CLOCK_SLACK_MS:
        return Finding(
            "Clock",
            WARN,
            f"the clock says {shown}, {_span(newest - now)} before the newest game record ({_when(newest)})",
            "the clock went back: set it right (timers and retention count from it)",
        )
    return Finding(
        "Clock", OK, f"{shown} (not compared with network time: offline; check it against a phone)"
    )


def files_finding(hard_limit: int) -> Finding:
    """`serve` raises its open-file limit to the hard one and caps connections below it."""
    limit = hard_limit if hard_limit != resource.RLIM_INFINITY else 1 << 20
    cap = connection_cap(Limits.connections, limit)
    detail = f"up to {limit} open files: connections capped at {cap}"
    if cap < ROOM:
        return Finding(
            "Open files",
            WARN,
            f"{detail}, fewer than a room of {ROOM} phones",
            f"raise the hard limit (LimitNOFILE= in the unit, `ulimit -Hn`) to {ROOM + FILES_KEPT} or more",
        )
    return Finding("Open files", OK, detail)


# -- data ----------------------------------------------------------------------------------------------


def data_dir_finding(data_dir: Path) -> Finding:
    """The games are written there: it must be a writable directory (or one `serve` can make)."""
    user = _user(os.geteuid())
    if data_dir.exists() and not data_dir.is_dir():
        return Finding("Data", FAIL, f"{data_dir} is not a directory", "choose another --data-dir")
    if not data_dir.exists():
        parent = _existing(data_dir)
        if _writable(parent):
            return Finding("Data", OK, f"{data_dir} does not exist yet: serve makes it at the first start")
        return Finding(
            "Data",
            FAIL,
            f"{data_dir} cannot be made: {parent} is not writable by {user}",
            f"make it: `sudo install -d -o {user} -m 700 {data_dir}`",
        )
    owner = _user(data_dir.stat().st_uid)
    if not _writable(data_dir):
        return Finding(
            "Data",
            FAIL,
            f"{data_dir} (owned by {owner}) is not writable by {user}",
            f"`sudo chown -R {user} {data_dir}`, or run as its owner",
        )
    database = data_dir / "engagements.db"
    held = f"{_size(database.stat().st_size)} of games" if database.exists() else "no games yet"
    if owner != user:
        return Finding(
            "Data",
            WARN,
            f"{data_dir} is writable, {held}, but owned by {owner}, not {user}",
            f"run doctor as the appliance's user: `sudo -u {owner} engagements doctor ...`",
        )
    return Finding("Data", OK, f"{data_dir} is writable; {held}")


def secret_finding(data_dir: Path) -> Finding:
    """The admin secret opens every game: only its owner may read the file."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        return Finding(
            "Admin secret", OK, f"{path} is made at the first start (unless ENGAGEMENTS_ADMIN_SECRET)"
        )
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        with path.open("rb"):
            pass
    except OSError as e:
        return Finding(
            "Admin secret", FAIL, f"cannot read {path}: {e.strerror}", "run as the appliance's user"
        )
    if mode & 0o077:
        return Finding(
            "Admin secret",
            WARN,
            f"{path} has mode {mode:04o}: other users of this machine can read the secret",
            f"`chmod 600 {path}` (serve also tightens it when it starts)",
        )
    return Finding("Admin secret", OK, f"{path} is readable by its owner only (0600)")


async def read_records(data_dir: Path) -> Records | str | None:
    """The store's records of games and syncs; None without a database, or why it cannot be read."""
    database = data_dir / "engagements.db"
    if not database.exists():
        return None
    owner = database.stat().st_uid
    if owner != os.geteuid():  # its files made by another user (root) could lock the appliance out
        return f"{database} belongs to {_user(owner)}"
    try:
        store = await SQLiteStore.open(database)
    except (StoreError, sqlite3.Error, OSError) as e:
        return str(e)
    try:
        synced = [meta["synced_at"] for meta in await lifecycle.synced(store) if meta.get("synced_at")]
        waiting = await store.query_all(items.FINISHED_GAMES, index=GSI1)
        moments = [
            game[field]
            for game in await lifecycle.recent(store)
            for field in ("created_at", "finished_at", "synced_at")
            if game.get(field)
        ]
    except (StoreError, sqlite3.Error) as e:
        return str(e)
    finally:
        await store.close()
    return Records(
        last_sync=max(synced, default=None),
        waiting=[meta.get("finished_at") or meta["created_at"] for meta in waiting],
        newest=max(moments, default=None),
    )


def sync_finding(now: int, records: Records | str | None) -> Finding:
    """How long finished games have waited for the cloud: until synced, they exist only here."""
    if records is None:
        return Finding("Last sync", OK, "no games on this appliance yet")
    if isinstance(records, str):
        return Finding(
            "Last sync", WARN, f"cannot read the games: {records}", "run doctor as the appliance's user"
        )
    last = f"last sync {_span(now - records.last_sync)} ago" if records.last_sync else "never synced"
    if not records.waiting:
        done = "every finished game is in the cloud" if records.last_sync else "no finished games yet"
        return Finding("Last sync", OK, f"{done}; {last}")
    oldest = now - min(records.waiting)
    detail = (
        f"{_count(len(records.waiting), 'finished game')} not in the cloud yet, the oldest finished "
        f"{_span(oldest)} ago; {last}"
    )
    fix = "when online: `engagements sync` (or serve --auto-sync); until then they exist only here"
    return Finding("Last sync", WARN if oldest > SYNC_STALE_MS else OK, detail, fix)


# -- helpers -------------------------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists."""
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _writable(directory: Path) -> bool:
    """Whether this process can create a file there: tried, since permissions alone do not tell
    (root, ACLs, a read-only mount)."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _span(ms: int) -> str:
    seconds = max(0, ms) // 1000
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _when(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


# -- the command ---------------------------------------------------------------------------------------


def report(findings: list[Finding]) -> str:
    """One line per check, its fix below it; then the count."""
    lines = []
    for f in findings:
        lines.append(f"{f.status:<5} {f.check:<13} {f.detail}")
        if f.fix and f.status != OK:
            lines.append(f"{'':<19} -> {f.fix}")
    failed = sum(f.status == FAIL for f in findings)
    warned = sum(f.status == WARN for f in findings)
    lines.append(f"{_count(failed, 'failure')}, {_count(warned, 'warning')}.")
    return "\n".join(lines)


def _interfaces(ctx: click.Context, param: click.Parameter, value: str) -> list[str] | None:
    try:
        return parse_interfaces(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


def _public_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return join_base_url(value, "", 0) if value else None
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@click.command()
@click.option(
    "--host", envvar="ENGAGEMENTS_HOST", default=Settings.host, show_default=True, help="As serve's."
)
@click.option(
    "--port",
    envvar="ENGAGEMENTS_PORT",
    type=click.IntRange(1, 65535),
    default=Settings.port,
    show_default=True,
    help="As serve's.",
)
@data_dir_option
@click.option(
    "--mdns-interfaces",
    envvar="ENGAGEMENTS_MDNS_INTERFACES",
    default="all",
    show_default=True,
    callback=_interfaces,
    help="Where serve announces (listened on here, never elsewhere).",
)
@click.option("--no-mdns", is_flag=True, envvar="ENGAGEMENTS_NO_MDNS", help="serve does not announce.")
@click.option("--public-url", envvar="ENGAGEMENTS_PUBLIC_URL", callback=_public_url, help="As serve's.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(
    host: str,
    port: int,
    data_dir: Path,
    mdns_interfaces: list[str] | None,
    no_mdns: bool,
    public_url: str | None,
    as_json: bool,
) -> None:
    """Check this machine before a game: port, LAN address, mDNS, disk, clock, data, sync, open files.

    Give it serve's options (or run it with the same ENGAGEMENTS_* environment). Each line is OK, WARN
    or FAIL, with what to do; the exit status is 1 when anything FAILs.
    """
    setup = Setup(host, port, data_dir.absolute(), not no_mdns, mdns_interfaces, public_url)
    findings = asyncio.run(examine(setup))
    if as_json:
        click.echo(json.dumps({"version": __version__, "checks": [asdict(f) for f in findings]}, indent=2))
    else:
        click.echo(f"Engagements {__version__} doctor: port {port}, data in {setup.data_dir}")
        click.echo(report(findings))
    if any(f.status == FAIL for f in findings):
        raise SystemExit(1)
