"""What each view is told: snapshots, and the wire messages that the engine's events become.

Broadcast messages are the same for every view of a game (answers are anonymous until the results,
and then everyone sees authors), so each is encoded once however many sockets receive it; what is
private to a player (your answer's option id, your rank) travels in `snapshot` and `you` replies.
"""

from __future__ import annotations

import heapq
from typing import Any

from engagements.model import LOBBY, Actor, Event, Game, Player
from engagements.types import EngagementType

LEADERBOARD_SIZE = 10


def player_view(game: Game, p: Player) -> dict[str, Any]:
    return {"id": p.id, "nickname": p.nickname, "score": p.score, "connected": p.id in game.connected}


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


def leaderboard(game: Game, ranked: list[tuple[int, Player]] | None = None) -> list[dict[str, Any]]:
    """The top ten; without `ranked`, found without sorting everyone (a snapshot per join is O(N))."""
    if ranked is None:
        ranked = _ranked(heapq.nsmallest(LEADERBOARD_SIZE, game.active_players(), key=_order))
    return [
        {"id": p.id, "nickname": p.nickname, "score": p.score, "rank": rank}
        for rank, p in ranked[:LEADERBOARD_SIZE]
    ]


def round_view(game: Game, kind: EngagementType) -> dict[str, Any] | None:
    if game.phase in (LOBBY, "finished") or game.round < 0:
        return None
    return kind.round_view(game)


def game_view(game: Game, kind: EngagementType, join_url: str) -> dict[str, Any]:
    return {
        "id": game.id,
        "code": game.code,
        "title": game.title,
        "type": game.type,
        "status": game.status,
        "phase": game.phase,
        "locked": game.locked,
        "rounds": len(game.prompts),
        "join_url": join_url,
        "players": [player_view(game, p) for p in game.active_players()],
        "round": round_view(game, kind),
        "leaderboard": leaderboard(game),
        "synced_at": game.synced_at,
    }


def you_player(game: Game, player: str, ranked: list[tuple[int, Player]] | None = None) -> dict[str, Any]:
    p = game.players[player]
    if ranked is not None:
        rank = next((r for r, q in ranked if q.id == player), None)
    elif p.kicked:
        rank = None
    else:  # one more than the players ahead: the same rank standings() gives, without a sort
        rank = 1 + sum(1 for q in game.players.values() if q.score > p.score and not q.kicked)
    return {"id": p.id, "nickname": p.nickname, "score": p.score, "rank": rank}


def snapshot(game: Game, kind: EngagementType, actor: Actor, view: str, join_url: str) -> dict[str, Any]:
    you: dict[str, Any] = {"view": view, "player": None, "answer_option": None, "vote": None}
    if actor.player:
        you["player"] = you_player(game, actor.player)
        if game.round >= 0:
            you.update(kind.you_view(game, actor.player))
    return {"type": "snapshot", "seq": game.seq, "game": game_view(game, kind, join_url), "you": you}


def messages(game: Game, kind: EngagementType, events: list[Event]) -> tuple[list[dict], dict[str, dict]]:
    """Broadcast messages (without seq) and private `you` messages for what `events` changed.

    Called after the events were applied, so views show the game as it now is: a command that closes
    two phases at once yields one phase_changed. Answers and votes yield no message here: the front end
    sends the round's counts as `progress` (see `progress`) a few times a second, however many arrive.
    """
    out: list[dict[str, Any]] = []
    phase_changed = False
    scored = False
    for event in events:
        d = event.data
        match event.kind:
            case "player_joined":
                out.append({"type": "player_joined", "player": player_view(game, game.players[d["id"]])})
            case "player_presence":
                out.append({"type": "player_presence", "player": d["player"], "connected": d["connected"]})
            case "player_kicked":
                out.append({"type": "player_kicked", "player": d["player"]})
            case "lobby_locked":
                out.append({"type": "lobby_locked", "locked": d["locked"]})
            case "phase_changed":
                phase_changed = True
            case "round_scored":
                scored = True
    if phase_changed:
        out.append(
            {
                "type": "phase_changed",
                "status": game.status,
                "phase": game.phase,
                "round": round_view(game, kind),
                "leaderboard": leaderboard(game),
            }
        )
    private: dict[str, dict] = {}
    if scored:
        ranked = standings(game)
        private = {
            p.id: {"type": "you", "player": {"id": p.id, "nickname": p.nickname, "score": p.score, "rank": r}}
            for r, p in ranked
        }
    return out, private


def progress(game: Game, kind: EngagementType) -> dict[str, Any]:
    """The round's counts now (without seq): how many answered, voted, and could."""
    return {"type": "progress", **kind.progress(game)}
