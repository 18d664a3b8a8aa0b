"""The word cloud on the cloud's handlers (moto behind the fault proxy, serialising writes as
DynamoDB does): what a word costs at any room size, a word's counter and the board of the highest
words under concurrent invocations, and words racing the deadline."""

from __future__ import annotations

import json
import time

from cloud import tallies
from cloud.handlers import deadline
from engagements import items
from tests.cloudgame import Calls, cloud_stack  # noqa: F401  (the `cloud` fixture)
from tests.cloudstandin import sqs_event
from tests.test_cloud_concurrency import (  # noqa: F401  (fixtures: moto behind the fault proxy)
    dynamodb_endpoint,
    proxy,
    race,
    read_then_wait,
)
from tests.test_cloud_handlers import per_command, reconnect, seat


def stored_words(cloud, game_id: str) -> list[str]:
    found = cloud.rt.run(cloud.rt.games.store.query_all(items.game_pk(game_id), "ENTRY#000#word"))
    return [e["value"]["word"] for e in found]


def counter_of(cloud, game_id: str, word: str) -> int:
    item = cloud.rt.run(
        cloud.rt.games.store.get(tallies.partition(game_id), tallies.counter_sk(0, f"w#{word}"))
    )
    return item["n"] if item else 0


def test_a_word_reads_and_writes_the_same_few_items_at_any_room_size(cloud):
    """docs/cloud.md: a word is decided from the sender's own items, counted on META and on its own
    counter item, and placed on the round's board: never the whole game."""
    cost = {}
    cloud.rt.sockets.progress_steps = 10**9  # the board's counts after every word: the dearest case
    for players in (30, 300):
        created = cloud.create(["One word?"], type="word-cloud")
        host = cloud.host(created)
        tokens = seat(cloud, created, players)
        phones = [reconnect(cloud, created, pid, token) for pid, token in list(tokens.items())[:5]]
        host.ok("start")
        calls = Calls(cloud.rt.games.store.client)
        each = per_command(calls, [lambda p=p: p.ok("word", round=0, text=f"new {p.player}") for p in phones])
        assert len(set(each)) == 1, each
        cost[players] = each[0]
        assert host.last("progress")["entries"] == len(phones)
    print("DynamoDB items (read, written) per word:", cost)
    assert cost[30] == cost[300]
    # Read: the socket's reverse item, META, the PLAYER item, the sender's 3 word slots, the word's
    # counter, the board, META again, the board view's connection; written: META, the entry and the
    # counter in one transaction, the board, the socket's message count.
    assert cost[30][0] <= 10 and cost[30][1] == 5


def twin_phones(cloud, created: dict, nickname: str) -> tuple:
    """One player with two sockets (a phone and its reloaded tab): both say hello with one token."""
    status, joined = cloud.http("POST", "/api/join", {"code": created["code"], "nickname": nickname})
    assert status == 200, joined
    twins = []
    for _ in range(2):
        phone = cloud.connect(created["game_id"])
        phone.player = joined["player_id"]
        phone.send("hello", token=joined["player_token"], view="player")
        twins.append(phone)
    return tuple(twins)


def test_a_room_sending_one_word_at_once_counts_every_acknowledged_entry(cloud):
    created = cloud.create(["One word?"], type="word-cloud", words_per_player=2)
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(8)]
    left, right = twin_phones(cloud, created, "Twin")  # its two words race for one slot
    host.ok("start")
    race(
        *(lambda p=p: p.send("word", round=0, text="Tea!", id=f"w-{p.player}") for p in phones),
        lambda: left.send("word", round=0, text="tea", id="left"),
        lambda: right.send("word", round=0, text="cake", id="right"),
    )
    acks = [p.reply(f"w-{p.player}") for p in phones]
    twins = [left.reply("left"), right.reply("right")]
    assert all(a["type"] == "ack" for a in acks + twins), acks + twins
    assert sorted(a["sent"] for a in twins) == [1, 2], "the loser of the slot took the next one"
    assert sorted(stored_words(cloud, created["game_id"])) == ["cake"] + ["tea"] * 9
    assert counter_of(cloud, created["game_id"], "tea") == 9
    board = cloud.rt.run(cloud.rt.games.boards.board(created["game_id"], 0))
    assert board == {"w#tea": 9, "w#cake": 1}, "every invocation placed the count it read, the highest won"


def test_second_words_racing_the_deadline_are_all_in_the_closed_cloud(cloud, proxy):  # noqa: F811
    """A deadline's load that goes stale while second words commit (their slots' counters move)
    fails its guard and closes the cloud from a fresh load: every acknowledged word is in it."""
    created = cloud.create(["One word?"], type="word-cloud", word_seconds=10, words_per_player=2)
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(8)]
    host.ok("start")
    for p in phones:
        p.ok("word", round=0, text=f"first {p.player}")
    due = host.last("phase_changed")["round"]["deadline"]
    time.sleep(max(0.0, (due + 20) / 1000 - time.time()))
    tick = json.dumps({"game_id": created["game_id"], "deadline": due})
    proxy.inject("Query", read_then_wait, times=2)
    race(
        *(lambda p=p: p.send("word", at=due - 5, round=0, text="second", id=f"s-{p.player}") for p in phones),
        lambda: deadline.handler(sqs_event([tick]), None),
    )
    acked = sum(p.reply(f"s-{p.player}")["type"] == "ack" for p in phones)
    closed = host.messages("phase_changed")[-1]
    assert closed["phase"] == "results"
    assert closed["round"]["entries"] == len(phones) + acked == len(stored_words(cloud, created["game_id"]))
    second = [w for w in closed["round"]["words"] if w[0] == "second"]
    assert second == ([["second", acked]] if acked else [])


def test_a_phones_hello_reads_the_same_few_items_at_any_room_size(cloud):
    """A phone's hello reads its own words (and, in the results, their counters), the game's VIEW and
    the first seats, never the whole game (cloud.phones): the same count with 30 seats as with 300."""
    hellos = {}
    for players in (30, 300):
        created = cloud.create(["One word?"], type="word-cloud", words_per_player=3)
        host = cloud.host(created)
        tokens = seat(cloud, created, players)
        last = list(tokens.items())[-3:]
        host.ok("start")
        for pid, token in last:
            phone = reconnect(cloud, created, pid, token)
            phone.ok("word", round=0, text=f"one {pid}")
            phone.ok("word", round=0, text="shared")
        calls = Calls(cloud.rt.games.store.client)
        hello = [lambda c=created, p=pid, t=token: reconnect(cloud, c, p, t) for pid, token in last]
        sending = per_command(calls, hello)
        host.ok("end_phase", round=0, phase="open")
        results = per_command(calls, hello)
        words = reconnect(cloud, created, *last[0]).last("snapshot")["you"]["words"]
        assert words == [{"word": f"one {last[0][0]}", "count": 1}, {"word": "shared", "count": 3}]
        assert len(set(sending)) == 1 and len(set(results)) == 1, (sending, results)
        hellos[players] = {"open": sending[0], "results": results[0]}
    print("DynamoDB items (read, written) per hello:", hellos)
    assert hellos[30] == hellos[300]
    # Read, with the socket's $connect (META): the socket's reverse item, META, the PLAYER item, the
    # VIEW, the player's 3 word slots and the first ten seats; in the results also its 2 words'
    # counters. Written: $connect's reverse item, the message's count on it, the connection's two
    # items after hello, its player's count of sockets (another is open), the room's coalescing item.
    assert hellos[30]["open"] == (18, 6) and hellos[30]["results"] == (20, 6)
