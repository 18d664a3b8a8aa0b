"""The Q&A type in the pure engine: questions, upvotes, moderation, anonymity and the views' bounded
lists, with no server; and the items the store keeps, applied write by write with their conditions."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagements import export, items, views
from engagements.creation import new_game
from engagements.engine import handle
from engagements.model import BOARD, HOST, PHONES, SYSTEM, Actor, Command, Game, Rejected
from engagements.packs import PACKS_DIR, parse_pack, sample_pack, sample_packs
from engagements.plugins import load_types
from engagements.ranking import order
from engagements.store.base import PK, SK, Cond, Delete, Put, Write
from engagements.types.qa import (
    ANSWERED,
    ASK,
    ASKED,
    FRESH,
    HIDDEN,
    HIGHLIGHTED,
    QA,
    TEXT_MAX,
    TOP,
    UPVOTE,
    question_id,
)
from web.wire import MAX_FRAME, frame

KIND = QA()
TYPES = load_types()


class ItemStore:
    """A game's items as the store keeps them, each command's writes applied with their conditions
    (as DynamoDB and SQLite apply them): a write whose condition fails fails the test."""

    def __init__(self, game: Game) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.apply(items.creation_writes(game, 0))

    def apply(self, writes: list[Write]) -> None:
        for w in writes:
            key = (w.item[PK], w.item[SK]) if isinstance(w, Put) else (w.pk, w.sk)
            found = self.items.get(key)
            assert all(holds(c, found) for c in w.condition), (w, found)
            if isinstance(w, Put):
                self.items[key] = dict(w.item)
            elif isinstance(w, Delete):
                self.items.pop(key, None)
            else:
                item = self.items.setdefault(key, {PK: w.pk, SK: w.sk})
                item.update(w.set)
                for name, n in w.add.items():
                    item[name] = item.get(name, 0) + n
                for name in w.remove:
                    item.pop(name, None)

    def load(self) -> Game:
        return items.load_game(list(self.items.values()), TYPES)


def holds(c: Cond, item: dict[str, Any] | None) -> bool:
    if c.kind == "absent":
        return item is None
    if c.kind == "present":
        return item is not None
    value = None if item is None else item.get(c.attr)
    if c.kind == "equals":
        return value == c.value
    return value is None or value < c.value  # below


class Table:
    """A Q&A driven by commands, with a clock that moves one millisecond per command, and its items."""

    def __init__(self, players: int = 4, anonymous: bool = False, limit: int = 3, nickname: str = "") -> None:
        self.game = Game(
            "g1", "ABCDEFG", "Q&A", KIND.slug, [{"text": "Ask the panel"}, {"text": "Ask the chair"}],
            {**KIND.defaults, "qa_anonymous": anonymous, "qa_questions": limit}, "hosthash", "secret", 0,
        )  # fmt: skip
        self.store = ItemStore(self.game)
        self.t = 0
        for i in range(players):
            self.run(SYSTEM, "join", player_id=f"p{i}", nickname=nickname or f"Player {i}", token_hash="x")
            self.run(SYSTEM, "presence", player=f"p{i}", connected=True)

    def run(self, actor: Actor, type_: str, *, cmd_id: str | None = None, **fields: Any):
        self.t += 1
        events, ack = handle(self.game, Command(type_, actor, fields, self.t, cmd_id or f"c{self.t}"), TYPES)
        self.store.apply(items.event_writes(self.game, events, 0, TYPES)[0])
        return events, ack

    def ask(self, pid: str, text: str, **kw: Any) -> str:
        return self.run(Actor("player", pid), ASK, round=self.game.round, text=text, **kw)[1]["question"]

    def vote(self, pid: str, question: str, type_: str = UPVOTE, **kw: Any):
        return self.run(Actor("player", pid), type_, round=self.game.round, question=question, **kw)

    def moderate(self, question: str, state: str):
        return self.run(HOST, "moderate", round=self.game.round, question=question, state=state)


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(Rejected) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message


def started(**kw: Any) -> Table:
    t = Table(**kw)
    t.run(HOST, "start")
    return t


# -- asking and upvoting -----------------------------------------------------------------------------


def test_the_room_asks_and_upvotes_and_the_lists_are_sorted_by_votes_then_time():
    t = started()
    first = t.ask("p0", "  Why   is the sky blue? ")
    second = t.ask("p1", "When do we eat?")
    third = t.ask("p2", "Who made the slides?")
    for pid in ("p0", "p2", "p3"):
        t.vote(pid, second)
    t.vote("p1", third)
    progress = KIND.progress(t.game)
    assert [(q["id"], q["votes"]) for q in progress["top"]] == [(second, 3), (third, 1), (first, 0)]
    assert progress["top"][2] == {
        "id": first,
        "text": "Why is the sky blue?",
        "votes": 0,
        "state": ASKED,
        "name": "Player 0",
    }
    assert (progress["asked"], progress["votes"], progress["highlight"]) == (3, 4, None)
    assert KIND.you_view(t.game, "p0") == {
        "mine": [
            {"id": first, "text": "Why is the sky blue?", "votes": 0, "state": ASKED, "name": "Player 0"}
        ],
        "voted": [second],
    }


def test_one_upvote_per_player_per_question_never_your_own_and_an_unvote_takes_it_back():
    t = started()
    q = t.ask("p0", "Is this thing on?")
    refused("own_question", t.vote, "p0", q)
    t.vote("p1", q, cmd_id="v1")
    assert t.vote("p1", q, cmd_id="v1") == ([], {"question": q}), "a retry gets its first ack"
    refused("already_voted", t.vote, "p1", q)
    refused("not_voted", t.vote, "p2", q, "unvote")
    t.vote("p1", q, "unvote")
    assert t.game.counts[(0, ASK, q)] == 0 and KIND.progress(t.game)["votes"] == 0
    t.vote("p1", q)
    assert t.game.counts[(0, ASK, q)] == 1
    refused("no_such_question", t.vote, "p1", "q000000000000")
    refused("bad_message", t.vote, "p1", 7)


def test_each_player_asks_up_to_the_limit_and_a_retry_after_a_restart_gets_its_first_ack():
    t = started(limit=2)
    a = t.ask("p0", "One", cmd_id="a1")
    b = t.ask("p0", "Two")
    refused("question_limit", t.ask, "p0", "Three")
    assert {a, b} == {question_id(t.game, 0, "p0", s) for s in range(2)}
    reloaded = t.store.load()
    _, ack = handle(
        reloaded, Command(ASK, Actor("player", "p0"), {"round": 0, "text": "One"}, 99, "a1"), TYPES
    )
    assert ack == {"question": a}
    refused("invalid", t.ask, "p1", "x" * (TEXT_MAX + 1))
    refused("invalid", t.ask, "p1", "   ")
    refused("bad_message", t.ask, "p1", None)


def test_questions_and_votes_stop_when_the_host_closes_them_but_moderation_goes_on():
    t = started()
    q = t.ask("p0", "Last one?")
    assert t.game.deadline is None, "a Q&A runs until the host closes it"
    t.run(HOST, "end_phase", round=0, phase="open")
    assert (t.game.phase, t.game.outcomes) == ("closed", {0: "scored"})
    refused("stale", t.ask, "p1", "Too late?")
    refused("stale", t.vote, "p1", q)
    t.moderate(q, ANSWERED)
    assert KIND.results(t.game, 0)[0]["state"] == ANSWERED
    assert [p.score for p in t.game.players.values()] == [0] * 4
    refused("forbidden", t.run, Actor("player", "p1"), "moderate", round=0, question=q, state=HIDDEN)
    t.run(HOST, "next", round=0)
    refused("stale", t.run, HOST, "moderate", round=0, question=q, state=HIDDEN)


# -- the host's moderation -----------------------------------------------------------------------------


def test_at_most_one_question_is_highlighted_and_the_big_screen_shows_it():
    t = started()
    a, b = t.ask("p0", "A?"), t.ask("p1", "B?")
    t.moderate(a, HIGHLIGHTED)
    assert KIND.progress(t.game)["highlight"]["id"] == a
    assert [q["id"] for q in KIND.progress(t.game)["top"]] == [b], "the highlighted one is shown apart"
    t.moderate(b, HIGHLIGHTED)
    states = {q.player: q.value["state"] for q in t.game.round_entries(0, ASK).values()}
    assert states == {a: ASKED, b: HIGHLIGHTED}
    t.moderate(b, ANSWERED)
    progress = KIND.progress(t.game)
    assert progress["highlight"] is None and [q["id"] for q in progress["top"]] == [a]
    refused("invalid", t.moderate, a, "starred")
    events, _ = t.moderate(a, ASKED)
    assert [e.kind for e in events] == ["host_acked"], "nothing to change"


def test_a_hidden_question_is_shown_to_nobody_but_its_author_and_the_host_and_takes_no_votes():
    t = started()
    q = t.ask("p0", "Something rude")
    t.vote("p1", q)
    t.moderate(q, HIDDEN)
    for shown in (
        KIND.round_view(t.game, BOARD),
        KIND.round_view(t.game, PHONES),
        KIND.you_view(t.game, "p1"),
    ):
        assert "Something rude" not in repr(shown)
    assert KIND.you_view(t.game, "p0")["mine"][0]["state"] == HIDDEN
    refused("no_such_question", t.vote, "p2", q)
    refused("no_such_question", t.vote, "p1", q, "unvote")
    hidden = KIND.request(t.game, "questions", {"state": HIDDEN})
    assert [(r["id"], r["votes"]) for r in hidden["items"]] == [(q, 1)]
    t.moderate(q, ASKED)
    assert KIND.progress(t.game)["top"][0]["id"] == q


def test_a_kicked_players_questions_are_hidden_and_their_votes_stay():
    t = started()
    q, mine = t.ask("p0", "Spam"), t.ask("p1", "Fine question")
    t.vote("p0", mine)
    t.moderate(q, HIGHLIGHTED)
    t.run(HOST, "kick", player="p0")
    progress = KIND.progress(t.game)
    assert progress["highlight"] is None and [(x["id"], x["votes"]) for x in progress["top"]] == [(mine, 1)]


# -- anonymity ---------------------------------------------------------------------------------------


def test_anonymous_questions_name_nobody_in_any_view_the_host_page_or_the_csv():
    t = started(anonymous=True, nickname="")
    q = t.ask("p0", "Who decides the budget?")
    t.vote("p1", q)
    t.run(HOST, "end_phase", round=0, phase="open")
    seen = [
        KIND.round_view(t.game, BOARD), KIND.round_view(t.game, PHONES), views.progress(t.game, TYPES),
        KIND.you_view(t.game, "p0"), KIND.you_view(t.game, "p1"), KIND.request(t.game, "questions", {}),
        views.results_page(t.game, TYPES, 0, 0), KIND.export_rows(t.game),
        [i for i in t.store.items.values() if i[SK].startswith("ENTRY#")],
    ]  # fmt: skip
    assert not [p.nickname for p in t.game.players.values() if p.nickname in repr(seen)]
    assert KIND.export_rows(t.game) == [
        {"round": 1, "topic": "Ask the panel", "question": "Who decides the budget?", "votes": 1,
         "state": ASKED, "asked_by": ""},
    ]  # fmt: skip


def test_the_export_counts_the_players_who_asked_or_upvoted_and_names_no_player_id():
    t = started(players=5)
    q = t.ask("p0", "Budget?")
    t.ask("p0", "Timeline?")
    t.vote("p1", q)
    t.vote("p2", q)
    t.run(HOST, "end_phase", round=0, phase="open")
    exported = export.build(t.game, TYPES)
    [played] = [r for r in exported.rounds if r["round"] == 1]
    assert (played["players"], played["entries"]) == (3, {"ask": 2, "upvote": 2})
    rows = [(row["question"], row["votes"]) for row in played["results"]]
    assert rows == [("Budget?", 2), ("Timeline?", 0)]
    assert not [p for p in t.game.players if p in repr(exported)]


def test_without_anonymity_every_view_shows_who_asked():
    t = started()
    t.ask("p2", "Can I ask two?")
    assert KIND.round_view(t.game, PHONES)["top"][0]["name"] == "Player 2"
    assert KIND.round_view(t.game, BOARD)["anonymous"] is False


# -- properties: one vote each, counts equal votes, hidden never shown, sorted ---------------------

actions = st.lists(
    st.tuples(
        st.sampled_from(["ask", "upvote", "unvote", "moderate"]),
        st.integers(0, 5),  # the player (or, for the host, which question)
        st.integers(0, 30),  # which question, among those asked
        st.sampled_from([ASKED, HIGHLIGHTED, ANSWERED, HIDDEN]),
    ),
    max_size=120,
)


@settings(max_examples=80, deadline=None)
@given(actions)
def test_whatever_the_room_does_votes_are_one_each_counts_are_votes_and_views_are_sorted(moves):
    t = started(players=6, limit=2)
    asked: list[str] = []
    for what, who, which, state in moves:
        pid = f"p{who}"
        try:
            if what == "ask":
                asked.append(t.ask(pid, f"Question {len(asked)} from {pid}"))
            elif asked and what == "moderate":
                t.moderate(asked[which % len(asked)], state)
            elif asked:
                t.vote(pid, asked[which % len(asked)], what)
        except Rejected:
            pass
        check(t)
    reloaded = t.store.load()
    assert {k: v for k, v in reloaded.counts.items() if v} == {k: v for k, v in t.game.counts.items() if v}
    assert KIND.progress(reloaded) == KIND.progress(t.game)
    assert {p: KIND.you_view(reloaded, p) for p in t.game.players} == {
        p: KIND.you_view(t.game, p) for p in t.game.players
    }


def check(t: Table) -> None:
    game = t.game
    questions = game.round_entries(0, ASK)
    votes = game.round_entries(0, UPVOTE)
    # one vote per player per question, never your own
    pairs = [(v.value["by"], v.value["for"]) for v in votes.values()]
    assert len(pairs) == len(set(pairs))
    assert all(questions[q].value["by"] != p for p, q in pairs)
    # each question's count is its votes, in memory and in the store
    for key in questions:
        n = sum(1 for _, q in pairs if q == key)
        assert game.counts.get((0, ASK, key), 0) == n
        assert t.store.items[(items.game_pk("g1"), items.entry_sk(0, ASK, key))].get("count", 0) == n
    # at most one highlighted; hidden never shown; the top is the best of the listed questions
    assert sum(q.value["state"] == HIGHLIGHTED for q in questions.values()) <= 1
    hidden = {k for k, q in questions.items() if q.value["state"] == HIDDEN}
    progress = KIND.progress(game)
    shown = [
        *progress["top"],
        *progress["fresh"],
        *([progress["highlight"]] if progress["highlight"] else []),
    ]
    assert not {q["id"] for q in shown} & hidden
    for pid in game.players:
        mine = {q["id"] for q in KIND.you_view(game, pid)["mine"]}
        assert not (set(KIND.you_view(game, pid)["voted"]) | {q["id"] for q in shown}) & (hidden - mine)
    listed = sorted(
        ((q, game.counts.get((0, ASK, k), 0)) for k, q in questions.items() if q.value["state"] == ASKED),
        key=lambda r: order(*r),
    )
    assert [q["id"] for q in progress["top"]] == [q.player for q, _ in listed[:TOP]]
    assert len(progress["fresh"]) <= FRESH
    assert (progress["asked"], progress["votes"]) == (len(questions), len(votes))


# -- rooms of any size -------------------------------------------------------------------------------


def test_a_10000_player_qa_keeps_every_message_small_and_each_command_cheap():
    """docs/protocol.md, "Rooms of any size": thousands of questions, and no message over 32 KB."""
    wide = "\U0001f600"  # four bytes in UTF-8
    t = Table(players=0)
    t.store.apply = lambda writes: None  # the store's part is checked above; this is about the views
    for i in range(10_000):
        t.run(SYSTEM, "join", player_id=f"p{i:05d}", nickname=f"{i:05d}" + wide * 15, token_hash="x")
        t.run(SYSTEM, "presence", player=f"p{i:05d}", connected=True)
    t.run(HOST, "start")
    players = list(t.game.players)
    started_at = time.monotonic()
    asked = [t.ask(pid, f"{i}" + wide * (TEXT_MAX - len(str(i)))) for i, pid in enumerate(players[:3000])]
    for i, pid in enumerate(players):
        for k in range(3):
            q = asked[(i * 7 + k * 131) % len(asked)]
            if t.game.round_entries(0, ASK)[q].value["by"] != pid:
                t.vote(pid, q)
    t.moderate(asked[5], HIGHLIGHTED)
    assert time.monotonic() - started_at < 60, "3,000 questions and 30,000 votes at a cost that does not grow"
    frames = [frame(views.progress(t.game, TYPES))]
    for actor, view in ((HOST, "host"), (HOST, "screen"), (Actor("player", "p00007"), "player")):
        frames.append(frame(views.snapshot(t.game, TYPES, actor, view, "http://x/j/ABCDEFG")))
    frames.append(frame(KIND.request(t.game, "questions", {"state": None, "offset": 0})))
    closing = t.run(HOST, "end_phase", round=0, phase="open")[0]
    sent = views.messages(t.game, TYPES, closing)
    frames += [frame(m) for r in sent.broadcast for m in r.values()] + [frame(sent.private["p00007"])]
    assert max(len(f) for f in frames) <= MAX_FRAME, max(len(f) for f in frames)


# -- topics and packs --------------------------------------------------------------------------------


def test_a_topic_is_a_line_or_an_object_and_the_sample_packs_read_the_same_from_json_and_csv():
    assert KIND.parse_prompt("  Questions for the keynote ") == {"text": "Questions for the keynote"}
    assert KIND.parse_prompt({"topic": "Panel"}) == {"text": "Panel"}
    refused("invalid", KIND.parse_prompt, "")
    from_json = sample_pack("conference-qa", TYPES)
    from_csv = parse_pack((PACKS_DIR / "conference-qa.csv").read_bytes(), "conference-qa.csv", TYPES)
    assert from_json["type"] == from_csv["type"] == "qa"
    assert from_json["prompts"] == from_csv["prompts"] and len(from_json["prompts"]) == 3
    assert from_json["settings"] == {"qa_questions": 3, "qa_anonymous": True}
    assert {
        "name": "conference-qa",
        "title": "Conference Q&A",
        "type": "qa",
        "types": ["qa"],
        "count": 3,
    } in sample_packs(TYPES)
    created = new_game(TYPES, "Conf", from_json["prompts"], "qa", from_json["settings"], now=0).game
    assert created.settings["qa_anonymous"] is True


def test_a_qa_segment_sits_between_the_rounds_of_a_mixed_game():
    prompts = [
        {"type": "poll", "question": "Tea or coffee?", "options": ["Tea", "Coffee"]},
        {"type": "qa", "topic": "Questions for the speaker"},
        {"type": "quiz", "question": "2 + 2?", "options": ["3", "4"], "answer": 1},
    ]
    game = new_game(TYPES, "Mixed", prompts, None, {}, now=0).game
    assert game.round_types() == ["poll", "qa", "quiz"]
    assert {"qa_questions", "qa_anonymous", "vote_seconds", "quiz_seconds"} <= set(game.settings)
