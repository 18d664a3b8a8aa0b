"""What each view is told: snapshots, the wire messages that the engine's events become, and pages.

Every message is sized by the view that gets it, never by the number of players (docs/protocol.md,
"Rooms of any size"): a broadcast is rendered once per audience (the board views: big screen and host
console; the phones), encoded once per audience however many sockets receive it; what is private to a
player (their ballot, their result, their rank) travels in `you` messages; the host reads long lists
(players, a round's results) a page at a time.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any

from engagements.engine import fold
from engagements.model import BOARD, FINISHED, LANE, LOBBY, PHONES, Actor, Event, Game, Player, Rejected
from engagements.types import Types, kind_of, lane_of

AUDIENCES = (BOARD, PHONES)
LEADERBOARD_SIZE = 10
RECENT_NAMES = 24  # nicknames the board views show in the lobby
PLAYERS_PAGE = 50
RESULTS_PAGE = 20


def audience_of(view: str) -> str:
    return PHONES if view == "player" else BOARD


def _order(p: Player) -> tuple[int, int, str]:
    return (-p.score, p.joined_at, p.id)


def _ranked(players: list[Player]) -> list[tuple[int, Player]]:
    """Players already in standings order, with their ranks: ties share one (1, 1, 3)."""
    out: list[tuple[int, Player]] = []
    for i, p in enumerate(players):
        rank = out[-1][0] if out and out[-1][1].score == p.score else i + 1
        out.append((rank, p))
    return out


def standings(game: Game) -> list[tuple[int, Player]]:
    """Active players by score, ties sharing a rank (1, 1, 3), then by who joined first."""
    return _ranked(sorted(game.active_players(), key=_order))


def leaderboard(game: Game) -> list[dict[str, Any]]:
    """The top ten, in standings order with their ranks."""
    return board_rows(_top(game))


def board_rows(players: list[Player]) -> list[dict[str, Any]]:
    """Leaderboard rows of players already in standings order."""
    return [standing_row(p, rank) for rank, p in _ranked(players)]


def standing_row(p: Player, rank: int | None) -> dict[str, Any]:
    """A player's standing as every view shows it: a leaderboard row, a phone's own `player`."""
    return {"id": p.id, "nickname": p.nickname, "score": p.score, "rank": rank}


def _top(game: Game) -> list[Player]:
    """The leaderboard's players, found once per change of the scores rather than once per snapshot.

    Every phone's hello carries the leaderboard, so finding it among everyone at each one would make a
    room connecting cost O(N²). Scores change only when a round is scored or a player is kicked (the
    key, as in `standing`); between those, the only change is players joining, and they are the newest
    entries of `game.players`, so they are merged into the kept top rather than everyone again.
    """
    key = (len(game.outcomes), len(game.players) - game.active)
    cached = game.cache.get("top")
    if cached is not None and cached[0] == key:
        seen, top = cached[1], cached[2]
        if seen == len(game.players):
            return top
        newest = itertools.islice(reversed(game.players.values()), len(game.players) - seen)
        top = heapq.nsmallest(LEADERBOARD_SIZE, [*top, *(p for p in newest if not p.kicked)], key=_order)
    else:
        top = heapq.nsmallest(LEADERBOARD_SIZE, game.active_players(), key=_order)
    game.cache["top"] = (key, len(game.players), top)
    return top


def room(game: Game, audience: str) -> dict[str, Any]:
    """The room's size; the board views also get how many are connected and the latest nicknames
    (never everyone's). A phone shows only the size (the cloud counts the sockets only for the board)."""
    if audience != BOARD:
        return {"players": game.active}
    latest = heapq.nlargest(RECENT_NAMES, game.active_players(), key=lambda p: (p.joined_at, p.id))
    return board_room(game.active, len(game.connected), [p.nickname for p in latest])


def board_room(players: int, connected: int, recent: list[str]) -> dict[str, Any]:
    """The board views' room from its figures: the appliance's from the game in memory, the cloud's
    from META's counters and the latest RECENT_NAMES seats (cloud.games.CloudGames.room)."""
    return {"players": players, "connected": connected, "recent": recent}


def round_view(game: Game, types: Types, audience: str) -> dict[str, Any] | None:
    """The current round as its type shows it, named by its `type`: in a mixed game the pages load
    the module of each round's type (web/static/types.js)."""
    if game.phase in (LOBBY, FINISHED) or game.round < 0:
        return None
    kind = kind_of(game, types)
    return {**kind.round_view(game, audience), "type": kind.slug}


def lane_view(game: Game, types: Types, audience: str) -> dict[str, Any] | None:
    """The lane of the type that runs alongside the rounds (a Q&A open all game), named by its
    `type`, or None: the pages draw it beside the round with that type's module."""
    lane = lane_of(game, types)
    return None if lane is None else {**lane.lane_view(game, audience), "type": lane.slug}


def lane_progress(game: Game, types: Types) -> dict[str, Any] | None:
    """The lane's counts now (the `lane` update, coalesced like `progress`), or None: no lane."""
    lane = lane_of(game, types)
    return (
        None
        if lane is None
        else {"type": "lane", "phase": lane.lane_phase(game.status), **lane.lane_progress(game)}
    )


def game_view(game: Game, types: Types, join_url: str, audience: str) -> dict[str, Any]:
    shown = game_view_of(
        game, join_url, audience, len(game.prompts), round_view(game, types, audience), leaderboard(game)
    )
    return with_lane(shown, lane_view(game, types, audience))


def with_lane(shown: dict[str, Any], lane: dict[str, Any] | None) -> dict[str, Any]:
    """A game view with its lane: a game without one is sent as it always was."""
    return shown if lane is None else {**shown, "lane": lane}


def game_view_of(
    game: Game,
    join_url: str,
    audience: str,
    rounds: int,
    round: dict[str, Any] | None,
    board: list[dict[str, Any]],
) -> dict[str, Any]:
    """The game as `audience` sees it, given what only a whole game knows (its number of rounds, the
    round's view and the leaderboard): a runtime that did not load it all passes them in
    (engagements.snapshots); the rest is META's."""
    return {
        "id": game.id,
        "code": game.code,
        "title": game.title,
        "type": game.type,
        "status": game.status,
        "phase": game.phase,
        "locked": game.locked,
        "rounds": rounds,
        "settings": dict(game.settings),
        "join_url": join_url,
        "room": room(game, audience),
        "round": round,
        "leaderboard": board,
        "synced_at": game.synced_at,
    }


def standing(game: Game, player: str) -> dict[str, Any]:
    """A player's score and rank: one more than the players ahead (the rank standings() gives).

    Scores change only when a round is scored or a player is kicked, so the sorted scores are kept
    until then and a rank is a binary search: a room reconnecting at once costs O(N log N), not O(N²).
    Players who joined since score 0 and put nobody behind them.
    """
    p = game.players[player]
    key = ("scores", len(game.outcomes), len(game.players) - game.active)
    cached = game.cache.get("scores")
    if cached is None or cached[0] != key:
        cached = (key, sorted(-q.score for q in game.active_players()))
        game.cache["scores"] = cached
    return standing_row(p, None if p.kicked else 1 + bisect.bisect_left(cached[1], -p.score))


def you_view(game: Game, types: Types, player: str | None) -> dict[str, Any]:
    """A player's standing and what the round's type keeps private to them; the board views have neither."""
    if not player:
        return {"player": None}
    you = {"player": standing(game, player), **kind_of(game, types).you_view(game, player)}
    if (lane := lane_of(game, types)) is not None:
        you["lane"] = lane.lane_you_view(game, player)
    return you


def snapshot(game: Game, types: Types, actor: Actor, view: str, join_url: str) -> dict[str, Any]:
    return snapshot_of(
        game, view, game_view(game, types, join_url, audience_of(view)), you_view(game, types, actor.player)
    )


def snapshot_of(game: Game, view: str, shown: dict[str, Any], you: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of `shown` (a game_view) and `you` (a you_view) at the game's seq."""
    return {"type": "snapshot", "seq": game.seq, "game": shown, "you": {"view": view, **you}}


@dataclass
class Messages:
    """What a command's events tell the views: broadcasts rendered per audience (one seq each),
    `you` messages per player, and the players whose sockets must close (kicked)."""

    broadcast: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    private: dict[str, dict[str, Any]] = field(default_factory=dict)
    kicked: list[str] = field(default_factory=list)


def messages(game: Game, types: Types, events: list[Event]) -> Messages:
    """The messages for what `events` changed, rendered after they were applied.

    A command that closes two phases at once yields one phase_changed. Joins, presence, answers and
    votes yield nothing here: the front end sends the room's and the round's counts (`room`,
    `progress`) a few times a second, however many arrive.
    """
    out = Messages()
    phase_changed = scored = False
    for event in events:
        match event.kind:
            case "lobby_locked":
                message = {"type": "lobby_locked", "locked": event.data["locked"]}
                out.broadcast.append(dict.fromkeys(AUDIENCES, message))
            case "player_kicked":
                out.kicked.append(event.data["player"])
            case "phase_changed":
                phase_changed = True
            case "round_scored":
                scored = True
    if phase_changed:
        kind = kind_of(game, types)  # the type of the round the game is in now
        board = leaderboard(game)
        standings_shown = game.phase in (kind.phases[-1], FINISHED)  # phones see the top ten only then
        out.broadcast.append(
            {
                audience: {
                    "type": "phase_changed",
                    "status": game.status,
                    "phase": game.phase,
                    "round": round_view(game, types, audience),
                    "leaderboard": board if audience == BOARD or standings_shown else None,
                }
                for audience in AUDIENCES
            }
        )
        ranks = {p.id: rank for rank, p in standings(game)} if scored else {}
        for p in game.active_players():
            you: dict[str, Any] = {"type": "you", **kind.you_view(game, p.id)}
            if scored:
                you["player"] = standing_row(p, ranks[p.id])
            out.private[p.id] = you
    return out


def progress(game: Game, types: Types, audience: str = BOARD) -> dict[str, Any]:
    """The round's counts now: how many answered, voted, and could (a phone's without the fields
    the type keeps for the board views)."""
    kind = kind_of(game, types)
    counts = kind.progress(game)
    if audience == PHONES and kind.board_progress:
        counts = {k: v for k, v in counts.items() if k not in kind.board_progress}
    return {"type": "progress", **counts}


def players_page(game: Game, query: Any, offset: Any) -> dict[str, Any]:
    """A page of the players whose nickname contains `query`, by nickname: the host's search."""
    if not isinstance(query, str) or len(query) > 40:
        raise Rejected("bad_message", "`query` is a text of at most 40 characters.")
    offset = _offset(offset)
    needle = fold(query.strip())
    matched = sorted(
        (p for p in game.active_players() if needle in fold(p.nickname)), key=lambda p: fold(p.nickname)
    )
    items = [
        {"id": p.id, "nickname": p.nickname, "score": p.score, "connected": p.id in game.connected}
        for p in matched[offset : offset + PLAYERS_PAGE]
    ]
    return {
        "type": "players",
        "query": query,
        "offset": offset,
        "total": game.active,
        "matched": len(matched),
        "items": items,
    }


def results_page(game: Game, types: Types, round: Any, offset: Any) -> dict[str, Any]:
    """A page of a finished round's results, best first: the host reads every answer this way."""
    round, offset = results_wanted(game, round, offset)
    rows = kind_of(game, types, round).results(game, round)
    return results_reply(round, offset, len(rows), rows[offset : offset + RESULTS_PAGE])


def results_wanted(game: Game, round: Any, offset: Any) -> tuple[int, int]:
    """The round and offset of the host's `results` request, checked. Only the game's outcomes are
    read: the cloud checks a request from META alone, then reads the round's rows from its pages
    (cloud.results)."""
    if not isinstance(round, int) or isinstance(round, bool):
        raise Rejected("bad_message", "`round` must be the round number.")
    if game.outcomes.get(round) != "scored":
        raise Rejected("no_such_round", "That round has no results (yet).")
    return round, _offset(offset)


def results_reply(round: int, offset: int, total: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The reply to a `results` request: `items`, the round's rows from `offset` on (RESULTS_PAGE at
    most), of `total`."""
    return {"type": "results", "round": round, "offset": offset, "total": total, "items": items}


CORE_REQUESTS = frozenset({"players", "results"})  # the host's; they read and change nothing


def is_request(types: Types, type_: str) -> bool:
    """Whether `type_` is a request: the core's, or a type's own (a Q&A's `questions`)."""
    return type_ in CORE_REQUESTS or any(type_ in kind.requests for kind in types.values())


def request(game: Game, types: Types, type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The reply to one of the host's requests (is_request): the core's pages, or the current round's
    type's (a request of another round's type is `stale`)."""
    if type_ == "players":
        return players_page(game, fields.get("query", ""), fields.get("offset"))
    if type_ == "results":
        return results_page(game, types, fields.get("round"), fields.get("offset"))
    lane = lane_of(game, types)
    if fields.get("round") == LANE and lane is not None and type_ in lane.requests:
        return lane.request(game, type_, fields)  # the lane's: in any phase
    kind = kind_of(game, types)
    if game.round < 0 or game.phase not in kind.phases or type_ not in kind.requests:
        raise Rejected("stale", "That round has closed.")
    return kind.request(game, type_, fields)


def _offset(offset: Any) -> int:
    if offset is None:
        return 0
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise Rejected("bad_message", "`offset` must be a whole number from 0.")
    return offset
