"""Who a token opens a game for: the host (host console and big screen) or one player.

Pure, so the appliance and the cloud check tokens the same way; only token hashes are stored.
"""

from __future__ import annotations

from typing import Any

from engagements.codes import matches, split_token
from engagements.model import HOST, Actor, Game, Rejected

VIEWS = ("host", "screen", "player")


def player_for(game: Game, token: str) -> str | None:
    """The player a token belongs to, if it opens this game (the player must be loaded in `game`)."""
    parts = split_token(token)
    if parts is None or parts[0] not in game.players:
        return None
    return parts[0] if matches(parts[1], game.players[parts[0]].token_hash) else None


def authenticate(game: Game, token: Any, view: Any) -> Actor:
    """Raises Rejected (bad_message, unauthorized, kicked)."""
    if view not in VIEWS:
        raise Rejected("bad_message", "`view` must be host, screen or player.")
    if not isinstance(token, str):
        raise Rejected("unauthorized", "A token is needed to open this game.")
    if view == "player":
        player = player_for(game, token)
        if player is None:
            raise Rejected("unauthorized", "That token does not open this game.")
        if game.players[player].kicked:
            raise Rejected("kicked", "The host removed you from this game.")
        return Actor("player", player)
    if not is_host(game, token):
        raise Rejected("unauthorized", "That token does not open this game.")
    return HOST


def is_host(game: Game, token: str) -> bool:
    parts = split_token(token)
    return parts is not None and parts[0] == game.id and matches(parts[1], game.host_token_hash)
