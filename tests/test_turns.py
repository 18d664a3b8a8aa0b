"""Commands past a turn's budget wait in line: handled in the order they came, a group a turn, with
the loop reading its sockets between the groups (web/turns.py)."""

from __future__ import annotations

import asyncio
import socket
import time

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
