"""The word cloud in the pure engine: normal forms, counts, the per-player limit, the host's hide,
closing, sizes; and the cloud's counters and board of the highest words, on a real store."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud import tallies
from engagements import items, views
from engagements.commands import apply
from engagements.engine import handle
from engagements.model import BOARD, HOST, PHONES, SYSTEM, Actor, Command, Game, Rejected
from engagements.packs import PACKS_DIR, parse_pack, sample_pack, sample_packs
from engagements.plugins import load_types
from engagements.store.base import Put
from engagements.store.sqlite import SQLiteStore
from engagements.types.word_cloud import (
    MAX_HIDDEN,
    TOP_SHOWN,
    WORD,
    WordCloud,
    counter,
    top_words,
)
from engagements.types.word_cloud.words import WORD_MAX, normalise
from web.wire import MAX_FRAME, frame

KIND = WordCloud()
TYPES = {KIND.slug: KIND}
QUESTION = {"text": "One word for this week?"}


class Table:
    """A word cloud driven by commands, with a clock that moves one millisecond per command."""

    def __init__(self, players: int = 3, limit: int = 3, prompts: tuple[dict, ...] = (QUESTION, QUESTION)):
        settings_ = {**KIND.defaults, "words_per_player": limit}
        self.game = Game(
            "g1",
            "ABCDEFG",
            "Cloud",
            KIND.slug,
            [dict(p) for p in prompts],
            settings_,
            "hosthash",
            "secret",
            0,
        )
        self.t = 0
        for i in range(players):
            self.run(SYSTEM, "join", player_id=f"p{i}", nickname=f"Player {i}", token_hash="x")
            self.run(SYSTEM, "presence", player=f"p{i}", connected=True)

    def run(self, actor: Actor, type_: str, *, cmd_id: str | None = None, **fields):
        self.t += 1
        return handle(self.game, Command(type_, actor, fields, self.t, cmd_id or f"c{self.t}"), TYPES)

    def word(self, pid: str, text: str, cmd_id: str | None = None):
        return self.run(Actor("player", pid), WORD, cmd_id=cmd_id, round=self.game.round, text=text)

    def hide(self, word: str):
        return self.run(HOST, "hide", round=self.game.round, word=word)


def refused(code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(Rejected) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message


# -- one normal form ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "counted"),
    [
        ("Pizza", "pizza"),
        ("  PIZZA!!  ", "pizza"),
        ("(pizza)", "pizza"),
        ("“Pizza”", "pizza"),
        ("\uff30\uff49\uff5a\uff5a\uff41", "pizza"),  # full-width letters
        ("Straße", "strasse"),
        ("New   York?", "new york"),
        ("rock'n'roll", "rock'n'roll"),
        ("e-mail.", "e-mail"),
        ("C#", "c#"),
        ("C++", "c++"),
        ("100%", "100%"),
        ("¿Qué?", "qué"),
        ("—done—", "done"),
        ("\U0001f355", "\U0001f355"),
        ("ﬁne", "fine"),
    ],
)
def test_entries_are_counted_in_one_normal_form(typed, counted):
    assert normalise(typed) == counted


@pytest.mark.parametrize(
    ("typed", "code", "says"),
    [
        ("?!", "invalid", "punctuation alone"),
        ("   ", "invalid", "empty"),
        ("x" * (WORD_MAX + 1), "invalid", f"at most {WORD_MAX}"),
        ("a\u202eb", "invalid", "invisible"),
        (42, "bad_message", "text"),
    ],
)
def test_an_entry_that_is_no_word_is_refused_saying_why(typed, code, says):
    with pytest.raises(Rejected) as info:
        normalise(typed)
    assert info.value.code == code and says in info.value.message


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=70))
def test_a_normal_form_is_its_own_normal_form_short_and_trimmed(typed):
    try:
        word = normalise(typed)
    except Rejected:
        return
    assert normalise(word) == word
    assert 0 < len(word) <= WORD_MAX
    assert word == " ".join(word.split()) and word == normalise(word.upper())
    assert word[0] not in ".,;:!?\"'()[]" and word[-1] not in ".,;:!?\"'()[]"


# -- words and the limit -----------------------------------------------------------------------------


def test_each_player_sends_up_to_their_limit_of_different_words_and_the_last_closes_the_cloud():
    t = Table(players=2, limit=2)
    t.run(HOST, "start")
    assert (t.game.phase, t.game.deadline) == ("open", t.t + 90_000)
    _, ack = t.word("p0", "  Pizza! ")
    assert ack == {"word": "pizza", "sent": 1}
    refused("already_sent", t.word, "p0", "PIZZA")
    assert t.word("p0", "Tacos")[1] == {"word": "tacos", "sent": 2}
    refused("no_words_left", t.word, "p0", "sushi")
    t.word("p1", "pizza")
    assert t.game.phase == "open", "p1 has a word left"
    t.word("p1", "curry")
    assert (t.game.phase, t.game.outcomes) == ("results", {0: "scored"})
    assert [p.score for p in t.game.players.values()] == [0, 0], "a word cloud keeps no score"
    assert KIND.results(t.game, 0) == [
        {"word": "pizza", "count": 2, "rank": 1},
        {"word": "curry", "count": 1, "rank": 2},
        {"word": "tacos", "count": 1, "rank": 2},
    ]
    assert KIND.you_view(t.game, "p0") == {
        "words": [{"word": "pizza", "count": 2}, {"word": "tacos", "count": 1}]
    }


def test_words_out_of_their_round_or_time_are_stale_and_retries_get_their_first_ack():
    t = Table()
    t.run(HOST, "start")
    refused("stale", t.run, Actor("player", "p0"), WORD, round=1, text="x")
    refused("bad_message", t.run, Actor("player", "p0"), WORD, round="0", text="x")
    refused("bad_message", t.run, Actor("player", "p0"), WORD, round=0, text=None)
    assert t.word("p0", "Sun", cmd_id="w1")[1] == {"word": "sun", "sent": 1}
    assert t.word("p0", "Rain", cmd_id="w1") == ([], {"word": "sun", "sent": 1})
    refused("forbidden", t.run, HOST, WORD, round=0, text="host words")
    refused("forbidden", t.run, Actor("player", "p1"), "hide", round=0, word="sun")
    t.t = t.game.deadline
    refused("stale", t.word, "p1", "late")
    t.run(SYSTEM, "tick")
    assert t.game.phase == "results"
    refused("stale", t.word, "p1", "later")


def test_a_kicked_players_words_stay_counted_and_the_others_close_the_cloud():
    t = Table(limit=1)
    t.run(HOST, "start")
    t.word("p0", "storm")
    t.run(HOST, "kick", player="p0")
    t.word("p1", "storm")
    assert t.game.phase == "open"
    t.word("p2", "calm")
    assert t.game.phase == "results"
    assert KIND.progress(t.game)["words"] == [["storm", 2], ["calm", 1]]


variants = st.sampled_from(
    ["Pizza", "pizza!", " PIZZA ", "«pizza»", "Straße", "STRASSE", "c#", "C#", "coffee", "Coffee.",
     "tea", "\uff54\uff45\uff41", "rock'n'roll", "New  York", "new york?", "?!", "x" * 40]
)  # fmt: skip
sends = st.lists(st.tuples(st.integers(0, 5), st.one_of(variants, st.text(max_size=12))), max_size=60)


@settings(max_examples=80, deadline=None)
@given(sends, st.integers(1, 5))
def test_counts_equal_the_entries_in_normal_form_and_no_player_passes_the_limit(sent, limit):
    """Whatever players send (repeats, variants of one word, junk), each player keeps at most
    `limit` different words, every refusal says why, and every count (results, the board's words,
    the cloud's counters) is the number of accepted entries of that normal form; a reload from the
    store's items counts the same."""
    t = Table(players=6, limit=limit)
    t.run(HOST, "start")
    accepted: dict[str, list[str]] = {f"p{i}": [] for i in range(6)}
    cloud: Counter[str] = Counter()  # what the cloud's counters hold: META's and the ranked ones
    for who, text in sent:
        pid = f"p{who}"
        mine = accepted[pid]
        if t.game.phase != "open":  # everyone has sent all their words
            refused("stale", t.word, pid, text)
            continue
        try:
            word = normalise(text)
        except Rejected as e:
            refused(e.code, t.word, pid, text)
            continue
        if word in mine:
            refused("already_sent", t.word, pid, text)
        elif len(mine) == limit:
            refused("no_words_left", t.word, pid, text)
        else:
            events, ack = t.word(pid, text)
            mine.append(word)
            assert ack == {"word": word, "sent": len(mine)}
            for e in events:
                if e.kind == "entry_added":
                    entry = e.data["entry"]
                    cloud.update([entry.kind, *KIND.tallies(entry), *KIND.ranked(entry)])
        assert len(mine) <= limit
    expected = Counter(w for words in accepted.values() for w in words)
    assert {r["word"]: r["count"] for r in KIND.results(t.game, 0)} == expected
    progress = KIND.progress(t.game)
    assert progress["words"] == [[w, n] for w, n in sorted(expected.items(), key=lambda p: (-p[1], p[0]))]
    assert progress["entries"] == sum(expected.values())
    assert progress["players"] == sum(1 for words in accepted.values() if words)
    assert KIND.progress_of(0, t.game.phase, dict(cloud), t.game.seated) == progress
    assert t.game.phase == ("results" if all(len(w) == limit for w in accepted.values()) else "open")
    reloaded = items.load_game(stored(t.game), TYPES)
    assert KIND.progress(reloaded) == progress
    assert all(KIND.you_view(reloaded, p) == KIND.you_view(t.game, p) for p in accepted)


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


# -- hiding a word -----------------------------------------------------------------------------------


def every_view(t: Table, authors: set[str]) -> str:
    """Everything any view is told about the round, but the authors' own lists of what they sent."""
    game = t.game
    seen = [
        KIND.round_view(game, BOARD),
        KIND.round_view(game, PHONES),
        views.progress(game, TYPES, BOARD),
        views.progress(game, TYPES, PHONES),
        KIND.results(game, game.round) if game.phase == "results" else [],
        KIND.export_rows(game),
        views.results_page(game, TYPES, game.round, 0) if game.round in game.outcomes else {},
        *(KIND.you_view(game, p) for p in game.players if p not in authors),
    ]
    return repr(seen)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["calm", "storm", "sunny", "grey", "windy"]), min_size=1, max_size=20),
    st.sampled_from(["calm", "storm", "awful"]),
    st.booleans(),
)
def test_a_hidden_word_leaves_every_view_and_the_others_keep_their_counts(words, bad, in_results):
    t = Table(players=len(words), limit=1)
    t.run(HOST, "start")
    for i, word in enumerate(words):
        t.word(f"p{i}", word)
    authors = {f"p{i}" for i, word in enumerate(words) if word == bad}
    if in_results and t.game.phase == "open":
        t.run(HOST, "end_phase", round=0, phase="open")
    before = {r["word"]: r["count"] for r in KIND.results(t.game, 0)}
    if bad not in words:
        refused("no_such_option", t.hide, bad)
        return
    _, ack = t.hide(bad.upper() + "!")
    assert ack == {"word": bad}
    assert [e.kind for e in t.hide(bad)[0]] == ["host_acked"], "hiding twice changes nothing"
    assert bad not in every_view(t, authors)
    assert {r["word"]: r["count"] for r in KIND.results(t.game, 0)} == {
        w: n for w, n in before.items() if w != bad
    }
    assert KIND.progress(t.game)["hidden"] == 1
    if t.game.phase == "results":
        for author in authors:
            mine = KIND.you_view(t.game, author)["words"]
            assert mine == [{"word": bad, "count": None, "hidden": True}], "its authors see it was hidden"
    reloaded = items.load_game(stored(t.game), TYPES)
    assert KIND.progress(reloaded) == KIND.progress(t.game)


def test_the_host_hides_at_most_a_few_words_a_round_and_only_in_a_running_round():
    t = Table(players=MAX_HIDDEN + 1, limit=1)
    refused("stale", t.hide, "early")
    t.run(HOST, "start")
    for i in range(MAX_HIDDEN + 1):
        t.word(f"p{i}", f"word {i}")
    for i in range(MAX_HIDDEN):
        t.hide(f"word {i}")
    refused("invalid", t.hide, f"word {MAX_HIDDEN}")
    assert KIND.progress(t.game)["words"] == [[f"word {MAX_HIDDEN}", 1]]


# -- rooms of any size -------------------------------------------------------------------------------


def test_a_5000_player_cloud_keeps_every_message_small_and_a_phones_round_flat():
    """docs/protocol.md, "Rooms of any size": no message over 32 KB, a phone under 16 KB a round, with
    5,000 players sending five of the widest words each."""
    wide = "\U0001f600"  # four bytes in UTF-8
    t = Table(players=0, limit=5, prompts=({"text": wide * 140},))
    for i in range(5000):
        t.run(SYSTEM, "join", player_id=f"p{i:05d}", nickname=f"{i:05d}" + wide * 15, token_hash="x")
        t.run(SYSTEM, "presence", player=f"p{i:05d}", connected=True)
    sent = [views.messages(t.game, TYPES, t.run(HOST, "start")[0])]
    for slot in range(5):
        for i, pid in enumerate(t.game.players):
            word = f"{(i * 7 + slot) % 4000:04d}" + wide * (WORD_MAX - 4)
            sent.append(views.messages(t.game, TYPES, t.word(pid, word)[0]))
    assert t.game.phase == "results"
    t.hide(KIND.progress(t.game)["words"][0][0])
    assert len(KIND.progress(t.game)["words"]) == TOP_SHOWN
    frames = [frame(m) for s in sent for r in s.broadcast for m in r.values()]
    frames += [frame(m) for s in sent for m in s.private.values()]
    for actor, view in ((HOST, "host"), (HOST, "screen"), (Actor("player", "p00007"), "player")):
        frames.append(frame(views.snapshot(t.game, TYPES, actor, view, "http://x/j/ABCDEFG")))
    frames += [frame(views.results_page(t.game, TYPES, 0, 0)), frame(views.progress(t.game, TYPES))]
    biggest = max(len(f) for f in frames)
    assert biggest <= MAX_FRAME, biggest
    phone = "p00042"
    mine = [frame(r[PHONES]) for s in sent for r in s.broadcast] + [
        frame(s.private[phone]) for s in sent if phone in s.private
    ]
    # The counts at most every three seconds while the cloud is open (its default time, as for the
    # other types' budgets), and its longest phone's copy.
    counts = len(frame(views.progress(t.game, TYPES, PHONES)))
    received = sum(len(f) for f in mine) + KIND.defaults["word_seconds"] // 3 * counts
    print(f"largest message {biggest} bytes; a phone's round {received} bytes")
    assert received <= 16 * 1024, received


# -- the cloud's counters and its board of the highest words, on a real store ------------------------


LATER = 2**40  # the items' expiry: long after the test


def rank_on_a_store(
    entries: list[tuple[int, str]], crash_after: frozenset[int] = frozenset()
) -> tuple[Counter, dict]:
    """Play `entries` (player, word) through the one door, commit each one's counter ADDs to a
    SQLite store (the store interface has DynamoDB's semantics) and place them on the round's
    board, but for the entries in `crash_after` (their command died after its commit); the true
    counts and the board's names."""
    players = 1 + max((p for p, _ in entries), default=0)
    t = Table(players=players, limit=5, prompts=(QUESTION,))
    t.run(HOST, "start")

    async def play() -> dict:
        with tempfile.TemporaryDirectory() as d:
            store = await SQLiteStore.open(Path(d) / "t.db")
            boards = tallies.Boards(store)
            try:
                for n, (p, word) in enumerate(entries):
                    t.t += 1
                    cmd = Command(WORD, Actor("player", f"p{p}"), {"round": 0, "text": word}, t.t, f"w{n}")
                    try:
                        applied = apply(t.game, TYPES, cmd, 0)
                    except Rejected:
                        continue
                    await store.transact_write(tallies.writes(t.game, applied, TYPES, LATER))
                    if n not in crash_after:
                        await boards.rank(t.game, applied, TYPES, LATER)
                return await boards.board("g1", 0)
            finally:
                await store.close()

    board = asyncio.run(play())
    true = Counter({name: n for name, n in KIND._counts(t.game, 0).items() if name.startswith("w#")})
    return true, board


def check_board(true: Counter, board: dict) -> None:
    """The board is bounded, its counts are exact, it holds every word above its lowest count, and
    the cloud it gives has the whole game's counts (only words tied at its lowest count may differ)."""
    assert len(board) <= KIND.ranked_shown * 3 // 2
    assert all(board[name] == true[name] for name in board)
    lowest = min(board.values(), default=0)
    assert all(name in board for name, n in true.items() if n > lowest)
    shown = [n for _, n in top_words(board, TOP_SHOWN)]
    assert shown == [n for _, n in top_words(true, TOP_SHOWN)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 59), st.integers(0, 400)), max_size=300))
def test_the_clouds_board_holds_the_highest_words_with_their_counts(sends):
    """Whatever the order of the words (a few popular, many once), the board holds the highest
    with their exact counts and stays bounded: the board views' cloud is the whole game's."""
    true, board = rank_on_a_store([(p, f"w{w if w < 250 else w % 6}") for p, w in sends])
    check_board(true, board)


def test_a_crowded_board_drops_its_lowest_words_and_still_gives_the_clouds_counts():
    sends = [(i % 60, f"rare {i}") for i in range(200)] + [(i % 60, f"hot {i % 9}") for i in range(100)]
    true, board = rank_on_a_store(sends)
    assert len(true) > KIND.ranked_shown * 3 // 2 >= len(board), "it was trimmed"
    check_board(true, board)


def test_a_board_left_behind_by_a_cut_off_command_catches_up_on_the_words_next_entry():
    sends = [(0, "sun"), (1, "sun"), (2, "rain"), (3, "sun"), (4, "rain")]
    true, board = rank_on_a_store(sends, crash_after=frozenset({1}))
    assert board[counter("sun")] == true[counter("sun")] == 3
    true, board = rank_on_a_store(sends[:2], crash_after=frozenset({1}))
    assert board[counter("sun")] == 1 < true[counter("sun")], "one behind until the next 'sun'"


# -- question packs ----------------------------------------------------------------------------------

ALL = load_types()


def test_the_sample_word_cloud_packs_read_the_same_from_json_and_csv():
    from_json = sample_pack("word-cloud-warm-ups", ALL)
    from_csv = parse_pack((PACKS_DIR / "word-cloud-warm-ups.csv").read_bytes(), "warm-ups.csv", ALL)
    assert from_json["type"] == from_csv["type"] == "word-cloud"
    assert from_json["prompts"] == from_csv["prompts"] and len(from_json["prompts"]) == 5
    assert from_json["settings"] == {"words_per_player": 3, "word_seconds": 60}
    listed = {"name": "word-cloud-warm-ups", "title": "Word cloud warm-ups", "type": "word-cloud"}
    listed |= {"types": ["word-cloud"], "count": 5}
    assert listed in sample_packs(ALL)
    assert KIND.parse_prompt(from_json["prompts"][1]) == {"text": "What should our team be known for?"}
