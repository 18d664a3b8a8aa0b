"""A game that mixes types over real WebSockets against the real server (the appliance and the
serverless gateway): a quiz question, an answer-then-vote round, a quiz question, one leaderboard;
and a kill -9 in the middle of the answer-then-vote round."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import Table, create_game

PROMPTS = [
    {"type": "quiz", "question": "Capital of France?", "options": ["Lyon", "Paris"], "answer": "Paris"},
    {"type": "answer-vote", "prompt": "A bad name for a cat"},
    {"type": "quiz", "question": "The sun is a star", "answer": True},
]
NICKS = ("Ann", "Bob", "Cy")


async def opened(table: Table, round_: int, type_: str) -> None:
    """Every view sees the round open, named by its type (the phones load that type's module)."""
    for client in [table.host, *table.players.values()]:
        question = await client.phase("question")
        assert (question["round"]["type"], question["round"]["index"]) == (type_, round_)


async def quiz_round(table: Table, round_: int, choices: dict[str, int]) -> dict:
    await opened(table, round_, "quiz")
    for nick, choice in choices.items():
        await table.players[nick].ok("answer", round=round_, choice=choice)
    return await table.host.phase("reveal")


async def vote_round(table: Table, round_: int, votes: dict[str, str]) -> dict:
    await opened(table, round_, "answer-vote")
    options = {}
    for nick, client in table.players.items():
        options[nick] = (await client.ok("answer", round=round_, text=f"{nick}'s cat"))["option"]
    await table.host.phase("voting")
    for voter, author in votes.items():
        await table.players[voter].ok("vote", round=round_, option=options[author])
    return await table.host.phase("results")


async def test_three_players_play_a_quiz_a_vote_and_a_quiz_to_one_podium(any_table_factory):
    table = await any_table_factory(prompts=PROMPTS)
    for nick in NICKS:
        await table.join(nick)
    await table.host.ok("start")
    reveal = await quiz_round(table, 0, {"Ann": 1, "Bob": 1, "Cy": 0})
    quiz_points = {row["nickname"]: row["score"] for row in reveal["leaderboard"]}
    assert quiz_points["Cy"] == 0 and all(quiz_points[n] > 900 for n in ("Ann", "Bob"))
    stale = await table.players["Ann"].command("vote", round=0, option="o1")
    assert stale["code"] == "stale", "a vote is a command of another round's type"

    await table.host.ok("next", round=0)
    results = await vote_round(table, 1, {"Ann": "Cy", "Bob": "Cy", "Cy": "Ann"})
    top = results["round"]["results"][0]
    assert (top["author"]["nickname"], top["votes"]) == ("Cy", 2)
    scores = {row["nickname"]: row["score"] for row in results["leaderboard"]}
    assert scores["Cy"] == top["points"] and scores["Bob"] == quiz_points["Bob"], "one leaderboard"

    await table.host.ok("next", round=1)
    await quiz_round(table, 2, {"Ann": 0, "Bob": 1, "Cy": 0})
    await table.host.ok("next", round=2)
    podium = await table.host.phase("finished")
    final = {row["nickname"]: row["score"] for row in podium["leaderboard"]}
    assert final["Bob"] == scores["Bob"], "a wrong answer adds nothing"
    assert final["Ann"] > scores["Ann"] + 1000, "two right quiz answers in a row: a streak bonus"
    snap = (await table.connect(table.tokens["Cy"], "player"))[1]
    assert snap["game"]["type"] == "quiz" and snap["you"]["player"]["score"] == final["Cy"]
    for client in [table.host, *table.players.values()]:
        seqs = [m["seq"] for m in client.seen if "seq" in m and m["type"] != "snapshot"]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


async def test_kill_9_mid_vote_round_loses_no_acknowledged_entry(server_process):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=PROMPTS[:2])
        for nick in NICKS:
            await table.join(nick)
        await table.host.ok("start")
        await quiz_round(table, 0, {"Ann": 1, "Bob": 0, "Cy": 1})
        await table.host.ok("next", round=0)
        await opened(table, 1, "answer-vote")
        options = {}
        for nick in NICKS:
            options[nick] = (await table.players[nick].ok("answer", round=1, text=f"{nick}'s cat"))["option"]
        await table.host.phase("voting")
        await asyncio.gather(
            table.players["Ann"].ok("vote", round=1, option=options["Bob"]),
            table.players["Bob"].ok("vote", round=1, option=options["Ann"]),
        )
        await table.host.send("players", query="")
        before = await table.host.expect("players")
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        game = snap["game"]
        assert (game["phase"], game["round"]["type"], game["round"]["voted"]) == ("voting", "answer-vote", 2)
        scores = {row["nickname"]: row["score"] for row in game["leaderboard"]}
        assert scores == {row["nickname"]: row["score"] for row in before["items"]}, "the quiz round's points"
        for nick in NICKS:
            resumed.players[nick], mine = await resumed.connect(table.tokens[nick], "player")
            assert mine["you"]["answer_option"] == options[nick], nick
        again = await resumed.players["Ann"].command("vote", round=1, option=options["Cy"])
        assert again["code"] == "already_voted"
        await resumed.players["Cy"].ok("vote", round=1, option=options["Ann"])
        results = await resumed.host.phase("results")
        assert {row["author"]["nickname"]: row["votes"] for row in results["round"]["results"]} == {
            "Ann": 2,
            "Bob": 1,
            "Cy": 0,
        }
        await resumed.host.ok("next", round=1)
        podium = await resumed.host.phase("finished")
        final = {row["nickname"]: row["score"] for row in podium["leaderboard"]}
        assert final["Ann"] > scores["Ann"] and final["Cy"] == scores["Cy"]
        await resumed.close()
