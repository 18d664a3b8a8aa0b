"""The Lambda handlers with API Gateway-shaped events, on moto (DynamoDB, SQS) and the stand-in."""

from __future__ import annotations

import asyncio
import json
import time

from cloud.handlers import deadline, websocket
from tests.cloudgame import ADMIN, Calls, cloud_stack, dynamodb_endpoint  # noqa: F401  (fixtures)
from tests.cloudstandin import disconnect_event, now_ms, sqs_event


def test_a_whole_game_through_the_handlers(cloud):
    created = cloud.create(["A bad name for a cat", "The worst pizza"])
    game_id = created["game_id"]
    host = cloud.host(created)
    screen = cloud.host(created, view="screen")
    ann, bob, cy = (cloud.join(created, name) for name in ("Ann", "Bob", "Cy"))
    assert host.last("snapshot")["game"]["phase"] == "lobby"
    # The lobby fills up on the big screen, in updates coalesced to about one a second.
    cloud.run_all_queued()
    room = screen.last("room")
    assert (room["players"], room["connected"], room["recent"]) == (3, 3, ["Cy", "Bob", "Ann"])

    host.ok("lock", locked=True)
    status, refused = cloud.http("POST", "/api/join", {"code": created["code"], "nickname": "Dee"})
    assert (status, refused["error"]["code"]) == (403, "locked")
    host.ok("start")
    for view in (host, screen, ann):
        assert view.last("phase_changed")["phase"] == "question"

    options = {}
    for phone, text in ((ann, "Sir Hairball"), (bob, "Mr Mittens"), (cy, "Lord Fluff")):
        options[phone.id] = phone.ok("answer", round=0, text=text)["option"]
    progress = host.messages("progress")  # the big screen counts the answers as they come
    assert [(p["answered"], p["eligible"]) for p in progress] == [(1, 3), (2, 3), (3, 3)]
    assert screen.messages("progress") == progress and ann.messages("progress") == []
    # The last answer closed the question: the vote is open, every phone has its ballot.
    assert host.last("phase_changed")["phase"] == "voting"
    ballot = ann.last("you")["ballot"]
    assert {o["id"] for o in ballot} == {options[bob.id], options[cy.id]}
    again = ann.send("answer", round=0, text="Too late")
    assert ann.reply(again)["code"] == "stale"
    assert ann.reply(ann.send("start"))["code"] == "forbidden"
    assert ann.reply(ann.send("dance"))["code"] == "unknown_type"
    assert ann.reply(ann.send("tick"))["code"] == "forbidden"

    assert ann.reply(ann.send("vote", round=0, option=options[ann.id]))["code"] == "own_answer"
    ann.ok("vote", round=0, option=options[bob.id])
    cy.ok("vote", round=0, option=options[bob.id])
    bob.ok("vote", round=0, option=options[ann.id])
    results = host.last("phase_changed")
    assert results["phase"] == "results"
    top = results["round"]["results"][0]
    assert (top["text"], top["votes"], top["points"]) == ("Mr Mittens", 2, 300)
    assert bob.last("you")["player"]["score"] == 300

    host.send("results", round=0, offset=0)
    assert host.last("results")["total"] == 3
    host.send("players", query="", offset=0)
    assert {p["nickname"] for p in host.last("players")["items"]} == {"Ann", "Bob", "Cy"}

    host.ok("next", round=0)
    host.ok("skip", round=1)
    finished = host.last("phase_changed")
    assert finished["phase"] == "finished"
    assert [p["nickname"] for p in finished["leaderboard"]][:1] == ["Bob"]
    # seq: every event once, in order, the same on every view.
    assert host.seqs() == list(range(1, len(host.seqs()) + 1))
    assert screen.seqs() == host.seqs() and ann.seqs() == host.seqs()

    status, csv = cloud.http(
        "GET",
        f"/api/games/{game_id}/results.csv",
        headers={"authorization": f"Bearer {created['host_token']}"},
    )
    assert status == 200 and "Mr Mittens" in csv
    status, _ = cloud.http(
        "GET", f"/api/games/{game_id}/results", headers={"authorization": "Bearer g.wrong"}
    )
    assert status == 401
    status, _ = cloud.http("GET", f"/api/games/{game_id}/results", headers=ADMIN)
    assert status == 200  # the cloud's admin reads every game's results


def test_retries_answer_with_the_first_ack_and_a_second_answer_is_refused(cloud):
    created = cloud.create(["One"])
    host = cloud.host(created)
    ann = cloud.join(created, "Ann")
    cloud.join(created, "Bob")
    host.ok("start")
    first = ann.ok("answer", round=0, text="Hello", id="a1")
    ann.send("answer", round=0, text="Hello", id="a1")
    assert [m for m in ann.messages("ack") if m["id"] == "a1"] == [first, first]
    assert ann.reply(ann.send("answer", round=0, text="Again"))["code"] == "already_answered"


def test_a_connection_is_found_by_its_reverse_item_and_forgotten_on_disconnect(cloud):
    created = cloud.create(["One"])
    ann = cloud.join(created, "Ann")
    store = cloud.rt.games.store
    game_pk = f"GAME#{created['game_id']}"
    found = cloud.rt.run(store.query_all(game_pk, "CONN#phones#"))
    assert [i["connection_id"] for i in found] == [ann.id]
    assert found[0]["ttl"] > time.time() + 2 * 3600  # past API Gateway's two hours
    assert websocket.disconnect(disconnect_event(ann.id), None) == {"statusCode": 200}
    assert cloud.rt.run(store.query_all(game_pk, "CONN#")) == []
    assert cloud.rt.run(store.get(f"CONN#{ann.id}", "CONN")) is None


def test_the_board_sees_phones_come_and_go_coalesced_to_about_one_update_a_second(cloud):
    created = cloud.create(["One"])
    screen = cloud.host(created, view="screen")
    started = time.monotonic()
    phones = [cloud.join(created, f"P{i}") for i in range(12)]  # 24 changes: 12 joins, 12 hellos
    seconds = time.monotonic() - started
    assert screen.messages("room") == [], "each update waits a second for the changes after it"
    queued = cloud.run_all_queued()  # what changes found no update on its way queued
    assert 1 <= queued <= seconds + 1, f"{queued} updates queued in {seconds:.1f} s"
    rooms = [(r["players"], r["connected"]) for r in screen.messages("room")]
    assert rooms[-1] == (12, 12), "the last change is shown"
    assert rooms == sorted(rooms), "in order"

    for phone in phones[:3]:  # three phones sleep at once
        assert websocket.disconnect(disconnect_event(phone.id), None) == {"statusCode": 200}
    cloud.run_all_queued()
    assert screen.last("room")["connected"] == 9
    shown = len(screen.messages("room"))
    assert cloud.run_queued() == 0, "nothing changed: nothing queued"
    assert len(screen.messages("room")) == shown


def test_connect_refuses_an_unknown_game_and_commands_need_hello(cloud):
    from tests.cloudstandin import connect_event

    assert websocket.connect(connect_event("nobody=", "gnosuchgame"), None) == {"statusCode": 404}
    created = cloud.create(["One"])
    view = cloud.connect(created["game_id"])
    assert view.reply(view.send("start"))["code"] == "not_authenticated"
    view.send("hello", token="g.wrong", view="host")
    assert view.last("error")["code"] == "unauthorized"


def test_only_the_pages_own_site_opens_a_socket(cloud):
    from tests.cloudstandin import connect_event

    game_id = cloud.create(["One"])["game_id"]
    for origin, status in [
        ("https://play.example.test", 200),  # the pages' own site (ALLOWED_ORIGINS)
        (None, 200),  # no browser: a script needs no page to reach the API anyway
        ("https://evil.example", 403),  # another site's page, in a visitor's browser
    ]:
        event = connect_event(f"o{status}{origin}=", game_id, origin=origin)
        assert websocket.connect(event, None) == {"statusCode": status}, origin


def test_a_socket_that_floods_is_refused_message_by_message_and_plays_on(cloud):
    """The allowance of engagements.pace, counted in windows: 30 messages in 3 s, 3 syncs in 9 s."""
    created = cloud.create(["One"])
    ann = cloud.join(created, "Ann")
    at = (now_ms() // 9000 + 1) * 9000  # where a window of each kind starts
    codes = [ann.reply(ann.send("lock", at=at, locked=True))["code"] for _ in range(36)]
    assert codes == ["forbidden"] * 30 + ["rate_limited"] * 6, "each message judged, or refused, alone"
    for _ in range(4):  # in the next 3 s: room for messages, but syncs are dearer
        ann.send("sync", at=at + 3000)
    assert len(ann.messages("snapshot")) == 1 + 3
    assert ann.messages("error")[-1]["message"].startswith("Too many sync requests")
    assert ann.reply(ann.send("lock", at=at + 6000, locked=True))["code"] == "forbidden"


def test_the_deadline_closes_the_phase_and_judges_answers_by_arrival(cloud):
    created = cloud.create(["One"], question_seconds=5)
    host = cloud.host(created)
    ann, bob = cloud.join(created, "Ann"), cloud.join(created, "Bob")
    assert cloud.run_all_queued() >= 1  # the lobby's coalesced `room` updates
    host.ok("start")
    opened = host.last("phase_changed")["round"]["deadline"]
    queued = cloud.sqs.receive_message(QueueUrl=cloud.queue_url, WaitTimeSeconds=0).get("Messages", [])
    assert queued == []  # delayed until the deadline
    attributes = cloud.sqs.get_queue_attributes(QueueUrl=cloud.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    # The question's deadline, and the tick that checks that `start` was announced (cloud.announcements)
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "2"

    ann.ok("answer", round=0, text="In time", at=opened - 1)
    late = bob.send("answer", round=0, text="Too late", at=opened + 1)
    assert bob.reply(late)["code"] == "stale"
    time.sleep(max(0, (opened - time.time() * 1000) / 1000) + 0.05)
    body = json.dumps({"game_id": created["game_id"], "deadline": opened})
    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}
    # One answer of two players: the vote opens (Bob can vote for Ann's answer).
    assert host.last("phase_changed")["phase"] == "voting"
    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}  # twice: no harm
    assert len(host.messages("phase_changed")) == 2


def test_reads_and_writes_per_answer_do_not_grow_with_the_players(cloud):
    """Answers and votes read a few items whatever the room (docs/cloud.md)."""
    answers, votes = {}, {}
    cloud.rt.sockets.progress_steps = 10**9  # the board's counts after every command: the dearest case
    for players in (30, 1000):
        created = cloud.create(["One"])
        host = cloud.host(created)
        tokens = seat(cloud, created, players)
        phones = [reconnect(cloud, created, pid, token) for pid, token in list(tokens.items())[:5]]
        host.ok("start")
        calls = Calls(cloud.rt.games.store.client)
        each = per_command(calls, [lambda p=p: p.ok("answer", round=0, text=p.player) for p in phones])
        assert len(set(each)) == 1, each
        answers[players] = each[0]
        host.ok("end_phase", round=0, phase="question")
        options = [p.last("you")["ballot"][0]["id"] for p in phones]
        each = per_command(
            calls,
            [lambda p=p, o=o: p.ok("vote", round=0, option=o) for p, o in zip(phones, options, strict=True)],
        )
        assert len(set(each)) == 1, each
        votes[players] = each[0]
    print("DynamoDB items (read, written) per answer:", answers, "per vote:", votes)
    assert answers[30] == answers[1000]
    # Read: the socket's reverse item, 4 of the game's, and the one board view's connection; written:
    # the entry and META in one transaction, and the socket's message count on its reverse item.
    assert answers[30][0] <= 6 and answers[30][1] == 3
    assert votes[30] == votes[1000]
    assert votes[30][0] <= 7 and votes[30][1] == 3


def test_a_hosts_phase_change_writes_each_players_items_once(cloud):
    """Closing the vote writes META's change, each player's result's partial state and the changed
    scores, once each: a whole-game command whose posts did not wait for them wrote the partial state
    twice (the host's `end_phase` wrote 3,003 items at 1,000 players in the bench; 99 here)."""
    players = 30
    created = cloud.create(["One"])
    host = cloud.host(created)
    tokens = seat(cloud, created, players)
    phones = [reconnect(cloud, created, pid, token) for pid, token in list(tokens.items())[:3]]
    host.ok("start")
    for phone in phones:
        phone.ok("answer", round=0, text=phone.player)
    host.ok("end_phase", round=0, phase="question")
    calls = Calls(cloud.rt.games.store.client)
    [(_, written)] = per_command(calls, [lambda: host.ok("end_phase", round=0, phase="voting")])
    assert host.last("phase_changed")["phase"] == "results"
    assert players <= written < 2 * players, written  # each player's result once, a few scores, META


def test_reads_and_writes_per_hello_do_not_grow_with_the_players(cloud):
    """A phone's hello reads its own items, the game's VIEW and the first seats, never the whole game
    (cloud.phones): the same count with 30 seats as with 1,000, in the lobby and in a vote."""
    hellos = {}
    for players in (30, 1000):
        created = cloud.create(["One"])
        host = cloud.host(created)
        tokens = seat(cloud, created, players)
        calls = Calls(cloud.rt.games.store.client)
        last = list(tokens.items())[-5:]
        hello = [lambda c=created, p=pid, t=token: reconnect(cloud, c, p, t) for pid, token in last]
        lobby = per_command(calls, hello)
        host.ok("start")
        for pid in list(tokens)[:3]:
            answer = reconnect(cloud, created, pid, tokens[pid])
            answer.ok("answer", round=0, text=f"Answer of {pid}")
        host.ok("end_phase", round=0, phase="question")
        voting = per_command(calls, hello)
        assert len(set(lobby)) == 1 and len(set(voting)) == 1, (lobby, voting)
        hellos[players] = {"lobby": lobby[0], "voting": voting[0]}
    print("DynamoDB items (read, written) per hello:", hellos)
    assert hellos[30] == hellos[1000]
    # Read, with the socket's $connect (META): the socket's reverse item, META, the PLAYER item, the
    # VIEW and the first ten seats (nobody has scored); in a vote also the player's two possible
    # entries and its ballot.
    assert hellos[30]["lobby"][0] == 15 and hellos[30]["voting"][0] == 18
    # Written: $connect's reverse item, the message's count on it, the connection's two items after
    # hello, its player's count of sockets, the room's coalescing item; and in the lobby, where the
    # phone is its player's first socket, META's count of the players connected.
    assert hellos[30]["lobby"][1] == 7 and hellos[30]["voting"][1] == 6


def test_the_room_update_reads_as_many_items_with_300_seats_as_with_30(cloud):
    """The board views' `room` reads META's counters and the latest seats, never every player or
    every socket: its cost does not grow with the room (a 1,000-player lobby timed out on it)."""
    from engagements.views import RECENT_NAMES

    reads = {}
    for players in (30, 300):
        created = cloud.create(["One"])
        screen = cloud.host(created, view="screen")
        tokens = seat(cloud, created, players)
        for pid, token in list(tokens.items())[:2]:
            reconnect(cloud, created, pid, token)
        calls = Calls(cloud.rt.games.store.client)
        cloud.rt.run(cloud.rt.sockets.show_room(created["game_id"]))  # the queued update's work
        reads[players] = calls.reads
        room = screen.last("room")
        assert (room["players"], room["connected"]) == (players, 2)
        newest = range(players - 1, players - 1 - RECENT_NAMES, -1)
        assert room["recent"] == [f"Player {i}" for i in newest]
    # META, the latest seats, the big screen's connection item (who to post to).
    assert reads[30] == reads[300] == 1 + RECENT_NAMES + 1


def test_the_board_counts_the_players_connected_not_their_sockets(cloud):
    """As on the appliance, a player with two sockets open (a phone that woke before its old socket
    closed) is connected once; a repeated `$disconnect`, or a post finding a socket gone, counts it
    once. The board shows as many as there are players among the phones' connection items."""
    created = cloud.create(["One"])
    host, screen = cloud.host(created), cloud.host(created, view="screen")
    status, joined = cloud.http("POST", "/api/join", {"code": created["code"], "nickname": "Ann"})
    assert status == 200
    ann = [reconnect(cloud, created, joined["player_id"], joined["player_token"]) for _ in range(2)]
    bob = cloud.join(created, "Bob")

    def connected() -> int:
        cloud.run_all_queued()
        shown = screen.last("room")["connected"]
        pk = f"GAME#{created['game_id']}"
        sockets = cloud.rt.run(cloud.rt.games.store.query_all(pk, "CONN#phones#"))
        assert shown == len({i["player_id"] for i in sockets}), sockets
        return shown

    assert connected() == 2
    for _ in range(2):  # API Gateway may say it twice
        assert websocket.disconnect(disconnect_event(ann[0].id), None) == {"statusCode": 200}
    assert connected() == 2
    assert websocket.disconnect(disconnect_event(ann[1].id), None) == {"statusCode": 200}
    assert connected() == 1
    cloud.standin.gone.add(bob.id)
    host.ok("lock", locked=True)  # its broadcast finds Bob's socket gone
    assert connected() == 0
    reconnect(cloud, created, joined["player_id"], joined["player_token"])
    assert connected() == 1
    host.send("players", query="", offset=0)
    shown = {p["nickname"]: p["connected"] for p in host.last("players")["items"]}
    assert shown == {"Ann": True, "Bob": False}


def reconnect(cloud, created, player: str, token: str):
    """A phone whose seat was used already opens a socket and says hello."""
    phone = cloud.connect(created["game_id"])
    phone.player = player
    phone.send("hello", token=token, view="player")
    assert phone.last("snapshot")["you"]["player"]["id"] == player
    return phone


def per_command(calls, commands) -> list[tuple[int, int]]:
    """The items read and written by each command, in turn."""
    counts = []
    for command in commands:
        before = calls.snapshot()
        command()
        after = calls.snapshot()
        counts.append((after[0] - before[0], after[1] - before[1]))
    return counts


def seat(cloud, created, players) -> dict[str, str]:
    """`players` seats written straight into the table (a join per seat through the handlers would
    take minutes on moto) as joins write them, each used already (its phone connected once, so a
    phase waits for it): their tokens, by player id."""
    from cloud import phones
    from engagements import items
    from engagements.codes import token_for
    from engagements.model import Player
    from engagements.store.base import PK, SK, Update

    store = cloud.rt.games.store
    pk = items.game_pk(created["game_id"])
    meta = cloud.rt.run(store.get(pk, items.META))
    ttl = meta["ttl"]
    tokens = {}
    puts = []
    for i in range(players):
        pid = f"p{i:06d}"
        token, token_hash = token_for(pid)
        tokens[pid] = token
        player = Player(pid, f"Player {i}", token_hash, i, seen=True)
        puts.append(items.player_item(pk, player, ttl))
        puts.append({PK: pk, SK: f"NICK#player {i}", "player_id": pid, "ttl": ttl})
        puts.append(phones.seat_item(created["game_id"], player, ttl))

    async def write():
        for i in range(0, len(puts), 25):
            assert await store.batch_write(puts[i : i + 25]) == []
        await store.transact_write(
            [Update(pk, items.META, add={items.ACTIVE: players, items.SEATED: players})]
        )

    cloud.rt.run(write())
    return tokens


def test_a_large_room_is_posted_to_by_the_fanout_function(cloud):
    """Past `inline_posts` the sender's invocation hands the posts to the fan-out function (invoked
    asynchronously); gone connections are deleted, throttled posts are retried."""
    cloud.rt.sockets.inline_posts = 5
    created = cloud.create(["One"])
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(20)]
    gone, throttled = phones[:3], phones[3:5]
    cloud.standin.gone |= {p.id for p in gone}
    for p in throttled:
        cloud.standin.throttle[p.id] = 2
    host.ok("lock", locked=True)
    cloud.standin.drain()

    assert any("posts" in payload for payload in cloud.standin.invocations)
    for view in [host, *phones[3:]]:
        assert view.last("lobby_locked")["locked"] is True
    assert cloud.standin.throttled == 4
    store = cloud.rt.games.store
    left = cloud.rt.run(store.query_all(f"GAME#{created['game_id']}", "CONN#"))
    assert {i["connection_id"] for i in left} == {v.id for v in [host, *phones[3:]]}
    for p in gone:
        assert cloud.rt.run(store.get(f"CONN#{p.id}", "CONN")) is None


def test_the_fanout_function_takes_the_contracts_audience_event(cloud):
    created = cloud.create(["One"])
    host = cloud.host(created)
    ann = cloud.join(created, "Ann")
    frame = json.dumps({"type": "pong", "t": 1, "now": 2})
    from cloud.handlers import fanout

    report = fanout.handler({"game_id": created["game_id"], "audience": "phones", "frames": [frame]}, None)
    assert report == {"sent": 1, "gone": 0, "throttled": 0, "failed": 0}
    assert ann.last("pong")["t"] == 1
    assert host.messages("pong") == []  # the board views are another audience


def test_joins_refused_as_on_the_appliance(cloud):
    created = cloud.create(["One"])
    host = cloud.host(created)
    ann = cloud.join(created, "Ann")
    status, taken = cloud.http("POST", "/api/join", {"code": created["code"], "nickname": "ANN"})
    assert (status, taken["error"]["code"]) == (409, "nickname_taken")
    status, unknown = cloud.http("POST", "/api/join", {"code": "XXXXXXX", "nickname": "Bob"})
    assert (status, unknown["error"]["code"]) == (404, "not_found")
    host.ok("kick", player=ann.player)
    assert ann.last("error")["code"] == "kicked" and ann.id in cloud.standin.deleted


async def test_a_synced_appliance_game_is_read_by_the_cloud_results_route(server, http, cloud):
    from engagements.store.dynamodb import DynamoStore
    from sync.cloud import Retention, sync_all
    from tests.conftest import create_game
    from tests.test_game import play_round
    from web.keys import GAMES, STORE

    table = await create_game(http, prompts=["Only prompt"])
    for nick in ("Ann", "Bob", "Cy"):
        await table.join(nick)
    await table.host.ok("start")
    await play_round(table, 0, {"Ann": "Bob", "Bob": "Cy", "Cy": "Ann"})
    await table.host.ok("next", round=0)
    await table.host.phase("finished")
    await table.close()
    await asyncio.sleep(0.2)  # the appliance's keep_delay, and then some

    target = await DynamoStore.open(cloud.rt.config.table)
    try:
        retention, types = Retention(7), server.app[GAMES].types
        local = server.app[STORE]
        [report] = await sync_all(local, target, now_ms=now_ms(), retention=retention, types=types)
    finally:
        await target.close()
    assert report.status == "synced"
    bearer = {"authorization": f"Bearer {table.created['host_token']}"}
    path = f"/api/games/{table.game_id}/results"
    wrong = {"authorization": f"Bearer {table.game_id}.not-its-secret"}
    status, _ = await asyncio.to_thread(cloud.http, "GET", path, None, wrong)
    assert status == 401
    # The host token's hash stayed home (lifecycle.HOME_ONLY); the copy's reader hash lets the host
    # token read the game, and the admin reads it too.
    status, results = await asyncio.to_thread(cloud.http, "GET", path, None, bearer)
    assert status == 200, results
    assert (await asyncio.to_thread(cloud.http, "GET", path, None, ADMIN)) == (200, results)
    assert results["status"] == "finished"
    [round0] = results["rounds"]
    assert sorted(row["author"]["nickname"] for row in round0["results"]) == ["Ann", "Bob", "Cy"]
    assert {p["nickname"] for p in results["leaderboard"]} == {"Ann", "Bob", "Cy"}


def test_votes_with_ballots_from_the_partial_state(cloud):
    """More than 8 answers: each phone votes from its ballot, kept since the vote opened; a kick
    rewrites the ballots, a player who joined during the vote is served from the whole game."""
    created = cloud.create(["One"])
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(11)]
    host.ok("start")
    for phone in phones[:10]:
        phone.ok("answer", round=0, text=f"Answer of {phone.player}")
    host.ok("end_phase", round=0, phase="question")
    assert host.last("phase_changed")["round"]["ballots"] is True
    ballots = {p.id: [o["id"] for o in p.last("you")["ballot"]] for p in phones}
    assert all(len(b) == 8 for b in ballots.values())

    mine = phones[0].messages("ack")[0]["option"]
    own = phones[1].messages("ack")[0]["option"]  # not on P1's ballot either, but refused as its own
    off_ballot = next(o for p in phones for o in ballots[p.id] if o not in [*ballots[phones[1].id], own])
    assert phones[1].reply(phones[1].send("vote", round=0, option=off_ballot))["code"] == "not_on_ballot"
    assert phones[0].reply(phones[0].send("vote", round=0, option=mine))["code"] == "own_answer"
    kicked = phones[4].messages("ack")[0]["option"]
    for phone in phones[:4]:  # not for the answer about to leave the vote, whose votes go with it
        phone.ok("vote", round=0, option=next(o for o in ballots[phone.id] if o != kicked))
    host.ok("kick", player=phones[4].player)  # its answer leaves the vote: every ballot is drawn again
    late = cloud.join(created, "Late")  # no ballot kept for this one: the whole game decides
    for phone in [*phones[5:], late]:
        phone.send("sync")  # a kick draws the ballots again: the snapshot has the phone's new one
        phone.ok("vote", round=0, option=phone.last("snapshot")["you"]["ballot"][0]["id"])
    stored = stored_votes(cloud, created["game_id"])
    for phone in phones[:4]:
        assert stored[phone.player]["value"]["ballot"] == ballots[phone.id]  # the ballot the phone was shown
    assert late.player in stored


def stored_votes(cloud, game_id: str) -> dict[str, dict]:
    found = cloud.rt.run(cloud.rt.games.store.query_all(f"GAME#{game_id}", "ENTRY#000#vote#"))
    return {i["player_id"]: i for i in found}
