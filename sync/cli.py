"""`engagements sync`: the admin's command, and `make cloud-sync`'s."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from engagements.store.base import StoreError
from engagements.store.sqlite import SQLiteStore
from sync.cloud import GameReport, Progress, pending_games, sync_all
from sync.target import Target, open_cloud


def cloud_options(command: Any) -> Any:
    """The options naming the cloud table, shared by `sync` and `serve --auto-sync`/`--store dynamodb`."""
    options = [
        click.option("--table", envvar="ENGAGEMENTS_CLOUD_TABLE", help="The cloud DynamoDB table."),
        click.option(
            "--stack",
            envvar="ENGAGEMENTS_CLOUD_STACK",
            help="Read the table name from this base stack's outputs.",
        ),
        click.option(
            "--endpoint-url",
            envvar="ENGAGEMENTS_CLOUD_ENDPOINT_URL",
            help="A DynamoDB-compatible endpoint (DynamoDB Local, moto); AWS itself when left out.",
        ),
        click.option(
            "--region", envvar="ENGAGEMENTS_CLOUD_REGION", help="AWS region (else AWS_REGION or profile)."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


data_dir_option = click.option(
    "--data-dir",
    envvar="ENGAGEMENTS_DATA_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="The appliance's data directory (an SQLite database).",
)
retention_option = click.option(
    "--retention-days",
    envvar="ENGAGEMENTS_RETENTION_DAYS",
    type=click.IntRange(1, 3650),
    default=7,
    show_default=True,
    help="Days a game stays on this appliance: from its start, or for a finished game from its sync.",
)


@click.command()
@data_dir_option
@cloud_options
@retention_option
@click.option("--dry-run", is_flag=True, help="List what would go up; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report for scripts.")
def sync(
    data_dir: Path,
    table: str | None,
    stack: str | None,
    endpoint_url: str | None,
    region: str | None,
    retention_days: int,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Upload finished games to the cloud table, verify them there, then mark them synced here."""
    target = Target(table=table, stack=stack, endpoint_url=endpoint_url, region=region)
    try:
        reports = asyncio.run(run(data_dir, target, retention_days, dry_run, as_json))
    except StoreError as e:
        if as_json:
            click.echo(json.dumps({"error": str(e)}))
        raise click.ClickException(str(e)) from None
    failed = [r for r in reports if r.status == "failed"]
    if as_json:
        click.echo(json.dumps({"games": [dataclasses.asdict(r) for r in reports]}, indent=2))
    else:
        click.echo(summary(reports, dry_run))
    if failed:
        sys.exit(1)


async def run(
    data_dir: Path, target: Target, retention_days: int, dry_run: bool, quiet: bool
) -> list[GameReport]:
    database = data_dir / "engagements.db"
    if not database.exists():
        raise StoreError(f"no appliance data at {database}: pass --data-dir")
    local = await SQLiteStore.open(database)
    cloud = None
    try:
        if not dry_run:
            cloud = await open_cloud(target)  # before anything else: a bad target changes nothing here
        games = await pending_games(local)
        total = sum(len(g.items) for g in games)
        show = not quiet and not dry_run and total and sys.stdout.isatty()
        bar_or_nothing = (
            click.progressbar(
                length=total, label="Syncing", show_pos=True, show_percent=True, item_show_func=lambda g: g
            )
            if show
            else contextlib.nullcontext()
        )
        with bar_or_nothing as bar:
            if show:
                progress = Progress(
                    game=lambda r: bar.update(0, f"{r.title} ({r.game_id})"), items=bar.update
                )
            else:
                progress = Progress() if dry_run or quiet else Progress(game=_plain)
            return await sync_all(
                local,
                cloud,
                now_ms=time.time_ns() // 1_000_000,
                retention_days=retention_days,
                dry_run=dry_run,
                progress=progress,
                games=games,
            )
    finally:
        if cloud is not None:
            await cloud.close()
        await local.close()


def _plain(report: GameReport) -> None:
    click.echo(f"{report.game_id}  {report.title}  ({report.items} items)")


def summary(reports: list[GameReport], dry_run: bool) -> str:
    if not reports:
        return "Nothing to sync: every finished game is already in the cloud."
    if dry_run:
        lines = [f"  {r.game_id}  {r.title}  ({r.items} items)" for r in reports]
        return "\n".join([f"Would sync {len(reports)} finished games:", *lines])
    done = [r for r in reports if r.status == "synced"]
    failed = [r for r in reports if r.status == "failed"]
    lines = [f"Synced {len(done)} of {len(reports)} games ({sum(r.uploaded for r in done)} items uploaded)."]
    lines += [f"  failed: {r.game_id}  {r.title}: {r.error}" for r in failed]
    return "\n".join(lines)
