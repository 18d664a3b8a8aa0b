"""A Q&A alongside two answer-then-vote rounds, through the real server over WebSockets, on the appliance
and on the serverless gateway (the local API Gateway double running the real handlers against moto):
the phones ask and upvote in the lobby, while answering and while voting, the host moderates the
lane's queue beside its round controls, and the rounds play on as if the lane were not there."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from typing import Any

from engagements.model import LANE
from tests.conftest import Client

PROMPTS = ["A bad name for a cat", "The worst pizza topping"]


async def lane_until(client: Client, ok: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict:
    """The first `lane` update that satisfies `ok` (they are coalesced: some states are never sent)."""
    async with asyncio.timeout(timeout):
        while True:
            lane = await client.expect("lane", timeout)
            if ok(lane):
                return lane


def listed(lane: dict[str, Any]) -> dict[str, int]:
    return {q["text"]: q["votes"] for q in (*lane["top"], *lane["fresh"])}


async def test_a_qa_runs_alongside_two_answer_then_vote_rounds(any_table_factory):
    table = await any_table_factory(prompts=PROMPTS, qa_alongside=True, qa_questions=2)
    for nick in ("Ann", "Bob", "Cy"):
        await table.join(nick)
    ann, bob, cy = (table.players[n] for n in ("Ann", "Bob", "Cy"))
    _, shown = await table.connect(table.tokens["Cy"], "player")
    lane = shown["game"]["lane"]
    assert (lane["type"], lane["index"], lane["phase"], lane["limit"]) == ("qa", LANE, "open", 2)
    assert shown["game"]["round"] is None and shown["you"]["lane"] == {"mine": [], "voted": []}

    early = (await ann.ok("ask", round=LANE, text="Asked in the lobby?"))["question"]
    await table.host.ok("start")
    opened = await bob.phase("question")
    deadline = opened["round"]["deadline"]
    late = (await bob.ok("ask", round=LANE, text="Asked while answering?"))["question"]
    await cy.ok("upvote", round=LANE, question=early)
    await ann.ok("answer", round=0, text="Sir Meows-a-lot")
    await bob.ok("answer", round=0, text="Mr Whiskers")
    assert (await ann.command("upvote", round=LANE, question=early))["code"] == "own_question"
    await lane_until(
        table.host, lambda m: listed(m) == {"Asked in the lobby?": 1, "Asked while answering?": 0}
    )

    await table.host.ok("end_phase", round=0, phase="question")
    voting = await cy.phase("voting")
    assert voting["round"]["index"] == 0 and deadline is not None
    await bob.ok("upvote", round=LANE, question=early)
    assert (await bob.command("upvote", round=LANE, question=early))["code"] == "already_voted"
    await table.host.ok("moderate", round=LANE, question=early, state="highlighted")
    await table.host.ok("moderate", round=LANE, question=late, state="hidden")
    shown = await lane_until(
        cy, lambda m: m["highlight"] is not None and "Asked while answering?" not in listed(m)
    )
    assert (shown["highlight"]["text"], shown["highlight"]["votes"]) == ("Asked in the lobby?", 2)
    assert (await cy.command("upvote", round=LANE, question=late))["code"] == "no_such_question"
    assert (await bob.command("moderate", round=LANE, question=late, state="asked"))["code"] == "forbidden"
    await table.host.send("questions", round=LANE, state="hidden", offset=0)
    page = await table.host.expect("questions")
    assert (page["round"], [q["text"] for q in page["items"]]) == (LANE, ["Asked while answering?"])

    ballot = (await cy.you("ballot"))["ballot"]
    await cy.ok("vote", round=0, option=ballot[0]["id"])
    await table.host.ok("end_phase", round=0, phase="voting")
    results = await ann.phase("results")
    assert results["round"]["index"] == 0 and results["round"]["results"][0]["votes"] == 1
    await table.host.ok("next", round=0)
    await ann.phase("question")
    await cy.ok("ask", round=LANE, text="Asked in round two?")
    _, again = await table.connect(table.tokens["Bob"], "player")
    assert [(q["text"], q["state"]) for q in again["you"]["lane"]["mine"]] == [
        ("Asked while answering?", "hidden")
    ]
    assert again["you"]["lane"]["voted"] == [early] and again["game"]["round"]["index"] == 1

    await table.host.ok("end_game")
    await ann.phase("finished")
    assert (await ann.command("ask", round=LANE, text="After the end?"))["code"] == "finished"
    _, final = await table.connect(table.created["host_token"], "host")
    assert (final["game"]["lane"]["phase"], final["game"]["lane"]["asked"]) == ("closed", 3)

    headers = {"Authorization": f"Bearer {table.created['host_token']}"}
    async with table.http.get(f"/api/games/{table.game_id}/results.csv", headers=headers) as r:
        rows = list(csv.DictReader(io.StringIO(await r.text())))
    assert [row["round"] for row in rows][:2] == ["1", "1"], "the round's results come first"
    assert [(row["question"], row["votes"], row["state"], row["asked_by"]) for row in rows[2:]] == [
        ("Asked in the lobby?", "2", "highlighted", "Ann"),
        ("Asked while answering?", "0", "hidden", "Bob"),  # by votes, then the first asked
        ("Asked in round two?", "0", "asked", "Cy"),
    ]
    await table.close()
