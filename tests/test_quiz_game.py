"""Quiz games over real WebSockets against the real server (the appliance and the serverless gateway),
and a kill -9 in the middle of a question."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import Table, create_game

QUESTIONS = [
    "Capital of France? | Lyon | *Paris | Nice | Lille",
    "The sun is a star | true",
    {"question": "How many legs has a spider?", "options": ["6", "8"], "answer": "8"},
]


async def test_six_players_play_a_quiz_to_the_podium(any_table_factory):
    table = await any_table_factory(prompts=QUESTIONS, type="quiz")
    nicks = [f"Player{i}" for i in range(6)]
    for nick in nicks:
        await table.join(nick)
    await table.host.ok("start")
    question = await table.host.phase("question")
    assert question["round"]["options"] == ["Lyon", "Paris", "Nice", "Lille"]
    assert question["round"]["answer"] is None, "the answer stays secret until the reveal"
    for client in table.players.values():
        await client.phase("question")

    # Question 1: the first four are right, a tenth of a second apart (2.5 points), the last two wrong.
    for i, nick in enumerate(nicks):
        await table.players[nick].ok("answer", round=0, choice=1 if i < 4 else 2)
        await asyncio.sleep(0.1)
    reveal = await table.host.phase("reveal")
    assert reveal["round"]["answer"] == [1] and reveal["round"]["counts"] == [0, 4, 2, 0]
    assert [f["nickname"] for f in reveal["round"]["fastest"]] == nicks[:4]
    mine = await table.players["Player0"].you("result")
    assert mine["result"]["correct"] and 500 < mine["result"]["points"] <= 1000
    wrong = await table.players["Player5"].you("result")
    assert wrong["result"]["points"] == 0 and not wrong["result"]["correct"]
    board = reveal["leaderboard"]
    assert [row["nickname"] for row in board[:4]] == nicks[:4], "the faster, the more points"
    assert {row["score"] for row in board[4:]} == {0}

    # Question 2 (true/false): Player0 keeps the streak; question 3 is skipped.
    await table.host.ok("next", round=0)
    await table.host.phase("question")
    await table.players["Player0"].ok("answer", round=1, choice=0)
    again = await table.players["Player0"].command("answer", round=1, choice=1)
    assert again["code"] == "already_answered"
    await table.host.ok("end_phase", round=1, phase="question")
    await table.host.phase("reveal")
    streak = await table.players["Player0"].you("result")
    assert streak["result"]["streak"] == 2 and streak["result"]["points"] > 1000, "a streak bonus of 100"
    await table.host.ok("next", round=1)
    await table.host.ok("skip", round=2)
    podium = await table.host.phase("finished")
    assert podium["leaderboard"][0]["nickname"] == "Player0"
    for client in [table.host, *table.players.values()]:
        seqs = [m["seq"] for m in client.seen if "seq" in m and m["type"] != "snapshot"]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


async def test_a_choice_outside_the_question_is_refused_on_both_runtimes(any_table_factory):
    table = await any_table_factory(prompts=QUESTIONS[1:2], type="quiz")
    ann = await table.join("Ann")
    await table.join("Bob")
    await table.host.ok("start")
    await ann.phase("question")
    refused = await ann.command("answer", round=0, choice=2)
    assert refused["code"] == "no_such_option"
    assert (await ann.ok("answer", round=0, choice=1))["type"] == "ack"


async def test_kill_9_mid_question_loses_no_acknowledged_answer(server_process):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=QUESTIONS[:2], type="quiz")
        nicks = [f"P{i}" for i in range(5)]
        for nick in nicks:
            await table.join(nick)
        await table.host.ok("start")
        await asyncio.gather(*(table.players[n].ok("answer", round=0, choice=1) for n in nicks[:3]))
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        assert (snap["game"]["phase"], snap["game"]["round"]["answered"]) == ("question", 3)
        for nick in nicks:
            client, mine = await resumed.connect(table.tokens[nick], "player")
            resumed.players[nick] = client
            assert mine["you"]["choice"] == (1 if nick in nicks[:3] else None), nick
        again = await resumed.players["P0"].command("answer", round=0, choice=0)
        assert again["code"] == "already_answered"
        for nick in nicks[3:]:
            await resumed.players[nick].ok("answer", round=0, choice=0)
        reveal = await resumed.host.phase("reveal")
        assert reveal["round"]["counts"] == [2, 3, 0, 0]
        scores = {row["nickname"]: row["score"] for row in reveal["leaderboard"]}
        assert all(scores[n] >= 500 for n in nicks[:3]) and all(scores[n] == 0 for n in nicks[3:])
        await resumed.close()
