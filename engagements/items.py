"""The single-table item layout: a game as items, and the writes each engine event needs.

    PK                SK                      what
    GAME#<id>         META                    the game: title, type, status, phase, round, deadline, version
    GAME#<id>         PROMPT#<nnn>            one prompt
    GAME#<id>         PLAYER#<player id>      a player: nickname, token hash, score, kicked
    GAME#<id>         NICK#<folded nickname>  claims a nickname, so two joins cannot both take it
    GAME#<id>         ENTRY#<nnn>#<kind>#<player id>   one answer, vote or choice (keyed by its player,
                                                       or as its type keys it: a Q&A's questions by id)
    GAME#<id>         RESULTS#<nnn>#<stamp>#<listing>#<page>   a page of a scored round's ranked
                                                       results (the cloud's: engagements.resultpages)
    CODE#<code>       CODE                    join code -> game id

META carries GSI1PK = "GAMES#live", "GAMES#finished" (not yet in the cloud) or "GAMES#synced", and
GSI1SK = "<created or finished ms>#<id>": the live games (resumed after a restart) and the finished
ones waiting for the cloud sync are queries, never scans. A ranked entry (engagements/ranking.py: a
Q&A's question) carries GSI1PK = "RANK#<id>#<nnn>#<list>" and GSI1SK = ranking.sort_key, and the
`count` of the entries that count it: a list's head is one query, whatever its length.

Every item of a live game carries the game's `ttl`, so abandoned games expire; what happens to it once
the game is finished (kept, synced, expiring again) is engagements.lifecycle's.
"""

from __future__ import annotations

from typing import Any

from engagements import ranking
from engagements.engine import add_entry, add_host_ack, fold, seat
from engagements.model import FINISHED, Entry, Event, Game, Player
from engagements.store.base import (
    GSI1PK,
    GSI1SK,
    PK,
    SK,
    TTL,
    Condition,
    Delete,
    Item,
    Put,
    Update,
    Write,
    absent,
    below,
    equals,
    present,
)
from engagements.types import Types, kind_of

META = "META"
# Counters on META that only the cloud keeps (by atomic ADD, in the transaction of the write they
# count): its partial loads see neither every player nor every entry. The appliance has the whole
# game in memory and never writes them.
ACTIVE = "active"  # players not kicked
SEATED = "seated"  # players not kicked whose phone has connected (Game.seated): the ones a phase waits for
CONNECTED = "connected"  # players with an open phone socket (len(Game.connected)): cloud.connections
SOCKETS = "sockets"  # on a PLAYER item (cloud only): its player's open phone sockets, kept with CONNECTED
# On a mixed game's META only: each round's type, so a load without the PROMPT items (the cloud's
# partial loads) still knows which type plays the current round. A single-type game has none.
ROUND_TYPES = "round_types"
LIVE = "GAMES#live"
FINISHED_GAMES = "GAMES#finished"
SYNCED_GAMES = "GAMES#synced"


def game_pk(game_id: str) -> str:
    return f"GAME#{game_id}"


def code_pk(code: str) -> str:
    return f"CODE#{code}"


def _ms(ms: int) -> str:
    return f"{ms:015d}"


def meta_attrs(game: Game) -> Item:
    """The META attributes that change during a game."""
    finished = game.status == FINISHED
    partition = LIVE if not finished else SYNCED_GAMES if game.synced_at else FINISHED_GAMES
    return {
        "status": game.status,
        "phase": game.phase,
        "round": game.round,
        "deadline": game.deadline,
        "locked": game.locked,
        "finished_at": game.finished_at,
        "outcomes": {str(r): o for r, o in sorted(game.outcomes.items())},
        "seq": game.seq,
        "host_acks": [[cmd_id, ack] for cmd_id, ack in game.host_acks.items()],
        "synced_at": game.synced_at,
        GSI1PK: partition,
        GSI1SK: f"{_ms(game.finished_at if finished and game.finished_at else game.created_at)}#{game.id}",
    }


def is_mixed(game: Game) -> bool:
    """Whether some round is played by a type other than the game's own."""
    return any(t != game.type for t in game.round_types())


def creation_writes(game: Game, ttl: int) -> list[Write]:
    pk = game_pk(game.id)
    meta = {
        PK: pk,
        SK: META,
        "id": game.id,
        "code": game.code,
        "title": game.title,
        "type": game.type,
        **({ROUND_TYPES: game.round_types()} if is_mixed(game) else {}),
        "settings": game.settings,
        "host_token_hash": game.host_token_hash,
        "secret": game.secret,
        "created_at": game.created_at,
        "version": game.version,
        TTL: ttl,
        **meta_attrs(game),
    }
    prompts = [
        Put({PK: pk, SK: prompt_sk(i), "index": i, **prompt, TTL: ttl})
        for i, prompt in enumerate(game.prompts)
    ]
    code = Put({PK: code_pk(game.code), SK: "CODE", "game_id": game.id, TTL: ttl}, absent())
    return [Put(meta, absent()), code, *prompts]


def event_writes(game: Game, events: list[Event], ttl: int, types: Types) -> tuple[list[Write], list[Write]]:
    """Writes for a command's events: one atomic group, and score updates that may follow it.

    Scores can be recomputed from the entries (see load_game), so thousands of score updates need not
    fit one transaction; everything else a command changed commits together or not at all. `types`
    say which entries are ranked (engagements/ranking.py).
    """
    pk = game_pk(game.id)
    atomic: list[Write] = []
    scores: list[Write] = []
    meta_changed = False
    counted: dict[tuple[int, str, str], int] = {}  # the entries whose counts the events moved, by how much
    for event in events:
        d = event.data
        match event.kind:
            case "player_joined":
                p = game.players[d["id"]]
                atomic.append(Put(player_item(pk, p, ttl), absent()))
                atomic.append(
                    Put({PK: pk, SK: f"NICK#{fold(p.nickname)}", "player_id": p.id, TTL: ttl}, absent())
                )
            case "player_kicked":
                atomic.append(Update(pk, f"PLAYER#{d['player']}", set={"kicked": True}))
            case "player_seen":
                atomic.append(Update(pk, f"PLAYER#{d['player']}", set={"seen": True}))
            case "entry_added":
                entry = d["entry"]
                item = entry_item(pk, entry, ttl) | ranked_attrs(game, entry, types)
                atomic.append(Put(item, absent()))
                _moved(counted, entry.round, d.get("counts", ()), 1)
            case "entry_removed":
                atomic.append(Delete(pk, entry_sk(d["round"], d["kind"], d["player"])))
                _moved(counted, d["round"], d.get("counts", ()), -1)
            case "entry_changed":
                atomic.append(changed_update(game, d["entry"], types))
            case "round_scored":
                meta_changed = True
                scores += [
                    Update(pk, f"PLAYER#{pid}", set={"score": game.players[pid].score}) for pid in d["points"]
                ]
            case "lobby_locked" | "phase_changed" | "round_skipped" | "host_acked":
                meta_changed = True
    atomic += [count_update(game, at, by, types) for at, by in counted.items() if by]
    if meta_changed:
        atomic.append(meta_update(game))
    return atomic, scores


def _moved(counted: dict[tuple[int, str, str], int], round: int, pairs: Any, by: int) -> None:
    for kind, key in pairs:
        counted[(round, kind, key)] = counted.get((round, kind, key), 0) + by


def ranked_attrs(game: Game, entry: Entry, types: Types) -> Item:
    """A ranked entry's index keys and its count (nothing for an entry in no list)."""
    name = kind_of(game, types, entry.round).ranking(entry)
    if name is None:
        return {}
    count = game.counts.get((entry.round, entry.kind, entry.player), 0)
    return {
        GSI1PK: rank_pk(game.id, entry.round, name),
        GSI1SK: ranking.sort_key(entry, count),
        "count": count,
    }


def count_update(game: Game, at: tuple[int, str, str], by: int, types: Types) -> Update:
    """An entry's count moved by `by` (game.counts has it moved already), on condition that it was
    what this command read: two votes for one question racing in the cloud cannot both write the
    same count (the loser is decided again from a fresh load), and the index follows the count."""
    round, kind, key = at
    count = game.counts.get(at, 0)
    entry = game.entries[round][kind][key]
    attrs: Item = {"count": count} | {
        k: v for k, v in ranked_attrs(game, entry, types).items() if k == GSI1SK
    }
    return Update(game_pk(game.id), entry_sk(round, kind, key), set=attrs, condition=_counted(count - by))


def changed_update(game: Game, entry: Entry, types: Types) -> Update:
    """An entry's new value, and the list it is now in; on condition that its count is still the one
    read (its index key is rewritten from it: a vote racing the change is decided again)."""
    attrs = {"value": entry.value} | ranked_attrs(game, entry, types)
    count = game.counts.get((entry.round, entry.kind, entry.player), 0)
    unranked = () if GSI1PK in attrs else (GSI1PK, GSI1SK)
    sk = entry_sk(entry.round, entry.kind, entry.player)
    return Update(game_pk(game.id), sk, set=attrs, remove=unranked, condition=_counted(count))


def _counted(count: int) -> Condition:
    """The item exists and its `count` is `count` (a missing one is 0)."""
    return present() + (equals("count", count) if count else below("count", 1))


def rank_pk(game_id: str, round: int, name: str) -> str:
    """The index partition (GSI1PK) of one ranked list of a round."""
    return f"RANK#{game_id}#{round:03d}#{name}"


def meta_update(game: Game) -> Update:
    """Bump the version, on condition nobody else did: two servers sharing a table cannot both win."""
    game.version += 1
    return Update(
        game_pk(game.id),
        META,
        set={**meta_attrs(game), "version": game.version},
        condition=equals("version", game.version - 1),
    )


def item_keys(game: Game) -> list[tuple[str, str]]:
    """Every item of a game but META, from the game itself: no query needed."""
    pk = game_pk(game.id)
    keys = [(code_pk(game.code), "CODE")]
    keys += [(pk, prompt_sk(i)) for i in range(len(game.prompts))]
    for p in game.players.values():
        keys += [(pk, f"PLAYER#{p.id}"), (pk, f"NICK#{fold(p.nickname)}")]
    for r, kinds in game.entries.items():
        keys += [(pk, entry_sk(r, kind, player)) for kind, entries in kinds.items() for player in entries]
    return keys


def player_item(pk: str, p: Player, ttl: int) -> Item:
    return {
        PK: pk,
        SK: f"PLAYER#{p.id}",
        "player_id": p.id,
        "nickname": p.nickname,
        "token_hash": p.token_hash,
        "joined_at": p.joined_at,
        "score": p.score,
        "kicked": p.kicked,
        "seen": p.seen,
        "client": p.client,
        "device": p.device,
        "address": p.address,
        TTL: ttl,
    }


def entry_count(round: int, kind: str) -> str:
    """The META counter of a round's entries of one kind (see ACTIVE)."""
    return f"n#{round:03d}#{kind}"


def round_counts(meta: Item, kinds: frozenset[str]) -> dict[str, int]:
    """The current round's counters on META (the cloud's): its entries by kind (0 for `kinds` with
    none yet) and the type's tallies, by name, as `EngagementType.progress_of` takes them."""
    counted = entry_count(meta["round"], "")
    return dict.fromkeys(kinds, 0) | {
        name.removeprefix(counted): n for name, n in meta.items() if name.startswith(counted)
    }


def partial_key(game_id: str, round: int, player: str) -> tuple[str, str]:
    """A player's partial state in the cloud (EngagementType.partial_state), valid for one META
    version: `PARTIAL#<game id>`, `<nnn>#<player id>`, with `round`, `version`, `state`, `ttl`.

    In a partition of its own: a thousand ballots a round would otherwise swell every load of the
    game's partition, and the cloud sync copies that partition alone.
    """
    return partial_pk(game_id), f"{round:03d}#{player}"


def partial_pk(game_id: str) -> str:
    """The cloud's partition beside a game's for what its partial loads read (partial_key; the
    phones' items of cloud.phones)."""
    return f"PARTIAL#{game_id}"


def prompt_sk(index: int) -> str:
    return f"PROMPT#{index:03d}"


def entry_sk(round: int, kind: str, player: str) -> str:
    return f"ENTRY#{round:03d}#{kind}#{player}"


def results_sk(round: int, stamp: int, listing: str, page: int) -> str:
    """A page of a round's ranked results (engagements.resultpages), for one stamp and listing."""
    return f"{results_prefix(round, stamp)}{listing}#{page:05d}"


def results_prefix(round: int, stamp: int) -> str:
    """The sort keys of every page of a round's results for one stamp."""
    return f"RESULTS#{round:03d}#{stamp:09d}#"


def results_stamp(round: int) -> str:
    """The META attribute naming the stamp of a round's current result pages (the cloud's)."""
    return f"results#{round:03d}"


def entry_item(pk: str, e: Entry, ttl: int) -> Item:
    return {
        PK: pk,
        SK: entry_sk(e.round, e.kind, e.player),
        "round": e.round,
        "kind": e.kind,
        "player_id": e.player,
        "value": e.value,
        "at": e.at,
        "cmd": e.cmd,
        TTL: ttl,
    }


def entry_of(item: Item) -> Entry:
    return Entry(item["round"], item["kind"], item["player_id"], item["value"], item["at"], item["cmd"])


def load_game(items: list[Item], types: Types) -> Game:
    """Rebuild a game from its partition; scores and command acks are recomputed from the entries,
    each by the type that played its round."""
    by_sk = {item[SK]: item for item in items}
    m = by_sk[META]
    # Each prompt at its index; a partial load (the cloud's) holds only the current round's, and the
    # other rounds are placeholders: empty, or in a mixed game naming their type (from META).
    found = {int(sk.removeprefix("PROMPT#")): item for sk, item in by_sk.items() if sk.startswith("PROMPT#")}
    round_types = m.get(ROUND_TYPES, [])
    prompts: list[dict[str, Any]] = [
        {k: v for k, v in found[i].items() if k not in (PK, SK, TTL, "index")}
        if i in found
        else {"type": round_types[i]}
        if i < len(round_types) and round_types[i] != m["type"]
        else {}
        for i in range(max(max(found, default=-1) + 1, len(round_types)))
    ]
    game = Game(
        id=m["id"],
        code=m["code"],
        title=m["title"],
        type=m["type"],
        prompts=prompts,
        settings=m["settings"],
        host_token_hash=m.get("host_token_hash", ""),  # absent from a cloud copy: nobody signs in there
        secret=m.get("secret", ""),  # absent from a cloud copy: it never leaves the appliance
        created_at=m["created_at"],
        status=m["status"],
        phase=m["phase"],
        round=m["round"],
        deadline=m["deadline"],
        locked=m["locked"],
        finished_at=m["finished_at"],
        synced_at=m.get("synced_at"),
        outcomes={int(r): o for r, o in m["outcomes"].items()},
        seq=m["seq"],
        version=m["version"],
    )
    for cmd_id, ack in m.get("host_acks", []):
        add_host_ack(game, cmd_id, ack)
    for sk, item in sorted(by_sk.items()):
        if sk.startswith("PLAYER#"):
            p = Player(
                item["player_id"],
                item["nickname"],
                item.get("token_hash", ""),
                item["joined_at"],
                kicked=item["kicked"],
                seen=item.get("seen", True),  # players saved before seats were counted were seen
                client=item.get("client", ""),
                device=item.get("device", ""),
                address=item.get("address", ""),
            )
            seat(game, p)
        elif sk.startswith("ENTRY#"):
            entry = entry_of(item)
            add_entry(game, entry)
            if "count" in item:
                game.counts[(entry.round, entry.kind, entry.player)] = item["count"]
            if entry.cmd:
                kind = kind_of(game, types, entry.round)
                game.acks[(kind.author(entry), entry.cmd)] = kind.ack(entry)
    for r, outcome in game.outcomes.items():
        if outcome == "scored":
            for pid, points in kind_of(game, types, r).score(game, r).items():
                game.players[pid].score += points
    return game
