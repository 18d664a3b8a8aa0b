"""The quiz type on the pure engine: questions, speed and streak scoring, the reveal's views, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engagements import views
from engagements.engine import handle
from engagements.model import BOARD, HOST, PHONES, SYSTEM, Actor, Command, Game, Rejected
from engagements.types.quiz import Quiz
from engagements.types.quiz.questions import as_line, parse_question
from engagements.types.quiz.scoring import answer_points, speed_points, streak_bonus

KIND = Quiz()
TYPES = {KIND.slug: KIND}
WINDOW = 20_000  # the default question_seconds, in ms
QUESTIONS = [
    {"question": "2 + 2?", "options": ["3", "4", "5", "22"], "answer": 1},
    {"question": "The sun is a star.", "answer": True},
    "Capital of France? | Lyon | *Paris | Nice",
]


class Quizzing:
    """A quiz driven by commands; `at` sets each command's arrival time (ms since the game's start)."""

    def __init__(self, players: int = 3, questions: list | None = None) -> None:
        prompts = [KIND.parse_prompt(q) for q in (questions or QUESTIONS)]
        self.game = Game("g1", "ABCDEFG", "Quiz", KIND.slug, prompts, dict(KIND.defaults), "h", "s", 0)
        self.t = 0
        for i in range(players):
            self.run(SYSTEM, "join", player_id=f"p{i}", nickname=f"Player {i}", token_hash="x")
            self.run(SYSTEM, "presence", player=f"p{i}", connected=True)

    def run(self, actor: Actor, type_: str, at: int | None = None, **fields):
        self.t = self.t + 1 if at is None else at
        return handle(
            self.game, Command(type_, actor, fields, self.t, f"c{self.t}:{type_}:{actor.key}"), TYPES
        )

    def answer(self, pid: str, choice: int, after: int = 0):
        """`pid` answers `after` ms after the question opened."""
        opened = self.game.deadline - WINDOW
        return self.run(
            Actor("player", pid), "answer", at=opened + after, round=self.game.round, choice=choice
        )

    def score(self, pid: str) -> int:
        return self.game.players[pid].score


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(Rejected) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message


# -- the scoring formula ---------------------------------------------------------------------------


@given(st.integers(1000, 600_000), st.integers(-10, 700_000), st.integers(-10, 700_000), st.integers(0, 20))
def test_points_never_grow_with_the_time_taken_and_stay_between_500_and_1000(window, a, b, streak):
    fast, slow = sorted((a, b))
    assert answer_points(True, fast, window, streak) >= answer_points(True, slow, window, streak)
    assert 500 <= speed_points(slow, window) <= 1000


@given(st.integers(1000, 600_000), st.integers(0, 600_000), st.integers(0, 20))
def test_a_wrong_answer_scores_zero_however_fast(window, ms, streak):
    assert answer_points(False, ms, window, streak) == 0


def test_the_formula_at_its_ends_and_the_streak_bonus_caps_at_500():
    assert speed_points(0, WINDOW) == 1000
    assert speed_points(WINDOW, WINDOW) == 500
    assert speed_points(WINDOW // 2, WINDOW) == 750
    assert speed_points(1, 1000) == 1000 and speed_points(999, 1000) == 501  # 999.5 and 500.5, half up
    assert [streak_bonus(s) for s in range(1, 9)] == [0, 100, 200, 300, 400, 500, 500, 500]


# -- a game ------------------------------------------------------------------------------------------


def test_a_question_closes_when_everyone_answers_and_the_reveal_scores_speed():
    q = Quizzing(players=3)
    q.run(HOST, "start")
    assert (q.game.phase, q.game.deadline) == ("question", q.t + WINDOW)
    q.answer("p0", 1, after=0)
    q.answer("p1", 1, after=10_000)
    assert q.game.phase == "question"
    q.answer("p2", 0, after=500)
    assert q.game.phase == "reveal", "the last answer closes the question"
    assert (q.score("p0"), q.score("p1"), q.score("p2")) == (1000, 750, 0)
    view = KIND.round_view(q.game, BOARD)
    assert view["answer"] == [1] and view["counts"] == [1, 2, 0, 0]
    assert [f["nickname"] for f in view["fastest"]] == ["Player 0", "Player 1"]
    assert KIND.you_view(q.game, "p1")["result"] == {
        "correct": True, "points": 750, "streak": 1, "ms": 10_000, "rank": 2,
    }  # fmt: skip
    assert [row["player"]["id"] for row in KIND.results(q.game, 0)] == ["p0", "p1", "p2"]


def test_the_deadline_closes_the_question_and_late_answers_are_stale():
    q = Quizzing(players=2)
    q.run(HOST, "start")
    deadline = q.game.deadline
    q.answer("p0", 1, after=WINDOW)  # arrived at the deadline: still in, worth 500
    refused("stale", q.answer, "p1", 1, after=WINDOW + 1)
    q.run(SYSTEM, "tick", at=deadline + 5)
    assert q.game.phase == "reveal" and q.score("p0") == 500


def test_a_streak_earns_a_bonus_a_skip_keeps_it_and_a_miss_ends_it():
    questions = [{"question": f"Q{i}", "answer": True} for i in range(5)]
    q = Quizzing(players=2, questions=questions)
    q.run(HOST, "start")
    plan = [("answer", [0, 0]), ("answer", [0, 1]), ("skip", None), ("answer", [0, 0]), ("answer", [0, 0])]
    for r, (how, choices) in enumerate(plan):
        if how == "skip":
            q.run(HOST, "skip", round=r)
            continue
        for pid, choice in zip(("p0", "p1"), choices, strict=True):
            q.answer(pid, choice, after=0)
        if r < len(plan) - 1:
            q.run(HOST, "next", round=r)
    # p0: 1000, 1100, (skipped), 1200, 1300; p1: 1000, 0, (skipped), 1000, 1100
    assert (q.score("p0"), q.score("p1")) == (4600, 3100)


def test_scores_are_recomputed_from_the_entries_alone():
    q = Quizzing(players=2)
    q.run(HOST, "start")
    q.answer("p0", 1, after=2_000)
    q.answer("p1", 1, after=4_000)
    q.run(HOST, "next", round=0)
    q.answer("p0", 0, after=1_000)
    q.answer("p1", 1, after=0)
    fresh = Game("g1", "ABCDEFG", "Quiz", KIND.slug, q.game.prompts, q.game.settings, "h", "s", 0)
    fresh.entries, fresh.outcomes = q.game.entries, q.game.outcomes
    assert {p: KIND.score(fresh, 0)[p] + KIND.score(fresh, 1)[p] for p in ("p0", "p1")} == {
        p: q.score(p) for p in ("p0", "p1")
    }


def test_refusals_name_what_was_wrong():
    q = Quizzing(players=2)
    q.run(HOST, "start")
    refused("no_such_option", q.answer, "p0", 4)
    refused("no_such_option", q.answer, "p0", True)
    refused("bad_message", q.run, Actor("player", "p0"), "answer", choice=1)
    q.answer("p0", 1)
    refused("already_answered", q.answer, "p0", 2, after=50)
    refused("stale", q.run, Actor("player", "p1"), "answer", round=5, choice=1)


def test_a_kicked_players_answer_leaves_the_question():
    q = Quizzing(players=3)
    q.run(HOST, "start")
    q.answer("p0", 1)
    q.run(HOST, "kick", player="p0")
    assert KIND.progress(q.game) == {"round": 0, "answered": 0, "eligible": 2}
    q.answer("p1", 1)
    q.answer("p2", 1)
    assert q.game.phase == "reveal" and KIND.round_view(q.game, PHONES)["counts"] == [0, 2, 0, 0]


def test_no_view_tells_the_answer_before_the_reveal_and_phones_get_no_names():
    q = Quizzing(players=3)
    q.run(HOST, "start")
    for audience in (BOARD, PHONES):
        view = KIND.round_view(q.game, audience)
        assert view["answer"] is None and view["counts"] is None
    q.run(HOST, "end_phase", round=0, phase="question")
    assert KIND.round_view(q.game, PHONES)["fastest"] is None
    assert views.snapshot(q.game, TYPES, Actor("player", "p0"), "player", "")["you"]["result"] is None


def test_with_several_correct_options_any_of_them_scores_and_the_reveal_shows_them_all():
    q = Quizzing(players=3, questions=["A prime number? | *2 | *3 | 4 | 9"])
    q.run(HOST, "start")
    q.answer("p0", 0, after=0)
    q.answer("p1", 1, after=0)
    q.answer("p2", 2, after=0)
    assert (q.score("p0"), q.score("p1"), q.score("p2")) == (1000, 1000, 0)
    assert KIND.round_view(q.game, PHONES)["answer"] == [0, 1]
    assert [row["correct"] for row in KIND.results(q.game, 0)] == [True, True, False]
    assert KIND.export_rows(q.game)[0]["correct_option"] == "2 / 3"


def test_question_shapes_read_alike():
    assert parse_question("Capital of France? | Lyon | *Paris | Nice") == {
        "text": "Capital of France?", "options": ["Lyon", "Paris", "Nice"], "answer": [1],
    }  # fmt: skip
    assert parse_question("Water is wet | TRUE") == {
        "text": "Water is wet",
        "options": ["True", "False"],
        "answer": [0],
    }
    assert parse_question({"question": "Pick b", "options": ["a", "b"], "answer": "b"})["answer"] == [1]
    several = {"question": "A prime?", "options": ["2", "3", "4"], "answer": ["3", 0]}
    assert parse_question(several)["answer"] == [0, 1]
    assert parse_question("A prime? | *2 | *3 | 4") == parse_question(several)
    for q in QUESTIONS[:2]:
        parsed = parse_question(q)
        assert parse_question(as_line(parsed)) == parsed
    for bad in (
        "No options here",
        "None right | a | b",
        {"question": "One out of range", "options": ["a", "b"], "answer": [0, 2]},
        "One option | *a",
        "Seven | *a | b | c | d | e | f | g",
        "Same twice | *a | A",
        {"question": "Out of range", "options": ["a", "b"], "answer": 2},
        {"question": "Bar | in it", "options": ["a", "b"], "answer": 0},
    ):
        refused("invalid", parse_question, bad)
