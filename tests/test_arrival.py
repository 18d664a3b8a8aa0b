"""A command is judged by when it reached the appliance, not by when its loop got to it.

In a burst (10,000 phones answering within a second) the event loop reads answers well before it
handles them. An answer that arrived before the deadline counts, and a quiz answer's speed is its
arrival (docs/protocol.md: "the network and the server's backlog never decide it"); the cloud judges
by API Gateway's request time the same way. The appliance runs here as `engagements serve` runs it,
its gate included, in this test's own event loop, so the test can hold that loop up.
"""

from __future__ import annotations

import asyncio
import time

from tests.conftest import Client, create_game, serving

ANSWERING = 6


async def test_answers_that_arrived_before_the_deadline_count_though_handled_after_it(settings):
    async with serving(settings) as appliance, appliance.session() as http:
        table = await create_game(http, prompts=["Only"], question_seconds=5)
        phones = [await table.join(f"Phone {i}") for i in range(ANSWERING + 1)]  # one never answers
        await table.host.ok("start")
        deadline = (await table.host.phase("question"))["round"]["deadline"] / 1000

        await asyncio.sleep(max(0.0, deadline - time.time() - 0.3))
        sent = [
            await phone.send("answer", round=0, text=f"answer {i}") for i, phone in enumerate(phones[:-1])
        ]
        # Two turns of the loop: the appliance reads the answers (their handlers are due in the
        # turn after). Then the whole loop is held until past the deadline, as a burst would.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        time.sleep(max(0.0, deadline - time.time()) + 0.3)

        replies = [await reply(phone, cmd_id) for phone, cmd_id in zip(phones, sent, strict=False)]
        assert [r["type"] for r in replies] == ["ack"] * ANSWERING, replies
        voting = await table.host.phase("voting")
        assert voting["round"]["answers"] == ANSWERING

        late = await phones[-1].command("answer", round=0, text="sent after the deadline")
        assert late["code"] == "stale"
        await table.close()


async def reply(phone: Client, cmd_id: str) -> dict:
    """The command's ack or error."""
    async with asyncio.timeout(10):
        while True:
            m = await phone.receive()
            if m["type"] in ("ack", "error") and m.get("id") == cmd_id:
                return m
