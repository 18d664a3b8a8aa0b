"""The benchmark's orchestrator: real servers, real sockets, real games, figures and targets.

    python -m bench.run --quick      about a minute: 500 players in one game, 20 games of 30
    python -m bench.run --full       several minutes: 2,000 and 5,000 in one game, 100 games of 30
    python -m bench.run --full --only 10,000    10,000 players in one game (not part of a plain --full)

Each scenario runs twice on 127.0.0.1: against the appliance (`engagements serve`, its embedded
SQLite store, mDNS announced on loopback only) and against `bench.baseline` (bare aiohttp, the same
message pattern, no game logic, no storage). Players live in separate client processes
(`bench.players`); the hosts live here. A round: the host opens the question; every player but one
answers, all within one second that ends just before the 5-second deadline, so the deadline closes
the phase under load; each player's `you` brings its ballot; everyone but that one votes for an
option of their ballot within a second; the host ends the vote; the results and each player's `you`
arrive; the host reads the round's results a page at a time and checks them against the acks; after
the last round the host's `next` shows the podium.

The figures go to stdout as tables and to a JSON file (`--json`, by default under artifacts/). The
exit code is 0 when every run completed without loss, even if a target is MISSED; it is 1 when
events were lost or out of order, an acked answer or vote was not counted, or a run crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
PROMPTS = [
    "A bad name for a cat",
    "The worst pizza topping",
    "A terrible slogan for a dentist",
    "What the dog is really thinking",
    "A rejected name for a cereal",
]
QUIZ = [  # a quiz's questions: the correct option marked with *
    "Which planet is the largest? | Mars | *Jupiter | Venus | Saturn",
    "How many legs has a spider? | 6 | *8 | 10 | 12",
    "Which gas do plants take in? | Oxygen | Nitrogen | *Carbon dioxide | Helium",
]
QUIZ_OPTIONS = 4


@dataclass
class Scenario:
    name: str
    games: int
    players: int  # per game
    rounds: int
    procs: int
    question_seconds: int = 5
    vote_seconds: int = 60
    spread: float = 1.0  # every answer (and every vote) of a round is sent within this many seconds
    before_deadline: float = 0.25  # the answers' second ends this long before the deadline
    instant: bool = False  # every player answers the moment the question opens, as a quiz invites
    quiz: bool = False  # a quiz (question, then reveal) instead of answer-then-vote
    concurrency: int = 24  # joins in flight per client process
    baseline: bool = True  # also run it against bare aiohttp
    only: bool = False  # run only when asked for by name (--only)

    @property
    def total(self) -> int:
        return self.games * self.players


QUICK = [
    Scenario("500 players, one game", games=1, players=500, rounds=2, procs=2),
    Scenario("20 games of 30", games=20, players=30, rounds=1, procs=2),
]
FULL = [
    Scenario("2,000 players, one game", games=1, players=2000, rounds=3, procs=3),
    # No bare aiohttp run here: its joins (one write per frame) take over ten minutes at this size.
    Scenario(
        "5,000 players, one game", games=1, players=5000, rounds=2, procs=3, concurrency=32, baseline=False
    ),
    Scenario("100 games of 30", games=100, players=30, rounds=2, procs=3),
    Scenario(
        "2,000 players answering at one instant", games=1, players=2000, rounds=2, procs=3, instant=True
    ),
    # Rooms of any size: the phones' budgets must not move. Run it with --full --only 10,000.
    Scenario(
        "10,000 players, one game",
        games=1,
        players=10000,
        rounds=1,
        procs=4,
        concurrency=32,
        baseline=False,
        only=True,
    ),
    # A quiz's questions are sized by their options: the phones' budget must hold as for the party game.
    Scenario("2,000-player quiz", games=1, players=2000, rounds=2, procs=3, quiz=True, baseline=False),
]
BYTES_PER_QUESTION = 16 * 1024  # a phone's budget per question (protocol.md, rooms of any size)
MAX_MESSAGE = 32 * 1024  # no message to any view is larger


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


# -- the server under test ----------------------------------------------------------------------


class ServerProcess:
    """The server under test in a process of its own: the appliance, bare aiohttp (`baseline`), or the
    serverless stack on the local gateway (`cloud`: bench.cloudserver, whose HTTP API, WebSocket API
    and control port are three ports)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"  # where /api/... is served
        self.control = self.url  # where /healthz is (and, for the cloud, /meter)
        self.socket_base = f"ws://127.0.0.1:{self.port}"
        self.data_dir = Path(tempfile.mkdtemp(prefix="engagements-bench-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115  # closed in stop()
        self.peak_rss = 0
        self._sampler: asyncio.Task[None] | None = None

    def socket_url(self, game_id: str) -> str:
        """A game's WebSocket: the appliance's path, or API Gateway's `?game=` on the API's root."""
        if self.kind == "cloud":
            return f"{self.socket_base}/?game={game_id}"
        return f"{self.socket_base}/ws/{game_id}"

    def arguments(self) -> list[str]:
        if self.kind == "engagements":
            args = [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            args += ["--data-dir", str(self.data_dir / "data"), "--public-url", self.url]
            args += ["--mdns-interfaces", "127.0.0.1", "--name", f"Engagements bench {uuid.uuid4().hex[:6]}"]
            return args
        if self.kind == "cloud":
            http_port, control_port = free_port(), free_port()
            self.url, self.control = f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{control_port}"
            args = [sys.executable, "-m", "bench.cloudserver", "--port", str(self.port)]
            args += ["--http-port", str(http_port), "--control-port", str(control_port)]
            return [*args, "--data-dir", str(self.data_dir / "data")]
        return [sys.executable, "-m", "bench.baseline", "--port", str(self.port)]

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            self.arguments(), cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=raise_nofile
        )
        async with aiohttp.ClientSession() as session:
            for _ in range(1200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.control}/healthz") as r:
                        if r.status == 200:
                            break
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the {self.kind} server exited: {self.output()}")
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"the {self.kind} server did not start")
        self._sampler = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, self.rss())
            await asyncio.sleep(0.1)

    def pids(self) -> list[int]:
        """The server and its children (the cloud's moto server runs in a child of its own)."""
        assert self.proc is not None
        pid = self.proc.pid
        with contextlib.suppress(OSError):
            return [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
        return [pid]

    def cpu(self) -> float:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / CLK_TCK

    def rss(self) -> int:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError):
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        return total

    def hwm(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def admin(self) -> dict[str, str]:
        """The admin secret's header: the appliance made the secret in its data directory at start."""
        secret = self.data_dir / "data" / "admin-secret"
        return {"Authorization": f"Bearer {secret.read_text().strip()}"} if secret.exists() else {}

    def output(self) -> str:
        self.log.flush()
        return (self.data_dir / "server.log").read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL, like a pulled plug: its data directory stays for the next start."""
        if self._sampler is not None:
            self._sampler.cancel()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


# -- client processes ---------------------------------------------------------------------------


class Procs:
    def __init__(self) -> None:
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self, count: int) -> None:
        for _ in range(count):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.players",
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**28,
                preexec_fn=raise_nofile,
            )
            self.procs.append(proc)

    async def ask(self, i: int, cmd: dict[str, Any]) -> dict[str, Any]:
        proc = self.procs[i]
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        await proc.stdin.drain()
        line = await proc.stdout.readline()
        if not line:
            raise RuntimeError(f"client process {i} died (exit {await proc.wait()})")
        return json.loads(line)

    async def all(self, cmd: dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
        cmds = cmd if isinstance(cmd, list) else [cmd] * len(self.procs)
        return list(await asyncio.gather(*(self.ask(i, c) for i, c in enumerate(cmds))))

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()


# -- the host -----------------------------------------------------------------------------------


@dataclass
class Host:
    index: int
    game_id: str
    code: str
    token: str
    ws: aiohttp.ClientWebSocketResponse | None = None
    expect: int = -1
    lost: int = 0
    out_of_order: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    phases: list[tuple[int, float, dict[str, Any]]] = field(default_factory=list)  # seq, time, message
    last_seq: int = -1
    acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    n: int = 0
    reader: asyncio.Future[None] | None = None
    pages: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)  # `results` replies
    largest: int = 0  # the largest message this host received (bytes)

    async def read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            at = time.time()
            size = len(msg.data.encode())
            self.largest = max(self.largest, size)
            m = json.loads(msg.data)
            seq = m.get("seq")
            if "type" not in m:  # API Gateway's own `{"message": "Internal server error", ...}`
                self.errors.append(m)  # a failed invocation: counted, and the socket read on
            elif m["type"] == "results" or (m["type"] == "error" and "id" not in m):
                self.pages.put_nowait(m)  # a request's reply (or its refusal: requests carry no id)
            elif m["type"] == "snapshot":
                self.expect, self.last_seq = seq + 1, seq
            elif seq is not None:
                if seq > self.expect:
                    self.lost += seq - self.expect
                elif seq < self.expect:
                    self.out_of_order += 1
                self.expect, self.last_seq = max(self.expect, seq + 1), max(self.last_seq, seq)
                if m["type"] == "phase_changed":
                    m["bytes"] = size
                    self.phases.append((seq, at, m))
            elif m["type"] in ("ack", "error") and m.get("id") in self.acks:
                if m["type"] == "error":
                    self.errors.append(m)
                self.acks.pop(m["id"]).set_result(m)
            self.changed.set()

    async def send(self, type_: str, **fields: Any) -> float:
        """Send a command; returns when it was sent (its ack is awaited separately)."""
        assert self.ws is not None
        self.n += 1
        cmd_id = f"h{self.n}"
        self.acks[cmd_id] = asyncio.get_running_loop().create_future()
        sent = time.time()
        await self.ws.send_str(json.dumps({"type": type_, "id": cmd_id, **fields}))
        return sent

    async def results(self, round_: int) -> tuple[int, int, int]:
        """The round's full results, a page at a time: (answers, votes over every row, pages).

        A client may send 10 messages a second with bursts of 30: past the first 20 pages the host
        asks for about 9 a second (10,000 answers take a minute; a real host downloads the CSV)."""
        assert self.ws is not None
        total, votes, offset, pages = None, 0, 0, 0
        while total is None or offset < total:
            if pages >= 20:
                await asyncio.sleep(0.11)
            await self.ws.send_str(json.dumps({"type": "results", "round": round_, "offset": offset}))
            page = await asyncio.wait_for(self.pages.get(), 30)
            if page["type"] == "error":
                raise RuntimeError(f"game {self.index}: results page {offset} refused: {page}")
            if page.get("round") != round_ or page.get("offset") != offset:
                raise RuntimeError(f"game {self.index}: results page {page.get('offset')} for {offset}")
            total, pages = page["total"], pages + 1
            votes += sum(row.get("votes", 0) for row in page["items"])  # a quiz's rows have none
            if not page["items"]:
                break
            offset += len(page["items"])
        return total or 0, votes, pages

    async def phase(
        self, phase: str, round_: int | None, timeout: float
    ) -> tuple[int, float, dict[str, Any]]:
        """The phase_changed into `phase` (of round `round_`), waiting for it if need be."""
        deadline = time.monotonic() + timeout
        while True:
            for seq, at, m in self.phases:
                r = m.get("round")
                if m["phase"] == phase and (round_ is None or (r is not None and r["index"] == round_)):
                    return seq, at, m
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"game {self.index}: no {phase} phase for round {round_}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)


# -- one run ------------------------------------------------------------------------------------


class Run:
    """One scenario against one server: join, play, measure."""

    def __init__(self, scenario: Scenario, kind: str) -> None:
        self.s = scenario
        self.kind = kind
        self.server = ServerProcess(kind)
        self.meter: dict[str, Any] = {}  # the cloud's counts (bench.cloudserver's /meter), read at the end
        self.procs = Procs()
        self.hosts: list[Host] = []
        self.causes: dict[tuple[int, int], tuple[str, float]] = {}  # (game, seq) -> (cause, when)
        self.deadline_events: list[tuple[int, int, float]] = []  # game, seq, deadline (s)
        self.counted: list[dict[str, Any]] = []  # what the server counted, per game and round
        self.phase_log: list[str] = []
        self.final_seqs: dict[int, int] = {}

    async def go(self) -> dict[str, Any]:
        s = self.s
        try:
            await self.server.start()
            await self.procs.start(s.procs)
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None)
            ) as http:
                await self.create_games(http)
                cpu0, rss0 = self.server.cpu(), self.server.rss()
                joined = await self.join()
                cpu1, rss1 = self.server.cpu(), self.server.rss()
                t_play = time.time()
                await self.play()
                cpu2 = self.server.cpu()
                play_seconds = time.time() - t_play
                reports = await self.procs.all({"cmd": "report"})
                hwm = self.server.hwm()
                if self.kind == "cloud":
                    async with http.get(f"{self.server.control}/meter") as r:
                        self.meter = await r.json()
                for h in self.hosts:
                    if h.ws is not None:
                        await h.ws.close()
            figures = self.figures(joined, reports, cpu0, cpu1, cpu2, rss0, rss1, hwm, play_seconds)
            return {**figures, "meter": self.meter} if self.meter else figures
        except Exception as e:
            raise RuntimeError(
                f"{type(e).__name__}: {e}\n--- {self.kind} server output:\n{self.server.output()}"
            ) from e
        finally:
            await self.procs.stop()
            self.server.stop()

    async def create_games(self, http: aiohttp.ClientSession) -> None:
        body: dict[str, Any] = {
            "title": "Benchmark night",
            "prompts": (PROMPTS * 3)[: self.s.rounds],
            "question_seconds": self.s.question_seconds,
            "vote_seconds": self.s.vote_seconds,
        }
        if self.s.quiz:
            body = {
                "title": "Benchmark quiz",
                "type": "quiz",
                "prompts": (QUIZ * 3)[: self.s.rounds],
                "quiz_seconds": self.s.question_seconds,
            }
        admin = self.server.admin()
        for g in range(self.s.games):
            async with http.post(f"{self.server.url}/api/games", json=body, headers=admin) as r:
                assert r.status == 201, await r.text()
                created = await r.json()
            host = Host(g, created["game_id"], created["code"], created["host_token"])
            host.ws = await http.ws_connect(self.server.socket_url(host.game_id), max_msg_size=0)
            host.reader = asyncio.ensure_future(host.read())
            await host.ws.send_str(json.dumps({"type": "hello", "view": "host", "token": host.token}))
            self.hosts.append(host)
        while any(h.last_seq < 0 for h in self.hosts):
            await asyncio.sleep(0.01)

    async def join(self) -> dict[str, Any]:
        s = self.s
        shares: list[list[list[Any]]] = [[] for _ in range(s.procs)]
        i = 0
        for g, h in enumerate(self.hosts):
            for _ in range(s.players):
                shares[i % s.procs].append([g, h.game_id, h.code, i])
                i += 1
        cmds = [
            {
                "cmd": "join",
                "url": self.server.url,
                "socket": self.server.socket_url("{game_id}"),
                "players": share,
                "concurrency": s.concurrency,
            }
            for share in shares
        ]
        replies = await self.procs.all(cmds)
        started = min(r["started"] for r in replies)
        finished = max(r["finished"] for r in replies)
        joined = sum(r["joined"] for r in replies)
        return {"joined": joined, "failed": sum(r["failed"] for r in replies), "seconds": finished - started}

    def abstainers(self) -> list[int]:
        """One player per game sits a round out, so its deadline (not the last answer) closes it."""
        return [(g + 1) * self.s.players - 1 for g in range(self.s.games)]

    async def play(self) -> None:
        s = self.s
        await self.procs.all({"cmd": "record", "on": True})
        for r in range(s.rounds):
            sent = {}
            for h in self.hosts:
                sent[h.index] = await (h.send("start") if r == 0 else h.send("next", round=r - 1))
            deadlines = []
            for h in self.hosts:
                seq, _, m = await h.phase("question", r, 30)
                self.causes[(h.index, seq)] = ("host", sent[h.index])
                deadlines.append(m["round"]["deadline"] / 1000)
            if s.instant:  # every answer at once, the moment the question opened
                t0, spread = min(deadlines) - s.question_seconds, 0.0
            else:  # every answer within one second that ends just before the first deadline
                t0, spread = min(deadlines) - s.before_deadline - s.spread, s.spread
            answer = {"cmd": "answer", "round": r, "t0": t0, "spread": spread, "total": s.total}
            if s.quiz:
                answer["options"] = QUIZ_OPTIONS
            replies = await self.procs.all({**answer, "abstain": self.abstainers()})
            self.phase_log.append(f"round {r} answers: {self._acts(replies)}")
            voting = {}
            for h, deadline in zip(self.hosts, deadlines, strict=True):
                seq, _, m = await h.phase("reveal" if s.quiz else "voting", r, s.question_seconds + 60)
                voting[h.index] = seq
                self.causes[(h.index, seq)] = ("deadline", deadline)
                self.deadline_events.append((h.index, seq, deadline))
                self.counted.append(
                    {
                        "game": h.index,
                        "round": r,
                        "kind": "answer",
                        "counted": m["round"]["answered"],
                        **({} if s.quiz else {"options": m["round"]["answers"]}),
                    }
                )
            if s.quiz:  # the deadline revealed the answer: every phone gets its result, the host the rows
                await self.procs.all({"cmd": "wait", "seqs": voting, "you": True, "timeout": 60})
                await self.read_results(r)
                continue
            # A phone votes once its `you` brought its ballot: every player has it before the votes' second.
            await self.procs.all({"cmd": "wait", "seqs": voting, "you": True, "timeout": 60})
            vote = {"cmd": "vote", "round": r, "t0": time.time() + 0.1, "spread": s.spread, "total": s.total}
            replies = await self.procs.all({**vote, "abstain": self.abstainers()})
            self.phase_log.append(f"round {r} votes: {self._acts(replies)}")
            for h in self.hosts:
                sent[h.index] = await h.send("end_phase", round=r, phase="voting")
            seqs = {}
            for h in self.hosts:
                seq, _, m = await h.phase("results", r, 60)
                self.causes[(h.index, seq)] = ("host", sent[h.index])
                seqs[h.index] = seq
            await self.procs.all({"cmd": "wait", "seqs": seqs, "you": True, "timeout": 60})
            await self.read_results(r)
        sent = {h.index: await h.send("next", round=s.rounds - 1) for h in self.hosts}
        seqs = {}
        for h in self.hosts:
            seq, _, _ = await h.phase("finished", None, 60)
            self.causes[(h.index, seq)] = ("host", sent[h.index])
            seqs[h.index] = seq
        self.final_seqs = seqs
        await self.procs.all({"cmd": "wait", "seqs": seqs, "you": False, "timeout": 60})
        await self.procs.all({"cmd": "record", "on": False})

    async def read_results(self, r: int) -> None:
        """Each host reads every answer's result, a page at a time: what the server counted."""
        pages = 0
        for h in self.hosts:
            answers, votes, n = await h.results(r)
            pages += n
            self.counted.append({"game": h.index, "round": r, "kind": "answer", "counted": answers})
            if not self.s.quiz:
                self.counted.append({"game": h.index, "round": r, "kind": "vote", "counted": votes})
        self.phase_log.append(f"round {r} results: {pages} pages read")

    @staticmethod
    def _acts(replies: list[dict[str, Any]]) -> str:
        return ", ".join(f"{k}={sum(r[k] for r in replies)}" for k in ("sent", "unanswered", "skipped"))

    def figures(
        self,
        joined: dict[str, Any],
        reports: list[dict[str, Any]],
        cpu0: float,
        cpu1: float,
        cpu2: float,
        rss0: int,
        rss1: int,
        hwm: int,
        play_seconds: float,
    ) -> dict[str, Any]:
        s = self.s
        players = sum(r["players"] for r in reports)
        latency = {k: [x for r in reports for x in r["latency"].get(k, [])] for k in ("answer", "vote")}
        acked: dict[str, int] = {}
        for r in reports:
            for key, n in r["acked"].items():
                acked[key] = acked.get(key, 0) + n
        uncounted = 0
        for c in self.counted:
            got = acked.get(f"{c['kind']}:{c['game']}:{c['round']}", 0)
            uncounted += abs(got - c["counted"]) + (abs(got - c["options"]) if "options" in c else 0)
        deliveries: dict[tuple[int, int], tuple[str, list[float]]] = {}
        for r in reports:
            for g, seq, type_, times in r["deliveries"]:
                found = deliveries.setdefault((g, seq), (type_, []))
                found[1].extend(times)
        fanout_last, fanout_all, spreads = [], [], []
        for key, (_, times) in deliveries.items():
            spreads.append(max(times) - min(times))
            cause = self.causes.get(key)
            if cause is not None:
                fanout_last.append(max(times) - cause[1])
                fanout_all.extend(t - cause[1] for t in times)
        incomplete = sum(1 for key in self.causes if len(deliveries.get(key, ("", []))[1]) < s.players)
        by_phase: dict[str, list[float]] = {}
        for h in self.hosts:
            for seq, _, m in h.phases:
                cause = self.causes.get((h.index, seq))
                times = deliveries.get((h.index, seq), ("", []))[1]
                if cause is not None and times:
                    by_phase.setdefault(m["phase"], []).append(max(times) - cause[1])
        changes = []  # the first game's state changes, one by one
        for seq, _, m in self.hosts[0].phases:
            cause = self.causes.get((0, seq))
            times = deliveries.get((0, seq), ("", []))[1]
            if cause is not None and times:
                changes.append(
                    {
                        "seq": seq,
                        "phase": m["phase"],
                        "cause": cause[0],
                        "bytes": m["bytes"],
                        "first_ms": ms(min(times) - cause[1]),
                        "last_ms": ms(max(times) - cause[1]),
                    }
                )
        late_first, late_last = [], []
        for g, seq, deadline in self.deadline_events:
            times = deliveries.get((g, seq), ("", []))[1]
            if times:
                late_first.append(min(times) - deadline)
                late_last.append(max(times) - deadline)
        final_seqs = self.final_seqs  # the podium; sockets closing after it are not losses
        tail_lost = 0
        for r in reports:
            for g, seq in r["last_seqs"].items():
                tail_lost += max(0, final_seqs[int(g)] - seq)
        round_messages = sum(n for r in reports for n in r["round_messages"].values())
        round_bytes = sum(n for r in reports for n in r["round_bytes"].values())
        per_q = players * s.rounds or 1
        q_sum = sum(r["question_bytes"]["sum"] for r in reports)
        q_count = sum(r["question_bytes"]["count"] for r in reports)
        q_max = max((r["question_bytes"]["max"] for r in reports), default=0)
        largest = max([r["largest_message"] for r in reports] + [h.largest for h in self.hosts])
        errors = sum(r["errors"] for r in reports) + sum(len(h.errors) for h in self.hosts)
        codes: dict[str, int] = {}
        for r in reports:
            for code, n in r["error_codes"].items():
                codes[code] = codes.get(code, 0) + n
        return {
            "server": self.kind,
            "players": players,
            "games": s.games,
            "rounds": s.rounds,
            "join_seconds": round(joined["seconds"], 2),
            "join_rate": round(joined["joined"] / joined["seconds"], 1) if joined["seconds"] else None,
            "join_p99_ms": ms(pct([t for r in reports for t in r["join_times"]], 99)),
            "join_failures": joined["failed"],
            "answer_ack_ms": {f"p{q}": ms(pct(latency["answer"], q)) for q in (50, 95, 99)},
            "vote_ack_ms": {f"p{q}": ms(pct(latency["vote"], q)) for q in (50, 95, 99)},
            "answers_acked": len(latency["answer"]),
            "votes_acked": len(latency["vote"]),
            "acked_not_counted": uncounted,
            "fanout_last_ms": {
                "p50": ms(pct(fanout_last, 50)),
                "p99": ms(pct(fanout_last, 99)),
                "max": ms(max(fanout_last, default=None)),
                "events": len(fanout_last),
            },
            "fanout_delivery_ms": {"p50": ms(pct(fanout_all, 50)), "p99": ms(pct(fanout_all, 99))},
            "broadcast_spread_ms": {"p50": ms(pct(spreads, 50)), "p99": ms(pct(spreads, 99))},
            "deadline_close_ms": {
                "first_max": ms(max(late_first, default=None)),
                "last_max": ms(max(late_last, default=None)),
            },
            "lost": sum(r["lost"] for r in reports) + tail_lost + sum(h.lost for h in self.hosts),
            "out_of_order": sum(r["out_of_order"] for r in reports) + sum(h.out_of_order for h in self.hosts),
            "undelivered_state_changes": incomplete,
            "resyncs": sum(r["resyncs"] for r in reports),
            "closed_early": sum(r["closed_early"] for r in reports),
            "errors": errors,
            "error_codes": codes,
            "messages_per_player_per_question": round(round_messages / per_q, 1),
            "bytes_per_player_per_question": round(round_bytes / per_q),
            "phone_bytes_per_question": {"mean": round(q_sum / max(1, q_count)), "max": q_max},
            "largest_message_bytes": largest,
            "server_cpu_s": {
                "join": round(cpu1 - cpu0, 2),
                "play": round(cpu2 - cpu1, 2),
                "per_question": round((cpu2 - cpu1) / s.rounds, 2),
            },
            "play_seconds": round(play_seconds, 1),
            "client_cpu_s": round(sum(r["cpu_seconds"] for r in reports), 1),
            "server_peak_rss_mb": round(max(hwm, self.server.peak_rss) / 2**20, 1),
            "server_rss_idle_mb": round(rss0 / 2**20, 1),
            "rss_per_player_kb": round((rss1 - rss0) / max(1, players) / 1024, 1),
            "fanout_last_by_phase_ms": {
                phase: {"p50": ms(pct(v, 50)), "p99": ms(pct(v, 99))} for phase, v in by_phase.items()
            },
            "state_changes": changes,
            "log": self.phase_log,
        }


# -- the report ---------------------------------------------------------------------------------

ROWS = [
    ("players connected", lambda f: f["players"], None),
    ("join rate (players/s)", lambda f: f["join_rate"], "inverse"),
    ("join p99 (ms)", lambda f: f["join_p99_ms"], "ratio"),
    ("answer ack p50/p95/p99 (ms)", lambda f: "/".join(str(v) for v in f["answer_ack_ms"].values()), None),
    ("answer ack p99 (ms)", lambda f: f["answer_ack_ms"]["p99"], "ratio"),
    ("vote ack p50/p95/p99 (ms)", lambda f: "/".join(str(v) for v in f["vote_ack_ms"].values()), None),
    ("vote ack p99 (ms)", lambda f: f["vote_ack_ms"]["p99"], "ratio"),
    ("fan-out to last player p50 (ms)", lambda f: f["fanout_last_ms"]["p50"], "ratio"),
    ("fan-out to last player p99 (ms)", lambda f: f["fanout_last_ms"]["p99"], "ratio"),
    (
        "fan-out per delivery p50/p99 (ms)",
        lambda f: f"{f['fanout_delivery_ms']['p50']}/{f['fanout_delivery_ms']['p99']}",
        None,
    ),
    ("broadcast spread p99 (ms)", lambda f: f["broadcast_spread_ms"]["p99"], "ratio"),
    (
        "deadline: phase closed, first/last player (ms late)",
        lambda f: f"{f['deadline_close_ms']['first_max']}/{f['deadline_close_ms']['last_max']}",
        None,
    ),
    ("lost / out of order", lambda f: f"{f['lost']}/{f['out_of_order']}", None),
    ("acked but not counted", lambda f: f["acked_not_counted"], None),
    ("errors", lambda f: f["errors"], None),
    ("messages per player per question", lambda f: f["messages_per_player_per_question"], "ratio"),
    ("KB per player per question", lambda f: round(f["bytes_per_player_per_question"] / 1024, 1), "ratio"),
    (
        "bytes per phone per question, opening to results: mean/max",
        lambda f: "/".join(str(v) for v in f["phone_bytes_per_question"].values()),
        None,
    ),
    (
        "KB per phone per question (max)",
        lambda f: round(f["phone_bytes_per_question"]["max"] / 1024, 1),
        "ratio",
    ),
    ("largest message to any view (bytes)", lambda f: f["largest_message_bytes"], "ratio"),
    ("server CPU s: join", lambda f: f["server_cpu_s"]["join"], "ratio"),
    ("server CPU s: per question", lambda f: f["server_cpu_s"]["per_question"], "ratio"),
    ("server peak RSS (MB)", lambda f: f["server_peak_rss_mb"], "ratio"),
    ("RSS per connected player (KB)", lambda f: f["rss_per_player_kb"], "ratio"),
]


def ratio(ours: Any, base: Any, how: str | None) -> str:
    if (
        how is None
        or not isinstance(ours, int | float)
        or not isinstance(base, int | float)
        or not base
        or not ours
    ):
        return ""
    value = base / ours if how == "inverse" else ours / base
    return f"{value:.2f}x"


def table(name: str, ours: dict[str, Any], base: dict[str, Any] | None) -> str:
    head = ("", "engagements", "bare aiohttp", "ratio")
    rows = [head]
    for label, get, how in ROWS:
        o = get(ours)
        if set(str(o).split("/")) == {"None"}:
            continue  # a measure this scenario has nothing of (a quiz has no vote)
        b = get(base) if base else ""
        rows.append((label, str(o), str(b), ratio(o, b, how) if base else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"## {name}", ""]
    for i, row in enumerate(rows):
        lines.append("| " + " | ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _no_loss(e: dict[str, Any]) -> tuple[bool, str]:
    met = e["lost"] == 0 and e["out_of_order"] == 0 and e["acked_not_counted"] == 0
    return met, f"lost {e['lost']}, out of order {e['out_of_order']}, uncounted {e['acked_not_counted']}"


def targets(results: dict[str, dict[str, Any]], mode: str) -> list[tuple[str, bool, str]]:
    """(target, met, figures) for the scenarios this mode ran."""
    out = []

    def fan_target(name: str) -> tuple[str, bool, str]:
        r = results[name]
        o = r["engagements"]["fanout_last_ms"]["p99"] or 0
        b = r.get("baseline", {}).get("fanout_last_ms", {}).get("p99") or 0
        figures = f"{o} ms vs {b} ms ({o / b:.2f}x)" if b else "no baseline"
        return f"{name}: fan-out p99 <= 1.5x bare aiohttp", bool(b) and o <= 1.5 * b, figures

    def one_game(big: bool) -> list[str]:
        """The one-game scenarios of up to 2,000 players, or the bigger ones (not the instant burst)."""
        return [
            n
            for n, r in results.items()
            if r["engagements"]["games"] == 1
            and (r["engagements"]["players"] >= 3000) == big
            and not r["scenario"].get("instant")
            and not r["scenario"].get("quiz")
        ]

    single = next(iter(one_game(big=False)), None)
    multi = next((n for n, r in results.items() if r["engagements"]["games"] > 1), None)
    if single:
        e = results[single]["engagements"]
        out.append((f"{single}: no loss, every acked answer and vote counted", *_no_loss(e)))
        if results[single].get("baseline"):
            out.append(fan_target(single))
        out.append(
            (
                f"{single}: answer ack p99 < 200 ms, all answering within one second",
                (e["answer_ack_ms"]["p99"] or 1e9) < 200,
                f"{e['answer_ack_ms']['p99']} ms",
            )
        )
        out.append(
            (
                f"{single}: server peak RSS < 300 MB",
                e["server_peak_rss_mb"] < 300,
                f"{e['server_peak_rss_mb']} MB",
            )
        )
        late = e["deadline_close_ms"]["first_max"]
        out.append(
            (
                f"{single}: a 5 s question closes within 250 ms of its deadline under its answer burst",
                late is not None and late <= 250,
                f"{late} ms after the deadline (first player told)",
            )
        )
    for big in one_game(big=True):
        e = results[big]["engagements"]
        met, figures = _no_loss(e)
        everyone = e["players"] == e["games"] * results[big]["scenario"]["players"]
        out.append((f"{big}: completes with zero loss", met and everyone, figures))
        if e["players"] >= 5000:
            rate = e["join_rate"] or 0
            out.append((f"{big}: joins at least 500 players/s", rate >= 500, f"{rate} players/s"))
    for name, r in results.items():
        e = r["engagements"]
        if r["scenario"].get("instant"):
            p99 = e["answer_ack_ms"]["p99"]
            out.append(
                (
                    f"{name}: answer ack p99 < 500 ms, every player answering the moment the question opens",
                    (p99 or 1e9) < 500,
                    f"{p99} ms",
                )
            )
        if e["players"] >= 10000:
            p99, late = e["answer_ack_ms"]["p99"], e["deadline_close_ms"]["first_max"]
            stale = e["error_codes"].get("stale", 0)
            out += [
                (
                    f"{name}: answer ack p99 < 500 ms, all answering within one second",
                    (p99 or 1e9) < 500,
                    f"{p99} ms",
                ),
                (
                    f"{name}: the question closes within 250 ms of its deadline",
                    late is not None and late <= 250,
                    f"{late} ms after it",
                ),
                (f"{name}: nothing sent in time refused as stale", stale == 0, f"{stale} stale"),
                (
                    f"{name}: server peak RSS < 1 GB",
                    e["server_peak_rss_mb"] < 1024,
                    f"{e['server_peak_rss_mb']} MB",
                ),
            ]
    for name, r in results.items():
        if r["scenario"].get("quiz"):
            e = r["engagements"]
            late = e["deadline_close_ms"]["first_max"]
            out += [
                (f"{name}: zero loss, every acked answer counted", *_no_loss(e)),
                (
                    f"{name}: a question closes within 250 ms of its deadline, all answering in one second",
                    late is not None and late <= 250,
                    f"{late} ms after the deadline (first player told)",
                ),
            ]
    if multi:
        out.append((f"{multi}: zero loss", *_no_loss(results[multi]["engagements"])))
        if results[multi].get("baseline"):
            out.append(fan_target(multi))
    for name, r in results.items():
        e = r["engagements"]
        out.append(
            (
                f"{name}: messages per player per question stay flat (linear work)",
                e["messages_per_player_per_question"] < 40,
                f"{e['messages_per_player_per_question']}",
            )
        )
        q = e["phone_bytes_per_question"]
        out.append(
            (
                f"{name}: bytes per phone per question <= 16 KB",
                q["max"] <= BYTES_PER_QUESTION,
                f"mean {q['mean'] / 1024:.1f} KB, max {q['max'] / 1024:.1f} KB",
            )
        )
        out.append(
            (
                f"{name}: no message to any view over 32 KB",
                e["largest_message_bytes"] <= MAX_MESSAGE,
                f"largest {e['largest_message_bytes']} bytes",
            )
        )
    return out


def machine() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with contextlib.suppress(OSError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    import aiohttp as a

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "aiohttp": a.__version__,
    }


async def main_async(args: argparse.Namespace) -> int:
    scenarios = FULL if args.full else QUICK
    if args.only:
        scenarios = [s for s in scenarios if args.only.lower() in s.name.lower()]
    else:
        scenarios = [s for s in scenarios if not s.only]
    mode = "full" if args.full else "quick"
    print(f"Engagements benchmark ({mode}) on {machine()['cpu']}, {os.cpu_count()} cores", flush=True)
    results: dict[str, dict[str, Any]] = {}
    failed = False
    for s in scenarios:
        results[s.name] = {"scenario": s.__dict__.copy()}
        kinds = ["engagements"] if args.no_baseline or not s.baseline else ["baseline", "engagements"]
        for kind in kinds:
            t = time.time()
            print(f"- {s.name}: {kind} ...", flush=True)
            try:
                figures = await Run(s, kind).go()
            except Exception as e:  # a crash is reported, and fails the run
                print(f"  CRASHED: {type(e).__name__}: {e}", flush=True)
                figures = {"crashed": f"{type(e).__name__}: {e}"}
                failed = True
            results[s.name]["engagements" if kind == "engagements" else "baseline"] = figures
            print(f"  done in {time.time() - t:.0f} s", flush=True)
            for line in figures.get("log", []):
                print(f"    {line}", flush=True)
    print()
    for name, r in results.items():
        if "crashed" in r.get("engagements", {}) or "engagements" not in r:
            continue
        base = r.get("baseline")
        print(table(name, r["engagements"], None if not base or "crashed" in base else base))
        print()
    lossy = []
    for name, r in results.items():
        for kind in ("engagements", "baseline"):
            f = r.get(kind)
            if (
                f
                and "crashed" not in f
                and (
                    f["lost"]
                    or f["out_of_order"]
                    or f["acked_not_counted"]
                    or f["undelivered_state_changes"]
                    or f["join_failures"]
                )
            ):
                lossy.append(f"{name} ({kind})")
    checks: list[tuple[str, bool, str]] = []
    if not failed:
        checks = targets(results, mode)
        print("## Targets")
        print()
        if mode == "quick":
            print("(the issue's targets are for --full: 2,000 and 5,000 players, 100 games of 30)")
            print()
        for text, met, detail in checks:
            print(f"- {'MET   ' if met else 'MISSED'} {text}: {detail}")
        print()
    if lossy:
        print("LOSS: " + "; ".join(lossy))
    out = Path(args.json) if args.json else ROOT / "artifacts" / f"bench-{mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "mode": mode,
                "machine": machine(),
                "when": time.strftime("%Y-%m-%d %H:%M:%S"),
                "results": results,
                "targets": [{"target": t, "met": m, "figures": d} for t, m, d in checks],
            },
            indent=2,
        )
    )
    print(f"JSON: {out}")
    return 1 if failed or lossy else 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="about a minute (the default)")
    group.add_argument("--full", action="store_true", help="2,000 and 5,000 players, 100 games of 30")
    parser.add_argument("--only", help="run only the scenarios whose name contains this")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare aiohttp runs")
    parser.add_argument("--json", help="where to write the figures (default: artifacts/bench-<mode>.json)")
    args = parser.parse_args()
    raise_nofile()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
