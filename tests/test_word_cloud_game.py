"""A word cloud played through the real server over WebSockets, on the appliance and on the
serverless gateway (the local API Gateway double running the real handlers against moto), and a
kill -9 of the appliance in the middle of a cloud."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import Table, create_game

QUESTIONS = ["One word for the weekend?", "Your favourite season"]


async def live_words(host, entries: int) -> dict:
    """The board's live counts once `entries` words are in (progress is coalesced: some are skipped)."""
    while True:
        progress = await host.expect("progress")
        if progress["entries"] == entries:
            return progress


async def results_you(client) -> dict:
    """A phone's `you` of the results (it follows their phase_changed; earlier ones are dropped)."""
    await client.phase("results")
    client.inbox = [m for m in client.inbox if m["type"] != "you"]
    return await client.expect("you")


async def test_a_word_cloud_is_played_with_live_words_a_hidden_word_and_no_scores(any_table_factory):
    table = await any_table_factory(
        prompts=QUESTIONS, type="word-cloud", word_seconds=120, words_per_player=2
    )
    nicks = ["Ann", "Bob", "Cy", "Di"]
    for nick in nicks:
        await table.join(nick)
    await table.host.ok("start")
    opened = await table.players["Ann"].phase("open")
    assert (opened["round"]["type"], opened["round"]["limit"], opened["round"]["words"]) == (
        "word-cloud",
        2,
        None,
    )
    assert (await table.host.phase("open"))["round"]["words"] == []

    ann, bob, cy, di = (table.players[n] for n in nicks)
    first = await ann.ok("word", round=0, text="  Sunny! ")
    assert (first["word"], first["sent"]) == ("sunny", 1), "the ack says what was counted"
    assert (await ann.command("word", round=0, text="SUNNY"))["code"] == "already_sent"
    assert (await ann.ok("word", round=0, text="Beach"))["sent"] == 2
    assert (await ann.command("word", round=0, text="more"))["code"] == "no_words_left"
    await bob.ok("word", round=0, text="sunny")
    await cy.ok("word", round=0, text="beach?")
    await cy.ok("word", round=0, text="SUNNY")
    live = await live_words(table.host, 5)
    assert (live["words"], live["players"], live["eligible"]) == ([["sunny", 3], ["beach", 2]], 3, 4)

    assert (await bob.command("hide", round=0, word="beach"))["code"] == "forbidden"
    assert (await table.host.ok("hide", round=0, word="Beach"))["word"] == "beach"
    hidden = await table.host.expect("progress", hidden=1)
    assert hidden["words"] == [["sunny", 3]], "a hidden word leaves the board at once"

    await bob.ok("word", round=0, text="rain")
    await di.ok("word", round=0, text="snow")
    await di.ok("word", round=0, text="sunny")  # everyone has sent both words: the cloud closes
    results = await table.host.phase("results")
    assert results["round"]["words"] == [["sunny", 4], ["rain", 1], ["snow", 1]]
    assert {row["score"] for row in results["leaderboard"]} == {0}
    phone = await cy.phase("results")
    assert phone["round"]["words"] is None and phone["round"]["entries"] == 8
    mine = await results_you(ann)
    assert mine["words"] == [{"word": "sunny", "count": 4}, {"word": "beach", "count": None, "hidden": True}]
    await table.host.send("results", round=0, offset=0, id="r1")
    page = await table.host.expect("results", id="r1")
    assert [(r["word"], r["count"], r["rank"]) for r in page["items"]] == [
        ("sunny", 4, 1),
        ("rain", 1, 2),
        ("snow", 1, 2),
    ]
    assert not [n for n in nicks if n in repr(results["round"]) + repr(page)]

    await table.host.ok("next", round=0)
    await ann.phase("open")
    await ann.ok("word", round=1, text="Autumn")
    await bob.ok("word", round=1, text="autumn")
    assert (await live_words(table.host, 2))["words"] == [["autumn", 2]]
    _, snapshot = await table.connect(table.tokens["Ann"], "player")
    assert snapshot["you"]["words"] == [{"word": "autumn", "count": None}], (
        "a phone that reconnects sees its words"
    )
    await table.host.ok("end_phase", round=1, phase="open")
    closed = await table.host.phase("results")
    assert (closed["round"]["words"], closed["round"]["players"]) == ([["autumn", 2]], 2)
    await table.host.ok("next", round=1)
    final = await table.host.phase("finished")
    assert {row["score"] for row in final["leaderboard"]} == {0}

    headers = {"Authorization": f"Bearer {table.created['host_token']}"}
    async with table.http.get(f"/api/games/{table.game_id}/results.csv", headers=headers) as r:
        lines = (await r.text()).splitlines()
    assert lines == [
        "round,question,word,count,rank",
        "1,One word for the weekend?,sunny,4,1",
        "1,One word for the weekend?,rain,1,2",
        "1,One word for the weekend?,snow,1,2",
        "2,Your favourite season,autumn,2,1",
    ]
    await table.close()


async def test_a_kill_9_mid_cloud_loses_no_acknowledged_word(server_process):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=QUESTIONS[:1], type="word-cloud", words_per_player=3)
        nicks = [f"P{i}" for i in range(6)]
        for nick in nicks:
            await table.join(nick)
        await table.host.ok("start")
        # Four players send words at once; the server dies right after the last ack arrives.
        sent = {"P0": ["tea", "cake"], "P1": ["Tea!"], "P2": ["scones", "jam", "TEA"], "P3": ["cake"]}

        async def send(nick: str) -> None:
            for i, word in enumerate(sent[nick]):
                await table.players[nick].ok("word", id=f"w-{nick}-{i}", round=0, text=word)

        await asyncio.gather(*(send(nick) for nick in sent))
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        counted = {"tea": 3, "cake": 2, "jam": 1, "scones": 1}
        assert (snap["game"]["phase"], snap["game"]["round"]["entries"]) == ("open", 7)
        assert snap["game"]["round"]["words"] == [[w, n] for w, n in counted.items()]
        for nick in nicks:
            resumed.players[nick], mine = await resumed.connect(table.tokens[nick], "player")
            kept = sorted(w["word"] for w in mine["you"]["words"])
            assert kept == sorted(w.lower().rstrip("!") for w in sent.get(nick, [])), nick
        # A retry of an acknowledged word gets its first ack after the restart.
        again = await resumed.players["P1"].ok("word", id="w-P1-0", round=0, text="coffee")
        assert (again["word"], again["sent"]) == ("tea", 1)
        await resumed.players["P4"].ok("word", round=0, text="tea")
        await resumed.host.ok("end_phase", round=0, phase="open")
        results = await resumed.host.phase("results")
        assert results["round"]["words"][0] == ["tea", 4]
        await resumed.close()


async def test_a_word_cloud_between_two_quiz_questions_keeps_one_leaderboard(any_table_factory):
    """A mixed game: the word cloud's round opens as its own type, its commands are stale in the
    quiz's rounds and the quiz's in it, and the quiz's points carry over it to one podium."""
    prompts = [
        {"type": "quiz", "question": "Capital of France?", "options": ["Lyon", "Paris"], "answer": "Paris"},
        {"type": "word-cloud", "question": "One word for this quiz?"},
        {"type": "quiz", "question": "The sun is a star", "answer": True},
    ]
    table = await any_table_factory(prompts=prompts, words_per_player=1)
    for nick in ("Ann", "Bob"):
        await table.join(nick)
    ann, bob = table.players["Ann"], table.players["Bob"]
    await table.host.ok("start")
    await ann.phase("question")
    assert (await ann.command("word", round=0, text="early"))["code"] == "stale"
    assert (await table.host.command("hide", round=0, word="early"))["code"] == "stale"
    await ann.ok("answer", round=0, choice=1)
    await bob.ok("answer", round=0, choice=0)
    reveal = await table.host.phase("reveal")
    quiz = {row["nickname"]: row["score"] for row in reveal["leaderboard"]}

    await table.host.ok("next", round=0)
    opened = await ann.phase("open")
    assert (opened["round"]["type"], opened["round"]["limit"]) == ("word-cloud", 1)
    assert (await ann.command("answer", round=1, choice=0))["code"] == "stale"
    await ann.ok("word", round=1, text="Fun!")
    await table.host.ok("hide", round=1, word="fun")
    await bob.ok("word", round=1, text="hard")  # everyone has sent their word
    cloud = await table.host.phase("results")
    assert (cloud["round"]["words"], cloud["round"]["hidden"]) == ([["hard", 1]], 1)
    assert {row["nickname"]: row["score"] for row in cloud["leaderboard"]} == quiz, "no points for words"

    await table.host.ok("next", round=1)
    await ann.phase("question")
    await ann.ok("answer", round=2, choice=0)
    await bob.ok("answer", round=2, choice=0)
    await table.host.phase("reveal")
    await table.host.ok("next", round=2)
    podium = await table.host.phase("finished")
    final = {row["nickname"]: row["score"] for row in podium["leaderboard"]}
    assert final["Ann"] > quiz["Ann"] > 0 and final["Bob"] > quiz["Bob"] == 0
    await table.close()
