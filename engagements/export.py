"""A game's full results as CSV, for the host's download: the same file from the appliance and the cloud."""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

from engagements.model import Game
from engagements.types import EngagementType, Types


def results_csv(game: Game, types: Types) -> str:
    """Each type's rows of its own rounds (export_rows); a mixed game's types have different
    columns, so the header is the union of them, in order of first use, and a row leaves the
    columns of other types empty. A single-type game's file is exactly its type's rows."""
    rows = [row for slug in dict.fromkeys(game.round_types()) for row in _rows(game, types[slug])]
    rows.sort(key=lambda row: row.get("round", 0))
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.writer(out)
    if rows:
        writer.writerow(columns)
        writer.writerows([csv_safe(row.get(k, "")) for k in columns] for row in rows)
    return out.getvalue()


def _rows(game: Game, kind: EngagementType) -> list[dict[str, Any]]:
    """One type's rows, the game shown to it with only the rounds it played having an outcome: a
    type that lists every scored round never reads another type's (a shallow copy, its own cache)."""
    outcomes = {r: o for r, o in game.outcomes.items() if game.round_type(r) == kind.slug}
    return kind.export_rows(dataclasses.replace(game, outcomes=outcomes, cache={}))


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is kept as text (players write the answers)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
