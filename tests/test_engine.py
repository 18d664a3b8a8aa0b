"""The pure engine: the game's state machine, scoring and refusals, with no server and no store."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagements import views
from engagements.engine import handle
from engagements.model import HOST, SYSTEM, Actor, Command, Game, Rejected
from engagements.types.answer_vote import AnswerVote, round_points
from engagements.types.answer_vote.ballots import BALLOT_SIZE

KIND = AnswerVote()
TYPES = {KIND.slug: KIND}


class Table:
    """A game driven by commands, with a clock that moves one millisecond per command."""

    def __init__(self, players: int = 3, prompts: int = 2) -> None:
        self.game = Game(
            "g1", "ABCDEFG", "Test", KIND.slug, [{"text": f"prompt {i}"} for i in range(prompts)],
            dict(KIND.defaults), "hosthash", "secret", 0,
        )  # fmt: skip
        self.t = 0
        self.options: dict[str, str] = {}
        for i in range(players):
            self.run(SYSTEM, "join", player_id=f"p{i}", nickname=f"Player {i}", token_hash="x")
            self.run(SYSTEM, "presence", player=f"p{i}", connected=True)  # the phone connects

    def run(self, actor: Actor, type_: str, *, cmd_id: str | None = None, **fields):
        self.t += 1
        return handle(self.game, Command(type_, actor, fields, self.t, cmd_id or f"c{self.t}"), TYPES)

    def answer(self, pid: str, text: str | None = None):
        events, ack = self.run(
            Actor("player", pid), "answer", round=self.game.round, text=text or f"answer {pid}"
        )
        self.options[pid] = ack["option"]
        return events

    def vote(self, pid: str, for_pid: str):
        return self.run(Actor("player", pid), "vote", round=self.game.round, option=self.options[for_pid])

    @property
    def players(self) -> list[str]:
        return list(self.game.players)

    def score(self, pid: str) -> int:
        return self.game.players[pid].score


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(Rejected) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message


def test_a_round_goes_question_voting_results_and_the_podium_follows_the_last():
    t = Table(players=3, prompts=2)
    t.run(HOST, "start")
    assert (t.game.status, t.game.phase, t.game.round) == ("playing", "question", 0)
    assert t.game.deadline == t.t + 60_000
    for pid in t.players:
        t.answer(pid)
    assert t.game.phase == "voting", "the last answer closes the question early"
    t.vote("p0", "p1")
    t.vote("p1", "p0")
    t.vote("p2", "p1")
    assert t.game.phase == "results"
    assert (t.score("p0"), t.score("p1"), t.score("p2")) == (100, 300, 0)
    t.run(HOST, "next", round=0)
    assert (t.game.phase, t.game.round) == ("question", 1)
    t.run(HOST, "skip", round=1)
    assert t.game.status == "finished"
    assert t.game.outcomes == {0: "scored", 1: "skipped"}
    assert [row["nickname"] for row in views.leaderboard(t.game)] == ["Player 1", "Player 0", "Player 2"]


def test_deadline_closes_a_phase_but_an_early_tick_does_nothing():
    t = Table()
    t.run(HOST, "start")
    t.answer("p0")
    deadline = t.game.deadline
    assert handle(t.game, Command("tick", SYSTEM, {}, deadline - 1), TYPES)[0] == []
    events, _ = handle(t.game, Command("tick", SYSTEM, {}, deadline), TYPES)
    assert t.game.phase == "voting", [e.kind for e in events]


def test_answer_arriving_after_the_deadline_is_stale_even_if_the_timer_has_not_fired():
    t = Table()
    t.run(HOST, "start")
    late = t.game.deadline + 1
    refused(
        "stale",
        handle,
        t.game,
        Command("answer", Actor("player", "p0"), {"round": 0, "text": "x"}, late),
        TYPES,
    )


def test_player_cannot_vote_for_their_own_answer_nor_twice_nor_answer_twice():
    t = Table()
    t.run(HOST, "start")
    t.answer("p0")
    refused("already_answered", t.answer, "p0")
    t.answer("p1")
    t.answer("p2")
    refused("own_answer", t.vote, "p0", "p0")
    t.vote("p0", "p1")
    refused("already_voted", t.vote, "p0", "p2")
    refused("no_such_option", t.run, Actor("player", "p1"), "vote", round=0, option="nope")


def test_stale_commands_are_refused_and_change_nothing():
    t = Table()
    t.run(HOST, "start")
    for pid in t.players:
        t.answer(pid)
    before = (t.game.phase, t.game.seq, dict(t.game.entries[0]["answer"]))
    refused("stale", t.run, Actor("player", "p0"), "answer", round=0, text="too late")
    refused("stale", t.run, HOST, "end_phase", round=0, phase="question")
    refused("stale", t.run, HOST, "next", round=0)
    refused("stale", t.run, Actor("player", "p0"), "vote", round=1, option=t.options["p1"])
    assert (t.game.phase, t.game.seq, dict(t.game.entries[0]["answer"])) == before


def test_a_retried_command_is_applied_once_and_answered_the_same():
    t = Table()
    t.run(HOST, "start")
    first = t.run(Actor("player", "p0"), "answer", cmd_id="same", round=0, text="hello")
    again = t.run(Actor("player", "p0"), "answer", cmd_id="same", round=0, text="hello")
    assert again == ([], first[1])
    assert len(t.game.entries[0]["answer"]) == 1


def test_only_the_host_runs_the_game_and_players_act_only_as_themselves():
    t = Table()
    refused("forbidden", t.run, Actor("player", "p0"), "start")
    refused("forbidden", t.run, HOST, "answer", round=0, text="x")
    refused("forbidden", t.run, Actor("player", "p0"), "join", player_id="p9", nickname="x", token_hash="x")
    refused("unknown_type", t.run, HOST, "launch_missiles")


def test_nicknames_are_unique_ignoring_case_and_bounded():
    t = Table(players=1)
    refused("nickname_taken", t.run, SYSTEM, "join", player_id="p8", nickname="  player   0 ", token_hash="x")
    refused("invalid", t.run, SYSTEM, "join", player_id="p8", nickname="x" * 21, token_hash="x")
    refused("invalid", t.run, SYSTEM, "join", player_id="p8", nickname="evil\u202ename", token_hash="x")
    refused("invalid", t.run, SYSTEM, "join", player_id="p8", nickname="   ", token_hash="x")
    t.run(SYSTEM, "join", player_id="p8", nickname="Zoë 👩‍👩‍👧", token_hash="x")


def test_locked_lobby_refuses_new_players_and_unlocking_lets_them_in():
    t = Table(players=1)
    t.run(HOST, "lock", locked=True)
    refused("locked", t.run, SYSTEM, "join", player_id="p5", nickname="Late", token_hash="x")
    t.run(HOST, "lock", locked=False)
    t.run(SYSTEM, "join", player_id="p5", nickname="Late", token_hash="x")


def test_kicking_a_player_removes_their_answer_from_the_vote_and_gives_back_votes_for_it():
    t = Table(players=4)
    t.run(HOST, "start")
    for pid in t.players:
        t.answer(pid)
    t.vote("p0", "p3")
    t.vote("p1", "p3")
    t.run(HOST, "kick", player="p3")
    assert t.game.players["p3"].kicked
    assert t.options["p3"] not in t.game.options[0]
    assert set(t.game.round_entries(0, "vote")) == set(), "votes for the kicked answer are given back"
    t.vote("p0", "p1")
    refused("kicked", t.vote, "p3", "p1")
    refused("no_such_player", t.run, HOST, "kick", player="p3")


def test_kicking_the_last_player_who_had_not_answered_closes_the_question():
    t = Table(players=3)
    t.run(HOST, "start")
    t.answer("p0")
    t.answer("p1")
    t.run(HOST, "kick", player="p2")
    assert t.game.phase == "voting"


def test_a_lone_answer_with_nobody_else_to_vote_goes_straight_to_results():
    t = Table(players=1)
    t.run(HOST, "start")
    t.answer("p0")
    assert t.game.phase == "results"
    assert t.score("p0") == 0


def test_end_game_goes_to_the_podium_with_the_scores_as_they_are():
    t = Table(players=2, prompts=3)
    t.run(HOST, "start")
    t.answer("p0")
    t.run(HOST, "end_game")
    assert (t.game.status, t.game.phase) == ("finished", "finished")
    refused("finished", t.run, HOST, "start")


def test_scoring_rule_votes_top_bonus_and_sweep():
    assert round_points({"a": 2, "b": 1, "c": 0}) == {"a": 300, "b": 100, "c": 0}
    assert round_points({"a": 1, "b": 1}) == {"a": 200, "b": 200}, "ties at the top share the bonus"
    assert round_points({"a": 3, "b": 0}) == {"a": 600, "b": 0}, "a sweep of three or more votes"
    assert round_points({"a": 0, "b": 0}) == {"a": 0, "b": 0}


# -- properties ----------------------------------------------------------------------------------


@st.composite
def rounds(draw):
    """A round: how many players, who answers, and for each voter a choice among the answers they are
    shown (every other answer, or past BALLOT_SIZE answers their ballot)."""
    n = draw(st.integers(min_value=1, max_value=14))
    answered = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    picks = draw(st.lists(st.integers(min_value=0, max_value=100), min_size=n, max_size=n))
    abstain = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return n, answered, picks, abstain


@settings(max_examples=150, deadline=None)
@given(rounds())
def test_points_awarded_equal_the_rule_applied_to_the_votes_cast_and_nobody_votes_for_themselves(spec):
    n, answered, picks, abstain = spec
    t = Table(players=n, prompts=1)
    t.run(HOST, "start")
    for i, pid in enumerate(t.players):
        if answered[i] and t.game.phase == "question":
            t.answer(pid)
    if t.game.phase == "question":
        t.run(HOST, "end_phase", round=0, phase="question")
    with_ballots = len(t.options) > BALLOT_SIZE
    author_of = {option: pid for pid, option in t.options.items()}
    shown: Counter[str] = Counter()  # per author: the ballots of the voters who voted it was on
    for i, voter in enumerate(t.players):
        if t.game.phase != "voting" or abstain[i]:
            continue
        choices = [author_of[o["id"]] for o in KIND.you_view(t.game, voter)["ballot"]]
        assert voter not in choices and len(choices) <= BALLOT_SIZE
        if voter in t.options:
            refused("own_answer", t.vote, voter, voter)
        if choices:
            t.vote(voter, choices[picks[i] % len(choices)])
            shown.update(choices)
    if t.game.phase == "voting":
        t.run(HOST, "end_phase", round=0, phase="voting")
    assert t.game.phase == "results"
    authors = t.game.options.get(0, {})
    votes = t.game.round_entries(0, "vote").values()
    assert all(authors[v.value["for"]] != v.player for v in votes), "nobody voted for their own answer"
    tally = dict.fromkeys(authors.values(), 0)
    for v in votes:
        tally[authors[v.value["for"]]] += 1
    exposure = {author: shown[author] for author in tally}  # every answer, those on no ballot too
    expected = round_points(tally, exposure if with_ballots else None)
    assert {pid: t.score(pid) for pid in tally} == expected
    assert sum(p.score for p in t.game.players.values()) == sum(expected.values())


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["start", "end_phase", "next", "skip", "end_game", "answer", "vote"]), max_size=40
    )
)
def test_any_sequence_of_commands_keeps_the_game_consistent(moves):
    """Whatever the host and players do, refused or not, the game stays in a state it can be in."""
    t = Table(players=3, prompts=2)
    for i, move in enumerate(moves):
        pid = t.players[i % 3]
        try:
            if move == "answer":
                t.answer(pid)
            elif move == "vote":
                t.vote(pid, t.players[(i + 1) % 3])
            elif move in ("end_phase",):
                t.run(HOST, move, round=t.game.round, phase=t.game.phase)
            elif move in ("next", "skip"):
                t.run(HOST, move, round=t.game.round)
            elif move == "kick":
                t.run(HOST, move, player=pid)
            else:
                t.run(HOST, move)
        except (Rejected, KeyError):
            pass
        g = t.game
        assert g.phase in ("lobby", "question", "voting", "results", "finished")
        assert (g.status == "finished") == (g.phase == "finished")
        assert (g.deadline is not None) == (g.phase in ("question", "voting"))
        assert -1 <= g.round < len(g.prompts)
        assert all(r <= g.round for r in g.outcomes)
        assert sum(p.score for p in g.players.values()) >= 0
        assert g.active == sum(not p.kicked for p in g.players.values())


def test_only_seats_that_connected_are_waited_for_and_a_kick_bans_the_device_and_address():
    t = Table(players=2, prompts=1)
    t.run(SYSTEM, "join", player_id="ghost", nickname="Ghost", token_hash="x", device="dg", address="a1")
    t.run(SYSTEM, "join", player_id="troll", nickname="Troll", token_hash="x", device="dt", address="a2")
    t.run(SYSTEM, "presence", player="troll", connected=True)
    t.run(HOST, "kick", player="troll")
    refused("kicked", t.run, SYSTEM, "join", player_id="t2", nickname="Angel", token_hash="x", device="dt")
    refused("kicked", t.run, SYSTEM, "join", player_id="t3", nickname="Angel", token_hash="x", address="a2")
    refused(
        "kicked",
        t.run,
        SYSTEM,
        "join",
        player_id="t4",
        nickname="Angel",
        token_hash="x",
        device="new",
        address="a2",
    )
    # A device that already holds a seat keeps it from the kicked address (a neighbour behind its NAT).
    t.run(SYSTEM, "join", player_id="n1", nickname="Neighbour", token_hash="x", device="dg", address="a2")
    t.run(HOST, "start")
    for pid in ("p0", "p1"):
        t.answer(pid)
    assert t.game.phase == "voting", "Ghost and Neighbour never connected: the question closed without them"
    assert KIND.progress(t.game)["eligible"] == 2


def test_the_player_cap_and_late_joins_follow_the_game_settings():
    t = Table(players=2, prompts=1)
    t.game.settings.update(max_players=3, late_join=False)
    t.run(SYSTEM, "join", player_id="p2", nickname="Third", token_hash="x")
    refused("full", t.run, SYSTEM, "join", player_id="p3", nickname="Fourth", token_hash="x")
    t.run(HOST, "kick", player="p2")  # a kick gives the seat back
    t.run(HOST, "start")
    refused("started", t.run, SYSTEM, "join", player_id="p3", nickname="Fourth", token_hash="x")
    t.game.settings["late_join"] = True
    t.run(SYSTEM, "join", player_id="p3", nickname="Fourth", token_hash="x")


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from(["join", "join at the same instant", "kick", "look", "play"]), max_size=40),
    st.randoms(use_true_random=False),
)
def test_the_leaderboard_every_snapshot_shows_is_the_top_of_the_standings(moves, rnd):
    """The leaderboard is kept between snapshots (each phone's hello carries it): whatever joined,
    was kicked or scored since, it is the first ten of the full standings."""
    table = Table(players=3, prompts=1)

    def top_of_the_standings():
        return [(rank, p.id, p.score) for rank, p in views.standings(table.game)[: views.LEADERBOARD_SIZE]]

    for n, move in enumerate(moves):
        game = table.game
        active = [pid for pid, p in game.players.items() if not p.kicked]
        if move.startswith("join"):
            table.t -= move.endswith("instant")  # the same millisecond as the last command: ids decide
            pid = f"q{rnd.randrange(10**6):06d}{n}"
            table.run(SYSTEM, "join", player_id=pid, nickname=f"N{n}", token_hash="x")
            table.run(SYSTEM, "presence", player=pid, connected=True)
        elif move == "kick" and len(active) > 3:
            table.run(HOST, "kick", player=rnd.choice(active))
        elif move == "play" and game.phase == "lobby":
            table.run(HOST, "start")
            for pid in active:
                table.answer(pid)
            for i, pid in enumerate(active):
                table.vote(pid, active[(i + 1 + rnd.randrange(len(active) - 1)) % len(active)])
        board = views.leaderboard(table.game)
        assert [(row["rank"], row["id"], row["score"]) for row in board] == top_of_the_standings()
