"""A Q&A alongside the rounds, in the pure engine: questions and upvotes in the game's lane (round
`LANE`) during every phase of other types' rounds, which play on untouched; one upvote each; the host's
moderation; hidden questions shown to no phone; and the items a reload finds them in."""

from __future__ import annotations

from typing import Any

import pytest

from engagements import items, views
from engagements.creation import catalogue, new_game
from engagements.engine import handle
from engagements.model import BOARD, FINISHED, HOST, LANE, PHONES, SYSTEM, Actor, Command, Game, Rejected
from engagements.plugins import load_types
from engagements.types import kind_of
from engagements.types.qa import ASK, HIDDEN, HIGHLIGHTED, UPVOTE
from tests.test_qa import ItemStore

TYPES = load_types()
PROMPTS = ["Name a sandwich", "[quiz] Two plus two? | 3 | *4", "[poll] Tea or coffee? | Tea | Coffee"]


class Lane:
    """A game of an answer-then-vote round, a quiz question and a poll, with a Q&A alongside."""

    def __init__(self, players: int = 3, **settings: Any) -> None:
        created = new_game(TYPES, "Party", PROMPTS, settings={"qa_alongside": True, **settings}, now=0)
        self.game: Game = created.game
        self.store = ItemStore(self.game)
        self.t = 0
        for i in range(players):
            self.run(SYSTEM, "join", player_id=f"p{i}", nickname=f"Player {i}", token_hash="x")
            self.run(SYSTEM, "presence", player=f"p{i}", connected=True)

    def run(self, actor: Actor, type_: str, **fields: Any) -> tuple[list[Any], dict[str, Any]]:
        self.t += 1
        events, ack = handle(self.game, Command(type_, actor, fields, self.t, f"c{self.t}"), TYPES)
        self.store.apply(items.event_writes(self.game, events, 0, TYPES)[0])
        return events, ack

    def ask(self, pid: str, text: str) -> str:
        return self.run(Actor("player", pid), ASK, round=LANE, text=text)[1]["question"]

    def upvote(self, pid: str, question: str) -> None:
        self.run(Actor("player", pid), UPVOTE, round=LANE, question=question)

    def lane(self, audience: str = PHONES) -> dict[str, Any]:
        shown = views.game_view(self.game, TYPES, "", audience)["lane"]
        assert shown is not None
        return shown


def refused(code: str, fn: Any, *args: Any) -> None:
    with pytest.raises(Rejected) as info:
        fn(*args)
    assert info.value.code == code, info.value.message


def test_questions_and_upvotes_come_in_during_every_phase_and_the_rounds_play_on_untouched():
    t = Lane(qa_questions=10)
    asked = [t.ask("p0", "Asked in the lobby?")]
    t.run(HOST, "start")
    seen = []
    while t.game.status != FINISHED:
        phase, r, deadline = t.game.phase, t.game.round, t.game.deadline
        seen.append((kind_of(t.game, TYPES).slug, phase))
        question = t.ask(f"p{len(asked) % 3}", f"Question {len(asked)} during {phase}?")
        asked.append(question)
        t.upvote(f"p{(len(asked) + 1) % 3}", question)
        if (seen[-1]) == ("answer-vote", "question"):  # two answers: the round goes on to its vote
            for pid in ("p0", "p1"):
                t.run(Actor("player", pid), "answer", round=r, phase=phase, text=f"{pid}'s sandwich")
        assert (t.game.phase, t.game.round, t.game.deadline) == (phase, r, deadline), "the round plays on"
        last = kind_of(t.game, TYPES).phases[-1]
        t.run(HOST, "next" if phase == last else "end_phase", round=r, phase=phase)
    assert seen == [
        ("answer-vote", "question"), ("answer-vote", "voting"), ("answer-vote", "results"),
        ("quiz", "question"), ("quiz", "reveal"),
        ("poll", "open"), ("poll", "results"),
    ], seen  # fmt: skip
    assert t.game.outcomes.keys() == {0, 1, 2} and LANE not in t.game.outcomes
    lane = t.lane()
    assert (lane["index"], lane["phase"], lane["type"], lane["asked"]) == (LANE, "closed", "qa", len(asked))
    refused("finished", t.ask, "p1", "After the end?")


def test_one_upvote_per_player_per_question_and_never_ones_own():
    t = Lane()
    t.run(HOST, "start")
    q = t.ask("p0", "Is the lane open?")
    refused("own_question", t.upvote, "p0", q)
    t.upvote("p1", q)
    refused("already_voted", t.upvote, "p1", q)
    t.upvote("p2", q)
    assert t.game.counts[(LANE, ASK, q)] == 2
    listed = {"id": q, "text": "Is the lane open?", "votes": 2, "state": "asked", "name": "Player 0"}
    assert t.lane()["top"][0] == listed
    assert views.you_view(t.game, TYPES, "p1")["lane"]["voted"] == [q]
    assert 0 not in t.game.entries, "nothing in the round's own entries"


def test_the_host_highlights_and_hides_and_a_hidden_question_is_invisible_to_phones():
    t = Lane()
    t.run(HOST, "start")
    shown, hidden = t.ask("p0", "Keep me"), t.ask("p1", "Hide me")
    t.run(HOST, "moderate", round=LANE, question=hidden, state=HIDDEN)
    t.run(HOST, "moderate", round=LANE, question=shown, state=HIGHLIGHTED)
    for audience in (PHONES, BOARD):
        lane = t.lane(audience)
        assert lane["highlight"]["id"] == shown
        assert hidden not in {q["id"] for q in (*lane["top"], *lane["fresh"])}
    refused("no_such_question", t.upvote, "p2", hidden)
    assert views.you_view(t.game, TYPES, "p1")["lane"]["mine"][0]["state"] == HIDDEN, "its author sees it"
    page = views.request(t.game, TYPES, "questions", {"round": LANE, "state": HIDDEN})
    assert [q["id"] for q in page["items"]] == [hidden]
    by_a_player = {"round": LANE, "question": shown, "state": HIDDEN}
    refused("forbidden", lambda: t.run(Actor("player", "p2"), "moderate", **by_a_player))


def test_the_lane_survives_a_reload_from_its_items_and_a_kick_hides_the_kicked_players_questions():
    t = Lane()
    t.run(HOST, "start")
    q = t.ask("p0", "Will this survive?")
    t.upvote("p1", q)
    t.run(HOST, "moderate", round=LANE, question=q, state=HIGHLIGHTED)
    loaded = t.store.load()
    assert views.lane_view(loaded, TYPES, BOARD)["highlight"] == {**t.lane()["highlight"], "votes": 1}
    t.run(HOST, "kick", player="p0")
    assert t.lane()["highlight"] is None and t.lane()["asked"] == 1


def test_a_game_without_the_setting_has_no_lane_and_the_setting_is_on_the_form_of_every_game():
    plain = new_game(TYPES, "Party", PROMPTS, now=0).game
    assert "qa_alongside" not in plain.settings and "lane" not in views.game_view(plain, TYPES, "", BOARD)
    with pytest.raises(Rejected):
        handle(plain, Command(ASK, Actor("player", "p0"), {"round": LANE, "text": "?"}, 1), TYPES)
    game = Lane(qa_questions=1).game
    assert (game.settings["qa_alongside"], game.settings["qa_questions"]) == (True, 1)
    qa = next(t for t in catalogue(TYPES)["types"] if t["slug"] == "qa")
    assert qa["alongside"] == "qa_alongside"
    with pytest.raises(Rejected):
        new_game(TYPES, "Party", PROMPTS, settings={"qa_alongside": "yes"}, now=0)
