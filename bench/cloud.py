"""The cloud benchmark: real games through the serverless stack's WebSocket and HTTP APIs, at two sizes.

    python -m bench.cloud                    30 and 100 players (what `make bench-cloud` runs)
    python -m bench.cloud --players 30,1000  the issue's sizes (docs/cloud.md has the figures)
    python -m bench.cloud --quiz             a quiz instead (question, then reveal: no vote)

Each size is one game played as bench.run plays the appliance's (same players, same host, same rounds),
its answers and votes paced to what the test double sustains (`Pacing`, `--rate`; printed with each size):
the server under test is bench.cloudserver, the handlers of deploy/realtime.yaml and deploy/http.yaml on
the local gateway (tests/cloudlocal) with DynamoDB and SQS on moto, everything on 127.0.0.1. It prints,
per size: DynamoDB items and capacity units per join, hello, answer, vote and phase change (charged to
the invocation that made them: bench/meter.py); handler invocations per command; the WebSocket API's
messages; messages and bytes per phone per question and the largest message; fan-out invocations; and ack
latencies, which are this machine's (a test double on 2 shared cores), not AWS's.

Targets: the capacity units of a join and of a phone's hello, and the reads and writes of an answer and
a vote, are the same at both sizes (CONSTANT says which figure; a board view's hello loads the whole
game, a phone's reads a few items: cloud.phones); one `$default` invocation per WebSocket message;
every phone's bytes per question within the appliance's budget and no message over 32 KB; no invocation
past its timeout (named by what it served: the double kept up with the pace, and no command was that
slow). Exit code 1 when a target is missed or a run lost events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import BYTES_PER_QUESTION, MAX_MESSAGE, ROOT, Run, Scenario, machine, raise_nofile

# What a row of the report stands for: the invocations of these labels (bench/meter.py).
COMMANDS = [
    ("join (POST /api/join)", ["POST /api/join"]),
    ("hello by a phone (a socket's first message)", ["hello player"]),
    ("hello by the host console or big screen", ["hello host", "hello screen"]),
    ("answer", ["answer"]),
    ("vote", ["vote"]),
    ("phase change by the host (start, next, end_phase)", ["start", "next", "end_phase"]),
    ("phase change by the deadline timer", ["deadline"]),
    ("host's results page", ["results"]),
    ("$connect", ["connect"]),
    ("$disconnect", ["disconnect"]),
]
FIELDS = ("calls", "reads", "read_units", "writes", "write_units", "refused")
# The commands whose reads and writes must not grow with the room, and the figure compared. An answer
# and a vote: their largest (a share of them, one in players ÷ 40, also reads the board views' connection
# items to send them the counts, so the most frequent figure flips with the room). A join: its most
# frequent capacity units (a join reads index items that are mostly absent: units, not items, are what it
# costs; about 40 joins while a room fills also send the board views a `room` update).
# A phone's hello: its most frequent units (each phone's first hello also counts its seat, as a join
# does; while nobody has scored it reads the first ten seats, fewer in a smaller room: units, not items).
UNITS = ("read_units", "write_units")
CONSTANT = [
    ("join (POST /api/join)", "typical", UNITS),
    ("hello by a phone (a socket's first message)", "typical", UNITS),
    ("answer", "max", ("reads", "writes", *UNITS)),
    ("vote", "max", ("reads", "writes", *UNITS)),
]


# The pace of the test double, not of AWS. Handlers, the local gateway and moto share this machine's two
# cores with the players' processes (and other jobs), and the gateway counts a Lambda's timeout from when
# the event is queued for one of its 32 handler threads (tests/cloudlocal/lambdas.py): 1,000 answers sent
# within seconds queued past `$default`'s 20 s and the deadline's 30 s, and the run broke (docs/cloud.md).
# AWS would run such a burst on as many concurrent invocations. So each round's answers, and its votes,
# are sent evenly over players ÷ RATE seconds, RATE well below what the double was measured to sustain,
# and the phases last long enough for that window; what a command reads and writes does not depend on it.
# Measured (docs/cloud.md): 300 answers sent over 15 s were all acknowledged after about 26 s, and so
# were the votes: about 11 a second, load 5 to 8, a core taken by other jobs; a phase change's posts
# reached the last of 300 phones 7 to 13 s after it.
RATE = 6.0  # answers (or votes) a second sent to the double
OPENING_RATE = 25.0  # phones a second the question reaches before the answers begin (its fan-out's time)


@dataclass(frozen=True)
class Pacing:
    """A round's timing for a room of `players` at `rate` commands a second (seconds)."""

    players: int
    rate: float

    @property
    def spread(self) -> float:
        """The answers' (and the votes') window."""
        return max(1.0, self.players / self.rate)

    @property
    def opening(self) -> float:
        """From the question's opening to its first answer: the question's posts to every phone."""
        return max(3.75, self.players / OPENING_RATE)

    @property
    def drain(self) -> float:
        """From the last answer to the deadline: the double's queue empties before the deadline's tick."""
        return max(0.25, min(5.0, self.spread / 5))

    @property
    def question_seconds(self) -> int:
        return math.ceil(self.opening + self.spread + self.drain)

    @property
    def vote_seconds(self) -> int:
        """The host ends the vote once every vote is acknowledged: the deadline is the fallback, after the
        ballots' posts, the votes' window and a margin."""
        return max(60, math.ceil(self.opening + self.spread + self.drain + 30))

    def describe(self) -> str:
        return (
            f"paced for the test double at {self.rate:g} commands/s: answers and votes each over "
            f"{self.spread:.1f} s; question {self.question_seconds} s (first answer {self.opening:.2f} s "
            f"after it opens, last {self.drain:.2f} s before its deadline); "
            f"vote deadline {self.vote_seconds} s"
        )


def scenario(players: int, rounds: int, quiz: bool = False, rate: float = RATE) -> Scenario:
    """One game, paced (Pacing); the deadline closes the question (one player abstains), and the vote is
    ended by the host. A quiz's deadline opens its reveal, which the host ends with `next`."""
    pace = Pacing(players, rate)
    return Scenario(
        f"cloud: {players:,} players, one {'quiz' if quiz else 'game'}",
        games=1,
        players=players,
        rounds=rounds,
        procs=1 if players <= 200 else 2,
        question_seconds=pace.question_seconds,
        vote_seconds=pace.vote_seconds,
        spread=pace.spread,
        before_deadline=pace.drain,
        concurrency=4,  # joins in flight per client process: the local gateway runs 32 handler threads
        baseline=False,
        quiz=quiz,
    )


def combine(meter: dict[str, Any], labels: list[str]) -> dict[str, Any] | None:
    """Several labels as one row: invocations summed, means weighted, the typical value of the
    commonest label, the largest of the largest."""
    found = [meter["labels"][label] for label in labels if label in meter["labels"]]
    if not found:
        return None
    n = sum(f["invocations"] for f in found)
    common = max(found, key=lambda f: f["invocations"])
    row: dict[str, Any] = {"invocations": n}
    for name in FIELDS:
        row[name] = {
            "typical": common[name]["typical"],
            "mean": round(sum(f[name]["mean"] * f["invocations"] for f in found) / n, 2),
            "min": min(f[name]["min"] for f in found),
            "max": max(f[name]["max"] for f in found),
        }
    return row


def figures(run: dict[str, Any]) -> dict[str, Any]:
    """What the report prints for one size, from bench.run's figures and the meter."""
    meter = run["meter"]
    invocations = meter["invocations"]
    traffic = meter["traffic"]
    players, rounds = run["players"], run["scenario_rounds"]
    return {
        "players": players,
        "commands": {name: combine(meter, labels) for name, labels in COMMANDS},
        "labels": meter["labels"],  # every label, with each figure's spread over its invocations
        "messages_received": traffic["received"],
        "default_invocations": invocations.get("cloud.handlers.websocket.default", 0),
        "invocations": invocations,
        "local_ms_per_invocation": {
            name: round(1000 * meter["seconds"].get(name, 0) / n) for name, n in invocations.items() if n
        },
        "memory_mb": meter["memory_mb"],
        "fanout_invocations": invocations.get("cloud.handlers.fanout.handler", 0),
        "posts": traffic["posted"],
        "billed_messages": traffic["billed"],
        "messages_per_player_per_question": run["messages_per_player_per_question"],
        "phone_bytes_per_question": run["phone_bytes_per_question"],
        "largest_message_bytes": run["largest_message_bytes"],
        "answer_ack_ms": run["answer_ack_ms"],
        "vote_ack_ms": run["vote_ack_ms"],
        "fanout_last_ms": run["fanout_last_ms"],
        "posts_per_player_per_question": round(traffic["posted"] / max(1, players * rounds), 1),
        "errors": run["error_codes"],
        "lost": run["lost"] + run["out_of_order"] + run["acked_not_counted"],
        "timed_out": meter.get("timed_out", {}),
        "pacing": run["pacing"],
        "join_seconds": run["join_seconds"],
        "play_seconds": run["play_seconds"],
        "load": run["load"],
    }


def cell(row: dict[str, Any] | None, name: str) -> str:
    """`typical` alone when every invocation did the same, else `typical (mean m, max M)`."""
    if row is None:
        return "-"
    v = row[name]
    if v["typical"] == v["mean"] == v["max"]:
        return f"{v['typical']:g}"
    return f"{v['typical']:g} (mean {v['mean']:g}, max {v['max']:g})"


def report(sizes: list[dict[str, Any]]) -> list[str]:
    head = ["", *(f"{f['players']:,} players" for f in sizes)]
    rows: list[list[str]] = [head]
    for name, _ in COMMANDS:
        per = [f["commands"][name] for f in sizes]
        rows.append([f"{name}: invocations", *(str(r["invocations"]) if r else "-" for r in per)])
        for label, field in (
            ("items read", "reads"),
            ("read units", "read_units"),
            ("items written", "writes"),
            ("write units", "write_units"),
            ("items of refused writes (retried)", "refused"),
        ):
            rows.append([f"  {label} per {name.split(' (')[0]}", *(cell(r, field) for r in per)])
    rows += [
        ["WebSocket messages received", *(str(f["messages_received"]) for f in sizes)],
        ["$default invocations (one per message)", *(str(f["default_invocations"]) for f in sizes)],
        ["fan-out invocations", *(str(f["fanout_invocations"]) for f in sizes)],
        ["posts (post_to_connection)", *(str(f["posts"]) for f in sizes)],
        ["posts per player per question", *(str(f["posts_per_player_per_question"]) for f in sizes)],
        ["messages billed (in + out, per 32 KB)", *(str(f["billed_messages"]) for f in sizes)],
        ["messages per player per question", *(str(f["messages_per_player_per_question"]) for f in sizes)],
        [
            "bytes per phone per question: mean/max",
            *(
                f"{f['phone_bytes_per_question']['mean']}/{f['phone_bytes_per_question']['max']}"
                for f in sizes
            ),
        ],
        ["largest message (bytes)", *(str(f["largest_message_bytes"]) for f in sizes)],
        [
            "answer ack p50/p99 (ms, local only)",
            *(f"{f['answer_ack_ms']['p50']}/{f['answer_ack_ms']['p99']}" for f in sizes),
        ],
        [
            "vote ack p50/p99 (ms, local only)",
            *(f"{f['vote_ack_ms']['p50']}/{f['vote_ack_ms']['p99']}" for f in sizes),
        ],
        [
            "fan-out to last player p50/p99 (ms, local only)",
            *(f"{f['fanout_last_ms']['p50']}/{f['fanout_last_ms']['p99']}" for f in sizes),
        ],
        *(
            [f"{name}: invocations, ms each (local only)"]
            + [
                f"{f['invocations'].get(name, 0)}, {f['local_ms_per_invocation'].get(name, '-')}"
                for f in sizes
            ]
            for name in sorted({n for f in sizes for n in f["invocations"]})
        ),
        ["invocations past their timeout", *(json.dumps(f["timed_out"]) for f in sizes)],
        ["errors", *(json.dumps(f["errors"]) for f in sizes)],
        [
            "joins, then play (s, local only)",
            *(f"{f['join_seconds']:.0f}, {f['play_seconds']:.0f}" for f in sizes),
        ],
        ["load average at start / end (1 min)", *(f"{f['load'][0]:.2f} / {f['load'][1]:.2f}" for f in sizes)],
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for i, row in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(widths[j]) for j, c in enumerate(row)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return lines


def targets(sizes: list[dict[str, Any]], quiz: bool = False) -> list[tuple[str, bool, str]]:
    out = []
    for name, which, compared in CONSTANT:
        if quiz and name == "vote":
            continue  # a quiz has none
        rows = [f["commands"][name] for f in sizes]
        if any(r is None for r in rows):
            out.append((f"{name}: counted at every size", False, "not seen at some size"))
            continue
        same = all(len({r[k][which] for r in rows}) == 1 for k in compared)
        seen = "; ".join(f"{k} " + " / ".join(f"{r[k][which]:g}" for r in rows) for k in compared)
        out.append((f"{name}: the same reads and writes ({which}) at every size", same, seen))
    for f in sizes:
        n = f"{f['players']:,} players"
        out.append(
            (
                f"{n}: one $default invocation per WebSocket message",
                f["default_invocations"] == f["messages_received"],
                f"{f['default_invocations']} invocations, {f['messages_received']} messages",
            )
        )
        q = f["phone_bytes_per_question"]
        out.append(
            (f"{n}: bytes per phone per question <= 16 KB", q["max"] <= BYTES_PER_QUESTION, f"max {q['max']}")
        )
        out.append(
            (
                f"{n}: no message over 32 KB",
                f["largest_message_bytes"] <= MAX_MESSAGE,
                f"largest {f['largest_message_bytes']} bytes",
            )
        )
        out.append(
            (f"{n}: no loss, every acked answer and vote counted", f["lost"] == 0, f"{f['lost']} lost")
        )
        late = sum(f["timed_out"].values())
        out.append(
            (f"{n}: no invocation past its timeout", late == 0, f"{late} ({json.dumps(f['timed_out'])})")
        )
    return out


async def run_sizes(players: list[int], rounds: int, quiz: bool, rate: float) -> list[dict[str, Any]]:
    sizes = []
    for n in players:
        s = scenario(n, rounds, quiz, rate)
        pacing = Pacing(n, rate).describe()
        t, load = time.time(), os.getloadavg()[0]
        print(f"- {s.name} ({pacing}), load {load:.2f} ...", flush=True)
        run = await Run(s, "cloud").go()
        end = os.getloadavg()[0]
        print(f"  done in {time.time() - t:.0f} s, load {end:.2f}", flush=True)
        for line in run.get("log", []):
            print(f"    {line}", flush=True)
        sizes.append(figures({**run, "scenario_rounds": rounds, "pacing": pacing, "load": [load, end]}))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cloud", description=__doc__.splitlines()[0])
    parser.add_argument("--players", default="30,100", help="comma-separated game sizes (default 30,100)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quiz", action="store_true", help="play a quiz instead of answer-then-vote")
    parser.add_argument("--json", help="where to write the figures (default: artifacts/bench-cloud.json)")
    parser.add_argument(
        "--rate",
        type=float,
        default=RATE,
        help=f"answers (or votes) a second sent to the double (default {RATE:g})",
    )
    args = parser.parse_args()
    raise_nofile()
    players = [int(p) for p in args.players.split(",")]
    print(f"Engagements cloud benchmark (local gateway and moto) on {machine()['cpu']}", flush=True)
    sizes = asyncio.run(run_sizes(players, args.rounds, args.quiz, args.rate))
    print()
    print("\n".join(report(sizes)))
    print()
    checks = targets(sizes, args.quiz)
    print("## Targets")
    print()
    for text, met, detail in checks:
        print(f"- {'MET   ' if met else 'MISSED'} {text}: {detail}")
    out = Path(args.json) if args.json else ROOT / "artifacts" / "bench-cloud.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    body = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"), "sizes": sizes}
    out.write_text(
        json.dumps(
            {**body, "targets": [{"target": t, "met": m, "figures": d} for t, m, d in checks]}, indent=2
        )
    )
    print(f"JSON: {out}")
    sys.exit(0 if all(met for _, met, _ in checks) else 1)


if __name__ == "__main__":
    main()
