"""A Q&A played through the real server over WebSockets, on the appliance and on the serverless gateway
(the local API Gateway double running the real handlers against moto: its questions, votes and lists
read from the index), and a kill -9 of the appliance in the middle of the questions."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from engagements.model import LANE
from tests.conftest import Client, Table, create_game

TOPICS = ["Questions for the keynote", "Ask the organisers"]


async def progress_until(client: Client, ok: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict:
    """The first `progress` that satisfies `ok` (they are coalesced: some states are never sent)."""
    async with asyncio.timeout(timeout):
        while True:
            progress = await client.expect("progress", timeout)
            if ok(progress):
                return progress


def ranked(progress: dict[str, Any]) -> list[tuple[str, int]]:
    return [(q["text"], q["votes"]) for q in progress["top"]]


async def test_a_qa_is_played_with_questions_upvotes_moderation_and_no_scores(any_table_factory):
    table = await any_table_factory(prompts=TOPICS, type="qa", qa_questions=2)
    for nick in ("Ann", "Bob", "Cy", "Di"):
        await table.join(nick)
    ann, bob, cy, di = (table.players[n] for n in ("Ann", "Bob", "Cy", "Di"))
    await table.host.ok("start")
    opened = await ann.phase("open")
    assert (opened["round"]["prompt"], opened["round"]["limit"], opened["round"]["top"]) == (TOPICS[0], 2, [])

    why = (await ann.ok("ask", round=0, text="Why is the sky blue?"))["question"]
    when = (await bob.ok("ask", round=0, text="When is lunch?"))["question"]
    assert (await ann.command("upvote", round=0, question=why))["code"] == "own_question"
    await bob.ok("upvote", round=0, question=why)
    assert (await bob.command("upvote", round=0, question=why))["code"] == "already_voted"
    await cy.ok("upvote", round=0, question=why)
    await di.ok("upvote", round=0, question=when)
    live = await progress_until(
        table.host, lambda p: ranked(p) == [("Why is the sky blue?", 2), ("When is lunch?", 1)]
    )
    assert (live["asked"], live["votes"], live["highlight"]) == (2, 3, None)
    assert live["top"][0]["name"] == "Ann", "this Q&A is not anonymous"
    await progress_until(di, lambda p: ranked(p) == ranked(live))  # the phones see the list too

    await ann.ok("ask", round=0, text="Is the slide deck online?")
    assert (await ann.command("ask", round=0, text="And a third?"))["code"] == "question_limit"
    await di.ok("unvote", round=0, question=when)
    await table.host.ok("moderate", round=0, question=why, state="highlighted")
    shown = await progress_until(table.host, lambda p: p["highlight"] is not None and p["votes"] == 2)
    assert shown["highlight"]["text"] == "Why is the sky blue?"
    assert ranked(shown) == [("When is lunch?", 0), ("Is the slide deck online?", 0)]
    await table.host.ok("moderate", round=0, question=when, state="hidden")
    await progress_until(cy, lambda p: [q["text"] for q in p["top"]] == ["Is the slide deck online?"])
    assert (await cy.command("upvote", round=0, question=when))["code"] == "no_such_question"

    await table.host.send("questions", state="hidden", offset=0)
    page = await table.host.expect("questions")
    assert [(q["text"], q["state"]) for q in page["items"]] == [("When is lunch?", "hidden")] and page[
        "total"
    ] == 1
    assert (await bob.command("questions", state=None, offset=0))["code"] == "forbidden"
    assert (await bob.command("moderate", round=0, question=why, state="answered"))["code"] == "forbidden"

    _, mine = await table.connect(table.tokens["Bob"], "player")
    assert [(q["text"], q["state"]) for q in mine["you"]["mine"]] == [("When is lunch?", "hidden")]
    assert mine["you"]["voted"] == [why]

    await table.host.ok("end_phase", round=0, phase="open")
    closed = await table.host.phase("closed")
    assert {row["score"] for row in closed["leaderboard"]} == {0}
    assert (await cy.command("ask", round=0, text="Too late?"))["code"] == "stale"
    await table.host.ok("moderate", round=0, question=why, state="answered")
    await table.host.ok("next", round=0)
    await ann.phase("open")
    await table.host.ok("end_phase", round=1, phase="open")
    await table.host.ok("next", round=1)
    await table.host.phase("finished")

    headers = {"Authorization": f"Bearer {table.created['host_token']}"}
    async with table.http.get(f"/api/games/{table.game_id}/results.csv", headers=headers) as r:
        rows = list(csv.DictReader(io.StringIO(await r.text())))
    assert [(row["question"], row["votes"], row["state"], row["asked_by"]) for row in rows] == [
        ("Why is the sky blue?", "2", "answered", "Ann"),
        ("When is lunch?", "0", "hidden", "Bob"),  # by votes, then the first asked
        ("Is the slide deck online?", "0", "asked", "Ann"),
    ]
    await table.close()


async def test_an_anonymous_qa_names_nobody_on_any_socket(any_table_factory):
    table = await any_table_factory(prompts=TOPICS[:1], type="qa", qa_anonymous=True)
    for nick in ("Ann", "Bob"):
        await table.join(nick)
    await table.host.ok("start")
    q = (await table.players["Ann"].ok("ask", round=0, text="Who sets the budget?"))["question"]
    await table.players["Bob"].ok("upvote", round=0, question=q)
    await progress_until(table.host, lambda p: p["votes"] == 1)
    await table.host.send("questions", state=None, offset=0)
    await table.host.expect("questions")
    await table.host.ok("end_phase", round=0, phase="open")
    await table.players["Bob"].phase("closed")
    shown = [
        q for client in [table.host, *table.players.values()] for m in client.seen for q in questions_in(m)
    ]
    assert len(shown) >= 3 and all(q["text"] == "Who sets the budget?" for q in shown)
    assert not [q for q in shown if "name" in q or "Ann" in repr(q)]
    await table.close()


def questions_in(found: Any) -> list[dict[str, Any]]:
    """Every question a message carries, wherever it is (lists, the highlight, your own, a page)."""
    if isinstance(found, list):
        return [q for item in found for q in questions_in(item)]
    if not isinstance(found, dict):
        return []
    if {"id", "text", "votes", "state"} <= found.keys():
        return [found]
    return [q for value in found.values() for q in questions_in(value)]


# A Q&A segment, and a Q&A alongside an answer-then-vote round (its lane: tests/test_qa_alongside_game.py)
WHERE = {
    "segment": ({"prompts": TOPICS[:1], "type": "qa"}, 0, "round", "open"),
    "lane": ({"prompts": ["A bad name for a cat"], "qa_alongside": True}, LANE, "lane", "question"),
}


@pytest.mark.parametrize("where", WHERE)
async def test_a_kill_9_mid_qa_loses_no_acknowledged_question_or_vote(server_process, where):
    game, r, shown, phase = WHERE[where]
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, **game, qa_questions=3)
        nicks = [f"P{i}" for i in range(6)]
        for nick in nicks:
            await table.join(nick)
        await table.host.ok("start")
        asked = await asyncio.gather(
            *(table.players[n].ok("ask", id=f"a-{n}", round=r, text=f"From {n}") for n in nicks[:3])
        )
        questions = [a["question"] for a in asked]
        votes = [(n, questions[i % 3]) for i, n in enumerate(nicks[1:])]  # P1..P5, never their own
        # Votes and one more question (P5's, from a second tab) at once; the server dies right after
        # the last ack arrives.
        second, _ = await table.connect(table.tokens["P5"], "player")
        await asyncio.gather(
            *(table.players[n].ok("upvote", id=f"v-{n}", round=r, question=q) for n, q in votes),
            second.ok("ask", id="a-late", round=r, text="A late one"),
        )
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        qa = snap["game"][shown]
        assert (snap["game"]["phase"], qa["asked"], qa["votes"]) == (phase, 4, 5)
        counts = {q["text"]: q["votes"] for q in qa["top"] + qa["fresh"]}
        assert counts == {"From P0": 2, "From P1": 2, "From P2": 1, "A late one": 0}
        # A retried question or vote gets its first ack after the restart, and changes nothing.
        phone, _ = await resumed.connect(table.tokens["P2"], "player")
        again = await phone.ok("upvote", id="v-P2", round=r, question=questions[1])
        assert again["question"] == questions[1]
        late, _ = await resumed.connect(table.tokens["P5"], "player")
        assert (await late.ok("ask", id="a-late", round=r, text="A late one"))["question"]
        _, snap = await resumed.connect(table.created["host_token"], "host")
        assert (snap["game"][shown]["asked"], snap["game"][shown]["votes"]) == (4, 5)
        await resumed.close()
