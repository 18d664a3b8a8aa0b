"""The poll type in the pure engine: votes, counts, closing, anonymity and no scores, with no server."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagements import items, views
from engagements.creation import new_game
from engagements.engine import handle
from engagements.model import BOARD, HOST, PHONES, SYSTEM, Actor, Command, Game, Rejected
from engagements.packs import PACKS_DIR, PackError, parse_pack, sample_pack, sample_packs
from engagements.plugins import load_types
from engagements.store.base import Put
from engagements.types.poll import MAX_OPTIONS, OPTION_MAX, QUESTION_MAX, VOTE, Poll, tally
from web.wire import MAX_FRAME, frame

KIND = Poll()
TYPES = {KIND.slug: KIND}
COLOURS = {"text": "Favourite colour?", "options": ["Red", "Green", "Blue"], "multiple": False}
SNACKS = {"text": "Which snacks?", "options": ["Crisps", "Fruit", "Cake", "Nuts"], "multiple": True}


class Table:
    """A poll driven by commands, with a clock that moves one millisecond per command."""

    def __init__(self, players: int = 3, prompts: tuple[dict, ...] = (COLOURS, SNACKS)) -> None:
        self.game = Game(
            "g1", "ABCDEFG", "Poll", KIND.slug, [dict(p) for p in prompts], dict(KIND.defaults),
            "hosthash", "secret", 0,
        )  # fmt: skip
        self.t = 0
        for i in range(players):
            self.run(SYSTEM, "join", player_id=f"p{i}", nickname=f"Player {i}", token_hash="x")
            self.run(SYSTEM, "presence", player=f"p{i}", connected=True)

    def run(self, actor: Actor, type_: str, *, cmd_id: str | None = None, **fields):
        self.t += 1
        return handle(self.game, Command(type_, actor, fields, self.t, cmd_id or f"c{self.t}"), TYPES)

    def vote(self, pid: str, *choices: int, cmd_id: str | None = None):
        return self.run(
            Actor("player", pid), VOTE, cmd_id=cmd_id, round=self.game.round, choices=list(choices)
        )


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(Rejected) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message


# -- questions ---------------------------------------------------------------------------------------


def test_a_typed_line_is_a_question_and_its_options():
    assert KIND.parse_prompt("Favourite colour? | Red | Green | Blue") == COLOURS
    assert KIND.parse_prompt("Multiple: Which snacks? |Crisps|Fruit|Cake|Nuts") == SNACKS
    assert (
        KIND.parse_prompt({"question": "Which snacks?", "options": SNACKS["options"], "multiple": True})
        == SNACKS
    )


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("Just a question", "2 to 8 options"),
        ("Q | A", "2 to 8 options"),
        ("Q | " + " | ".join("abcdefghi"), "2 to 8 options"),
        ("Q | Yes | yes", "the same"),
        ("Q | Yes | ", "option 2 is empty"),
        ({"question": "Q", "options": "A, B"}, "list of options"),
        ({"question": "Q", "options": ["A", "B"], "multiple": "yes"}, "true or false"),
        (" | A | B", "question is empty"),
    ],
)
def test_a_question_the_poll_cannot_ask_is_refused_saying_why(raw, says):
    with pytest.raises(Rejected) as info:
        KIND.parse_prompt(raw)
    assert says in info.value.message


# -- votes -------------------------------------------------------------------------------------------


def test_everyone_votes_the_question_closes_with_counts_and_nobody_scores():
    t = Table()
    t.run(HOST, "start")
    assert (t.game.phase, t.game.deadline) == ("open", 1 + 45_000 + t.t - 1)
    t.vote("p0", 2)
    t.vote("p1", 2)
    assert t.game.phase == "open"
    t.vote("p2", 0)  # the last voter closes the question
    assert (t.game.phase, t.game.outcomes) == ("results", {0: "scored"})
    assert [p.score for p in t.game.players.values()] == [0, 0, 0]
    rows = KIND.results(t.game, 0)
    assert [(r["text"], r["votes"], r["percent"], r["rank"]) for r in rows] == [
        ("Blue", 2, 67, 1),
        ("Red", 1, 33, 2),
        ("Green", 0, 0, 3),
    ]
    assert views.leaderboard(t.game)[0]["score"] == 0


def test_a_multiple_choice_vote_sends_its_choices_at_once_and_shares_count_voters():
    t = Table()
    t.run(HOST, "start")
    t.run(HOST, "end_phase", round=0, phase="open")
    t.run(HOST, "next", round=0)
    _, ack = t.vote("p0", 3, 0)
    assert ack == {"choices": [0, 3]}
    t.vote("p1", 0)
    t.run(HOST, "end_phase", round=1, phase="open")
    rows = {r["text"]: (r["votes"], r["percent"]) for r in KIND.results(t.game, 1)}
    assert rows == {"Crisps": (2, 100), "Nuts": (1, 50), "Fruit": (0, 0), "Cake": (0, 0)}


def test_votes_the_question_cannot_take_are_refused():
    t = Table()
    t.run(HOST, "start")
    refused("invalid", t.vote, "p0", 0, 1)  # a single-choice question takes one choice
    refused("invalid", t.vote, "p0", 3)
    refused("invalid", t.vote, "p0")
    refused("bad_message", t.run, Actor("player", "p0"), VOTE, round=0, choices="0")
    refused("bad_message", t.run, Actor("player", "p0"), VOTE, round=0, choices=[True])
    refused("stale", t.run, Actor("player", "p0"), VOTE, round=1, choices=[0])
    t.vote("p0", 1, cmd_id="v1")
    assert t.vote("p0", 1, cmd_id="v1") == ([], {"choices": [1]}), "a retry gets its first ack"
    refused("already_voted", t.vote, "p0", 2)  # a vote is final
    t.run(HOST, "end_phase", round=0, phase="open")
    refused("stale", t.vote, "p1", 0)


def test_a_vote_after_the_deadline_is_refused_and_the_tick_closes_the_question():
    t = Table()
    t.run(HOST, "start")
    deadline = t.game.deadline
    t.t = deadline
    refused("stale", t.vote, "p0", 0)
    t.run(SYSTEM, "tick")
    assert t.game.phase == "results"


def test_a_kicked_players_vote_stays_counted_and_the_rest_close_the_question():
    t = Table()
    t.run(HOST, "start")
    t.vote("p0", 1)
    t.run(HOST, "kick", player="p0")
    t.vote("p1", 1)
    t.vote("p2", 0)
    assert t.game.phase == "results"
    assert KIND.progress(t.game)["counts"] == [1, 2]


# -- views: sized, anonymous -------------------------------------------------------------------------


def test_no_view_of_the_round_names_who_chose_what():
    t = Table(players=4)
    t.run(HOST, "start")
    for pid, choice in (("p0", 0), ("p1", 1), ("p2", 1)):
        t.vote(pid, choice)
    seen = [KIND.round_view(t.game, BOARD), KIND.round_view(t.game, PHONES), views.progress(t.game, TYPES)]
    t.run(HOST, "end_phase", round=0, phase="open")
    seen += [KIND.round_view(t.game, BOARD), KIND.round_view(t.game, PHONES), views.progress(t.game, TYPES)]
    seen += [views.results_page(t.game, TYPES, 0, 0), KIND.export_rows(t.game)]
    text = repr(seen)
    assert not [w for p in t.game.players.values() for w in (p.id, p.nickname) if w in text]
    assert KIND.export_rows(t.game)[0].keys() == {
        "round", "question", "multiple", "option", "votes", "voters", "percent",
    }  # fmt: skip


def test_phones_see_the_counts_once_the_question_closes_and_their_own_choices_all_along():
    t = Table()
    t.run(HOST, "start")
    t.vote("p0", 2)
    assert KIND.round_view(t.game, PHONES)["counts"] is None
    assert KIND.round_view(t.game, BOARD)["counts"] == [0, 0, 1]
    assert KIND.you_view(t.game, "p0") == {"choices": [2]}
    assert KIND.you_view(t.game, "p1") == {"choices": None}
    t.run(HOST, "end_phase", round=0, phase="open")
    assert KIND.round_view(t.game, PHONES)["counts"] == [0, 0, 1]


# -- properties: counts equal votes, on both runtimes' paths ---------------------------------------

votes_st = st.lists(
    st.tuples(st.booleans(), st.sets(st.integers(0, len(SNACKS["options"]) - 1), min_size=1, max_size=4)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(votes_st)
def test_a_polls_counts_equal_its_votes(ballots):
    """Whatever the votes (single choices where the question takes one), each option's count is the
    number of votes naming it, the appliance's counts equal the cloud's counters and those survive a
    reload from the store's items."""
    single = {**SNACKS, "multiple": False}
    t = Table(players=len(ballots), prompts=(single, SNACKS))
    t.run(HOST, "start")
    cast: list[list[int]] = []
    for pid, (_, choices) in zip(t.game.players, ballots, strict=True):
        t.vote(pid, min(choices))
        cast.append([min(choices)])
    assert t.game.phase == "results", "every player voted"
    t.run(HOST, "next", round=0)
    cloud: Counter[str] = Counter()
    for pid, (multi, choices) in zip(t.game.players, ballots, strict=True):
        chosen = sorted(choices) if multi else [min(choices)]
        events, _ = t.vote(pid, *chosen)
        cast.append(chosen)
        for event in events:
            if event.kind == "entry_added":
                entry = event.data["entry"]
                cloud.update([entry.kind, *KIND.tallies(entry)])
    expected = Counter(c for chosen in cast[len(ballots) :] for c in chosen)
    progress = KIND.progress(t.game)
    assert progress["voted"] == len(ballots) and t.game.phase == "results"
    assert progress["counts"] == [expected[i] for i in range(len(progress["counts"]))]
    assert sum(progress["counts"]) == sum(expected.values())
    assert KIND.progress_of(1, "results", dict(cloud), t.game.seated) == progress
    assert [r["votes"] for r in sorted(KIND.results(t.game, 1), key=lambda r: r["option"])] == [
        expected[i] for i in range(4)
    ]
    reloaded = items.load_game(stored(t.game), TYPES)
    assert KIND.progress(reloaded) == progress and KIND.results(reloaded, 0) == KIND.results(t.game, 0)


def stored(game: Game) -> list[dict]:
    """The game's items as the store holds them."""
    out = [w.item for w in items.creation_writes(game, 0) if isinstance(w, Put)]
    meta = next(i for i in out if i["SK"] == items.META)
    meta.update(items.meta_attrs(game))
    pk = items.game_pk(game.id)
    out += [items.player_item(pk, p, 0) for p in game.players.values()]
    for kinds in game.entries.values():
        for entries in kinds.values():
            out += [items.entry_item(pk, e, 0) for e in entries.values()]
    return out


def test_progress_from_the_counters_alone_lists_counts_up_to_the_last_chosen_option():
    counted = {VOTE: 3, tally(0): 1, tally(2): 2}
    assert KIND.progress_of(4, "open", counted, 9) == {
        "round": 4,
        "voted": 3,
        "eligible": 9,
        "counts": [1, 0, 2],
    }
    assert KIND.progress_of(0, "open", {VOTE: 0}, 2)["counts"] == []
    assert len({tally(i) for i in range(MAX_OPTIONS)} | KIND.commands) == MAX_OPTIONS + 1


# -- question packs ----------------------------------------------------------------------------------

TYPES = load_types()


def test_the_sample_poll_pack_reads_the_same_from_json_and_csv():
    from_json = sample_pack("team-pulse", TYPES)
    from_csv = parse_pack((PACKS_DIR / "team-pulse.csv").read_bytes(), "team-pulse.csv", TYPES, "poll")
    assert (from_json["title"], from_csv["title"]) == ("Team pulse", "Team Pulse")  # a CSV's: its file name
    assert (
        {**from_csv, "title": "Team pulse"}
        == from_json
        == {
            "title": "Team pulse",
            "type": "poll",
            "types": ["poll"],
            "settings": {},
            "notes": [],
            "prompts": [
                "How was your week? | Great | Good | Okay | Rough",
                "Where should the offsite be? | The seaside | The mountains | A city break | Right here",
                "Multiple: Which perks matter most to you? | Flexible hours | Training budget | Better coffee"
                " | Team lunches | Quiet rooms",
                "How many meetings is too many in a day? | Two | Three | Four | Any at all",
                "Multiple: Which of these should we try next quarter? | No-meeting Fridays | Demo days"
                " | Book club | Hack week",
            ],
        }
    )
    listed = {"name": "team-pulse", "title": "Team pulse", "type": "poll", "types": ["poll"], "count": 5}
    assert listed in sample_packs(TYPES)
    created = new_game(TYPES, "Pulse", from_json["prompts"], "poll", now=0).game
    assert created.prompts[2] == {
        "text": "Which perks matter most to you?",
        "options": ["Flexible hours", "Training budget", "Better coffee", "Team lunches", "Quiet rooms"],
        "multiple": True,
    }


def test_a_csv_poll_pack_without_a_header_is_a_question_then_its_options():
    pack = parse_pack(
        b"Tea or coffee?,Tea,Coffee\nMultiple: Fruit?,Apples,Pears,Plums\n", "drinks.csv", TYPES, "poll"
    )
    assert pack["prompts"] == ["Tea or coffee? | Tea | Coffee", "Multiple: Fruit? | Apples | Pears | Plums"]
    assert pack["title"] == "Drinks"


def test_a_json_pack_says_its_type_and_a_bad_poll_question_is_named():
    pack = parse_pack(b'{"type": "poll", "prompts": ["A? | x | y"]}', "p.json", TYPES, "answer-vote")
    assert pack["type"] == "poll"
    with pytest.raises(PackError, match="In prompt number 2: A poll question has 2 to 8 options"):
        parse_pack(b'{"type": "poll", "prompts": ["A? | x | y", "B? | only"]}', "p.json", TYPES)
    with pytest.raises(PackError, match="cannot hold"):
        parse_pack(
            b'{"type": "poll", "prompts": [{"question": "A|B?", "options": ["x", "y"]}]}', "p.json", TYPES
        )
    with pytest.raises(PackError, match="has not got: quiz-show"):
        parse_pack(b'{"type": "quiz-show", "prompts": ["A"]}', "p.json", TYPES)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abc XYZ?!é", min_size=1, max_size=OPTION_MAX).filter(str.strip),
        min_size=2,
        max_size=8,
        unique_by=lambda o: " ".join(o.split()).casefold(),
    ),
    st.booleans(),
)
def test_a_question_written_as_a_line_reads_back_the_same(options, multiple):
    prompt = KIND.parse_prompt({"question": "Which?", "options": options, "multiple": multiple})
    assert KIND.parse_prompt(KIND.prompt_line(prompt)) == prompt
    assert len(KIND.prompt_line(prompt)) <= KIND.prompt_chars


# -- rooms of any size -------------------------------------------------------------------------------


def test_a_5000_player_poll_keeps_every_message_small_and_each_vote_cheap():
    """docs/protocol.md, "Rooms of any size": no message over 32 KB, a phone under 16 KB a question."""
    wide = "\U0001f600"  # four bytes in UTF-8
    longest = {
        "text": wide * QUESTION_MAX,
        "options": [f"{i}" + wide * (OPTION_MAX - 1) for i in range(MAX_OPTIONS)],
        "multiple": True,
    }
    t = Table(players=0, prompts=(longest,))
    for i in range(5000):
        t.run(SYSTEM, "join", player_id=f"p{i:05d}", nickname=f"{i:05d}" + wide * 15, token_hash="x")
        t.run(SYSTEM, "presence", player=f"p{i:05d}", connected=True)
    sent = [views.messages(t.game, TYPES, t.run(HOST, "start")[0])]
    started = time.monotonic()
    for i, pid in enumerate(t.game.players):
        sent.append(views.messages(t.game, TYPES, t.vote(pid, *range(i % MAX_OPTIONS + 1))[0]))
    assert time.monotonic() - started < 10, "5,000 votes, each at a cost that does not grow with the room"
    assert t.game.phase == "results"
    frames = [frame(m) for s in sent for r in s.broadcast for m in r.values()]
    frames += [frame(m) for s in sent for m in s.private.values()]
    for actor, view in ((HOST, "host"), (HOST, "screen"), (Actor("player", "p00007"), "player")):
        frames.append(frame(views.snapshot(t.game, TYPES, actor, view, "http://x/j/ABCDEFG")))
    frames += [frame(views.results_page(t.game, TYPES, 0, 0)), frame(views.progress(t.game, TYPES))]
    assert max(len(f) for f in frames) <= MAX_FRAME
    mine = [frame(r[PHONES]) for s in sent for r in s.broadcast] + [
        frame(s.private["p00042"]) for s in sent if "p00042" in s.private
    ]
    received = sum(len(f) for f in mine) + 45 // 3 * len(frame(views.progress(t.game, TYPES)))
    assert received <= 16 * 1024, received
