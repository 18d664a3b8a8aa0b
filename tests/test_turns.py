"""Commands past a turn's budget wait in line: handled in the order they came, a group a turn, with
the loop reading its sockets between the groups (web/turns.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

from engagements.plugins import load_types
from engagements.service import Games
from engagements.store.sqlite import SQLiteStore
from web.collector import Collector
from web.connection import Conn, Outbox
from web.deadlines import Deadlines
from web.dispatch import Dispatcher
from web.refusals import Refusals
from web.rooms import Rooms
from web.turns import Turns

WORK = 0.002  # seconds one command takes


async def test_a_burst_is_handled_in_order_while_the_loop_still_reads_its_sockets():
    turns = Turns(budget=0.01)
    handled: list[int] = []
    read_after: list[int] = []  # how many commands were handled when the socket's bytes were read
    loop = asyncio.get_running_loop()
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    loop.add_reader(ours, lambda: (ours.recv(100), read_after.append(len(handled))))

    async def command(i: int) -> None:
        await turns.wait()
        handled.append(i)
        if i == 5:
            theirs.send(b"a phone's answer")  # arrives while 54 commands are still to come
        time.sleep(WORK)

    try:
        await asyncio.gather(*(command(i) for i in range(60)))
    finally:
        loop.remove_reader(ours)
        ours.close()
        theirs.close()
    assert handled == list(range(60))
    assert read_after and read_after[0] < 20  # read within a few groups, not after the whole burst


async def test_a_command_that_gives_up_waiting_does_not_hold_up_the_line():
    turns = Turns(budget=0.0)
    handled: list[int] = []

    async def command(i: int) -> None:
        await turns.wait()
        handled.append(i)
        time.sleep(WORK)

    tasks = [asyncio.create_task(command(i)) for i in range(10)]
    await asyncio.sleep(0)  # all in line but the first
    tasks[3].cancel()  # its socket closed
    await asyncio.gather(*tasks, return_exceptions=True)
    assert handled == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert not turns.busy()


async def test_a_deadline_waits_in_line_behind_the_answers_read_before_it(tmp_path):
    """Six answers read 200 ms before the deadline, five of them still in line when it passes (the
    loop held up, as by a burst): the phase closes after them, and all six count."""
    store = await SQLiteStore.open(tmp_path / "store.db")
    games = Games(store, load_types(), join_base="http://127.0.0.1", retention_days=1)
    outbox = Outbox()
    rooms = Rooms(outbox, Collector())
    turns = Turns(budget=0.0)  # one command a turn
    deadlines = Deadlines(games, rooms, turns)
    dispatcher = Dispatcher(games, rooms, deadlines, Refusals(), turns)
    try:
        created = await games.create("Quiz night", ["Only"], "answer-vote", {"question_seconds": 5})
        game = created.game
        phones = []
        for i in range(7):  # one never answers: the deadline, not the last answer, closes the question
            _, token, joined = await games.join(game, f"Phone {i}")
            await joined.saved()
            phone = Conn(OpenSocket(), game.id, None, outbox)
            await dispatcher.receive(phone, json.dumps({"type": "hello", "token": token, "view": "player"}))
            phones.append(phone)
        host = Conn(OpenSocket(), game.id, None, outbox)
        await dispatcher.receive(
            host, json.dumps({"type": "hello", "token": created.host_token, "view": "host"})
        )
        await dispatcher.receive(host, json.dumps({"type": "start", "id": "s"}))
        assert game.phase == "question" and game.deadline is not None

        await asyncio.sleep(max(0.0, game.deadline / 1000 - time.time() - 0.2))
        answers = [
            asyncio.create_task(
                dispatcher.receive(
                    p, json.dumps({"type": "answer", "id": f"a{i}", "round": 0, "text": f"answer {i}"})
                )
            )
            for i, p in enumerate(phones[:-1])
        ]
        await asyncio.sleep(0)  # each is read: the first is handled, five wait in line
        time.sleep(max(0.0, game.deadline / 1000 - time.time()) + 0.1)
        await asyncio.gather(*answers)
        await asyncio.sleep(0.1)

        assert game.phase == "voting"
        assert len(game.round_entries(0, "answer")) == 6
    finally:
        deadlines.close()
        await games.close()
        await store.close()


class OpenSocket:
    """What a `Conn` asks of its socket when it has no transport: is it closed."""

    closed = False
