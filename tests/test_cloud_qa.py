"""The Q&A in the cloud, through the Lambda handlers on moto: what each question and vote reads and
writes whatever the room and however many questions it asked, the live lists read from the index
(the same as the whole game shows them), and votes racing each other and the host's moderation.

DynamoDB is moto behind tests/faults.py's proxy with `serialize` on (moto does not serialise writes to
an item as DynamoDB does), as in tests/test_cloud_concurrency.py.
"""

from __future__ import annotations

import pytest

from engagements import items
from engagements.engine import handle
from engagements.model import Actor, Command
from engagements.store.base import Put, Update
from engagements.types.qa import ASK
from tests.cloudgame import Calls, cloud_stack  # noqa: F401  (the `cloud` fixture)
from tests.faults import FaultProxy
from tests.test_cloud_concurrency import race
from tests.test_cloud_handlers import per_command, reconnect, seat


@pytest.fixture
def proxy(moto_endpoint, aws_env):
    proxy = FaultProxy(moto_endpoint, serialize=True)
    yield proxy
    proxy.stop()


@pytest.fixture
def dynamodb_endpoint(proxy) -> str:
    return proxy.url


def seed_questions(cloud, game_id: str, players: int, questions: int) -> None:
    """`questions` questions of the seated players, written straight into the table as the core
    writes them (asking each through the handlers would take minutes on moto)."""
    games, store = cloud.rt.games, cloud.rt.games.store
    game, _ = cloud.rt.run(games.load(game_id))
    puts = []
    for i in range(questions):
        pid = f"p{players - 1 - i % players:06d}"  # from the end: the phones' own slots stay free
        events, _ = handle(
            game, Command(ASK, Actor("player", pid), {"round": 0, "text": f"Q{i}"}, i, f"s{i}"), games.types
        )
        puts += [
            w.item
            for w in items.event_writes(game, events, games.ttl(game), games.types)[0]
            if isinstance(w, Put)
        ]

    async def write() -> None:
        for i in range(0, len(puts), 25):
            assert await store.batch_write(puts[i : i + 25]) == []
        counter = items.entry_count(0, ASK)
        await store.transact_write([Update(items.game_pk(game_id), items.META, add={counter: questions})])

    cloud.rt.run(write())


def test_reads_and_writes_per_question_and_vote_grow_with_neither_the_room_nor_the_questions(cloud):
    costs = {}
    for players, questions in ((30, 10), (300, 450)):
        created = cloud.create(["Questions for the keynote"], type="qa")
        host = cloud.host(created)
        tokens = seat(cloud, created, players)
        phones = [reconnect(cloud, created, pid, token) for pid, token in list(tokens.items())[:5]]
        host.ok("start")
        seed_questions(cloud, created["game_id"], players, questions)
        cloud.run_all_queued()  # the room updates of the phones' hellos
        calls = Calls(cloud.rt.games.store.client)
        asks = per_command(calls, [lambda p=p: p.ok("ask", round=0, text=f"From {p.player}") for p in phones])
        asked = [p.messages("ack")[-1]["question"] for p in phones]
        votes = per_command(
            calls,
            [
                lambda p=p, q=q: p.ok("upvote", round=0, question=q)
                for p, q in zip(phones, asked[1:] + asked[:1], strict=True)
            ],
        )
        unvotes = per_command(calls, [lambda p=phones[0], q=asked[1]: p.ok("unvote", round=0, question=q)])
        assert cloud.run_all_queued() >= 1  # the coalesced lists, to every view
        progress = phones[0].last("progress")
        assert (progress["asked"], progress["votes"]) == (questions + 5, 4)
        # One coalesced update: META, the heads (at most 26 questions), the game's sockets.
        [update] = per_command(
            calls, [lambda g=created["game_id"]: cloud.rt.run(cloud.rt.sockets.show_progress(g))]
        )
        assert update[0] <= 1 + 26 + len(phones) + 2 and update[1] == 0
        costs[players] = (set(asks), set(votes), set(unvotes))
        print(
            f"{players} players, {questions} questions: items (read, written) per ask {asks}, "
            f"per vote {votes}, per unvote {unvotes}; a coalesced update {update}"
        )
    assert costs[30] == costs[300]
    asks, votes, unvotes = costs[30]
    # An ask reads the socket's item, META, the PLAYER, its 3 slots and META again; it writes the
    # question and META, the socket's count and the coalescing item.
    assert max(r for r, _ in asks) <= 7 and {w for _, w in asks} == {4}
    # A vote reads the question and the vote besides; it writes the vote, the question's count and META.
    assert max(r for r, _ in votes) <= 6 and {w for _, w in votes} == {5}
    assert max(r for r, _ in unvotes) <= 6 and {w for _, w in unvotes} <= {5}


def test_the_lists_read_from_the_index_are_the_ones_the_whole_game_shows(cloud):
    created = cloud.create(["Questions"], type="qa", qa_questions=2)
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(8)]
    host.ok("start")
    asked = [p.ok("ask", round=0, text=f"Question from P{i}")["question"] for i, p in enumerate(phones[:6])]
    for i, p in enumerate(phones):
        for k in range(i % 4):
            q = asked[(i + k + 1) % len(asked)]
            if q != asked[i % 6] or i >= 6:
                p.ok("upvote", round=0, question=q)
    phones[7].ok("unvote", round=0, question=asked[(7 + 1) % 6])
    host.ok("moderate", round=0, question=asked[2], state="highlighted")
    host.ok("moderate", round=0, question=asked[3], state="hidden")
    games = cloud.rt.games
    from_index = cloud.rt.run(games.ranked_progress(created["game_id"]))
    game, _ = cloud.rt.run(games.load(created["game_id"]))
    assert from_index == {"type": "progress", **games.types["qa"].progress(game)}
    assert from_index["highlight"]["id"] == asked[2] and asked[3] not in repr(from_index)
    assert host.last("progress") == from_index, "the host's moderation is shown at once"


def test_votes_racing_for_one_question_are_all_counted_once_each(cloud):
    created = cloud.create(["Questions"], type="qa")
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i}") for i in range(9)]
    host.ok("start")
    q = phones[0].ok("ask", round=0, text="Popular?")["question"]
    status, joined = cloud.http("POST", "/api/join", {"code": created["code"], "nickname": "Tabs"})
    assert status == 200
    tabs = [cloud.connect(created["game_id"]) for _ in range(2)]  # one player, two tabs
    for tab in tabs:
        tab.send("hello", token=joined["player_token"], view="player")
    replies = race(
        *(lambda p=p: p.reply(p.send("upvote", round=0, question=q)) for p in [*phones[1:], *tabs]),
        lambda: host.reply(host.send("moderate", round=0, question=q, state="highlighted")),
    )
    assert sorted(r["type"] for r in replies) == ["ack"] * 10 + ["error"], replies
    assert [r["code"] for r in replies if r["type"] == "error"] == ["already_voted"], (
        "one vote of the two tabs"
    )
    stored = cloud.rt.run(
        cloud.rt.games.store.get(items.game_pk(created["game_id"]), items.entry_sk(0, ASK, q))
    )
    assert (stored["count"], stored["value"]["state"]) == (9, "highlighted")
    assert stored["GSI1SK"].startswith(f"{999_999 - 9:06d}#")


def test_a_phones_hello_reads_the_same_items_at_any_room_size(cloud):
    """A phone's hello reads its own questions, its votes for the listed ones, the lists' heads from
    the index, the game's VIEW and the first seats, never the whole game (cloud.phones): the same
    count with 30 seats and 60 questions as with 300 seats and 600."""
    hellos = {}
    for players in (30, 300):
        created = cloud.create(["Questions for the keynote"], type="qa")
        host = cloud.host(created)
        tokens = seat(cloud, created, players)
        last = list(tokens.items())[:3]  # seed_questions leaves the first players a free slot
        host.ok("start")
        seed_questions(cloud, created["game_id"], players, 2 * players)
        for pid, token in last:
            reconnect(cloud, created, pid, token).ok("ask", round=0, text=f"From {pid}")
        cloud.run_all_queued()
        calls = Calls(cloud.rt.games.store.client)
        hello = [lambda c=created, p=pid, t=token: reconnect(cloud, c, p, t) for pid, token in last]
        asking = per_command(calls, hello)
        host.ok("end_phase", round=0, phase="open")
        closed = per_command(calls, hello)
        mine = reconnect(cloud, created, *last[0]).last("snapshot")["you"]["mine"]
        seeded = [f"Q{players - 1}", f"Q{2 * players - 1}"]  # its two slots seed_questions filled
        assert [q["text"] for q in mine] == [*seeded, f"From {last[0][0]}"]
        assert len(set(asking)) == 1 and len(set(closed)) == 1, (asking, closed)
        hellos[players] = {"open": asking[0], "closed": closed[0]}
    print("DynamoDB items (read, written) per hello:", hellos)
    assert hellos[30] == hellos[300]
    # Read, with the socket's $connect (META): the socket's reverse item, META, the PLAYER item, the
    # lists' heads (20 + 5 questions), the VIEW, the player's 3 question slots, its votes for the 25
    # listed questions and the first ten seats. Written: as any phone's hello (another socket of the
    # player is open: META's count of the players connected does not move).
    assert hellos[30]["open"] == hellos[30]["closed"] == (3 + 25 + 1 + 3 + 25 + 10 + 1, 6)
