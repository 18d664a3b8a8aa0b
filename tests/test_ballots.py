"""Ballots and the fair scoring rule: what each voter is shown in a large room, and what a vote is worth."""

from __future__ import annotations

import json
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from engagements import items
from engagements.model import HOST, SYSTEM, Actor
from engagements.types.answer_vote.ballots import BALLOT_SIZE, Ballots
from engagements.types.answer_vote.scoring import SWEEP_BONUS, TOP_BONUS, round_points
from tests.test_engine import KIND, TYPES, Table, refused


def classic_points(votes: dict[str, int]) -> dict[str, int]:
    """Today's rule for a room where everyone sees every answer, written out as the README says it."""
    cast, top = sum(votes.values()), max(votes.values(), default=0)
    return {
        a: 100 * v + (TOP_BONUS if v and v == top else 0) + (SWEEP_BONUS if v and v == cast >= 3 else 0)
        for a, v in votes.items()
    }


@st.composite
def rooms(draw):
    """A round's answers (option id -> author) and its voters in join order, some without an answer."""
    answers = draw(st.integers(min_value=1, max_value=120))
    silent = draw(st.integers(min_value=0, max_value=150))
    authors = {f"o{draw(st.uuids()).hex}": f"a{i}" for i in range(answers)}
    voters = [*authors.values(), *(f"s{i}" for i in range(silent))]
    return authors, draw(st.permutations(voters))


@settings(max_examples=200, deadline=None)
@given(rooms())
def test_ballots_are_balanced_never_show_your_own_answer_and_hold_at_most_eight(room):
    authors, voters = room
    ballots = Ballots.draw(authors, voters)
    own = {a: o for o, a in authors.items()}
    for voter in voters:
        ballot = ballots.ballot(voter)
        assert own.get(voter) not in ballot
        assert len(ballot) == len(set(ballot)) == min(BALLOT_SIZE, len(authors) - (voter in own))
    shown = ballots.shown(voters)
    assert max(shown.values()) - min(shown.values()) <= 1, "every answer on nearly as many ballots"
    assert ballots.used == (len(authors) > BALLOT_SIZE)


@settings(max_examples=50, deadline=None)
@given(rooms())
def test_the_same_room_draws_the_same_ballots_and_a_late_joiner_changes_nobody_elses(room):
    authors, voters = room
    first = Ballots.draw(authors, voters)
    again = Ballots.draw(dict(reversed(authors.items())), voters)
    later = Ballots.draw(authors, [*voters, "late-joiner"])
    for voter in voters:
        assert first.ballot(voter) == again.ballot(voter) == later.ballot(voter)


@st.composite
def tallies(draw):
    """Votes and exposure per answer, as a round with ballots can leave them (votes <= shown)."""
    n = draw(st.integers(min_value=1, max_value=12))
    shown = draw(st.lists(st.integers(min_value=0, max_value=40), min_size=n, max_size=n))
    votes = [draw(st.integers(min_value=0, max_value=s)) for s in shown]
    names = [f"a{i}" for i in range(n)]
    return dict(zip(names, votes, strict=True)), dict(zip(names, shown, strict=True))


@settings(max_examples=300, deadline=None)
@given(tallies())
def test_with_equal_exposure_the_rule_is_the_classic_one(tally):
    votes, _ = tally
    assert round_points(votes) == classic_points(votes)
    assert round_points(votes, dict.fromkeys(votes, 17)) == classic_points(votes)


@settings(max_examples=300, deadline=None)
@given(tallies(), st.data())
def test_an_answer_never_loses_points_by_getting_one_more_vote(tally, data):
    votes, shown = tally
    target = data.draw(st.sampled_from(sorted(votes)))
    # One more voter, whose ballot showed the target and some others.
    others = data.draw(st.lists(st.sampled_from(sorted(votes)), max_size=BALLOT_SIZE - 1, unique=True))
    ballot = {target, *others}
    after_votes = {**votes, target: votes[target] + 1}
    after_shown = {a: s + (a in ballot) for a, s in shown.items()}
    assert round_points(after_votes, after_shown)[target] >= round_points(votes, shown)[target]


def test_votes_are_weighed_by_how_often_an_answer_was_shown():
    # Two votes out of four ballots are worth more than two out of eight.
    points = round_points({"rare": 2, "common": 2}, {"rare": 4, "common": 8})
    mean = Fraction(4 + 8, 2)
    assert points["rare"] == round(200 * mean / 4) + TOP_BONUS == 400
    assert points["common"] == round(200 * mean / 8) == 150


def play_to_voting(players: int) -> Table:
    t = Table(players=players, prompts=1)
    t.run(HOST, "start")
    for pid in t.players:
        t.answer(pid)
    assert t.game.phase == "voting"
    return t


def test_forty_players_vote_from_ballots_of_eight_and_a_vote_off_the_ballot_is_refused():
    t = play_to_voting(40)
    ballots = {pid: KIND.you_view(t.game, pid)["ballot"] for pid in t.players}
    assert all(len(b) == BALLOT_SIZE for b in ballots.values())
    voter = t.players[0]
    mine = {o["id"] for o in ballots[voter]}
    off = next(o for p, o in t.options.items() if o not in mine and p != voter)
    refused("not_on_ballot", t.run, Actor("player", voter), "vote", round=0, option=off)
    for pid in t.players:
        t.run(Actor("player", pid), "vote", round=0, option=ballots[pid][0]["id"])
    assert t.game.phase == "results"
    rows = KIND.results(t.game, 0)
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
    by_author = {r["author"]["id"]: r for r in rows}
    votes = {a: r["votes"] for a, r in by_author.items()}
    shown = {a: r["shown"] for a, r in by_author.items()}
    assert {pid: t.score(pid) for pid in t.players} == round_points(votes, shown), (
        "the points awarded are the rule applied to the votes and ballots"
    )
    assert sum(shown.values()) == 40 * BALLOT_SIZE


def test_ballots_and_votes_are_the_same_after_a_restart():
    t = play_to_voting(30)
    t.run(SYSTEM, "join", player_id="late", nickname="Late", token_hash="x")  # joins during the vote
    before = {pid: KIND.you_view(t.game, pid)["ballot"] for pid in t.players}
    for pid in t.players[:10]:
        t.run(Actor("player", pid), "vote", round=0, option=before[pid][-1]["id"])
    reloaded = items.load_game(stored_items(t), TYPES)
    assert {pid: KIND.you_view(reloaded, pid)["ballot"] for pid in t.players} == before
    assert {p: e.value for p, e in reloaded.round_entries(0, "vote").items()} == {
        p: e.value for p, e in t.game.round_entries(0, "vote").items()
    }


def stored_items(t: Table) -> list[dict]:
    """The game's items as the store would hold them: META, prompts, players and entries."""
    game = t.game
    pk = items.game_pk(game.id)
    meta = {w.item["SK"]: w.item for w in items.creation_writes(game, 0) if hasattr(w, "item")}["META"]
    out = [{**meta, **items.meta_attrs(game)}]
    out += [{"PK": pk, "SK": f"PROMPT#{i:03d}", "index": i, **p} for i, p in enumerate(game.prompts)]
    out += [items.player_item(pk, p, 0) for p in game.players.values()]
    out += [
        items.entry_item(pk, e, 0)
        for kinds in game.entries.values()
        for es in kinds.values()
        for e in es.values()
    ]
    return json.loads(json.dumps(out))  # what a store gives back: plain JSON values
