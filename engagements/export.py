"""What a game's export holds: the game, each round, each player and every result row, the same from
the appliance, the cloud and `engagements export` (engagements.exportfiles writes it as files).

It is built from a loaded game (its store items, `items.load_game`) by the types that played its
rounds, so every type and mixed games export alike. Nothing that stays on the appliance goes in
(`lifecycle.HOME_ONLY`: the secret, token hashes), nor a player's id or the hashes of their client,
device and address: a player is their nickname, unique in the game. The join code only names the
files, as every download does.

Every step is linear in the rows (players times rounds): a 10,000-player game never builds a view per
player, and the per-round points are one `score` call per round, as a load makes.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engagements.model import PLAYING, Game
from engagements.types import EngagementType, Types, kind_of, lane_of
from engagements.views import standings


@dataclass(frozen=True)
class Table:
    """Rows under named columns: one CSV file, one sheet of the spreadsheet."""

    name: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class GameExport:
    """A game as exported: `game` one record, `rounds` one per prompt (each with its type's result
    rows), `players` in standings order then the kicked (each with its points per round)."""

    code: str  # names the files; never in their content
    game: dict[str, Any]
    rounds: list[dict[str, Any]]
    players: list[dict[str, Any]]
    results: dict[str, list[dict[str, Any]]]  # each type's result rows, by slug, in order of first use
    titles: dict[str, str]  # the types' titles, by slug
    point_rounds: list[int]  # the rounds (from 1) whose points each player row lists


def build(game: Game, types: Types) -> GameExport:
    """The export of `game` as it is now (a live game's rounds so far)."""
    results = _results(game, types)
    by_round: dict[int, list[dict[str, Any]]] = {}
    for rows in results.values():
        for row in rows:
            if "round" in row:  # not the lane's (a Q&A alongside the rounds): no round of its own
                by_round.setdefault(row["round"], []).append({k: v for k, v in row.items() if k != "round"})
    scored = [r for r, o in sorted(game.outcomes.items()) if o == "scored"]
    kinds = {r: kind_of(game, types, r) for r in scored}
    points = {r: kinds[r].score(game, r) for r in scored if kinds[r].keeps_score}
    ranked = standings(game)
    players = [*ranked, *((None, p) for p in game.players.values() if p.kicked)]
    return GameExport(
        code=game.code,
        game={
            "id": game.id,
            "title": game.title,
            "type": game.type,
            "types": list(results),
            "status": game.status,
            "created_at": iso(game.created_at),
            "finished_at": iso(game.finished_at),
            "synced_at": iso(game.synced_at),
            "rounds": len(game.prompts),
            "scored_rounds": len(scored),
            "players": len(ranked),
            "kicked": len(players) - len(ranked),
            "settings": dict(game.settings),
        },
        rounds=[
            _round(game, types, r, points.get(r), by_round.get(r + 1, [])) for r in range(len(game.prompts))
        ],
        players=[
            {
                "rank": rank,
                "nickname": p.nickname,
                "score": p.score,
                "points": {r + 1: points[r][p.id] for r in points if p.id in points[r]},
                "joined_at": iso(p.joined_at),
                "kicked": p.kicked,
            }
            for rank, p in players
        ],
        results=results,
        titles={slug: types[slug].title for slug in results},
        point_rounds=[r + 1 for r in points],
    )


def _round(
    game: Game, types: Types, r: int, points: dict[str, int] | None, results: list[dict[str, Any]]
) -> dict[str, Any]:
    """One prompt: what it asked, what became of it, its entries counted by kind, and its results."""
    entries = game.entries.get(r, {})
    playing = game.status == PLAYING and game.round == r
    outcome = game.outcomes.get(r) or ("playing" if playing else "not played")
    kind = kind_of(game, types, r)
    return {
        "round": r + 1,
        "type": kind.slug,
        "prompt": game.prompts[r].get("text", ""),
        "outcome": outcome,
        "players": len({kind.author(e) for by_key in entries.values() for e in by_key.values()}),
        "entries": {kind: len(by_player) for kind, by_player in entries.items()},
        "points": None if points is None else sum(points.values()),
        "results": results,
    }


def tables(export: GameExport, *, results_by_type: bool = False) -> list[Table]:
    """The export as flat tables: `game`, `rounds`, `players` (a column of points per scored round)
    and the results: one table under the union of the types' columns, or one table per type."""
    game = {k: v for k, v in export.game.items() if k != "settings"}
    game["types"] = ", ".join(game["types"])
    game.update(export.game["settings"])
    kinds = list(dict.fromkeys(k for r in export.rounds for k in r["entries"]))
    rounds = Table(
        "rounds",
        ["round", "type", "prompt", "outcome", "players", *(f"{k}s" for k in kinds), "points"],
        [
            [r["round"], r["type"], r["prompt"], r["outcome"], r["players"]]
            + [r["entries"].get(k, 0) for k in kinds]
            + [r["points"]]
            for r in export.rounds
        ],
    )
    players = Table(
        "players",
        ["rank", "nickname", "score", *(f"round {r}" for r in export.point_rounds), "joined_at", "kicked"],
        [
            [p["rank"], p["nickname"], p["score"]]
            + [p["points"].get(r) for r in export.point_rounds]
            + [p["joined_at"], p["kicked"]]
            for p in export.players
        ],
    )
    if results_by_type and len(export.results) > 1:
        results = [_table(f"results {export.titles[slug]}", rows) for slug, rows in export.results.items()]
    else:
        results = [_table("results", _in_round_order(export.results))]
    return [Table("game", list(game), [list(game.values())]), rounds, players, *results]


def _table(name: str, rows: list[dict[str, Any]]) -> Table:
    """Rows of differing columns under the union of them, in order of first use; a row leaves the
    columns it lacks empty."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return Table(name, columns, [[row.get(k, "") for k in columns] for row in rows])


def _in_round_order(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The rows by round; the lane's, of no round, last."""
    rows = [row for rows in results.values() for row in rows]
    rows.sort(key=lambda row: row.get("round", math.inf))
    return rows


def results_csv(game: Game, types: Types) -> str:
    """Each type's rows of its own rounds (export_rows); a mixed game's types have different
    columns, so the header is the union of them, in order of first use, and a row leaves the
    columns of other types empty. A single-type game's file is exactly its type's rows."""
    table = _table("results", _in_round_order(_results(game, types)))
    return csv_text(table) if table.rows else ""


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([csv_safe(value) for value in row] for row in table.rows)
    return out.getvalue()


def _results(game: Game, types: Types) -> dict[str, list[dict[str, Any]]]:
    """Each type's rows of its own rounds, by slug in order of first use; then the rows of the lane
    of a type running alongside the rounds (`lane_export_rows`: without a `round`)."""
    results = {slug: _rows(game, types[slug]) for slug in dict.fromkeys(game.round_types())}
    lane = lane_of(game, types)
    if lane is not None and (rows := lane.lane_export_rows(game)):
        results[lane.slug] = [*results.get(lane.slug, []), *rows]
    return results


def _rows(game: Game, kind: EngagementType, only: int | None = None) -> list[dict[str, Any]]:
    """One type's rows, the game shown to it with only the rounds it played having an outcome: a
    type that lists every scored round never reads another type's (a shallow copy, its own cache).
    With `only`, the rows of that one round (from 0), the others' outcomes hidden too."""
    outcomes = {
        r: o
        for r, o in game.outcomes.items()
        if game.round_type(r) == kind.slug and (only is None or r == only)
    }
    return kind.export_rows(dataclasses.replace(game, outcomes=outcomes, cache={}))


def round_results(game: Game, types: Types, r: int) -> list[dict[str, Any]]:
    """The result rows of round `r` (from 0) as `build` has them in its round, without building the rest
    (a page of a 10,000-answer round's results reads that round alone)."""
    rows = _rows(game, kind_of(game, types, r), only=r)
    return [{k: v for k, v in row.items() if k != "round"} for row in rows if row.get("round") == r + 1]


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is kept as text (players write the answers)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def iso(ms: int | None) -> str | None:
    """A time kept in milliseconds as ISO 8601 in UTC (`2025-05-01T19:30:00.250Z`)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
