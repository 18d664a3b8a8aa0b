"""A room that needs ballots, through the real server: 40 phones, a kill -9 in the middle of the vote."""

from __future__ import annotations

import asyncio

import aiohttp

from engagements.types.answer_vote.ballots import BALLOT_SIZE
from tests.conftest import Table, create_game

PLAYERS = 40


async def test_forty_players_vote_from_their_ballots_and_a_kill_9_mid_vote_keeps_ballots_and_votes(
    server_process,
):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=["A bad name for a cat"])
        nicks = [f"P{i:02d}" for i in range(PLAYERS)]
        for nick in nicks:
            await table.join(nick)
        await table.host.ok("start")
        acks = await asyncio.gather(
            *(table.players[n].ok("answer", round=0, text=f"{n} says hi") for n in nicks)
        )
        own = {n: a["option"] for n, a in zip(nicks, acks, strict=True)}
        voting = await table.host.phase("voting")
        assert voting["round"]["ballots"] and voting["round"]["answers"] == PLAYERS
        assert len(voting["round"]["options"]) == 24, "the board views get a showcase, not every answer"
        ballots = {}
        for n in nicks:
            phone = table.players[n]
            assert (await phone.phase("voting"))["round"]["options"] is None
            ballots[n] = [o["id"] for o in (await phone.you("ballot"))["ballot"]]
            assert len(ballots[n]) == BALLOT_SIZE and own[n] not in ballots[n]
        off = next(o for o in own.values() if o not in ballots["P00"] and o != own["P00"])
        assert (await table.players["P00"].command("vote", round=0, option=off))["code"] == "not_on_ballot"
        voted = {n: ballots[n][i % BALLOT_SIZE] for i, n in enumerate(nicks[:20])}
        await asyncio.gather(*(table.players[n].ok("vote", round=0, option=o) for n, o in voted.items()))
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        assert (snap["game"]["phase"], snap["game"]["round"]["voted"]) == ("voting", 20)
        for n in nicks:
            resumed.players[n], mine = await resumed.connect(table.tokens[n], "player")
            assert [o["id"] for o in mine["you"]["ballot"]] == ballots[n], "the same ballot after a restart"
            assert mine["you"]["vote"] == voted.get(n), n
        await asyncio.gather(
            *(resumed.players[n].ok("vote", round=0, option=ballots[n][0]) for n in nicks[20:])
        )
        results = await resumed.host.phase("results")
        assert len(results["round"]["results"]) == 8 and results["round"]["more"] == PLAYERS - 8
        rows = []
        for offset in (0, 20):
            await resumed.host.send("results", round=0, offset=offset)
            rows += (await resumed.host.expect("results"))["items"]
        assert len(rows) == PLAYERS and sum(r["votes"] for r in rows) == PLAYERS
        assert sum(r["shown"] for r in rows) == PLAYERS * BALLOT_SIZE
        async with http.get(
            f"/api/games/{table.game_id}/results.csv",
            headers={"Authorization": f"Bearer {table.created['host_token']}"},
        ) as r:
            lines = (await r.text()).splitlines()
        assert lines[0] == "round,prompt,rank,answer,author,votes,shown,points" and len(lines) == PLAYERS + 1
        async with http.get(f"/api/games/{table.game_id}/results.csv") as r:
            assert r.status == 401
        await resumed.close()
