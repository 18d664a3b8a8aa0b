"""Every acknowledged answer survives a kill -9 of the server, and the game resumes where it was."""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp
import pytest

from tests.conftest import Client, Table, create_game


async def test_kill_9_mid_game_loses_no_acknowledged_answer_and_the_game_resumes(server_process):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=["First", "Second"])
        nicks = [f"P{i}" for i in range(6)]
        for nick in nicks:
            await table.join(nick)
        await table.host.ok("start")
        # Four players answer at once; the server dies right after the last ack arrives.
        acks = await asyncio.gather(
            *(table.players[n].ok("answer", round=0, text=f"{n} says hi") for n in nicks[:4])
        )
        acked = {n: a["option"] for n, a in zip(nicks[:4], acks, strict=True)}
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        assert (snap["game"]["phase"], snap["game"]["round"]["answered"]) == ("question", 4)
        assert sorted(snap["game"]["room"]["recent"]) == nicks
        for nick in nicks:
            client, mine = await resumed.connect(table.tokens[nick], "player")
            resumed.players[nick] = client
            assert mine["you"]["answer_option"] == acked.get(nick), nick
        # A retry of an acknowledged answer is still recognised after the restart.
        again = await resumed.players["P0"].command("answer", id="never-sent-before", round=0, text="x")
        assert again["code"] == "already_answered"
        own = dict(acked)
        for nick in nicks[4:]:
            own[nick] = (await resumed.players[nick].ok("answer", round=0, text=f"{nick} was late"))["option"]
        voting = await resumed.host.phase("voting")
        assert len(voting["round"]["options"]) == 6
        for i, nick in enumerate(nicks):
            option = next(o["id"] for o in voting["round"]["options"][i % 2 :] if o["id"] != own[nick])
            await resumed.players[nick].ok("vote", round=0, option=option)
        results = await resumed.host.phase("results")
        assert sum(r["votes"] for r in results["round"]["results"]) == 6
        await resumed.close()


async def test_scores_and_phase_survive_a_restart_between_rounds(server_process):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=["First", "Second"])
        for nick in ("Ann", "Bob"):
            await table.join(nick)
        await table.host.ok("start")
        options = {
            n: (await table.players[n].ok("answer", round=0, text=n))["option"] for n in ("Ann", "Bob")
        }
        await table.players["Ann"].ok("vote", round=0, option=options["Bob"])
        await table.players["Bob"].ok("vote", round=0, option=options["Ann"])
        await table.host.phase("results")
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        ws = await http.ws_connect(f"/ws/{table.game_id}")
        ann = Client(ws)
        await ann.send("hello", token=table.tokens["Ann"], view="player")
        snap = await ann.expect("snapshot")
        assert snap["game"]["phase"] == "results"
        assert snap["you"]["player"]["score"] == 200 and snap["you"]["player"]["rank"] == 1
        await ws.close()


async def test_a_host_command_sent_again_after_a_restart_gets_its_first_ack(server_process):
    """The console resends its last commands after a reconnect: a restart must not turn them into `stale`."""
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=["First", "Second"])
        for nick in ("Ann", "Bob"):
            await table.join(nick)
        started = await table.host.ok("start", id="host-start")
        await table.players["Ann"].ok("answer", round=0, text="Ann's")
        ended = await table.host.ok("end_phase", id="host-end", round=0, phase="question")
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        resumed = Table(http, table.created)
        resumed.host, snap = await resumed.connect(table.created["host_token"], "host")
        assert snap["game"]["phase"] == "voting"
        assert await resumed.host.command("start", id="host-start") == started
        assert await resumed.host.command("end_phase", id="host-end", round=0, phase="question") == ended
        # A new command is judged afresh.
        again = await resumed.host.command("start", id="host-start-2")
        assert (again["type"], again["code"]) == ("error", "stale")
        await resumed.host.ws.close()


async def test_no_view_is_shown_a_phase_change_before_it_is_saved(server, settings, table_factory):
    """Another program holds the database's write lock: the game's start waits for it, unseen."""
    table = await table_factory()
    ann = await table.join("Ann")
    locker = sqlite3.connect(settings.database, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        cmd_id = await table.host.send("start")
        for view in (table.host, ann):
            with pytest.raises(TimeoutError):
                await view.expect("phase_changed", timeout=0.5)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    for view in (table.host, ann):
        assert (await view.phase("question"))["round"]["index"] == 0
    assert (await table.host.expect("ack"))["id"] == cmd_id


async def test_a_kick_and_the_seats_used_survive_a_kill_9(server_process):
    """The kicked device stays out and a seat that never connected stays ineligible after a restart."""
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=["Only"])
        await table.join("Ann")
        await table.join("Bob")
        code = table.created["code"]
        body = {"code": code, "nickname": "Troll", "device_id": "t" * 32, "client_id": "c" * 32}
        async with http.post("/api/join", json=body) as r:
            troll = await r.json()
        async with http.post("/api/join", json={"code": code, "nickname": "Ghost"}) as r:
            assert r.status == 200  # a seat whose phone never connects
        await table.host.ok("kick", player=troll["player_id"])
        server.kill()

    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/api/join", json={**body, "nickname": "Angel", "client_id": "n" * 32}) as r:
            assert (r.status, (await r.json())["error"]["code"]) == (403, "kicked")
        async with http.post("/api/join", json=body) as r:  # the kicked join's own retry
            assert (r.status, (await r.json())["error"]["code"]) == (403, "kicked")
        resumed = Table(http, table.created)
        resumed.host, _ = await resumed.connect(table.created["host_token"], "host")
        await resumed.host.ok("start")
        question = await resumed.host.phase("question")
        assert question["round"]["eligible"] == 2, "Ann and Bob connected before the kill; Ghost never did"
        for nick in ("Ann", "Bob"):
            resumed.players[nick], _ = await resumed.connect(table.tokens[nick], "player")
        for nick in ("Ann", "Bob"):
            await resumed.players[nick].ok("answer", round=0, text=nick)
        voting = await resumed.host.phase("voting")  # the ghost does not hold the question open
        assert voting["round"]["eligible"] == 2
        await resumed.close()
