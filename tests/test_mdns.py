"""mDNS advertising and discovery, entirely on loopback, with another mDNS responder on the host.

Every Zeroconf instance here is bound to 127.0.0.1 so nothing reaches a real
network. For the whole module a second, independent responder runs in a
process of its own (``rival_responder``), as avahi or any other mDNS program
would on a real machine; it also receives every unicast reply sent on
loopback, so these tests pass only if nothing relies on one.
``ENGAGEMENTS_TEST_MDNS_RIVAL=0`` runs them without it.

Advertisers skip the uniqueness probe (``probe=False``) unless a test is about
names clashing, because each test uses a fresh random name; that makes a start
take ~0.45 s instead of ~1.5 s. ``discover`` listens 2 s: a server that has
just announced answers a query only a second later (RFC 6762 section 14).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import zeroconf._core as zeroconf_core
from zeroconf import DNSQuestionType, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from engagements import __version__
from web import mdns
from web.mdns import HTTP_TYPE, SERVICE_TYPE, Advertiser, Found, discover, parse_interfaces

# mDNS on loopback: one worker holds every such test, so no two responders race for 5353 (pyproject).
pytestmark = pytest.mark.xdist_group("mdns")

LOOPBACK = ["127.0.0.1"]
ROOT = Path(__file__).resolve().parent.parent
DISCOVER_TIMEOUT = 2.0

# A zeroconf responder of its own: it publishes an unrelated service and keeps
# browsing for ours (its first questions ask for unicast replies). Its "sink"
# socket is bound to 127.0.0.1:5353 like every responder's, but also connected
# to it, which makes the kernel deliver it every unicast datagram sent from
# port 5353 to 127.0.0.1:5353: the replies to QU questions and to probes, that
# with several responders on one address reach one socket of them only, often
# not the one that asked. It runs until its stdin closes.
RIVAL = f"""
import asyncio, os, socket, sys
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

async def main():
    loop = asyncio.get_running_loop()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sink.bind(("127.0.0.1", 5353))
    sink.connect(("127.0.0.1", 5353))
    sink.setblocking(False)
    loop.add_reader(sink.fileno(), lambda: sink.recv(9000))
    aiozc = AsyncZeroconf(interfaces=["127.0.0.1"])
    info = AsyncServiceInfo(
        "_rival._tcp.local.", f"Rival {{os.getpid()}}._rival._tcp.local.", port=9,
        server=f"rival-{{os.getpid()}}.local.", parsed_addresses=["127.0.0.1"],
    )
    await (await aiozc.async_register_service(info, cooperating_responders=True))
    types = [{SERVICE_TYPE!r}, {HTTP_TYPE!r}]
    browser = AsyncServiceBrowser(aiozc.zeroconf, types, handlers=[lambda **_: None])
    print("ready", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    await browser.async_cancel()
    await aiozc.async_close()

asyncio.run(main())
"""


@pytest.fixture(scope="module", autouse=True)
def rival_responder() -> Iterator[None]:
    if os.environ.get("ENGAGEMENTS_TEST_MDNS_RIVAL") == "0":
        yield
        return
    process = subprocess.Popen(
        [sys.executable, "-c", RIVAL],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = process.stdout.readline()  # type: ignore[union-attr]
        assert ready == "ready\n", process.stderr.read()  # type: ignore[union-attr]
        yield
        assert process.poll() is None, "the rival responder died during the tests"
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def quick_announcements(monkeypatch) -> None:
    """Announcements and goodbyes repeated 20 ms apart instead of 225 and 125, as zeroconf's own tests do.

    Only the spacing of the repeats changes, in this process; probing keeps its RFC timing.
    """
    monkeypatch.setattr(zeroconf_core, "_REGISTER_TIME", 20)
    monkeypatch.setattr(zeroconf_core, "_UNREGISTER_TIME", 20)


def make_advertiser(name: str, *, probe: bool = False, port: int = 8123, **kwargs) -> Advertiser:
    return Advertiser(
        LOOPBACK,
        name=name,
        port=port,
        addresses=["127.0.0.1"],
        path="/join",
        version="9.9.9",
        probe=probe,
        **kwargs,
    )


@pytest.fixture
def name() -> str:
    return f"Test Quiz {uuid.uuid4().hex[:8]}"


@pytest.fixture
async def advertiser(name: str) -> AsyncIterator[Advertiser]:
    advertiser = make_advertiser(name)
    await advertiser.start()
    yield advertiser
    await advertiser.stop()


async def discover_cli(timeout: float = DISCOVER_TIMEOUT) -> list[dict]:
    """``engagements discover --json`` on loopback, in a process of its own."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "web.cli", "discover", "--interfaces", "127.0.0.1", "--timeout", str(timeout), "--json"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


async def test_discover_finds_a_running_server_not_a_stopped_one(advertiser: Advertiser, name: str) -> None:
    gone = make_advertiser(f"{name} gone", port=8124)
    await gone.start()
    await gone.stop()
    await gone.stop()  # idempotent
    # A server answers at once, by multicast, unless it multicast the answer in the last second; the
    # browse lasts 3 s so that a loaded machine (the suite on three workers) still hears it.
    await asyncio.sleep(1.0)

    found = await discover(LOOPBACK, timeout=3.0)

    assert (
        Found(
            name=name,
            host=f"test-quiz-{name[-8:]}.local.",
            addresses=("127.0.0.1",),
            port=8123,
            path="/join",
            version="9.9.9",
        )
        in found
    )
    assert f"{name} gone" not in {item.name for item in found}
    assert found == sorted(found, key=lambda item: item.name)


async def test_visible_as_http_service_until_goodbye(name: str) -> None:
    events: asyncio.Queue[tuple[str, ServiceStateChange]] = asyncio.Queue()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        events.put_nowait((name, state_change))

    async def next_event_for(instance: str) -> ServiceStateChange:
        while True:
            seen, change = await asyncio.wait_for(events.get(), timeout=3)
            if seen == instance and change is not ServiceStateChange.Updated:
                return change

    async with AsyncZeroconf(interfaces=LOOPBACK) as browser_zc:
        browser = AsyncServiceBrowser(
            browser_zc.zeroconf, HTTP_TYPE, handlers=[on_change], question_type=DNSQuestionType.QM
        )
        advertiser = make_advertiser(name)
        await advertiser.start()
        try:
            assert await next_event_for(f"{name}.{HTTP_TYPE}") is ServiceStateChange.Added
        finally:
            await advertiser.stop()
        # Only goodbye packets make the entry go away this fast; without them it would linger for its TTL.
        assert await next_event_for(f"{name}.{HTTP_TYPE}") is ServiceStateChange.Removed
        await browser.async_cancel()


async def test_name_clash_is_resolved_by_renaming(advertiser: Advertiser, name: str) -> None:
    rival = make_advertiser(name, probe=True, port=8124)
    await rival.start()
    try:
        assert rival.name == f"{name}-2"
        assert advertiser.name == name
        found = {item.name: item for item in await discover(LOOPBACK, timeout=DISCOVER_TIMEOUT)}
    finally:
        await rival.stop()

    assert found[name].port == 8123
    assert (found[f"{name}-2"].port, found[f"{name}-2"].host) == (8124, f"test-quiz-{name[-8:]}-2.local.")


async def test_servers_whose_probes_crossed_settle_on_two_names(name: str, monkeypatch) -> None:
    # Two appliances powered on together: each probes while the other does, so
    # neither defends the name and both announce it. Simulated by probes that
    # nobody hears: none at all.
    monkeypatch.setattr(mdns, "_PROBES", 0)
    monkeypatch.setattr(mdns, "_PROBE_DELAY", (0.0, 0.0))
    renamed: list[str] = []
    first = make_advertiser(name, probe=True, port=8123, on_rename=renamed.append)
    second = make_advertiser(name, probe=True, port=8124, on_rename=renamed.append)
    await asyncio.gather(first.start(), second.start())
    try:
        async with asyncio.timeout(5):
            while first.name == second.name:
                await asyncio.sleep(0.05)
        assert {first.name, second.name} == {name, f"{name}-2"}
        assert renamed == [f"{name}-2"]
        found = {item.name: item.port for item in await discover(LOOPBACK, timeout=DISCOVER_TIMEOUT)}
    finally:
        await asyncio.gather(first.stop(), second.stop())

    assert found[first.name] == 8123 and found[second.name] == 8124


class Served:
    """``engagements serve`` on loopback in a process of its own, as a venue would run it (probing on)."""

    def __init__(self, data_dir: Path, name: str) -> None:
        self.data_dir, self.requested = data_dir, name
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0
        self.name = ""
        self.output: list[str] = []

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", "0"),
            *("--data-dir", str(self.data_dir), "--mdns-interfaces", "127.0.0.1", "--name", self.requested),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        async with asyncio.timeout(20):
            while not self.name:
                line = (await self.process.stdout.readline()).decode()
                assert line, "".join(self.output)
                self.output.append(line)
                if console := re.search(r"Host console:  http://127\.0\.0\.1:(\d+)/", line):
                    self.port = int(console[1])
                if announced := re.search(r"Announced over mDNS as '(.+)' on 127\.0\.0\.1", line):
                    self.name = announced[1]

    async def stop(self) -> str:
        if self.process is None or self.process.returncode is not None:
            return "".join(self.output)
        self.process.send_signal(signal.SIGTERM)
        stdout, _ = await asyncio.wait_for(self.process.communicate(), timeout=10)
        return "".join(self.output) + stdout.decode()


async def test_two_served_appliances_with_one_name_are_both_discovered(tmp_path: Path, name: str) -> None:
    """``engagements discover``, in a process of its own, lists both, each under its own name and URL."""
    # Two Raspberry Pis with the default hostname at one venue: the second is switched on while the first
    # runs. (Switched on together, they end up the same way: see the test above.)
    served = [Served(tmp_path / "one", name), Served(tmp_path / "two", name)]
    try:
        for appliance in served:
            await appliance.start()
        servers = [server for server in await discover_cli() if server["name"].startswith(name)]
    finally:
        outputs = await asyncio.gather(*(appliance.stop() for appliance in served))

    assert [appliance.name for appliance in served] == [name, f"{name}-2"], outputs
    assert sorted((server["name"], server["url"], server["version"]) for server in servers) == [
        (appliance.name, f"http://127.0.0.1:{appliance.port}/", __version__) for appliance in served
    ]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_signal_while_mdns_starts_stops_the_server_at_once(server_process, name: str, sig) -> None:
    server = server_process("--mdns-interfaces", "127.0.0.1", "--name", name)
    await server.start()  # returns once HTTP answers: mDNS is probing right then
    assert server.proc is not None
    server.proc.send_signal(sig)
    sent = time.monotonic()
    returncode = await asyncio.to_thread(server.proc.wait, 10)

    assert returncode == 0
    assert time.monotonic() - sent < 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("all", None),
        (" ALL ", None),
        ("127.0.0.1", ["127.0.0.1"]),
        ("127.0.0.1, ::1", ["127.0.0.1", "::1"]),
    ],
)
def test_parse_interfaces(value: str | None, expected: list[str] | None) -> None:
    assert parse_interfaces(value) == expected


@pytest.mark.parametrize("value", ["eth0", "127.0.0.1,localhost", "300.1.1.1"])
def test_parse_interfaces_rejects_malformed_addresses(value: str) -> None:
    with pytest.raises(ValueError, match="invalid mDNS interface address"):
        parse_interfaces(value)


@pytest.mark.parametrize(
    ("number", "expected"),
    [(1, "Quiz"), (2, "Quiz-2"), (12, "Quiz-12")],
)
def test_numbered_names(number: int, expected: str) -> None:
    assert mdns._numbered("Quiz", number) == expected


def test_numbered_names_fit_one_dns_label() -> None:
    long = "Engagements on " + "é" * 30  # 75 bytes in UTF-8
    numbered = mdns._numbered(long, 2)
    assert numbered.endswith("-2") and len(numbered.encode()) <= 63
    numbered.encode().decode()  # no half character left at the cut


async def test_discover_escapes_a_name_heard_on_the_network(name: str) -> None:
    """A name announced by anyone on the Wi-Fi is printed escaped: it cannot drive the terminal."""
    # zeroconf refuses ASCII controls in names; C1 controls (\x9b is CSI to many terminals) and bidi
    # overrides it lets through.
    hostile = make_advertiser(f"{name} \x9b31m\u202e", port=8125)
    await hostile.start()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "web.cli", "discover", "--interfaces", "127.0.0.1", "--timeout", str(DISCOVER_TIMEOUT)),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        await hostile.stop()
    out = stdout.decode()
    assert process.returncode == 0, stderr.decode()
    assert f"{name} \\x9b31m\\u202e" in out, out
    assert "\x9b" not in out and "\u202e" not in out
