"""A game's export (engagements.export) as files: JSON for programs, CSV files (one per table, in a
zip over HTTP) and one spreadsheet for the host, the same bytes from both runtimes and the CLI.

Spreadsheets must never run what players typed: a CSV cell that starts like a formula gets a leading
quote (`export.csv_safe`), and every text of the workbook is written as a string cell, never a formula.
"""

from __future__ import annotations

import io
import json
import zipfile

from engagements.export import GameExport, build, csv_text, tables
from engagements.model import Game
from engagements.types import Types

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# format -> content type, as the HTTP routes name them (`/api/games/{id}/export.<format>`)
CONTENT_TYPES = {"json": "application/json", "zip": "application/zip", "xlsx": XLSX}
JSON_FORMAT = "engagements-export/1"  # the JSON's `format`: changes when a field changes meaning
BOM = "\ufeff"  # a spreadsheet reads a CSV file as UTF-8 only when it starts with one


def export_file(game: Game, types: Types, fmt: str) -> tuple[str, bytes]:
    """A loaded game's export in `fmt` (one of CONTENT_TYPES): its file name and its bytes."""
    built = build(game, types)
    return filename(built, fmt), render(built, fmt)


def filename(export: GameExport, fmt: str) -> str:
    """`export-<join code>.<format>`, like the console's other downloads (`results-<code>.csv`)."""
    return f"export-{export.code}.{fmt}"


def render(export: GameExport, fmt: str) -> bytes:
    """The export in one of CONTENT_TYPES' formats."""
    match fmt:
        case "json":
            return as_json(export)
        case "zip":
            return as_zip(export)
        case "xlsx":
            return as_xlsx(export)
    raise ValueError(f"no export format {fmt!r}")


def files(export: GameExport, fmt: str) -> dict[str, bytes]:
    """The files `engagements export` writes, by path: `csv` is the zip's folder of CSV files,
    `json` and `xlsx` the one file the HTTP routes send."""
    if fmt == "csv":
        return {f"export-{export.code}/{name}": text.encode() for name, text in csv_files(export).items()}
    return {filename(export, fmt): render(export, fmt)}


def as_json(export: GameExport) -> bytes:
    """`{"format", "game", "rounds": [{…, "results": [the type's rows]}], "players": [{…, "points":
    {round: points}}]}`: README.md, "Exports"."""
    doc = {"format": JSON_FORMAT, "game": export.game, "rounds": export.rounds, "players": export.players}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def csv_files(export: GameExport) -> dict[str, str]:
    """`game.csv`, `rounds.csv`, `players.csv` and `results.csv` (the host console's results CSV),
    each with a byte order mark so that a spreadsheet reads it as UTF-8."""
    return {f"{t.name}.csv": BOM + csv_text(t) for t in tables(export)}


def as_zip(export: GameExport) -> bytes:
    """The CSV files in their folder, as `engagements export --format csv` writes them."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files(export, "csv").items():
            archive.writestr(path, data)
    return out.getvalue()


def as_xlsx(export: GameExport) -> bytes:
    """One sheet per table (engagements.exportsheet), openpyxl loaded only when one is asked for: no
    Lambda cold start pays for it."""
    from engagements.exportsheet import workbook

    return workbook(tables(export, results_by_type=True))
