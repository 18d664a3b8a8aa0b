"""The fuzzing harness: a real `engagements serve`, three games, and hypothesis strategies for every
WebSocket message and HTTP route, played against it by real clients on 127.0.0.1.

The games:
- A, the fuzzed game: the fuzzer holds its host token and its players' tokens, so host commands (even
  `end_game`) are fair play; a new A is made now and then, so the fuzz keeps reaching a live game.
- P, the played game: the fuzzer holds only its players' tokens; after the fuzz, its trusted host and
  a player who joined before it (Nora) play a round to its results.
- B, the secret game: the fuzzer holds none of its tokens. Its prompt, nicknames and answers carry a
  marker that must never reach the fuzzer, and nothing the fuzzer does may change it.

Each client session comes from its own loopback address (127.x.y.z), as phones in a room would, so the
per-address limits meet a room rather than one flooding client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import string
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from hypothesis import strategies as st
from yarl import URL

from tests.conftest import ADMIN_SECRET, Client, Table, create_game
from web.websocket import MAX_FRAME_IN

REPLIES = frozenset({"ack", "error", "pong", "snapshot", "players", "results"})  # one per message sent
LOG_FAULTS = ("Traceback", "engagements.faults", "Error handling request")
REPLY_TIMEOUT = 10.0

# -- the server ------------------------------------------------------------------------------------


class LoggedServer:
    """`engagements serve` in its own process, its output in a file the fuzz reads as it goes."""

    def __init__(self, data_dir: Path, port: int, log_path: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.args = [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        self.args += ["--data-dir", str(data_dir), "--public-url", self.url, "--no-mdns"]
        self.args += ["--admin-secret", ADMIN_SECRET]  # the trusted hosts' games; the fuzz never has it
        self.log_path = log_path
        self.read_to = 0
        self.proc: subprocess.Popen | None = None

    async def start(self) -> None:
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with session.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                assert self.proc.poll() is None, self.log()
                await asyncio.sleep(0.05)
        raise TimeoutError("the server did not start")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def new_log(self) -> str:
        """What the server logged since the last call."""
        with self.log_path.open("rb") as f:
            f.seek(self.read_to)
            data = f.read()
        self.read_to += len(data)
        return data.decode(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def log_faults(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(f in line for f in LOG_FAULTS)]


# -- the games -------------------------------------------------------------------------------------


async def trusted_session(url: str, source: str = "127.0.0.1") -> aiohttp.ClientSession:
    """The session of the test's own hosts and players, from `source`. Every game the harness makes
    is made through one of these (see `new_game`, which sends the admin secret)."""
    return aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(local_addr=(source, 0)))


async def new_game(http: aiohttp.ClientSession, prompts: list[str], **extra: Any) -> Table:
    """A game made the way a host makes one, its host console connected."""
    return await create_game(http, prompts, question_seconds=600, vote_seconds=600, **extra)


@dataclass
class Games:
    """What the fuzzer may use (A's and P's tokens, B's ids) and what it must never see (B's marker)."""

    a: Table
    p: Table
    b: Table
    marker: str
    nora: str = ""  # P's player token, for after the fuzz
    made: int = 1  # how many games A have been made

    async def replace_a(self, url: str) -> None:
        """A new A: the fuzzer's host commands end (or lock) an A sooner or later."""
        await self.a.http.close()
        self.a = await new_a(url, self.made)
        self.made += 1

    def tokens(self) -> list[str]:
        return [self.a.created["host_token"], *self.a.tokens.values(), *self.p.tokens.values()]

    def game_ids(self) -> list[str]:
        return [self.a.game_id, self.p.game_id, self.b.game_id]

    def player_ids(self) -> list[str]:
        return [*self.a.ids.values(), *self.p.ids.values(), *self.b.ids.values()]

    def identities(self) -> list[tuple[str, str, str]]:
        """(game id, token, view) for a hello: A's host and players, P's players, and tokens taken to
        a game they do not open (B's above all)."""
        a, p, b = self.a, self.p, self.b
        host = a.created["host_token"]
        valid = [(a.game_id, host, "host"), (a.game_id, host, "screen")]
        valid += [(a.game_id, t, "player") for t in a.tokens.values()]
        valid += [(p.game_id, t, "player") for t in p.tokens.values()]
        crossed = [(b.game_id, host, "host"), (b.game_id, host, "screen"), (p.game_id, host, "host")]
        crossed += [(b.game_id, t, "player") for t in [*a.tokens.values(), *p.tokens.values()]]
        return valid * 4 + crossed

    def codes(self) -> list[str]:
        return [self.a.created["code"], self.p.created["code"]]


async def set_up_games(url: str) -> Games:
    marker = f"SECRET{uuid.uuid4().hex}"
    b = await new_game(await trusted_session(url, "127.254.0.1"), [f"{marker} prompt"], title="The other")
    for nick in ("Bea", "Bob"):
        await b.join(f"{nick}{marker[6:14]}")
    await b.host.ok("start")
    for nick, player in b.players.items():
        await player.ok("answer", round=0, text=f"{marker} from {nick}")
    await b.host.phase("voting")
    p = await new_game(
        await trusted_session(url, "127.254.0.2"), ["First", "Second", "Third"], title="Played"
    )
    for nick in ("Pam", "Pip", "Nora"):
        await p.join(nick)
    await p.host.ok("start")
    games = Games(a=await new_a(url, 0), p=p, b=b, marker=marker, nora=p.tokens["Nora"])
    p.tokens.pop("Nora")  # the fuzzer never gets Nora's token
    for table in (b, p):
        await table.close()
    return games


async def new_a(url: str, n: int) -> Table:
    """The n-th game A, made from an address of its own (so no per-address limit is met)."""
    http = await trusted_session(url, f"127.255.{n // 250 % 250}.{1 + n % 250}")
    a = await new_game(http, ["One", "Two"], title="Fuzzed")
    for nick in ("Ann", "Abe", "Ada"):
        await a.join(nick)
    await a.close()
    return a


async def close_games(games: Games) -> None:
    for table in (games.a, games.b, games.p):
        await table.http.close()


# -- strategies ------------------------------------------------------------------------------------

TEXT = st.text(max_size=40)  # any character a UTF-8 frame can carry (lone surrogates: see `frames`)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=12,
)
SMALL_INTS = st.integers(-2, 6)


def one_of_or_json(*strategies: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(*strategies, JSON)


def current(pool: Callable[[], list[Any]]) -> st.SearchStrategy[Any]:
    """One of `pool()`'s values at the time of drawing: A is replaced during the fuzz."""
    return st.integers(0, 999).map(lambda i: (lambda values: values[i % len(values)])(pool()))


def plausible_values(games: Games) -> dict[str, st.SearchStrategy]:
    """Each field of the protocol, as a client that means well would fill it."""
    return {
        "token": current(games.tokens),
        "view": st.sampled_from(["host", "screen", "player"]),
        "t": st.integers(0, 2**53),
        "round": st.integers(0, 2),
        "phase": st.sampled_from(["question", "voting", "results"]),
        "text": st.text(min_size=1, max_size=150),
        "option": st.from_regex(r"o[a-z2-7]{16}", fullmatch=True),
        "player": current(games.player_ids),
        "locked": st.booleans(),
        "query": st.text(max_size=5),
        "offset": st.integers(0, 30),
        "id": st.text(string.ascii_letters, min_size=1, max_size=8),
    }


def field_values(games: Games) -> dict[str, st.SearchStrategy]:
    """Each field of the protocol: its plausible values, its edge values, and any JSON at all."""
    plausible = plausible_values(games)
    tokens = st.builds(lambda t, n: t[:n], current(games.tokens), SMALL_INTS)
    edges = {
        "token": tokens | TEXT,
        "view": st.sampled_from(["HOST", "", "admin"]),
        "t": st.integers() | st.floats(allow_nan=False, allow_infinity=False),
        "round": st.integers(),
        "phase": st.sampled_from(["lobby", "finished", "Question"]),
        "text": st.text(max_size=200) | st.just("") | st.just(" \t\n"),
        "option": TEXT,
        "player": TEXT,
        "locked": st.integers(0, 1),
        "query": st.text(max_size=60),
        "offset": st.integers(),
        "id": st.text(max_size=70),
    }
    return {name: st.one_of(plausible[name], edges[name], JSON) for name in plausible}


MESSAGE_FIELDS = {  # every client message of protocol.md, with its fields
    "hello": ("token", "view"),
    "ping": ("t",),
    "sync": (),
    "answer": ("id", "round", "text"),
    "vote": ("id", "round", "option"),
    "start": ("id",),
    "end_phase": ("id", "round", "phase"),
    "next": ("id", "round"),
    "skip": ("id", "round"),
    "kick": ("id", "player"),
    "lock": ("id", "locked"),
    "end_game": ("id",),
    "players": ("query", "offset", "id"),
    "results": ("round", "offset", "id"),
}


def typed_message(games: Games) -> st.SearchStrategy[dict[str, Any]]:
    """Each client message of protocol.md: as meant, with odd values, or with fields left out."""
    values, plausible = field_values(games), plausible_values(games)

    def of(type_: str) -> st.SearchStrategy[dict[str, Any]]:
        fields = MESSAGE_FIELDS[type_]
        meant = st.fixed_dictionaries({"type": st.just(type_), **{f: plausible[f] for f in fields}})
        odd = st.fixed_dictionaries({"type": st.just(type_), **{f: values[f] for f in fields}})
        partial = st.fixed_dictionaries({"type": st.just(type_)}, optional={f: values[f] for f in fields})
        return st.one_of(meant, meant, odd, partial)

    return st.one_of(*(of(t) for t in MESSAGE_FIELDS))


@dataclass(frozen=True)
class Frame:
    """One WebSocket frame: text (valid UTF-8 by construction) or bytes sent as binary or as
    would-be text (invalid UTF-8 there makes the server close the socket: protocol.md)."""

    data: str | bytes
    as_text: bool = True

    def closes(self) -> int | None:
        """The close code the server answers this frame with, if any (protocol.md)."""
        if isinstance(self.data, bytes):
            return 1007 if self.as_text else None
        return 1009 if len(self.data.encode()) > MAX_FRAME_IN else None


def frames(games: Games) -> st.SearchStrategy[Frame]:
    encoded = typed_message(games).map(lambda m: Frame(json.dumps(m, ensure_ascii=False)))
    malformed = weighted(
        *(
            (kind, 1)
            for kind in (
                JSON.map(lambda v: Frame(json.dumps(v))),  # well-formed JSON of any shape
                st.text(max_size=80).map(Frame),  # not JSON at all
                encoded.map(lambda f: Frame(f.data[: len(f.data) // 2])),  # cut short
                DEPTHS.map(lambda n: Frame("[" * n + "]" * n)),  # deep (up to what fits in 4 KB)
                DEPTHS.map(lambda n: Frame("[" * 2 * n)),  # deep and never closed
                DEPTHS.map(lambda n: Frame('{"a":' * (n // 3) + "1" + "}" * (n // 3))),
                st.sampled_from(NOT_JSON_NUMBERS + LONE_SURROGATES).map(Frame),
                st.integers(4097, 60_000).map(
                    lambda n: Frame('{"type":"ping","t":1}' + " " * n)
                ),  # too large
                st.binary(max_size=60).map(lambda b: Frame(b, as_text=False)),
            )
        )
    )
    closing = st.one_of(
        st.binary(max_size=40).map(lambda b: Frame(b + b"\xff", as_text=True)),  # not UTF-8
        st.integers(MAX_FRAME_IN + 1, MAX_FRAME_IN + 4000).map(lambda n: Frame(" " * n)),  # over the limit
    )
    # A frame that closes the socket ends the visit, so it comes rarely: about one visit in ten.
    return weighted((encoded, 60), (malformed, 36), (closing, 1))


def weighted(*choices: tuple[st.SearchStrategy, int]) -> st.SearchStrategy:
    """One of the strategies, about as often as its weight says (`one_of` favours the first ones)."""
    return st.sampled_from([strategy for strategy, weight in choices for _ in range(weight)]).flatmap(
        lambda strategy: strategy
    )


DEPTHS = st.integers(1, 2048) | st.sampled_from([16, 17, 999, 1000, 1001, 2000, 2048])
NOT_JSON_NUMBERS = ['{"type":"ping","t":NaN}', '{"type":"ping","t":-Infinity}', '{"type":"ping","t":1e999}']
LONE_SURROGATES = ['{"type":"ping","id":"\\ud800"}', '{"\\udfff":1}', '{"type":"players","query":"\\ud83d"}']


@dataclass(frozen=True)
class WsVisit:
    game_id: str
    hello: dict[str, Any] | None
    frames: list[Frame]


def ws_visits(games: Games) -> st.SearchStrategy[WsVisit]:
    """A socket: mostly a hello that opens it (or tries another game's), then the frames."""
    values = field_values(games)
    fuzzed = st.fixed_dictionaries(
        {"type": st.just("hello"), "token": values["token"], "view": values["view"]}
    )
    any_game = current(games.game_ids) | st.text(
        string.ascii_letters + string.digits, min_size=1, max_size=20
    )

    identity = current(games.identities)
    other_hello = st.none() | fuzzed
    frame_lists = st.lists(frames(games), min_size=8, max_size=28)

    @st.composite
    def visit(draw: st.DrawFn) -> WsVisit:
        game_id, token, view = draw(identity)
        hello = {"type": "hello", "token": token, "view": view}
        if draw(st.integers(0, 9)) >= 8:  # a hello of any shape, to any game, or none at all
            game_id, hello = draw(any_game), draw(other_hello)
        return WsVisit(game_id, hello, draw(frame_lists))

    return visit()


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # already percent-encoded
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


def path_part(games: Games) -> st.SearchStrategy[str]:
    """A path segment: a real id or code, text (percent-encoded as UTF-8), or any bytes at all."""
    return st.one_of(
        current(lambda: [*games.game_ids(), *games.codes(), "quiz-night", "party", ""]),
        TEXT.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe="")),
        st.binary(max_size=20).map(lambda b: "".join(f"%{c:02X}" for c in b)),
    )


ROUTES = [  # every route of web/routes.py and web/webhook_routes.py, its parameters as {}
    ("GET", "/"),
    ("GET", "/host"),
    ("GET", "/host/{}"),
    ("GET", "/screen/{}"),
    ("GET", "/j/{}"),
    ("GET", "/join"),
    ("GET", "/play/{}"),
    ("POST", "/api/games"),
    ("GET", "/api/games"),
    ("POST", "/api/join"),
    ("GET", "/api/games/{}/qr.svg"),
    ("GET", "/api/games/{}/qr.png"),
    ("GET", "/api/games/{}/results.csv"),
    ("GET", "/api/games/{}/pack.json"),
    ("GET", "/api/games/{}/export.json"),
    ("GET", "/api/games/{}/export.xlsx"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/packs"),
    ("GET", "/api/packs/{}"),
    ("POST", "/api/packs/parse"),
    ("GET", "/healthz"),
    ("GET", "/ws/{}"),
    ("GET", "/static/{}"),
    ("GET", "/types/answer-vote/{}"),
    ("GET", "/admin/webhooks"),
    ("GET", "/api/webhooks"),
    ("POST", "/api/webhooks"),
    ("DELETE", "/api/webhooks/{}"),
    ("POST", "/api/webhooks/{}/test"),
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]


def bodies(games: Games, path: str) -> st.SearchStrategy[bytes | None]:
    json_body = JSON.map(lambda v: json.dumps(v).encode())
    if path == "/api/games":
        shaped = st.fixed_dictionaries(
            {},
            optional={
                "title": one_of_or_json(TEXT, st.text(max_size=120)),
                "prompts": one_of_or_json(
                    st.lists(one_of_or_json(TEXT), max_size=4),
                    st.lists(st.text(max_size=210), min_size=1, max_size=3),
                ),
                "type": one_of_or_json(st.just("answer-vote"), TEXT),
                "question_seconds": one_of_or_json(st.integers(0, 700)),
                "vote_seconds": one_of_or_json(st.integers(0, 700)),
            },
        )
    elif path == "/api/join":
        shaped = st.fixed_dictionaries(
            {},
            optional={
                "code": one_of_or_json(current(games.codes), TEXT),
                "nickname": one_of_or_json(TEXT, st.text(max_size=25)),
                "previous_token": one_of_or_json(current(games.tokens), TEXT),
            },
        )
    elif path == "/api/packs/parse":
        # The body is JSON holding the file in base64: fuzz both the envelope and the file in it.
        csv_file = st.lists(st.text(max_size=40), max_size=6).map(
            lambda rows: "\n".join(rows).encode("utf-8", "surrogatepass")
        )
        pack = st.fixed_dictionaries({}, optional={"title": one_of_or_json(TEXT), "prompts": JSON})
        deep_pack = DEPTHS.map(lambda n: b'{"prompts":' + b"[" * n + b"]" * n + b"}")
        files = weighted(
            (pack.map(lambda v: json.dumps(v).encode()), 3),
            (json_body, 1),
            (csv_file, 3),
            (deep_pack, 1),
            (st.binary(max_size=200), 1),
        )
        upload = st.fixed_dictionaries(
            {"data": one_of_or_json(files.map(lambda b: base64.b64encode(b).decode()))},
            optional={
                "filename": one_of_or_json(st.sampled_from(["p.json", "p.csv", "p.xlsx", "p"]), TEXT),
                "type": one_of_or_json(st.sampled_from(["answer-vote", "quiz", "poll"]), TEXT),
            },
        )
        return weighted(
            (upload.map(lambda v: json.dumps(v).encode()), 6),
            (json_body, 1),
            (st.binary(max_size=200), 1),
            (st.none(), 1),
        )
    else:
        return st.none() | json_body | st.binary(max_size=60)
    deep = (DEPTHS | st.integers(2049, 5000)).map(lambda n: b"[" * n + b"]" * n)
    escapes = st.sampled_from(
        [
            b'{"title":"\\ud800","prompts":["a"]}',
            b'{"nickname":"\\udc00","code":"x"}',
            b'{"vote_seconds":NaN}',
        ]
    )
    return weighted(
        (shaped.map(lambda v: json.dumps(v).encode()), 6),
        (json_body, 1),
        (deep, 1),
        (escapes, 1),
        (st.binary(max_size=80), 1),
        (st.none(), 1),
    )


def requests(games: Games) -> st.SearchStrategy[Request]:
    auth = st.one_of(
        current(games.tokens).map(lambda t: f"Bearer {t}"),
        st.text(string.printable.strip(), max_size=30),
    )
    headers = st.fixed_dictionaries(
        {},
        optional={
            "Authorization": auth,
            "Content-Type": st.sampled_from(
                ["application/json", "text/plain", "text/csv", "multipart/form-data", "x/y"]
            ),
            "Accept": st.sampled_from(["*/*", "application/json", "text/html"]),
        },
    )

    route = st.sampled_from(ROUTES + [r for r in ROUTES if r[0] == "POST"] * 4)  # the API that reads bodies
    part = path_part(games)
    body = {template: bodies(games, template) for _, template in ROUTES}
    other_method = {m: st.sampled_from([m] * 10 + METHODS) for m in METHODS}

    @st.composite
    def request(draw: st.DrawFn) -> Request:
        method, template = draw(route)
        method = draw(other_method[method])
        path = template.format(draw(part)) if "{}" in template else template
        return Request(method, path, draw(headers), draw(body[template]))

    return request()


@dataclass(frozen=True)
class RawHttp:
    """Bytes on a TCP connection to the HTTP port: HTTP-like or not HTTP at all."""

    data: bytes


def raw_http() -> st.SearchStrategy[RawHttp]:
    line = st.builds(
        lambda m, p, v: f"{m} {p} {v}\r\n".encode("utf-8", "surrogatepass"),
        st.sampled_from([*METHODS, "BREW", "get", ""]),
        st.sampled_from(["/", "/api/games", "/healthz", "*", "//", "/api/join"]) | TEXT,
        st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/9.9", ""]),
    )
    header = st.sampled_from(
        [
            b"Host: x",
            b"Content-Length: 5",
            b"Content-Length: -1",
            b"Transfer-Encoding: chunked",
            b"X: \x00",
            b"Bad Header",
            b": v",
        ]
    ) | st.binary(max_size=30)
    return st.builds(
        lambda first, hs, body: RawHttp(
            first + b"".join(h + b"\r\n" for h in hs) + b"Connection: close\r\n\r\n" + body
        ),
        line,
        st.lists(header, max_size=4),
        st.binary(max_size=40),
    ) | st.binary(max_size=120).map(RawHttp)


def visits(games: Games) -> st.SearchStrategy[WsVisit | list[Request] | RawHttp]:
    """A socket with its frames, a keep-alive connection with its requests, or raw bytes."""
    return weighted(
        (ws_visits(games), 5), (st.lists(requests(games), min_size=2, max_size=16), 4), (raw_http(), 1)
    )


# -- running them ----------------------------------------------------------------------------------


@dataclass
class Figures:
    ws_messages: int = 0
    ws_sockets: int = 0
    http_requests: int = 0
    raw_connections: int = 0
    replies: Counter = field(default_factory=Counter)  # WebSocket replies by type, errors by code
    statuses: Counter = field(default_factory=Counter)  # HTTP statuses, errors by code
    closes: Counter = field(default_factory=Counter)  # WebSocket close codes the server chose
    cross_game_reads: int = 0
    tracebacks: int = 0

    def sent(self) -> int:
        return self.ws_messages + self.http_requests + self.raw_connections

    def report(self) -> str:
        lines = [
            f"messages and requests sent: {self.sent():,}",
            f"  WebSocket messages: {self.ws_messages:,} on {self.ws_sockets:,} sockets",
            f"  HTTP requests: {self.http_requests:,}; raw TCP connections: {self.raw_connections:,}",
            "  WebSocket replies: " + ", ".join(f"{k} {v:,}" for k, v in self.replies.most_common()),
            "  HTTP answers: " + ", ".join(f"{k} {v:,}" for k, v in self.statuses.most_common()),
            "  sockets closed by the server: "
            + (", ".join(f"{k} {v:,}" for k, v in self.closes.most_common()) or "0"),
            f"  cross-game reads: {self.cross_game_reads}; tracebacks in the server log: {self.tracebacks}",
        ]
        return "\n".join(lines)


class Fuzzer:
    """Plays visits against the server, checking each reply as it comes."""

    def __init__(self, server: LoggedServer, games: Games, figures: Figures) -> None:
        self.server = server
        self.games = games
        self.figures = figures
        self.visits = 0
        self.a_over = False  # the fuzzer ended game A: time for a new one

    def source(self) -> str:
        """A loopback address of its own for each visit: a room of phones, not one client."""
        n = self.visits
        return f"127.{1 + n // 65024 % 254}.{n // 254 % 256}.{1 + n % 254}"

    async def run(self, visit: WsVisit | list[Request] | RawHttp) -> None:
        self.visits += 1
        if isinstance(visit, RawHttp):
            await self.raw(visit)
        else:
            connector = aiohttp.TCPConnector(local_addr=(self.source(), 0))
            async with aiohttp.ClientSession(self.server.url, connector=connector) as http:
                if isinstance(visit, WsVisit):
                    await self.websocket(http, visit)
                for request in visit if isinstance(visit, list) else []:
                    await self.http(http, request)
        faults = log_faults(self.server.new_log())
        self.figures.tracebacks += sum("Traceback" in line for line in faults)
        assert not faults, f"the server logged a fault: {faults}\n{self.server.log()[-3000:]}"

    def check_private(self, text: str) -> None:
        if self.games.marker in text:
            self.figures.cross_game_reads += 1
            raise AssertionError(f"the fuzzer read the other game: {text[:300]}")

    async def websocket(self, http: aiohttp.ClientSession, visit: WsVisit) -> None:
        ws = await http.ws_connect(f"/ws/{visit.game_id}", autoping=True)
        self.figures.ws_sockets += 1
        sent, closing = 0, None
        try:
            for frame in ([Frame(json.dumps(visit.hello))] if visit.hello else []) + visit.frames:
                if isinstance(frame.data, str):
                    await ws.send_str(frame.data)
                elif frame.as_text:  # aiohttp's client will not send invalid UTF-8 as text itself
                    await ws._writer.send_frame(frame.data, aiohttp.WSMsgType.TEXT)
                else:
                    await ws.send_bytes(frame.data)
                sent += 1
                closing = frame.closes()
                if closing:  # the server closes the socket on this one: nothing after it is read
                    break
            self.figures.ws_messages += sent
            await self.replies(ws, visit, sent - bool(closing), closing)
        finally:
            await ws.close()

    async def replies(
        self, ws: aiohttp.ClientWebSocketResponse, visit: WsVisit, expected: int, closing: int | None
    ) -> None:
        """Exactly one reply per message sent (besides events), then the close a closing frame causes."""
        got = 0
        async with asyncio.timeout(REPLY_TIMEOUT):
            while got < expected or closing:
                msg = await ws.receive()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                    self.figures.closes[ws.close_code] += 1
                    # Replies still waiting for the end of the server's loop turn go with the socket.
                    assert ws.close_code == closing and got <= expected, f"closed with {ws.close_code}"
                    return
                assert msg.type == aiohttp.WSMsgType.TEXT, msg
                self.check_private(msg.data)
                reply = json.loads(msg.data)
                if visit.game_id == self.games.a.game_id and "finished" in (
                    reply.get("code"),
                    reply.get("status"),
                ):
                    self.a_over = True
                if reply["type"] not in REPLIES:
                    continue
                got += 1
                self.figures.replies[reply.get("code", reply["type"])] += 1
                if reply["type"] == "snapshot":
                    assert visit.game_id != self.games.b.game_id, "a snapshot of the other game"
                    assert reply["game"]["id"] == visit.game_id, reply["game"]["id"]
                if reply["type"] == "error":
                    assert reply["code"] != "internal" or "id" in reply, reply

    async def http(self, http: aiohttp.ClientSession, req: Request) -> None:
        self.figures.http_requests += 1
        url = URL(self.server.url + req.path, encoded=True)
        async with http.request(req.method, url, headers=req.headers, data=req.body) as r:
            body = await r.read()
            self.figures.statuses[str(r.status)] += 1
            assert r.status < 500, f"{r.status} for {req.method} {req.path[:200]}: {body[:300]!r}"
            self.check_private(body.decode(errors="replace"))
            path = URL(req.path, encoded=True).path
            if r.status >= 400 and req.method != "HEAD" and path.startswith(("/api/", "/healthz")):
                assert r.content_type == "application/json", f"{r.content_type} for {req.path[:200]}"
                doc = json.loads(body)
                assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
                self.figures.statuses[doc["error"]["code"]] += 1

    async def raw(self, raw: RawHttp) -> None:
        self.figures.raw_connections += 1
        host, port = URL(self.server.url).host, URL(self.server.url).port
        reader, writer = await asyncio.open_connection(host, port, local_addr=(self.source(), 0))
        try:
            writer.write(raw.data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
                writer.write_eof()  # all there is: the server answers or hangs up, without waiting
            with contextlib.suppress(TimeoutError, ConnectionError):
                async with asyncio.timeout(0.5):  # a server waiting for more bytes is not a fault
                    answer = await reader.read(65536)
                    status = answer.split(b" ", 2)[1:2]
                    self.figures.statuses[
                        f"raw {status[0].decode(errors='replace') if status else 'closed'}"
                    ] += 1
                    assert not answer.startswith(b"HTTP/1.1 5"), answer[:300]
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


# -- after the fuzz --------------------------------------------------------------------------------


async def play_on(games: Games) -> dict[str, Any]:
    """P's host and Nora, who joined before the fuzz, play a round to its results: her result row."""
    p = games.p
    host, snapshot = await p.connect(p.created["host_token"], "host")
    nora, _ = await p.connect(games.nora, "player")
    try:
        for _ in range(4):  # to a question the fuzz has not closed
            game = snapshot["game"]
            assert game["status"] == "playing", game["status"]
            if game["phase"] == "question":
                break
            index = game["round"]["index"]
            await end(host, "next" if game["phase"] == "results" else "end_phase", index, game["phase"])
            await host.send("sync")
            snapshot = await host.expect("snapshot")
        index = snapshot["game"]["round"]["index"]
        mine = await nora.ok("answer", round=index, text="Still playing")
        await end(host, "end_phase", index, "question")
        ballot = (await nora.you("ballot"))["ballot"]
        if ballot:
            await nora.ok("vote", round=index, option=ballot[0]["id"])
        await end(host, "end_phase", index, "voting")
        result = (await nora.you("result"))["result"]
        assert result["option"] == mine["option"], result
        return result
    finally:
        await host.ws.close()
        await nora.ws.close()


async def end(host: Client, command: str, index: int, phase: str) -> None:
    """The host moves the game on; `stale` means the last answer or vote already did."""
    reply = await host.command(command, round=index, phase=phase)
    assert reply["type"] == "ack" or reply["code"] == "stale", reply


async def other_game_untouched(games: Games) -> None:
    """B is as it was: its first round past its answers (its vote may have timed out), both players in."""
    b = games.b
    host, snapshot = await b.connect(b.created["host_token"], "host")
    game = snapshot["game"]
    await host.ws.close()
    assert (game["status"], game["phase"], game["round"]["index"]) in {
        ("playing", "voting", 0),
        ("playing", "results", 0),
    }, game
    assert game["room"]["players"] == 2, game["room"]


async def still_served(games: Games) -> None:
    """The fuzzed game A still opens for its host (whatever state the fuzz left it in)."""
    client, snapshot = await games.a.connect(games.a.created["host_token"], "host")
    await client.ws.close()
    assert snapshot["game"]["id"] == games.a.game_id
