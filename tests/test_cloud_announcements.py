"""A deadline's phase change reaches the views even when the invocation that saved it failed before its
posts (cloud.announcements): SQS delivers the message again, and that tick announces it.

DynamoDB is moto behind tests/faults.py's proxy, which fails the deadline function's read of the
game's sockets (the first step of its posts, after the commit) for as long as the test says.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from cloud import announcements
from cloud.handlers import deadline, websocket
from engagements import items
from engagements.store.base import StoreError
from tests.cloudgame import cloud_stack  # noqa: F401  (the `cloud` fixture)
from tests.cloudstandin import message_event, sqs_event
from tests.faults import FaultProxy, Reply


@pytest.fixture
def proxy(moto_endpoint, aws_env):
    proxy = FaultProxy(moto_endpoint)
    yield proxy
    proxy.stop()


@pytest.fixture
def dynamodb_endpoint(proxy) -> str:
    return proxy.url


class SocketsUnread:
    """Fails every query of all a game's sockets (a broadcast's first step) while `on`, as DynamoDB
    answers when it is failing (500: the store retries it, then gives up); the board views' own
    (`progress`) still gets through."""

    def __init__(self) -> None:
        self.on = threading.Event()
        self.failed = 0

    def __call__(self, request: dict[str, Any], forward: Callable[[dict[str, Any]], Reply]) -> Reply:
        values = json.dumps(request.get("ExpressionAttributeValues", {}))
        if self.on.is_set() and '{"S": "CONN#"}' in values:
            self.failed += 1
            return 500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": ""}
        return forward(request)


def meta_of(cloud, game_id: str) -> dict[str, Any]:
    return cloud.rt.run(cloud.rt.games.store.get(items.game_pk(game_id), items.META))


def wait_until(when_ms: int) -> None:
    time.sleep(max(0.0, (when_ms + 50) / 1000 - time.time()))


def test_a_tick_whose_posts_failed_is_announced_when_sqs_delivers_it_again(cloud, proxy):
    unread = SocketsUnread()
    proxy.inject("Query", unread, times=10_000)
    created = cloud.create(["One"], question_seconds=5, vote_seconds=5)
    host = cloud.host(created)
    ann, bob, cy = (cloud.join(created, name) for name in ("Ann", "Bob", "Cy"))
    host.ok("start")
    opened = host.last("phase_changed")
    for phone in (ann, bob):  # Cy does not answer: only the deadline closes the question
        phone.ok("answer", round=0, text=f"From {phone.player}")
    wait_until(opened["round"]["deadline"])
    body = json.dumps({"game_id": created["game_id"], "deadline": opened["round"]["deadline"]})

    unread.on.set()
    failed = deadline.handler(sqs_event([body]), None)
    unread.on.clear()
    assert unread.failed >= 1 and len(failed["batchItemFailures"]) == 1  # SQS will deliver it again
    meta = meta_of(cloud, created["game_id"])
    assert meta["phase"] == "voting"  # saved, and not told to anyone
    assert announcements.pending(meta, opened["round"]["deadline"])
    assert host.last("phase_changed")["seq"] == opened["seq"]

    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}  # the redelivery
    for view in (host, ann, bob, cy):
        shown = view.last("phase_changed")
        assert (shown["phase"], shown["seq"]) == ("voting", opened["seq"] + 1)
    assert len(ann.last("you")["ballot"]) == 1  # Bob's answer: a ballot as the first tick drew it
    assert not announcements.pending(meta_of(cloud, created["game_id"]), opened["round"]["deadline"])

    # The redelivered tick queued the vote's deadline: it fires and closes the vote.
    voting = host.last("phase_changed")["round"]["deadline"]
    wait_until(voting)
    started = time.monotonic()
    while host.last("phase_changed")["phase"] != "results" and time.monotonic() - started < 30:
        cloud.run_queued(wait=0.2)
    assert host.last("phase_changed")["phase"] == "results"
    assert [m["seq"] for m in host.messages("phase_changed")] == [1, 2, 3]


def test_a_phase_closed_early_is_not_announced_again_by_its_deadline(cloud):
    created = cloud.create(["One"], question_seconds=5)
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob")]
    host.ok("start")
    opened = host.last("phase_changed")
    for phone in phones:  # everyone answered: the question closes at once
        phone.ok("answer", round=0, text=f"From {phone.player}")
    assert host.last("phase_changed")["phase"] == "voting"
    assert announcements.DEADLINE not in meta_of(cloud, created["game_id"])
    wait_until(opened["round"]["deadline"])
    body = json.dumps({"game_id": created["game_id"], "deadline": opened["round"]["deadline"]})
    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}
    assert len(host.messages("phase_changed")) == 2  # the start and the early close: nothing again


def test_a_phase_settled_early_by_an_invocation_that_died_is_announced_by_its_deadline(cloud, proxy):
    """`settle` runs in the invocation of the answer that completed the phase, which nothing retries:
    its mark waits for the phase's own deadline, whose tick announces the change."""
    unread = SocketsUnread()
    proxy.inject("Query", unread, times=10_000)
    created = cloud.create(["One"], question_seconds=5)
    host = cloud.host(created)
    ann, bob = cloud.join(created, "Ann"), cloud.join(created, "Bob")
    host.ok("start")
    opened = host.last("phase_changed")
    ann.ok("answer", round=0, text="From Ann")
    unread.on.set()
    last = json.dumps({"type": "answer", "id": "last", "round": 0, "text": "From Bob"})
    with pytest.raises(StoreError):  # the invocation fails after the settle's commit, before its posts
        websocket.default(message_event(bob.id, last), None)
    unread.on.clear()
    assert bob.reply("last")["type"] == "ack"  # the answer itself was saved and acknowledged first
    meta = meta_of(cloud, created["game_id"])
    assert meta["phase"] == "voting" and announcements.pending(meta, opened["round"]["deadline"])
    assert host.last("phase_changed")["phase"] == "question"

    wait_until(opened["round"]["deadline"])
    body = json.dumps({"game_id": created["game_id"], "deadline": opened["round"]["deadline"]})
    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}
    for view in (host, ann, bob):
        shown = view.last("phase_changed")
        assert (shown["phase"], shown["seq"]) == ("voting", opened["seq"] + 1)
    assert not announcements.pending(meta_of(cloud, created["game_id"]), opened["round"]["deadline"])
    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}  # once more: nothing
    assert len(host.messages("phase_changed")) == 2


def test_a_hosts_phase_change_whose_invocation_died_is_announced_by_the_phases_deadline(cloud, proxy):
    """The host's `end_phase` runs in a `$default` invocation, which nothing retries: its mark waits for
    the deadline of the phase it closed, whose tick (still queued) announces the change."""
    unread = SocketsUnread()
    proxy.inject("Query", unread, times=10_000)
    created = cloud.create(["One"], question_seconds=5, vote_seconds=5)
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy")]
    host.ok("start")
    for phone in phones:  # everyone answered: the vote opens at once
        phone.ok("answer", round=0, text=f"From {phone.player}")
    voting = host.last("phase_changed")
    assert voting["phase"] == "voting"
    unread.on.set()
    end = json.dumps({"type": "end_phase", "id": "end", "round": 0, "phase": "voting"})
    with pytest.raises(StoreError):  # the invocation fails after the commit, before its posts
        websocket.default(message_event(host.id, end), None)
    unread.on.clear()
    meta = meta_of(cloud, created["game_id"])
    assert meta["phase"] == "results" and announcements.pending(meta, voting["round"]["deadline"])
    assert host.last("phase_changed")["phase"] == "voting"  # saved, and told to no one

    wait_until(voting["round"]["deadline"])
    body = json.dumps({"game_id": created["game_id"], "deadline": voting["round"]["deadline"]})
    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}
    for view in (host, *phones):
        shown = view.last("phase_changed")
        assert (shown["phase"], shown["seq"]) == ("results", voting["seq"] + 1)
    assert not announcements.pending(meta_of(cloud, created["game_id"]), voting["round"]["deadline"])
    assert deadline.handler(sqs_event([body]), None) == {"batchItemFailures": []}  # once more: nothing
    assert [m["phase"] for m in host.messages("phase_changed")] == ["question", "voting", "results"]


def test_a_hosts_phase_change_that_was_announced_leaves_no_mark(cloud):
    created = cloud.create(["One"], question_seconds=5, vote_seconds=5)
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy")]
    host.ok("start")
    for phone in phones[:2]:  # Cy has not answered: the host closes the question
        phone.ok("answer", round=0, text=f"From {phone.player}")
    host.ok("end_phase", round=0, phase="question")
    assert host.last("phase_changed")["phase"] == "voting"
    assert all(phone.last("phase_changed")["phase"] == "voting" for phone in phones)
    assert announcements.DEADLINE not in meta_of(cloud, created["game_id"])


def test_a_hosts_start_whose_invocation_died_is_announced_by_the_tick_it_queued(cloud, proxy):
    """`start` from the lobby, which no deadline follows: its invocation queued a tick GRACE after the
    commit, which finds the change unannounced, shows every view the question with its `seq` and queues
    the question's deadline, whose tick then closes it."""
    unread = SocketsUnread()
    proxy.inject("Query", unread, times=10_000)
    created = cloud.create(["One"], question_seconds=20, vote_seconds=20)
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob")]
    died_after_its_commit(cloud, unread, created, host, {"type": "start", "id": "start"}, "question")
    assert host.messages("phase_changed") == []  # saved, and told to no one

    announced = announced_by_its_tick(cloud, created, [host, *phones], "question", seq=1)
    assert all(phone.messages("you") for phone in phones)  # each phone its own view of the question
    deadline_closes(cloud, host, announced["round"]["deadline"])


def test_a_hosts_next_whose_invocation_died_is_announced_by_the_tick_it_queued(cloud, proxy):
    """`next` from the results, which no deadline follows either: the next question is announced by the
    tick its invocation queued, and its deadline is queued by that tick."""
    unread = SocketsUnread()
    proxy.inject("Query", unread, times=10_000)
    created = cloud.create(["One", "Two"], question_seconds=20, vote_seconds=20)
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy")]
    host.ok("start")
    for phone in phones:  # everyone answered: the vote opens at once
        phone.ok("answer", round=0, text=f"From {phone.player}")
    host.ok("end_phase", round=0, phase="voting")
    results = host.last("phase_changed")
    assert results["phase"] == "results"
    died_after_its_commit(
        cloud, unread, created, host, {"type": "next", "id": "next", "round": 0}, "question"
    )
    assert host.last("phase_changed") == results  # saved, and told to no one

    announced = announced_by_its_tick(cloud, created, [host, *phones], "question", seq=results["seq"] + 1)
    assert announced["round"]["index"] == 1
    deadline_closes(cloud, host, announced["round"]["deadline"])


def died_after_its_commit(
    cloud, unread: SocketsUnread, created: dict[str, Any], host, command: dict[str, Any], phase: str
) -> None:
    """The host's `command` in an invocation that fails after its commit, before its posts: the change
    is saved, and marked with the time of the tick it queued (not a deadline of the game's)."""
    unread.on.set()
    with pytest.raises(StoreError):
        websocket.default(message_event(host.id, json.dumps(command)), None)
    unread.on.clear()
    meta = meta_of(cloud, created["game_id"])
    assert meta["phase"] == phase and meta[announcements.DEADLINE] not in (None, meta["deadline"])


def announced_by_its_tick(
    cloud, created: dict[str, Any], views: list, phase: str, seq: int
) -> dict[str, Any]:
    """Run the queue until the tick the command queued has run: every view then shows `phase` with the
    change's `seq`, and no mark is left."""
    started = time.monotonic()
    while views[0].messages("phase_changed")[-1:] == [] or views[0].last("phase_changed")["seq"] < seq:
        assert time.monotonic() - started < announcements.GRACE / 1000 + 10, "never announced"
        cloud.run_queued(wait=0.5)
    for view in views:
        shown = view.last("phase_changed")
        assert (shown["phase"], shown["seq"]) == (phase, seq)
    assert announcements.DEADLINE not in meta_of(cloud, created["game_id"])
    return views[0].last("phase_changed")


def deadline_closes(cloud, host, deadline: int) -> None:
    """The phase's deadline was queued (by the tick that announced it): it fires and closes the phase."""
    wait_until(deadline)
    phase = host.last("phase_changed")["phase"]
    started = time.monotonic()
    while host.last("phase_changed")["phase"] == phase and time.monotonic() - started < 30:
        cloud.run_queued(wait=0.2)
    assert host.last("phase_changed")["phase"] != phase
