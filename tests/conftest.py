"""Fixtures: a real server on 127.0.0.1 with a throwaway data directory, and real WebSocket clients."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import ipaddress
import itertools
import os
import signal
import socket
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.browsers import chromium
from web.app import create_app
from web.keys import GAMES
from web.server import serve
from web.settings import Settings

# Tests send traffic only to loopback: a boto3 client made without an endpoint of its own (a thread
# that outlived its test's environment, a forgotten override) goes to a closed port on 127.0.0.1,
# never to *.amazonaws.com. An explicit endpoint or AWS_ENDPOINT_URL_<SERVICE> still wins.
os.environ.setdefault("AWS_ENDPOINT_URL", "http://127.0.0.1:9")

# The admin secret of every test server; what `serve` would print once in the console link.
ADMIN_SECRET = "test-admin-secret-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}


@pytest.fixture
def settings(tmp_path, unused_tcp_port) -> Settings:
    return Settings(
        host="127.0.0.1",
        port=unused_tcp_port,
        data_dir=tmp_path / "data",
        mdns=False,
        public_url=f"http://127.0.0.1:{unused_tcp_port}",
        admin_secret=ADMIN_SECRET,
    )


@pytest.fixture
async def server(aiohttp_server, settings):
    server = await aiohttp_server(create_app(settings), host="127.0.0.1", port=settings.port)
    server.app[GAMES].keep_delay = 0.01  # finished games settle at once (test_sync tests the delay)
    return server


@pytest.fixture
async def http(server):
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
        yield session


# How long a view waits for a message it expects: a guard against a hung test, never a latency target
# (benchmarks measure those). Generous, because a loaded machine runs the cloud's double slowly: every
# command there is a handler invocation against moto.
WAIT = 20


class Client:
    """One view's socket, as a phone or the host console would use it."""

    _ids = itertools.count()

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.inbox: list[dict[str, Any]] = []
        self.seen: list[dict[str, Any]] = []

    async def send(self, type_: str, **fields: Any) -> str:
        msg = {"type": type_, **fields}
        if type_ not in ("hello", "ping", "sync") and "id" not in fields:
            msg["id"] = f"c{next(self._ids)}"
        await self.ws.send_json(msg)
        return msg.get("id", "")

    async def receive(self, timeout: float = WAIT) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, f"socket closed: {msg}"
        data = msg.json()
        self.seen.append(data)
        return data

    async def expect(self, type_: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The next message of `type_` (matching `match`), keeping the others for later."""
        for i, m in enumerate(self.inbox):
            if m["type"] == type_ and all(m.get(k) == v for k, v in match.items()):
                return self.inbox.pop(i)
        async with asyncio.timeout(timeout):
            while True:
                m = await self.receive(timeout)
                if m["type"] == type_ and all(m.get(k) == v for k, v in match.items()):
                    return m
                self.inbox.append(m)

    async def command(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a command and return its ack or error."""
        cmd_id = await self.send(type_, **fields)
        async with asyncio.timeout(WAIT):
            while True:
                m = await self.receive()
                if m["type"] in ("ack", "error") and m.get("id") == cmd_id:
                    return m
                self.inbox.append(m)

    async def ok(self, type_: str, **fields: Any) -> dict[str, Any]:
        reply = await self.command(type_, **fields)
        assert reply["type"] == "ack", reply
        return reply

    async def phase(self, phase: str, timeout: float = WAIT) -> dict[str, Any]:
        return await self.expect("phase_changed", timeout, phase=phase)

    async def you(self, field: str, timeout: float = WAIT) -> dict[str, Any]:
        """The next `you` message that carries `field` (a ballot, a result, a standing)."""
        async with asyncio.timeout(timeout):
            while True:
                you = await self.expect("you", timeout)
                if you.get(field) is not None:
                    return you


@dataclasses.dataclass
class Appliance:
    """The appliance as `engagements serve` runs it (its gate, its timeouts), in the test's own loop."""

    port: int
    url: str

    def session(self, address: str = "127.0.0.1") -> aiohttp.ClientSession:
        """A client on its own address: another phone on the network."""
        connector = aiohttp.TCPConnector(local_addr=(address, 0), force_close=True)
        return aiohttp.ClientSession(base_url=self.url, connector=connector)

    def raw(self, address: str = "127.0.0.1") -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5, source_address=(address, 0))


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Appliance]:
    ready = asyncio.Event()
    task = asyncio.create_task(serve(settings, ready))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    try:
        yield Appliance(settings.port, f"http://127.0.0.1:{settings.port}")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def appliance_socket(game_id: str) -> str:
    """The appliance's WebSocket for a game, on the HTTP session's own server."""
    return f"/ws/{game_id}"


class Table:
    """A game on the real server: the host's socket and the players' sockets.

    `socket_url` says where a game's WebSocket is: the appliance's `/ws/<id>`, or the WebSocket API's
    `ws://…/<stage>?game=<id>` (the pages speak the same protocol to both, only the URLs differ).
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        created: dict[str, Any],
        socket_url: Callable[[str], str] = appliance_socket,
    ) -> None:
        self.http = http
        self.socket_url = socket_url
        self.created = created
        self.game_id: str = created["game_id"]
        self.host: Client
        self.players: dict[str, Client] = {}
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    async def connect(self, token: str, view: str) -> tuple[Client, dict[str, Any]]:
        ws = await self.http.ws_connect(self.socket_url(self.game_id))
        client = Client(ws)
        await client.send("hello", token=token, view=view)
        return client, await client.expect("snapshot")

    async def join(self, nickname: str) -> Client:
        async with self.http.post(
            "/api/join", json={"code": self.created["code"], "nickname": nickname}
        ) as r:
            assert r.status == 200, await r.text()
            body = await r.json()
        self.tokens[nickname], self.ids[nickname] = body["player_token"], body["player_id"]
        client, _ = await self.connect(body["player_token"], "player")
        self.players[nickname] = client
        return client

    async def close(self) -> None:
        for client in [self.host, *self.players.values()]:
            await client.ws.close()


async def create_game(
    http: aiohttp.ClientSession,
    prompts: list[str] | None = None,
    socket_url: Callable[[str], str] = appliance_socket,
    **extra: Any,
) -> Table:
    body = {
        "title": "Quiz night",
        "prompts": prompts or ["A bad name for a cat", "The worst pizza topping"],
        **extra,
    }
    async with http.post("/api/games", json=body, headers=ADMIN) as r:
        assert r.status == 201, await r.text()
        table = Table(http, await r.json(), socket_url)
    table.host, _ = await table.connect(table.created["host_token"], "host")
    return table


def pack_upload(data: str | bytes, filename: str = "", **extra: Any) -> dict[str, Any]:
    """`POST /api/packs/parse`'s JSON body for a file: its name and its bytes in base64."""
    raw = data.encode() if isinstance(data, str) else data
    return {"filename": filename, "data": base64.b64encode(raw).decode(), **extra}


@pytest.fixture
def table_factory(http):
    tables: list[Table] = []

    async def make(**kwargs: Any) -> Table:
        table = await create_game(http, **kwargs)
        tables.append(table)
        return table

    return make


@contextlib.asynccontextmanager
async def local_stack(moto_endpoint: str, cloud_table: str, ports: Callable[[], int], *, pages: bool = False):
    """The cloud stack as deploy/realtime.yaml and deploy/http.yaml wire it, run by the local gateway
    (tests/cloudlocal, a test double of API Gateway and Lambda) on the test's table; with `pages`, also the
    browser pages rendered for it, on a third port (`make cloud-local`'s stand-in for S3 and CloudFront)."""
    from tests.cloudlocal.__main__ import local_parameters
    from tests.cloudlocal.gateway import Gateway
    from tests.cloudlocal.gateway import Settings as GatewaySettings

    base = "engagements-dev"
    deploy = Path(__file__).resolve().parents[1] / "deploy"
    settings = GatewaySettings(
        templates=[deploy / "realtime.yaml", deploy / "http.yaml"],
        aws_endpoint=moto_endpoint,
        port=ports(),
        http_port=ports(),
        pages_port=ports() if pages else None,
        exports={
            f"{base}-TableName": cloud_table,
            f"{base}-TableArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{cloud_table}",
        },
        environment={"ADMIN_SECRET": ADMIN_SECRET},
    )
    settings.parameters = local_parameters(base, settings.pages_url)
    gateway = Gateway(settings)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.close()


@pytest.fixture
async def cloud_local(moto_endpoint, cloud_table, unused_tcp_port_factory):
    """`local_stack`: an HTTP session on its HTTP API, and where a game's WebSocket is."""
    async with (
        local_stack(moto_endpoint, cloud_table, unused_tcp_port_factory) as gateway,
        aiohttp.ClientSession(base_url=gateway.settings.http_url) as session,
    ):
        socket = gateway.endpoints.socket
        yield session, lambda game_id: socket.replace("{game}", game_id)


@pytest.fixture
async def cloud_pages(moto_endpoint, cloud_table, unused_tcp_port_factory):
    """`local_stack` with the pages: the gateway (its `settings.pages_url` is where a browser goes)."""
    async with local_stack(moto_endpoint, cloud_table, unused_tcp_port_factory, pages=True) as gateway:
        assert gateway.serves_pages
        yield gateway


@pytest.fixture(params=["appliance", "cloud-local"])
def any_table_factory(request):
    """`table_factory` on the appliance, then on the cloud stack (`cloud_local`): one test, both runtimes."""
    if request.param == "appliance":
        return request.getfixturevalue("table_factory")
    http, socket_url = request.getfixturevalue("cloud_local")

    async def make(**kwargs: Any) -> Table:
        return await create_game(http, socket_url=socket_url, **kwargs)

    return make


class ServerProcess:
    """`engagements serve` in a process of its own, so a test can kill -9 it like a power cut.

    With ``tls`` (a client context trusting the test certificate) the options must name the certificate:
    the server speaks HTTPS, and finds its join URL by itself. ``admin_secret=None`` lets it make its own.
    ``program`` runs another installation's `engagements` (tests/test_wheel.py), from ``cwd``.
    """

    def __init__(
        self,
        data_dir,
        port: int,
        *extra: str,
        tls: ssl.SSLContext | None = None,
        admin_secret: str | None = ADMIN_SECRET,
        program: Sequence[str] = (sys.executable, "-m", "web.cli"),
        cwd: Path | None = None,
    ) -> None:
        self.data_dir, self.port, self.extra = data_dir, port, extra
        self.program, self.cwd = program, cwd
        self.tls, self.admin_secret = tls, admin_secret
        self.proc: subprocess.Popen | None = None
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"

    async def start(self) -> None:
        args = [*self.program, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        args += ["--data-dir", str(self.data_dir), *self.extra]
        if self.tls is None:
            args += ["--public-url", self.url]
        env = {k: v for k, v in os.environ.items() if k != "ENGAGEMENTS_ADMIN_SECRET"}
        env.setdefault("ENGAGEMENTS_MDNS_INTERFACES", "127.0.0.1")  # the network rule, whatever the options
        if self.admin_secret is not None:
            env["ENGAGEMENTS_ADMIN_SECRET"] = self.admin_secret
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=self.cwd
        )
        # Each probe bounded: a port taken meanwhile by another program must fail the start, never hang it.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            for _ in range(200):
                try:
                    async with session.get(f"{self.url}/healthz", ssl=self.tls or True) as r:
                        if r.status == 200:
                            return
                except (aiohttp.ClientConnectionError, TimeoutError):
                    pass
                assert self.proc.poll() is None, self.proc.stdout.read()
                await asyncio.sleep(0.05)
        raise TimeoutError("the server did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, exactly like pulling the plug."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> str:
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stdout.read()


@pytest.fixture
def server_process(tmp_path, unused_tcp_port):
    procs: list[ServerProcess] = []

    def make(*extra: str, **options: Any) -> ServerProcess:
        proc = ServerProcess(tmp_path / "data", unused_tcp_port, *extra, **options)
        procs.append(proc)
        return proc

    yield make
    for proc in procs:
        proc.stop()


# -- a certificate of our own, for HTTPS and WSS on 127.0.0.1 -------------------------------------


class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, and a client context that trusts it."""

    def __init__(self, directory) -> None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Engagements test")])
        now = datetime.datetime.now(datetime.UTC)
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.certfile, self.keyfile = directory / "cert.pem", directory / "key.pem"
        self.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.keyfile.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.client = ssl.create_default_context(cafile=str(self.certfile))


@pytest.fixture
def certificate(tmp_path) -> Certificate:
    directory = tmp_path / "tls"
    directory.mkdir()
    return Certificate(directory)


# -- a DynamoDB-compatible server of our own, on loopback ------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's server mode on 127.0.0.1: a real HTTP DynamoDB (and CloudFormation) endpoint, its
    transactions made to save their own items only (tests/cloudlocal/transactions.py)."""
    from moto.server import ThreadedMotoServer

    from tests.cloudlocal.transactions import install

    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Dummy credentials and a region, and no profile or config file of the machine's."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def cloud_table(moto_endpoint, aws_env) -> str:
    """A fresh cloud table with the schema the store expects."""
    import boto3

    from engagements.store.schema import create_table

    name = f"cloud-{uuid.uuid4().hex[:10]}"
    create_table(boto3.client("dynamodb", endpoint_url=moto_endpoint), name)
    return name


# -- headless Chromium ------------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """One Chromium per test (tests/browsers.py)."""
    async with chromium() as b:
        yield b
