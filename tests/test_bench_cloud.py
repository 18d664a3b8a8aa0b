"""The cloud benchmark (`make bench-cloud`, bench/cloud.py) at a small size: real games through the local
gateway's WebSocket and HTTP APIs, and the counts it prints hold their targets at two sizes.

The figures of docs/cloud.md come from the full run (30 and 1,000 players); this only keeps the scenario
working, and its constant counts constant, in `make test`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.cloud import Pacing, scenario

ROOT = Path(__file__).resolve().parents[1]


def bench(tmp_path: Path, *args: str) -> dict:
    """A run of bench.cloud at 3 and 6 players, one round; its figures, every target met."""
    out = tmp_path / "bench-cloud.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.cloud", "--players", "3,6", "--rounds", "1", "--json", str(out), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert [t["target"] for t in figures["targets"] if not t["met"]] == []
    return figures


def test_the_cloud_bench_counts_the_same_reads_and_writes_per_command_at_two_sizes(tmp_path: Path) -> None:
    figures = bench(tmp_path)
    small, large = (size["commands"] for size in figures["sizes"])
    # Every invocation within its timeout, and the run says how it was paced and how loaded the machine was.
    assert any(t["target"] == "6 players: no invocation past its timeout" for t in figures["targets"])
    assert all(
        size["timed_out"] == {} and "paced for the test double" in size["pacing"] for size in figures["sizes"]
    )
    assert all(len(size["load"]) == 2 for size in figures["sizes"])
    for command in ("answer", "vote"):
        assert small[command]["invocations"] == 2 and large[command]["invocations"] == 5
        for figure in ("reads", "read_units", "writes", "write_units"):
            assert small[command][figure]["typical"] == large[command][figure]["typical"] > 0
    # The ENTRY and META, in one transaction, and the socket's message count on its reverse item.
    assert small["answer"]["writes"]["typical"] == 3


def test_the_cloud_bench_plays_a_quiz_with_the_same_reads_and_writes_per_answer(tmp_path: Path) -> None:
    figures = bench(tmp_path, "--quiz")
    assert not any(t["target"].startswith("vote") for t in figures["targets"]), "a quiz has no vote"
    small, large = (size["commands"] for size in figures["sizes"])
    assert small["vote"] is None
    assert small["answer"]["invocations"] == 2 and large["answer"]["invocations"] == 5
    for figure in ("reads", "read_units", "writes", "write_units"):
        assert small["answer"][figure]["max"] == large["answer"][figure]["max"] > 0
    assert all(size["phone_bytes_per_question"]["max"] <= 16 * 1024 for size in figures["sizes"])


def test_the_pace_spreads_a_rooms_commands_over_players_by_rate_inside_its_phases() -> None:
    """A room is sent its answers, and its votes, at the double's rate, each phase long enough for that."""
    for players, rate in ((3, 6.0), (30, 6.0), (1000, 6.0), (1000, 20.0)):
        pace = Pacing(players, rate)
        assert pace.spread == max(1.0, players / rate)
        assert pace.question_seconds >= pace.opening + pace.spread + pace.drain
        assert pace.vote_seconds >= pace.opening + pace.spread + pace.drain
        s = scenario(players, 2, rate=rate)
        assert (s.spread, s.question_seconds, s.vote_seconds) == (
            pace.spread,
            pace.question_seconds,
            pace.vote_seconds,
        )
        assert s.question_seconds - s.before_deadline - s.spread >= pace.opening  # the question is out first
    assert Pacing(1200, 6.0).spread == 200.0 and Pacing(6, 6.0).question_seconds == 5  # small rooms as before
