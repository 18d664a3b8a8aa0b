"""A game's full results as CSV, for the host's download: the same file from the appliance and the cloud."""

from __future__ import annotations

import csv
import io
from typing import Any

from engagements.model import Game
from engagements.types import EngagementType


def results_csv(game: Game, kind: EngagementType) -> str:
    rows = kind.export_rows(game)
    out = io.StringIO()
    writer = csv.writer(out)
    if rows:
        writer.writerow(rows[0].keys())
        writer.writerows([csv_safe(v) for v in row.values()] for row in rows)
    return out.getvalue()


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is kept as text (players write the answers)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
