"""Fuzzing from outside: generated WebSocket messages and HTTP requests against a real server.

In the normal run a bounded sample (FUZZ_EXAMPLES visits, a few seconds); `make fuzz` sends at least
FUZZ_MESSAGES (100,000) and prints the figures. Either way: no traceback in the server's log, no
reply to the fuzzer holds the other game's data, and afterwards a player who joined before still
plays a round to its results. The harness and the strategies are in tests/fuzzing.py.
"""

from __future__ import annotations

import asyncio
import os

from hypothesis import HealthCheck, given, settings

from tests.fuzzing import (
    Figures,
    Fuzzer,
    LoggedServer,
    close_games,
    log_faults,
    other_game_untouched,
    play_on,
    set_up_games,
    still_served,
    visits,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))  # visits per hypothesis run
MESSAGES = int(os.environ.get("FUZZ_MESSAGES", "0"))  # runs again until this many were sent
NEW_A_EVERY = 100  # visits; besides a new A as soon as the fuzzer has ended the last one


def test_fuzzed_messages_and_requests_leave_no_traceback_no_leak_and_a_game_that_plays_on(
    tmp_path, unused_tcp_port
):
    loop = asyncio.new_event_loop()
    server = LoggedServer(tmp_path / "data", unused_tcp_port, tmp_path / "server.log")
    figures = Figures()
    try:
        loop.run_until_complete(server.start())
        games = loop.run_until_complete(set_up_games(server.url))
        fuzzer = Fuzzer(server, games, figures)

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(visit=visits(games))
        def visit_once(visit):
            if fuzzer.a_over or (fuzzer.visits and fuzzer.visits % NEW_A_EVERY == 0):
                loop.run_until_complete(games.replace_a(server.url))
                fuzzer.a_over = False
            loop.run_until_complete(fuzzer.run(visit))

        visit_once()
        while figures.sent() < MESSAGES:
            visit_once()
        result = loop.run_until_complete(play_on(games))
        loop.run_until_complete(other_game_untouched(games))
        loop.run_until_complete(still_served(games))
        loop.run_until_complete(close_games(games))
    finally:
        server.stop()
        loop.close()
        print("\n" + figures.report())
    faults = log_faults(server.log())
    assert (faults, figures.cross_game_reads) == ([], 0), server.log()[-3000:]
    assert result["option"]
