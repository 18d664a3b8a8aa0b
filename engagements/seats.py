"""A join's seat, in one place for the appliance and the cloud: who is asking, and the token they get.

A join may carry a client id (random, made by the browser for this join) so that its retry, after a
lost reply, finds the same seat and the same token instead of `nickname_taken` and a ghost seat; and
a device id (kept in the browser) so that a kick lasts. The game keeps only keyed hashes of them and
of the address (codes.keyed, with the game's secret): the store never holds an id that opens a seat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engagements.codes import hash_secret, is_client_id, keyed, token_for
from engagements.engine import is_banned
from engagements.model import Game, Rejected


@dataclass(frozen=True)
class Identity:
    """The keyed hashes of a join's client id, device id and address ("" for each one missing)."""

    client_id: str | None
    client: str
    device: str
    address: str

    def fields(self) -> dict[str, str]:
        """What the engine's `join` command carries of it."""
        return {"client": self.client, "device": self.device, "address": self.address}


def identity(game: Game, client_id: Any, device_id: Any, address: str) -> Identity:
    """Raises Rejected("invalid") for a malformed id."""
    for value, name in ((client_id, "client_id"), (device_id, "device_id")):
        if value is not None and not is_client_id(value):
            raise Rejected("invalid", f"`{name}` is 16 to 64 letters, digits, - or _.")
    return Identity(
        client_id or None,
        keyed(game.secret, "client", client_id) if client_id else "",
        keyed(game.secret, "device", device_id) if device_id else "",
        keyed(game.secret, "address", address) if address else "",
    )


def new_token(game: Game, player_id: str, who: Identity) -> tuple[str, str]:
    """A new seat's token and the hash the store keeps: derived from the client id when there is one."""
    if who.client_id is None:
        return token_for(player_id)
    secret = _seat_secret(game, player_id, who.client_id)
    return f"{player_id}.{secret}", hash_secret(secret)


def retry_token(game: Game, player_id: str, who: Identity) -> str:
    """The token of the seat a retried join (same client id) took; raises Rejected("kicked") when
    that seat was kicked or the device banned since. `game` holds the seat's player and the bans."""
    if game.players[player_id].kicked or is_banned(game, who.device, ""):
        raise Rejected("kicked", "The host removed you from this game.")
    assert who.client_id is not None
    return f"{player_id}.{_seat_secret(game, player_id, who.client_id)}"


def _seat_secret(game: Game, player_id: str, client_id: str) -> str:
    """The same for every retry of one join: only the game's secret and the client id make it."""
    return keyed(game.secret, f"seat:{player_id}", client_id)
