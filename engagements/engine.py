"""The pure engine: a game and a command in, events out, the game brought up to date.

`decide` reads the game and either returns events or raises Rejected, so a refused command is never
half-applied; `evolve` applies one event in place. The game is updated in place rather than copied
because a round with thousands of players would otherwise copy the game once per answer. No I/O and
no clock: the caller passes the command's arrival time, so the same code runs under aiohttp and Lambda.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from engagements.model import (
    FINISHED,
    HOST,
    LOBBY,
    PLAYING,
    Command,
    Entry,
    Event,
    Game,
    Player,
    Rejected,
)
from engagements.settings import JOIN_DEFAULTS
from engagements.text import one_line
from engagements.types import EngagementType, Types, kind_of, lane_command, lane_of

NICKNAME_MAX = 20
HOST_COMMANDS = frozenset({"start", "end_phase", "next", "skip", "kick", "lock", "end_game"})
HOST_ACKS_KEPT = 16  # the host's acks a retry after a restart can still find
SYSTEM_COMMANDS = frozenset({"join", "presence", "tick", "settle"})


def handle(
    game: Game, cmd: Command, types: Types, *, settle_phases: bool = True
) -> tuple[list[Event], dict[str, Any]]:
    """Apply a command: the events it caused (already applied to `game`) and its ack fields.

    `types` holds every type the game's rounds may name: the current round's decides its commands
    and phases, the next round's opens it (kind_of).

    A command id seen before from the same actor is answered with the first ack and changes nothing.
    `settle_phases=False` is for a partial game (only the items one command needs, as the cloud
    loads them): it cannot tell whether everyone has finished, so its caller settles later with a
    `settle` command on the whole game.
    """
    key = (cmd.actor.key, cmd.id)
    if cmd.id and key in game.acks:
        return [], game.acks[key]
    events, ack = decide(game, cmd, types)
    for event in events:
        evolve(game, event)
    if settle_phases:
        events += settle(game, cmd.at, types)
    if cmd.id:
        game.acks[key] = ack
        if cmd.actor == HOST:
            acked = Event("host_acked", {"id": cmd.id, "ack": ack})
            evolve(game, acked)
            events.append(acked)
    return events, ack


def settle(game: Game, at: int, types: Types) -> list[Event]:
    """Close phases that everyone has finished, without waiting for their deadline."""
    events: list[Event] = []
    while game.status == PLAYING and (kind := kind_of(game, types)).is_complete(game):
        closing = kind.close_phase(game, at)
        for event in closing:
            evolve(game, event)
        events += closing
    return events


def decide(game: Game, cmd: Command, types: Types) -> tuple[list[Event], dict[str, Any]]:
    role = cmd.actor.role
    kind = lane_command(game.settings, types, cmd.type, cmd.fields) or kind_of(game, types)
    if cmd.type in SYSTEM_COMMANDS:
        if role != "system":
            raise Rejected("forbidden", "Only the server sends this.")
        return _system(game, cmd, kind), {}
    if game.status == FINISHED:
        raise Rejected("finished", "The game is over.")
    if cmd.type in HOST_COMMANDS:
        if role != "host":
            raise Rejected("forbidden", "Only the host can do that.")
        return _host(game, cmd, types), {}
    if cmd.type in kind.host_commands:
        if role != "host":
            raise Rejected("forbidden", "Only the host can do that.")
        return kind.decide(game, cmd)
    if cmd.type in kind.commands:
        if role != "player":
            raise Rejected("forbidden", "Only players can do that.")
        player = game.players.get(cmd.actor.player or "")
        if player is None:
            raise Rejected("unauthorized", "You are not in this game.")
        if player.kicked:
            raise Rejected("kicked", "The host removed you from this game.")
        return kind.decide(game, cmd)
    if any(cmd.type in types[slug].commands | types[slug].host_commands for slug in set(game.round_types())):
        raise Rejected("stale", "That round has closed.")  # a command of another round's type
    raise Rejected("unknown_type", f"Unknown command {cmd.type!r}.")


def _system(game: Game, cmd: Command, kind: EngagementType) -> list[Event]:
    f = cmd.fields
    if cmd.type == "join":
        return [_join(game, f, cmd.at)]
    if cmd.type == "presence":
        player, connected = f["player"], bool(f["connected"])
        if player not in game.players or (player in game.connected) == connected:
            return []
        presence = Event("player_presence", {"player": player, "connected": connected})
        used = game.players[player]
        if connected and not used.seen and not used.kicked:  # the seat is used: from now on it counts
            return [Event("player_seen", {"player": player}), presence]
        return [presence]
    if cmd.type == "settle":  # nothing of its own: handle() closes the phases everyone has finished
        return []
    # tick: the deadline timer fired; it may fire late or twice, so check the clock here.
    if game.status == PLAYING and game.deadline is not None and cmd.at >= game.deadline:
        return kind.close_phase(game, cmd.at)
    return []


def _join(game: Game, f: dict[str, Any], at: int) -> Event:
    """A new seat. `client`, `device` and `address` are keyed hashes the caller made (or empty)."""
    if game.status == FINISHED:
        raise Rejected("finished", "This game is over.")
    device, address = f.get("device", ""), f.get("address", "")
    if is_banned(game, device, address):
        raise Rejected("kicked", "The host removed you from this game.")
    if game.locked:
        raise Rejected("locked", "The host has locked this game: no new players.")
    if game.status == PLAYING and not setting(game, "late_join"):
        raise Rejected("started", "This game has already started: new players join only in the lobby.")
    if game.active >= setting(game, "max_players"):
        raise Rejected("full", "This game is full.")
    nickname = clean_nickname(f["nickname"])
    if fold(nickname) in game.nicknames:
        raise Rejected("nickname_taken", f"Someone here is already called {nickname}.")
    data = {"id": f["player_id"], "nickname": nickname, "token_hash": f["token_hash"], "joined_at": at}
    ids = {"client": f.get("client", ""), "device": device, "address": address}
    return Event("player_joined", {**data, **ids})


def is_banned(game: Game, device: str, address: str) -> bool:
    """A kicked player's device may not join again; nor, as a fallback, may their address.

    The address ban spares the devices that hold a seat in the game already (a neighbour behind the
    same router who joined before the kick), but catches a join without a device id or with a new one:
    the kicked phone that cleared its storage, and newcomers behind the same address alike.
    """
    if device and device in game.banned:
        return True
    return bool(address) and address in game.banned and device not in game.devices


def seat_of(game: Game, client: str) -> str | None:
    """The seat a join with this client id already took: its retry gets the same seat back."""
    return game.clients.get(client) if client else None


def setting(game: Game, name: str) -> int | bool:
    """A join setting (settings.JOIN_SETTINGS), with its default for games created before it existed."""
    return game.settings.get(name, JOIN_DEFAULTS[name])


def clean_nickname(raw: Any) -> str:
    return one_line(raw, NICKNAME_MAX, "nickname")


def fold(nickname: str) -> str:
    """Nicknames are unique regardless of case and accents' composed or decomposed forms."""
    return unicodedata.normalize("NFKC", nickname).casefold()


def _host(game: Game, cmd: Command, types: Types) -> list[Event]:
    f = cmd.fields
    kind = kind_of(game, types)
    last = kind.phases[-1]
    if cmd.type == "start":
        if game.status != LOBBY:
            raise Rejected("stale", "The game has already started.")
        if not game.active_players():
            raise Rejected("invalid", "Wait for at least one player to join.")
        return [open_round(game, 0, cmd.at, types)]
    if cmd.type == "lock":
        locked = f.get("locked")
        if not isinstance(locked, bool):
            raise Rejected("bad_message", "`locked` must be true or false.")
        return [] if locked == game.locked else [Event("lobby_locked", {"locked": locked})]
    if cmd.type == "kick":
        player = game.players.get(f.get("player") if isinstance(f.get("player"), str) else "")
        if player is None or player.kicked:
            raise Rejected("no_such_player", "No such player in this game.")
        cleanup = kind.on_kick(game, player.id) if game.status == PLAYING else []
        if (lane := lane_of(game, types)) is not None:
            cleanup += lane.on_lane_kick(game, player.id)
        return [*cleanup, Event("player_kicked", {"player": player.id})]
    if cmd.type == "end_game":
        return [*_drop_open_round(game), finish(cmd.at)]
    _expect_round(game, f)
    if cmd.type == "end_phase":
        if f.get("phase") != game.phase:
            raise Rejected("stale", "That phase has already closed.")
        if game.phase == last:
            raise Rejected("stale", "The round is over: use next.")
        return kind.close_phase(game, cmd.at)
    if cmd.type == "next":
        if game.phase != last:
            raise Rejected("stale", "The round is still running: end the phase or skip it.")
        return [advance(game, cmd.at, types)]
    # skip: drop the round unscored; from the results it is the same as next.
    return [*_drop_open_round(game), advance(game, cmd.at, types)]


def _expect_round(game: Game, f: dict[str, Any]) -> None:
    if game.status != PLAYING:
        raise Rejected("stale", "No round is running.")
    if f.get("round") != game.round:
        raise Rejected("stale", "That round has already closed.")


def _drop_open_round(game: Game) -> list[Event]:
    if game.status == PLAYING and game.round not in game.outcomes:
        return [Event("round_skipped", {"round": game.round})]
    return []


def open_round(game: Game, index: int, at: int, types: Types) -> Event:
    """The first phase of round `index`, as the type that plays that round opens it."""
    kind = kind_of(game, types, index)
    return phase_event(game, kind.phases[0], at, kind, round=index)


def phase_event(game: Game, phase: str, at: int, kind: EngagementType, round: int | None = None) -> Event:
    """The event that moves the game to `phase`, with its deadline when the phase is timed."""
    setting = kind.timers.get(phase)
    deadline = at + game.settings[setting] * 1000 if setting else None
    return Event(
        "phase_changed",
        {
            "status": PLAYING,
            "phase": phase,
            "round": game.round if round is None else round,
            "deadline": deadline,
        },
    )


def advance(game: Game, at: int, types: Types) -> Event:
    nxt = game.round + 1
    return open_round(game, nxt, at, types) if nxt < len(game.prompts) else finish(at)


def finish(at: int) -> Event:
    return Event("phase_changed", {"status": FINISHED, "phase": FINISHED, "deadline": None, "at": at})


def evolve(game: Game, event: Event) -> None:
    d = event.data
    if event.kind.startswith("entry_"):
        game.entries_changed += 1
    match event.kind:
        case "player_joined":
            player = Player(d["id"], d["nickname"], d["token_hash"], d["joined_at"])
            player.client, player.device, player.address = d["client"], d["device"], d["address"]
            seat(game, player)
        case "player_seen":
            game.players[d["player"]].seen = True
            game.seated += 1
        case "player_kicked":
            kicked = game.players[d["player"]]
            kicked.kicked = True
            game.active -= 1
            game.seated -= kicked.seen
            game.connected.discard(d["player"])
            game.devices.discard(kicked.device)
            game.banned.update(h for h in (kicked.device, kicked.address) if h)
        case "player_presence":
            (game.connected.add if d["connected"] else game.connected.discard)(d["player"])
        case "lobby_locked":
            game.locked = d["locked"]
        case "phase_changed":
            game.status, game.phase, game.deadline = d["status"], d["phase"], d["deadline"]
            game.round = d.get("round", game.round)
            if d["status"] == FINISHED:
                game.finished_at = d["at"]
        case "round_skipped":
            game.outcomes[d["round"]] = "skipped"
        case "round_scored":
            game.outcomes[d["round"]] = "scored"
            for pid, points in d["points"].items():
                game.players[pid].score += points
        case "entry_added":
            add_entry(game, d["entry"])
            count(game, d["entry"].round, d.get("counts", ()), 1)
        case "host_acked":
            add_host_ack(game, d["id"], d["ack"])
        case "entry_removed":
            entry = game.entries[d["round"]][d["kind"]].pop(d["player"])
            if "option" in entry.value:
                game.options[entry.round].pop(entry.value["option"], None)
            count(game, d["round"], d.get("counts", ()), -1)
        case "entry_changed":  # the same entry with another value (a question the host answered)
            changed = d["entry"]
            game.entries[changed.round][changed.kind][changed.player] = changed
        case _:
            raise ValueError(f"unknown event {event.kind}")


def seat(game: Game, player: Player) -> None:
    """Add a player, joined now or loaded from the store, to the game's indexes and counts."""
    game.players[player.id] = player
    game.nicknames[fold(player.nickname)] = player.id
    if player.client:
        game.clients[player.client] = player.id
    if player.kicked:
        game.banned.update(h for h in (player.device, player.address) if h)
        return
    game.active += 1
    game.seated += player.seen
    if player.device:
        game.devices.add(player.device)


def add_host_ack(game: Game, cmd_id: str, ack: dict[str, Any]) -> None:
    """Remember one of the host's acks: found again by a retry, and the last few kept in META."""
    game.host_acks[cmd_id] = ack
    game.acks[(HOST.key, cmd_id)] = ack
    while len(game.host_acks) > HOST_ACKS_KEPT:
        del game.host_acks[next(iter(game.host_acks))]


def count(game: Game, round: int, counted: Any, by: int) -> None:
    """An entry that counts others (a vote, the questions it is for: an event's `counts`, pairs of
    kind and key in its round) came or went: their counts move by `by`."""
    for kind, key in counted:
        at = (round, kind, key)
        game.counts[at] = game.counts.get(at, 0) + by


def add_entry(game: Game, entry: Entry) -> None:
    """Record an entry; one that others can pick (an answer to vote for) names it `option`."""
    game.entries.setdefault(entry.round, {}).setdefault(entry.kind, {})[entry.player] = entry
    if "option" in entry.value:
        game.options.setdefault(entry.round, {})[entry.value["option"]] = entry.player
