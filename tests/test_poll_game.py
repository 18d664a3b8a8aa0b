"""A poll played through the real server over WebSockets, on the appliance and on the serverless
gateway (the local API Gateway double running the real handlers against moto), and a kill -9 of the
appliance in the middle of a question."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import ADMIN, Table, create_game

QUESTIONS = [
    "Where shall we eat? | Pizza | Noodles | Salad",
    "Multiple: Which snacks for the trip? | Crisps | Fruit | Cake | Nuts",
]


async def live_counts(host, voted: int) -> dict:
    """The board's live counts once `voted` votes are in (progress is coalesced: some are skipped)."""
    while True:
        progress = await host.expect("progress")
        if progress["voted"] == voted:
            return progress


async def test_a_poll_is_played_with_live_counts_anonymous_results_and_no_scores(any_table_factory):
    table = await any_table_factory(prompts=QUESTIONS, type="poll", vote_seconds=120)
    nicks = ["Ann", "Bob", "Cy", "Di"]
    for nick in nicks:
        await table.join(nick)
    await table.host.ok("start")
    opened = await table.players["Ann"].phase("open")
    assert opened["round"]["options"] == ["Pizza", "Noodles", "Salad"] and not opened["round"]["multiple"]
    assert opened["round"]["counts"] is None, "a phone sees the counts once the question closes"
    assert (await table.host.phase("open"))["round"]["counts"] == []

    refused = await table.players["Ann"].command("vote", round=0, choices=[0, 1])
    assert (refused["type"], refused["code"]) == ("error", "invalid")
    assert (await table.players["Ann"].ok("vote", round=0, choices=[1]))["choices"] == [1]
    again = await table.players["Ann"].command("vote", round=0, choices=[2])
    assert again["code"] == "already_voted"
    await table.players["Bob"].ok("vote", round=0, choices=[1])
    assert (await live_counts(table.host, 2))["counts"] == [0, 2]
    await table.players["Cy"].ok("vote", round=0, choices=[0])
    await table.players["Di"].ok("vote", round=0, choices=[1])  # everyone has voted: it closes

    results = await table.host.phase("results")
    assert (results["round"]["counts"], results["round"]["voted"]) == ([1, 3], 4)
    assert {row["score"] for row in results["leaderboard"]} == {0}
    phone = await table.players["Cy"].phase("results")
    assert phone["round"]["counts"] == [1, 3]
    assert not [n for n in nicks if n in repr(results["round"]) + repr(phone["round"])]

    await table.host.ok("next", round=0)
    await table.players["Ann"].phase("open")
    await table.players["Ann"].ok("vote", round=1, choices=[3, 0])
    await table.players["Bob"].ok("vote", round=1, choices=[0])
    assert (await live_counts(table.host, 2))["counts"] == [2, 0, 0, 1]
    _, snapshot = await table.connect(table.tokens["Ann"], "player")
    assert snapshot["you"]["choices"] == [0, 3], "a phone that reconnects sees its own choices"
    await table.host.ok("end_phase", round=1, phase="open")
    closed = await table.host.phase("results")
    assert (closed["round"]["counts"], closed["round"]["voted"], closed["round"]["eligible"]) == (
        [2, 0, 0, 1],
        2,
        4,
    )
    await table.host.ok("next", round=1)
    final = await table.host.phase("finished")
    assert {row["score"] for row in final["leaderboard"]} == {0}

    headers = {"Authorization": f"Bearer {table.created['host_token']}"}
    async with table.http.get(f"/api/games/{table.game_id}/results.csv", headers=headers) as r:
        lines = (await r.text()).splitlines()
    assert lines[:4] == [
        "round,question,multiple,option,votes,voters,percent",
        "1,Where shall we eat?,no,Pizza,1,4,25",
        "1,Where shall we eat?,no,Noodles,3,4,75",
        "1,Where shall we eat?,no,Salad,0,4,0",
    ]
    assert lines[4:6] == [
        "2,Which snacks for the trip?,yes,Crisps,2,2,100",
        "2,Which snacks for the trip?,yes,Fruit,0,2,0",
    ]
    assert not [n for n in nicks if n in "\n".join(lines)]
    await table.close()


async def test_the_appliance_lists_the_poll_and_its_settings(http):
    async with http.get("/api/types", headers=ADMIN) as r:
        listed = await r.json()
    poll = next(t for t in listed["types"] if t["slug"] == "poll")
    assert [(s["name"], s["default"]) for s in poll["settings"]] == [("vote_seconds", 45)]
    async with http.post(
        "/api/games", json={"title": "T", "prompts": ["Only a question"], "type": "poll"}, headers=ADMIN
    ) as r:
        assert r.status == 400
        assert (await r.json())["error"]["message"] == "Prompt 1: A poll question has 2 to 8 options."


async def test_a_kill_9_mid_poll_loses_no_acknowledged_vote(server_process):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=QUESTIONS[1:], type="poll")
        nicks = [f"P{i}" for i in range(6)]
        for nick in nicks:
            await table.join(nick)
        await table.host.ok("start")
        # Four players vote at once; the server dies right after the last ack arrives.
        chosen = {"P0": [0], "P1": [0, 2], "P2": [3], "P3": [0, 1, 2, 3]}
        await asyncio.gather(
            *(table.players[n].ok("vote", id=f"v-{n}", round=0, choices=c) for n, c in chosen.items())
        )
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        assert (snap["game"]["phase"], snap["game"]["round"]["voted"]) == ("open", 4)
        assert snap["game"]["round"]["counts"] == [3, 1, 2, 2]
        for nick in nicks:
            resumed.players[nick], mine = await resumed.connect(table.tokens[nick], "player")
            assert mine["you"]["choices"] == chosen.get(nick), nick
        # A retry of an acknowledged vote gets its first ack after the restart.
        again = await resumed.players["P1"].ok("vote", id="v-P1", round=0, choices=[3])
        assert again["choices"] == [0, 2]
        await resumed.players["P4"].ok("vote", round=0, choices=[1])
        await resumed.players["P5"].ok("vote", round=0, choices=[1])
        results = await resumed.host.phase("results")
        assert (results["round"]["counts"], results["round"]["voted"]) == ([3, 3, 2, 2], 6)
        await resumed.close()
