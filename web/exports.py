"""`engagements export GAME`: a game's export written from the appliance's data directory, the same
files the host console and the HTTP API give (engagements.exportfiles), for a game whose console is
gone or for a script. It reads the database while `serve` runs (SQLite in WAL mode lets it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from engagements import exportfiles, items
from engagements.codes import is_code, normalize_code
from engagements.export import build
from engagements.plugins import load_types
from engagements.store.base import SK, StoreError
from engagements.store.sqlite import SQLiteStore
from sync.cli import OneLineErrors, data_dir_option
from sync.show import shown

FORMATS = ("csv", "json", "xlsx")


@click.command(cls=OneLineErrors)
@click.argument("game")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help="csv: a folder of game.csv, rounds.csv, players.csv and results.csv; json: one file for "
    "programs; xlsx: one spreadsheet, a sheet per table.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The directory to write into (made if missing).",
)
@data_dir_option
def export(game: str, fmt: str, out: Path, data_dir: Path) -> None:
    """Write GAME's export (its id, or its join code): the game, each round, each player, every result."""
    try:
        written = asyncio.run(run(game, fmt, out, data_dir))
    except StoreError as e:
        raise click.ClickException(shown(" ".join(str(e).split()))) from None  # one line, always
    for path in written:
        click.echo(str(path))


async def run(game_id: str, fmt: str, out: Path, data_dir: Path) -> list[Path]:
    database = data_dir / "engagements.db"
    if not database.exists():
        raise StoreError(f"no appliance data at {database}: pass --data-dir")
    store = await SQLiteStore.open(database)
    try:
        found = await store.query_all(items.game_pk(game_id))
        code = normalize_code(game_id)
        if not found and is_code(code):
            by_code = await store.get(items.code_pk(code), "CODE")
            if by_code is not None:
                found = await store.query_all(items.game_pk(by_code["game_id"]))
    finally:
        await store.close()
    if not any(item[SK] == items.META for item in found):
        raise StoreError(f"no game {game_id!r} in {database}: give its id or its join code")
    types = load_types()
    written = []
    for name, data in exportfiles.files(build(items.load_game(found, types), types), fmt).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
