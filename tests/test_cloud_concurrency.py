"""Handler invocations racing on one game in parallel threads, as concurrent Lambdas would.

DynamoDB is moto behind tests/faults.py's proxy with `serialize` on (moto does not serialise writes
to an item as DynamoDB does); the proxy also injects real conditional-check failures: a competing
write lands just before a command's transaction, whose condition then fails in moto itself.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from cloud.handlers import deadline
from engagements import items
from tests.cloudgame import cloud_stack  # noqa: F401  (the `cloud` fixture)
from tests.cloudstandin import sqs_event
from tests.faults import FaultProxy, Reply, conflict


@pytest.fixture
def proxy(moto_endpoint, aws_env):
    proxy = FaultProxy(moto_endpoint, serialize=True)
    yield proxy
    proxy.stop()


@pytest.fixture
def dynamodb_endpoint(proxy) -> str:
    return proxy.url


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls on threads released at once; their results in order (errors raised)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[i] = call()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def stored_entries(cloud, game_id: str, round: int, kind: str) -> list[dict[str, Any]]:
    prefix = f"ENTRY#{round:03d}#{kind}#"
    return cloud.rt.run(cloud.rt.games.store.query_all(items.game_pk(game_id), prefix))


def gapless(view) -> None:
    seqs = view.seqs()
    assert seqs == list(range(1, len(seqs) + 1)), seqs


def read_then_wait(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
    """The read is answered only 0.3 s after it was made: the reader acts on a game others change."""
    reply = forward(request)
    time.sleep(0.3)
    return reply


def test_answers_racing_the_deadline_none_lost_none_late(cloud, proxy):
    created = cloud.create(["One", "Two"], question_seconds=5)
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(12)]
    host.ok("start")
    due = host.last("phase_changed")["round"]["deadline"]
    arrivals = [due - 60 + 10 * i for i in range(len(phones))]  # half on time, half after
    time.sleep(max(0.0, (due + 20) / 1000 - time.time()))
    tick = json.dumps({"game_id": created["game_id"], "deadline": due})
    sends = [
        (lambda p=p, at=at: p.send("answer", at=at, round=0, text=f"From {p.player}", id=f"a-{p.player}"))
        for p, at in zip(phones, arrivals, strict=True)
    ]
    ticks = [lambda: deadline.handler(sqs_event([tick]), None)] * 2
    proxy.inject("Query", read_then_wait, times=2)  # the ticks' loads of the whole game go stale
    results = race(*sends, *ticks)
    assert results[-2:] == [{"batchItemFailures": []}] * 2

    replies = {p.player: (p.reply(f"a-{p.player}"), at) for p, at in zip(phones, arrivals, strict=True)}
    acked = {pid for pid, (reply, _) in replies.items() if reply["type"] == "ack"}
    assert all(reply["code"] == "stale" for reply, at in replies.values() if at > due)
    stored = stored_entries(cloud, created["game_id"], 0, "answer")
    assert {e["player_id"] for e in stored} == acked  # no acknowledged answer lost, no refused one kept
    assert all(e["at"] <= due for e in stored)  # none accepted after its phase closed
    changes = host.messages("phase_changed")
    assert len(changes) == 2  # the question opened, then closed exactly once
    if len(acked) >= 1:
        assert changes[-1]["phase"] == "voting"
        assert changes[-1]["round"]["answers"] == len(acked)  # every accepted answer is in the vote
    gapless(host)


def test_a_room_answering_at_once_closes_the_question_once(cloud):
    created = cloud.create(["One"])
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(10)]
    host.ok("start")
    race(*(lambda p=p: p.send("answer", round=0, text=f"From {p.player}", id="x") for p in phones))
    assert all(p.reply("x")["type"] == "ack" for p in phones)
    changes = host.messages("phase_changed")
    assert [c["phase"] for c in changes] == ["question", "voting"]
    assert changes[-1]["round"]["answers"] == len(phones)
    gapless(host)
    for p in phones:
        assert p.seqs() == host.seqs()


def test_two_host_commands_at_once(cloud):
    created = cloud.create(["One", "Two"])
    host, screen = cloud.host(created), cloud.host(created, view="screen")
    for i in range(3):
        cloud.join(created, f"P{i}")
    host.ok("start")
    # The same command twice: one wins, the other finds its phase closed.
    race(
        lambda: host.send("end_phase", round=0, phase="question", id="h1"),
        lambda: screen.send("end_phase", round=0, phase="question", id="s1"),
    )
    replies = (host.reply("h1"), screen.reply("s1"))
    assert sorted((r["type"], r.get("code")) for r in replies) == [("ack", None), ("error", "stale")]
    # Two different commands: both apply, one after the other, with their own seq.
    race(
        lambda: host.send("lock", locked=True, id="h2"),
        lambda: screen.send("skip", round=0, id="s2"),
    )
    assert host.reply("h2")["type"] == screen.reply("s2")["type"] == "ack"
    assert host.messages("lobby_locked")[-1]["locked"] is True
    assert host.messages("phase_changed")[-1]["round"]["index"] == 1
    gapless(host)
    gapless(screen)


def bump_version_first(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
    """Another writer changes META just before this transaction: its version condition then fails."""
    meta = next(
        a["Update"]
        for a in request["TransactItems"]
        if "Update" in a and a["Update"]["Key"]["SK"]["S"] == "META"
    )
    bump = {
        "TableName": meta["TableName"],
        "Key": meta["Key"],
        "UpdateExpression": "ADD #v :one",
        "ExpressionAttributeNames": {"#v": "version"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    status, _ = forward({"TransactItems": [{"Update": bump}]})
    assert status == 200
    return forward(request)


def test_injected_condition_failures_are_retried_without_gaps(cloud, proxy):
    created = cloud.create(["One"])
    host = cloud.host(created)
    ann, bob = cloud.join(created, "Ann"), cloud.join(created, "Bob")
    before = proxy.actions.count("TransactWriteItems")
    proxy.inject("TransactWriteItems", bump_version_first, times=3)
    host.ok("start")
    assert proxy.pending("TransactWriteItems") == 0
    assert proxy.actions.count("TransactWriteItems") - before == 4  # three refused by moto, then saved
    # A transaction canceled by a conflict (another transaction on META) is simply sent again.
    proxy.inject("TransactWriteItems", conflict, times=2)
    ann.ok("answer", round=0, text="Still counted")
    bob.ok("answer", round=0, text="Me too")
    assert host.last("phase_changed")["round"]["answers"] == 2
    assert len(stored_entries(cloud, created["game_id"], 0, "answer")) == 2
    gapless(host)


def slow_to_read(sk: str) -> Callable[[dict[str, Any], Callable[[dict[str, Any]], Reply]], Reply]:
    """Reads of the item `sk` are answered 0.5 s after they were made; other reads pass."""

    def fault(request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
        reply = forward(request)
        if request["Key"]["SK"]["S"] == sk:
            time.sleep(0.5)
        return reply

    return fault


def test_an_answer_racing_the_kick_of_its_player_is_not_kept(cloud, proxy):
    created = cloud.create(["One"])
    host = cloud.host(created)
    ann, _, _ = (cloud.join(created, name) for name in ("Ann", "Bob", "Cy"))
    host.ok("start")
    proxy.inject("GetItem", slow_to_read(f"PLAYER#{ann.player}"), times=100)

    def kick_while_ann_answers() -> None:
        time.sleep(0.2)  # Ann's answer has read her PLAYER item (not kicked yet) and waits
        host.ok("kick", player=ann.player)

    race(lambda: ann.send("answer", round=0, text="Sneaky", id="a"), kick_while_ann_answers)
    assert stored_entries(cloud, created["game_id"], 0, "answer") == []
    meta = cloud.rt.run(cloud.rt.games.meta(created["game_id"]))
    assert meta.get(items.entry_count(0, "answer"), 0) == 0 and meta[items.ACTIVE] == 2


def test_an_answer_decided_before_the_deadline_but_committed_after_it_closed_is_refused(cloud, proxy):
    created = cloud.create(["One"], question_seconds=5)
    host = cloud.host(created)
    ann, _ = cloud.join(created, "Ann"), cloud.join(created, "Bob")
    host.ok("start")
    due = host.last("phase_changed")["round"]["deadline"]
    time.sleep(max(0.0, (due + 20) / 1000 - time.time()))
    proxy.inject("GetItem", slow_to_read(f"PLAYER#{ann.player}"), times=100)
    tick = json.dumps({"game_id": created["game_id"], "deadline": due})

    def tick_while_ann_answers() -> None:
        time.sleep(0.2)  # Ann's answer (sent in time) is decided on an open phase and waits
        assert deadline.handler(sqs_event([tick]), None) == {"batchItemFailures": []}

    race(
        lambda: ann.send("answer", at=due - 10, round=0, text="Just in time", id="a"), tick_while_ann_answers
    )
    assert ann.reply("a")["code"] == "stale"  # its transaction found the phase closed
    assert stored_entries(cloud, created["game_id"], 0, "answer") == []
    assert host.last("phase_changed")["phase"] == "results"


def test_joins_racing_for_the_last_seats_and_a_retry_racing_its_first_copy(cloud):
    """The cap holds in the join's own transaction: of 6 joins at once for 3 seats, 3 get one; two
    copies of one join (same client id) at once get one seat and the same token."""

    def join(game: dict[str, Any], nickname: str, **ids: str) -> Callable[[], tuple[int, Any]]:
        body = {"code": game["code"], "nickname": nickname, **ids}
        return lambda: cloud.http("POST", "/api/join", body, address=f"10.0.0.{len(nickname)}")

    def active(game: dict[str, Any]) -> int:
        return cloud.rt.run(cloud.rt.games.meta(game["game_id"]))[items.ACTIVE]

    capped = cloud.create(["One"], max_players=3)
    replies = race(*(join(capped, f"P{'x' * i}") for i in range(6)))
    assert sorted(status for status, _ in replies) == [200] * 3 + [403] * 3
    assert {body["error"]["code"] for status, body in replies if status == 403} == {"full"}
    assert active(capped) == 3

    game = cloud.create(["One"])
    copies = race(*[join(game, "Ann", client_id="the-same-client-0123")] * 2)
    assert [status for status, _ in copies] == [200, 200], copies
    assert copies[0][1]["player_token"] == copies[1][1]["player_token"]
    assert active(game) == 1
