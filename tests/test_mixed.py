"""A game that mixes types: each round is played by its prompt's type, the lobby, the leaderboard and
the podium stay the core's. Pure: the engine, creation, views, items and the CSV, no server."""

from __future__ import annotations

import csv
import io

import pytest

from engagements import export, items, views
from engagements.creation import new_game
from engagements.engine import handle
from engagements.model import BOARD, HOST, PHONES, SYSTEM, Actor, Command, Rejected
from engagements.plugins import load_types
from engagements.types import kind_of
from engagements.types.quiz.scoring import answer_points
from tests.test_ballots import stored_items

TYPES = load_types()
QUIZ = {"type": "quiz", "question": "2 + 2?", "options": ["3", "4", "5"], "answer": 1}
FUNNY = {"type": "answer-vote", "prompt": "A bad name for a cat"}
LAST = {"type": "quiz", "question": "The sky is green", "answer": False}


class Mixed:
    """A mixed game (quiz, answer-vote, quiz) driven by commands; the clock moves 1 ms per command."""

    def __init__(self, prompts: list | None = None, players: int = 3, **settings) -> None:
        self.game = new_game(TYPES, "Mixed", prompts or [QUIZ, FUNNY, LAST], settings=settings, now=0).game
        self.t = 0
        self.options: dict[str, str] = {}
        for i in range(players):
            self.run(SYSTEM, "join", player_id=f"p{i}", nickname=f"Player {i}", token_hash="x")
            self.run(SYSTEM, "presence", player=f"p{i}", connected=True)

    def run(self, actor: Actor, type_: str, **fields):
        self.t += 1
        return handle(self.game, Command(type_, actor, fields, self.t, f"c{self.t}"), TYPES)

    def play(self, pid: str, type_: str, **fields):
        return self.run(Actor("player", pid), type_, round=self.game.round, **fields)

    def answer(self, pid: str) -> None:
        self.options[pid] = self.play(pid, "answer", text=f"answer {pid}")[1]["option"]

    def scores(self) -> dict[str, int]:
        return {pid: p.score for pid, p in self.game.players.items()}


def played() -> Mixed:
    """Quiz (p0, p1 right, p2 wrong), answer-vote (p1's answer wins), quiz (p0, p2 right): finished."""
    m = Mixed()
    m.run(HOST, "start")
    for pid, choice in (("p0", 1), ("p1", 1), ("p2", 0)):
        m.play(pid, "answer", choice=choice)
    assert m.game.phase == "reveal"
    m.run(HOST, "next", round=0)
    for pid in ("p0", "p1", "p2"):
        m.answer(pid)
    for voter, author in (("p0", "p1"), ("p1", "p0"), ("p2", "p1")):
        m.play(voter, "vote", option=m.options[author])
    assert m.game.phase == "results"
    m.run(HOST, "next", round=1)
    for pid, choice in (("p0", 1), ("p1", 0), ("p2", 1)):
        m.play(pid, "answer", choice=choice)
    m.run(HOST, "next", round=2)
    return m


def test_a_mixed_game_names_each_rounds_type_on_its_prompt_only_where_it_differs_from_the_games():
    game = Mixed([QUIZ, FUNNY, "2 + 3? | 4 | *5"]).game
    assert game.type == "quiz", "the first prompt's type, when the creator names none"
    assert [p.get("type") for p in game.prompts] == [None, "answer-vote", None]
    assert game.round_types() == ["quiz", "answer-vote", "quiz"]
    # Settings: every type's that the game's rounds use, with the core's.
    assert set(game.settings) == {
        "quiz_seconds",
        "question_seconds",
        "vote_seconds",
        "max_players",
        "late_join",
    }
    named = new_game(TYPES, "T", [FUNNY, QUIZ], "answer-vote", {"vote_seconds": 30}, now=0).game
    assert named.type == "answer-vote" and named.prompts[1]["type"] == "quiz"
    assert named.settings["vote_seconds"] == 30


def test_a_round_of_each_type_runs_by_its_own_phases_and_timers_and_one_leaderboard_sums_them():
    m = Mixed()
    m.run(HOST, "start")
    assert (m.game.phase, m.game.deadline) == ("question", m.t + 20_000), "quiz_seconds times round 0"
    assert views.round_view(m.game, TYPES, PHONES)["type"] == "quiz"
    m = played()
    assert m.game.status == "finished"
    assert m.game.outcomes == {0: "scored", 1: "scored", 2: "scored"}
    quiz = answer_points(True, 2, 20_000, 1)  # a right answer a few ms in: 1,000
    assert quiz == 1000
    # p0's second right answer is a streak of two: the answer-vote round between neither breaks it
    # nor counts in it; the vote gave p1 300 and p0 100 (as in a single-type game of three).
    assert m.scores() == {"p0": 1000 + 100 + 1000 + 100, "p1": 1000 + 300, "p2": 1000}
    board = views.leaderboard(m.game)
    assert [(row["id"], row["rank"]) for row in board] == [("p0", 1), ("p1", 2), ("p2", 3)]


def test_the_views_follow_the_round_type_when_the_game_moves_from_a_quiz_to_a_vote():
    m = Mixed()
    m.run(HOST, "start")
    for pid, choice in (("p0", 1), ("p1", 1), ("p2", 0)):
        m.play(pid, "answer", choice=choice)
    events, _ = m.run(HOST, "next", round=0)
    sent = views.messages(m.game, TYPES, events)
    changed = sent.broadcast[0]
    assert {a: changed[a]["round"]["type"] for a in (BOARD, PHONES)} == dict.fromkeys(
        (BOARD, PHONES), "answer-vote"
    )
    assert changed[PHONES]["round"]["prompt"] == "A bad name for a cat"
    assert set(sent.private["p0"]) == {"type", "answer_option", "vote", "ballot", "result"}, (
        "answer-vote's you"
    )
    snapshot = views.snapshot(m.game, TYPES, Actor("player", "p0"), "player", "")
    assert snapshot["game"]["type"] == "quiz" and snapshot["game"]["round"]["type"] == "answer-vote"
    # A quiz answer now is a command of another round's type: stale, not unknown.
    with pytest.raises(Rejected) as refused:
        m.play("p0", "answer", choice=1)
    assert refused.value.code == "bad_message", "answer-vote's answer wants text"
    with pytest.raises(Rejected) as refused:
        m.run(Actor("player", "p0"), "vote", round=0, option="x")
    assert refused.value.code == "stale"
    m.run(HOST, "skip", round=1)
    assert kind_of(m.game, TYPES).slug == "quiz" and m.game.phase == "question"


def test_a_reloaded_mixed_game_recomputes_every_rounds_points_by_its_own_type():
    m = played()
    stored = stored_items(m)
    meta = stored[0]
    assert meta[items.ROUND_TYPES] == ["quiz", "answer-vote", "quiz"]
    assert [i.get("type") for i in stored if i["SK"].startswith("PROMPT#")] == [None, "answer-vote", None]
    reloaded = items.load_game(stored, TYPES)
    assert {pid: p.score for pid, p in reloaded.players.items()} == m.scores()
    assert reloaded.round_types() == m.game.round_types()


def test_a_load_without_prompts_finds_the_current_rounds_type_in_meta():
    """The cloud's partial loads read META and at most the current round's prompt."""
    m = Mixed()
    m.run(HOST, "start")
    m.run(HOST, "skip", round=0)
    meta = stored_items(m)[0]
    partial = items.load_game([meta], TYPES)
    assert kind_of(partial, TYPES).slug == "answer-vote"
    assert len(partial.prompts) == 3 and partial.round_type(2) == "quiz"


def test_a_single_type_game_is_stored_as_before_even_when_its_prompts_name_their_type():
    plain = new_game(TYPES, "T", ["one", "two"], now=0).game
    named = new_game(TYPES, "T", [{"type": "answer-vote", "prompt": "one"}, "two"], now=0).game
    assert named.prompts == plain.prompts == [{"text": "one"}, {"text": "two"}]
    meta = next(w.item for w in items.creation_writes(named, 0) if w.item["SK"] == "META")
    assert items.ROUND_TYPES not in meta
    assert set(named.settings) == set(plain.settings)


def test_a_prompt_of_an_unknown_type_is_refused_saying_which():
    with pytest.raises(Rejected) as refused:
        new_game(TYPES, "T", ["one", {"type": "bingo", "prompt": "two"}], now=0)
    assert refused.value.code == "invalid" and refused.value.message.startswith(
        "Prompt 2: Unknown prompt type"
    )
    with pytest.raises(Rejected) as refused:
        new_game(TYPES, "T", ["one", {"type": "quiz", "question": "two"}], now=0)
    assert refused.value.message.startswith("Prompt 2:"), "judged by its own type's rules"


def test_the_results_csv_has_every_rounds_rows_under_the_union_of_the_types_columns():
    m = played()
    rows = list(csv.DictReader(io.StringIO(export.results_csv(m.game, TYPES))))
    assert [row["round"] for row in rows] == ["1"] * 3 + ["2"] * 3 + ["3"] * 3
    assert {row["question"] for row in rows[:3]} == {"2 + 2?"} and rows[3]["question"] == ""
    assert {row["prompt"] for row in rows[3:6]} == {"A bad name for a cat"} and rows[0]["prompt"] == ""
    assert sum(int(row["points"]) for row in rows) == sum(m.scores().values())


def test_a_poll_between_two_quiz_questions_adds_nothing_to_the_leaderboard():
    poll = {"type": "poll", "question": "Favourite colour?", "options": ["Red", "Blue"]}
    m = Mixed([QUIZ, poll, LAST])
    assert m.game.round_types() == ["quiz", "poll", "quiz"]
    m.run(HOST, "start")
    for pid, choice in (("p0", 1), ("p1", 0), ("p2", 1)):
        m.play(pid, "answer", choice=choice)
    m.run(HOST, "next", round=0)
    before = m.scores()
    for pid in ("p0", "p1", "p2"):
        m.play(pid, "vote", choices=[0])
    assert kind_of(m.game, TYPES).phases[-1] == m.game.phase, "the poll's results"
    assert m.scores() == before
    m.run(HOST, "next", round=1)
    m.play("p0", "answer", choice=1)
    m.run(HOST, "end_phase", round=2, phase="question")
    assert m.scores()["p0"] == before["p0"] + answer_points(True, 1, 20_000, 2), "the streak passes the poll"
