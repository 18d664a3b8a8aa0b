"""What a cloud join reads instead of the whole game: a few index items, so its cost stays constant.

On the appliance the engine finds a retried join's seat, a banned device and the devices seated in
the game in memory (Game.clients, Game.banned, Game.devices). A Lambda invocation that loaded only
META cannot, so the cloud keeps each of these as an item of the game's partition, written in the
transaction of the command that makes it true, and puts what it found back into the partial game:
the engine then judges the join with its own rules (engine.is_banned, engine.seat_of), unchanged.

- `CLIENT#<client hash>` -> the seat a join with that client id took: claimed on condition that it
  is absent, so two copies of one join racing each other take one seat;
- `DEVICE#<device hash>`: a device holds a seat (the address ban spares it);
- `BAN#<hash>`: a kicked player's device or address.

The hashes are the engine's, keyed with the game's secret; no id or address is stored in clear.
"""

from __future__ import annotations

from engagements import items
from engagements.commands import Applied
from engagements.model import Game
from engagements.seats import Identity
from engagements.store.base import PK, SK, TTL, Item, Put, Write, absent

CLIENT, DEVICE, BAN = "CLIENT#", "DEVICE#", "BAN#"


def keys(game_id: str, who: Identity) -> list[tuple[str, str]]:
    """The index items a join from `who` reads (at most four, whatever the room)."""
    pk = items.game_pk(game_id)
    wanted = [(CLIENT, who.client), (DEVICE, who.device), (BAN, who.device), (BAN, who.address)]
    return [(pk, prefix + h) for prefix, h in wanted if h]


def restore(game: Game, found: list[Item]) -> None:
    """Put the index items a partial load found into the game, where the engine looks for them."""
    for item in found:
        prefix, _, h = item[SK].partition("#")
        match prefix + "#":
            case "CLIENT#":
                game.clients[h] = item["player_id"]
            case "DEVICE#":
                game.devices.add(h)
            case "BAN#":
                game.banned.add(h)


def writes(game: Game, applied: Applied, ttl: int) -> list[Write]:
    """The index items a command's events make true (a join's, a kick's)."""
    pk = items.game_pk(game.id)
    out: list[Write] = []

    def put(sk: str, condition: tuple = (), **fields: str) -> None:
        out.append(Put({PK: pk, SK: sk, TTL: ttl, **fields}, condition))

    for event in applied.events:
        d = event.data
        if event.kind == "player_joined":
            if d["client"]:
                put(CLIENT + d["client"], absent(), player_id=d["id"])
            if d["device"]:
                put(DEVICE + d["device"])
        elif event.kind == "player_kicked":
            kicked = game.players[d["player"]]
            for h in {kicked.device, kicked.address} - {""}:
                put(BAN + h)
    return out


def is_client_claim(write: Write) -> bool:
    return isinstance(write, Put) and write.item[SK].startswith(CLIENT)
