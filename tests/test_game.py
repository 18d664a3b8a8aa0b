"""Whole games over real WebSockets against the real server: what hosts and players live through."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import Client


async def play_round(table, round_: int, votes: dict[str, str]) -> dict:
    """Everyone answers; then each voter votes for the nickname given in `votes`."""
    options = {}
    for nick, client in table.players.items():
        ack = await client.ok("answer", round=round_, text=f"{nick}'s answer {round_}")
        options[nick] = ack["option"]
    await table.host.phase("voting")
    for voter, author in votes.items():
        await table.players[voter].ok("vote", round=round_, option=options[author])
    return await table.host.phase("results")


async def test_eight_players_play_a_whole_game_to_the_podium(any_table_factory):
    table = await any_table_factory()
    nicks = [f"Player{i}" for i in range(8)]
    for nick in nicks:
        await table.join(nick)
    await table.host.send("sync")  # the host's lobby has filled up
    snap = await table.host.expect("snapshot")
    assert snap["game"]["room"]["players"] == 8
    assert snap["game"]["room"]["recent"] == nicks[::-1], "the latest nicknames, newest first"

    await table.host.ok("start")
    for client in table.players.values():
        assert (await client.phase("question"))["round"]["prompt"] == "A bad name for a cat"
    # Round 1: everyone votes for Player0 except Player0, who votes for Player1.
    votes = {n: "Player0" for n in nicks[1:]} | {"Player0": "Player1"}
    results = await play_round(table, 0, votes)
    top = results["round"]["results"][0]
    assert (top["author"]["nickname"], top["votes"], top["points"]) == ("Player0", 7, 700 + 100), (
        "no sweep: one vote went elsewhere"
    )
    you = await table.players["Player0"].you("result")
    assert you["result"]["votes"] == 7 and you["result"]["rank"] == 1
    assert you["player"] == {"id": table.ids["Player0"], "nickname": "Player0", "score": 800, "rank": 1}

    await table.host.ok("next", round=0)
    votes = {n: "Player7" for n in nicks[:7]} | {"Player7": "Player6"}
    await play_round(table, 1, votes)
    await table.host.ok("next", round=1)
    podium = await table.host.phase("finished")
    board = [(row["nickname"], row["score"], row["rank"]) for row in podium["leaderboard"][:3]]
    assert board == [("Player0", 800, 1), ("Player7", 800, 1), ("Player1", 100, 3)]
    for client in table.players.values():
        await client.phase("finished")

    # Every view got every event once, in order, with no gaps.
    for client in [table.host, *table.players.values()]:
        seqs = [m["seq"] for m in client.seen if "seq" in m and m["type"] != "snapshot"]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


async def test_player_rejoins_same_seat_with_same_score_after_phone_sleeps(any_table_factory):
    table = await any_table_factory()
    for nick in ("Ann", "Bob", "Cy"):
        await table.join(nick)
    await table.host.ok("start")
    await play_round(table, 0, {"Ann": "Bob", "Bob": "Cy", "Cy": "Bob"})
    await table.host.ok("next", round=0)
    await table.players["Bob"].phase("question")
    await table.players["Bob"].ws.close()  # the phone sleeps mid-question
    await table.host.expect("room", players=3, connected=2)

    bob, snap = await table.connect(table.tokens["Bob"], "player")
    assert snap["you"]["player"] == {"id": table.ids["Bob"], "nickname": "Bob", "score": 300, "rank": 1}
    assert snap["game"]["round"]["index"] == 1 and snap["game"]["phase"] == "question"
    assert abs(snap["now"] - snap["game"]["round"]["deadline"]) < 61_000, "the server's clock, in ms"
    await table.host.expect("room", players=3, connected=3)
    assert (await bob.ok("answer", round=1, text="back again"))["option"]
    assert snap["game"]["room"]["players"] == 3, "no second seat was made"


async def test_command_retried_after_reconnect_is_applied_once(table_factory):
    table = await table_factory()
    ann = await table.join("Ann")
    await table.join("Bob")
    await table.host.ok("start")
    first = await ann.command("answer", id="ann-1", round=0, text="only once")
    await ann.ws.close()
    ann, snap = await table.connect(table.tokens["Ann"], "player")
    assert snap["you"]["answer_option"] == first["option"]
    again = await ann.command("answer", id="ann-1", round=0, text="only once")
    assert again == first
    assert snap["game"]["round"]["answered"] == 1


async def test_host_controls_lock_kick_skip_end_phase_and_end_game(table_factory, http):
    table = await table_factory(prompts=["one", "two", "three"])
    await table.join("Ann")
    await table.join("Bob")
    troll = await table.join("Troll")
    await table.host.ok("lock", locked=True)
    async with http.post("/api/join", json={"code": table.created["code"], "nickname": "Late"}) as r:
        assert r.status == 403 and (await r.json())["error"]["code"] == "locked"

    await table.host.ok("kick", player=table.ids["Troll"])
    kicked = await troll.expect("error")
    assert kicked["code"] == "kicked"
    closing = await troll.ws.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4003
    rejoin = {"code": table.created["code"], "nickname": "Troll2", "previous_token": table.tokens["Troll"]}
    await table.host.ok("lock", locked=False)
    async with http.post("/api/join", json=rejoin) as r:
        assert r.status == 403 and (await r.json())["error"]["code"] == "kicked"

    await table.host.ok("start")
    await table.host.phase("question")
    await table.players["Ann"].ok("answer", round=0, text="quick")
    await table.host.ok("end_phase", round=0, phase="question")
    voting = await table.host.phase("voting")
    assert [o["text"] for o in voting["round"]["options"]] == ["quick"]
    await table.host.ok("skip", round=0)
    assert (await table.host.phase("question"))["round"]["index"] == 1
    await table.host.ok("end_game")
    final = await table.host.phase("finished")
    assert final["status"] == "finished"
    assert {row["nickname"] for row in final["leaderboard"]} == {"Ann", "Bob"}


async def test_kicked_token_is_refused_on_hello(table_factory):
    table = await table_factory()
    await table.join("Ann")
    await table.host.ok("kick", player=table.ids["Ann"])
    ws = await table.http.ws_connect(f"/ws/{table.game_id}")
    client = Client(ws)
    await client.send("hello", token=table.tokens["Ann"], view="player")
    assert (await client.expect("error"))["code"] == "kicked"
    await ws.close()


async def test_bad_input_gets_a_clear_error_and_the_game_carries_on(table_factory):
    table = await table_factory()
    ann = await table.join("Ann")
    await table.join("Bob")
    await table.host.ok("start")
    ws = ann.ws

    async def error_for(raw: str) -> dict:
        await ws.send_str(raw)
        return await ann.expect("error")

    assert (await error_for("{not json")).get("code") == "bad_json"
    assert (await error_for("[1, 2]"))["code"] == "bad_json"
    assert (await error_for('{"no": "type"}'))["code"] == "bad_message"
    assert (await error_for('{"type": "dance", "id": "x1"}'))["code"] == "unknown_type"
    assert (await error_for('{"type": "answer", "round": 0, "text": "hi"}'))["code"] == "bad_message"
    too_big = '{"type": "answer", "id": "x2", "round": 0, "text": "' + "a" * 5000 + '"}'
    assert (await error_for(too_big))["code"] == "too_large"
    await ws.send_bytes(b"\x00\x01")
    assert (await ann.expect("error"))["code"] == "bad_json"
    assert (await ann.command("start"))["code"] == "forbidden"
    assert (await ann.command("answer", round=0, text="   "))["code"] == "invalid"
    assert (await ann.command("answer", round=7, text="wrong round"))["code"] == "stale"
    first = await ann.ok("answer", round=0, text="my answer")
    assert (await ann.command("answer", round=0, text="again"))["code"] == "already_answered"
    await table.players["Bob"].ok("answer", round=0, text="bob's")
    await ann.phase("voting")
    options = (await ann.you("ballot"))["ballot"]
    assert [o["id"] for o in options] != [first["option"]], "never your own answer on your ballot"
    assert (await ann.command("vote", round=0, option=first["option"]))["code"] == "own_answer"
    assert (await ann.command("vote", round=0, option="o-nope"))["code"] == "no_such_option"
    assert (await ann.command("answer", round=0, text="late"))["code"] == "stale"
    # ... and the game carries on, on the same socket.
    bob_option = next(o["id"] for o in options if o["id"] != first["option"])
    assert (await ann.command("vote", round=0, option=bob_option))["type"] == "ack"


async def test_tokens_open_only_their_own_game(table_factory):
    one = await table_factory()
    two = await table_factory()
    await one.join("Ann")
    await two.join("Bob")
    # Ids from another game mean nothing here.
    assert (await one.host.command("kick", player=two.ids["Bob"]))["code"] == "no_such_player"
    attempts = [
        (one.tokens["Ann"], "player", two),  # a player of another game
        (one.created["host_token"], "host", two),  # the host of another game
        (one.created["host_token"], "player", one),  # a host token is not a seat
        (one.tokens["Ann"], "host", one),  # a seat is not the host
        ("garbage", "player", one),
        (None, "host", one),
    ]
    for token, view, table in attempts:
        ws = await table.http.ws_connect(f"/ws/{table.game_id}")
        client = Client(ws)
        await client.send("hello", token=token, view=view)
        assert (await client.expect("error"))["code"] == "unauthorized", (view, token)
        assert (await client.command("start"))["code"] == "not_authenticated"
        await ws.close()


async def test_deadline_closes_the_question_on_the_servers_clock(table_factory):
    table = await table_factory(question_seconds=5)
    ann = await table.join("Ann")
    await table.join("Bob")
    await table.host.ok("start")
    question = await ann.phase("question")
    await ann.ok("answer", round=0, text="in time")
    voting = await ann.phase("voting", timeout=10)
    await ann.send("ping", t=0)
    closed_at = (await ann.expect("pong"))["now"]
    assert voting["round"]["index"] == 0
    assert 0 <= closed_at - question["round"]["deadline"] < 1000, (
        "closed at the deadline, by the server's clock"
    )


async def test_wrong_join_codes_are_throttled_per_client(http):
    statuses = []
    for _ in range(12):
        async with http.post("/api/join", json={"code": "ZZZZZZZ", "nickname": "x"}) as r:
            statuses.append(r.status)
            retry = r.headers.get("Retry-After")
    assert statuses[:10] == [404] * 10
    assert statuses[10:] == [429, 429] and retry and int(retry) > 0


async def test_join_errors_are_clear(table_factory, http):
    table = await table_factory()
    await table.join("Ann")
    cases = [
        ({"code": table.created["code"], "nickname": "ann"}, 409, "nickname_taken"),
        ({"code": table.created["code"].lower(), "nickname": ""}, 400, "invalid"),
        ({"code": table.created["code"], "nickname": "x" * 30}, 400, "invalid"),
    ]
    for body, status, code in cases:
        async with http.post("/api/join", json=body) as r:
            assert (r.status, (await r.json())["error"]["code"]) == (status, code)
    async with http.post("/api/join", data="nope", headers={"Content-Type": "application/json"}) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (400, "bad_message")


async def test_ping_answers_with_the_server_clock(table_factory):
    table = await table_factory()
    await table.host.send("ping", t=123)
    pong = await table.host.expect("pong")
    assert pong["t"] == 123 and pong["now"] > 1_700_000_000_000


async def test_a_flood_is_refused_command_by_command_and_the_socket_stays_open(any_table_factory):
    table = await any_table_factory()
    ann = await table.join("Ann")
    ids = [await ann.send("lock", locked=True) for _ in range(40)]
    replies = [await ann.expect("error", id=cmd_id, timeout=20) for cmd_id in ids]
    codes = [r["code"] for r in replies]
    assert codes.count("forbidden") >= 25 and "rate_limited" in codes, "each refusal names its command"
    await table.host.send("ping", t=1)
    assert (await table.host.expect("pong"))["t"] == 1
    await asyncio.sleep(3)  # her allowance is back (engagements.pace): Ann plays on
    assert (await ann.command("lock", locked=True))["code"] == "forbidden"
