"""A phone's snapshot from a few items, for a runtime that does not keep the game in memory (the cloud).

views.snapshot renders a snapshot from the whole game. The cloud would read a game's whole partition
for every phone's hello and sync: a room of N phones connecting would read about 3N²/2 items. So a
phone's snapshot is put together here from parts that each cost a read or two, whatever the room:

- what every phone's snapshot shares and what changes only with META (a phase, the lock, a kick, a
  round scored): the round as the phones see it, the players who have scored at the top of the
  leaderboard, how many have scored, the number of rounds: `shared`, which the cloud keeps in the
  game's VIEW item, written in the transaction of each META change;
- the counts that change without META (answers, votes, joins, seats used): META's counters, turned
  into the round's counts by its type (`EngagementType.progress_of`, `counted`);
- while fewer than LEADERBOARD_SIZE players have scored, the rest of the leaderboard: the first
  players not kicked in the order they joined (every one of them has 0 points);
- for a type that ranks its entries (a Q&A's questions by their upvotes), the heads of its lists
  that every view shows (`EngagementType.ranked_progress`), a bounded query each;
- the phone's own: its player (its score, and its rank when the ranks were last written:
  `Standings`), the entries of the round its type names (`EngagementType.you_entries`: by default
  one per kind it writes; a Q&A's question slots and votes for the listed questions), the tallies
  it names (`you_tallies`: a word cloud's counts of the player's words) and what the type keeps
  for it in this phase (`EngagementType.partial_state`); `you_of` puts them together.

`phone_snapshot` puts them together; tests/test_cloud_phones.py checks that the cloud's equals
views.snapshot of the whole game at every phase of every type's games.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engagements import views
from engagements.model import PHONES, Entry, Event, Game, Player
from engagements.ranking import Head
from engagements.types import Types, kind_of, lane_of


def shared(game: Game, types: Types) -> dict[str, Any]:
    """What every phone's snapshot shares until META changes again (bounded: the round's phone view,
    at most LEADERBOARD_SIZE players)."""
    scorers = [row for row in views.leaderboard(game) if row["score"] > 0]
    return {
        "rounds": len(game.prompts),
        "round": views.round_view(game, types, PHONES),
        "top": [{k: row[k] for k in ("id", "nickname", "score")} for row in scorers],
        "scorers": sum(p.score > 0 for p in game.active_players()),
    }


@dataclass(frozen=True)
class Standings:
    """Which ranks the players' own items hold, so that a rank is read, not counted.

    Scores change only when a round's points are given: then every player's score and rank are
    written (`ranks`) and `version` (META's, after that change) names them. A kick moves up everyone
    the kicked player was ahead of: rather than write every rank again, the kicked player's points
    are noted (`kicked`) and taken into account when a rank is read (`rank_of`). A player who joined
    since has no points and no rank written: behind every player who scored.
    """

    version: int | None = None  # None: no points given yet
    kicked: tuple[int, ...] = field(default=())  # the points of players kicked since, when above 0

    def after(self, game: Game, events: list[Event]) -> Standings:
        """The standings once `events` (applied to `game`, its version bumped) are written."""
        if any(e.kind == "round_scored" and any(e.data["points"].values()) for e in events):
            return Standings(game.version)
        kicked = [game.players[e.data["player"]].score for e in events if e.kind == "player_kicked"]
        kicked = [score for score in kicked if score > 0]
        return Standings(self.version, self.kicked + tuple(kicked)) if kicked else self

    def rank_of(self, written: int | None, score: int, scorers: int) -> int:
        """A player's rank now (as views.standing counts it: one more than the players ahead) from
        the rank written for them (None: they joined since, with 0 points) and `scorers`, the players
        not kicked who have points."""
        if written is None:
            return 1 + scorers
        return written - sum(points > score for points in self.kicked)


def ranks(game: Game) -> dict[str, tuple[int, int]]:
    """Every player's (score, rank), to write when `Standings.after` says the points changed."""
    return {p.id: (p.score, rank) for rank, p in views.standings(game)}


@dataclass(frozen=True)
class Own:
    """What one phone's snapshot has of its own, read by key."""

    player: str
    score: int
    rank: int | None  # as last written for every player (Standings); None: joined since
    entries: dict[str, Entry]  # the player's entries of the current round (`you_entries`), by name
    state: dict[str, Any] | None  # what the round's type keeps for the player in this phase
    counts: dict[str, int] = field(default_factory=dict)  # `you_tallies`, and `entries`' own counts


def phone_snapshot(
    game: Game,
    types: Types,
    view: dict[str, Any],
    counts: dict[str, int],
    own: Own,
    standings: Standings,
    first: list[tuple[str, str]],
    join_url: str,
    heads: dict[str, Head] | None = None,
) -> dict[str, Any] | None:
    """views.snapshot for `own.player`'s phone, from a game that holds only META and that player
    (`game.active` and `game.seated` from META's counters), the VIEW item (`view`: `shared` as META
    last changed), the round's counters (`counts`, items.round_counts), the standings and `first`:
    (id, nickname) of the first players not kicked, in the order they joined, at least
    LEADERBOARD_SIZE of them (or all), when fewer have scored; for a type with `rankings`, the
    `heads` of its lists as the views now show them. None when the round's type cannot render its
    part from these (a type without `you_of` or `progress_of`), or when a type runs alongside the
    rounds (its lane's lists and your own questions come from the whole game)."""
    if lane_of(game, types) is not None:
        return None
    kind = kind_of(game, types)
    round_view = view["round"]
    if round_view is not None:
        if kind.rankings:
            progress = kind.ranked_progress(game.round, game.phase, counts, game.seated, heads or {})
        else:
            progress = kind.progress_of(game.round, game.phase, counts, game.seated)
        if progress is None:
            return None
        round_view = kind.counted(round_view, progress, PHONES)
    you = kind.you_of(game.round, game.phase, own.entries, own.state, {**counts, **own.counts})
    if you is None:
        return None
    p = game.players[own.player]
    me = Player(p.id, p.nickname, "", p.joined_at, score=own.score)
    rank = standings.rank_of(own.rank, own.score, view["scorers"])
    shown = views.game_view_of(game, join_url, PHONES, view["rounds"], round_view, leaderboard(view, first))
    return views.snapshot_of(game, "player", shown, {"player": views.standing_row(me, rank), **you})


def leaderboard(view: dict[str, Any], first: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """views.leaderboard: the players who scored (`view["top"]`), then, while they are fewer than
    LEADERBOARD_SIZE, those with 0 points in the order they joined (`first`, less the scorers)."""
    top = view["top"]
    scorers = {row["id"] for row in top}
    players = [Player(row["id"], row["nickname"], "", 0, score=row["score"]) for row in top]
    players += [Player(pid, nickname, "", 0) for pid, nickname in first if pid not in scorers]
    return views.board_rows(players[: views.LEADERBOARD_SIZE])
