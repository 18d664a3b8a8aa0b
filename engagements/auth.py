"""Who a token opens a game for: the host (host console and big screen) or one player.

Pure, so the appliance and the cloud check tokens the same way; only token hashes are stored.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from engagements.codes import hash_secret, matches, split_token
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


def reader_hash(host_token_hash: str) -> str:
    """What a synced game's cloud copy keeps instead of the host token's hash (lifecycle.cloud_copy): it
    lets the host token read the game's history there, and nothing more. Not the hash itself, so the
    cloud copy opens no console: the cloud's sockets check the host token against `host_token_hash`,
    which stays home."""
    return hashlib.sha256(f"history:{host_token_hash}".encode()).hexdigest()


def may_read(game: Game, token: str, reader: str | None = None) -> bool:
    """Whether a token opens this game's history and exports: its host token, checked against the
    game's own hash or, in a synced copy, against the `reader` hash made from it."""
    if is_host(game, token):
        return True
    parts = split_token(token)
    if not reader or parts is None or parts[0] != game.id:
        return False
    return hmac.compare_digest(reader_hash(hash_secret(parts[1])), reader)
