"""`engagements sync`: the admin's command, and `make cloud-sync`'s.

Every mistake in its options is one line on standard error and a non-zero exit, never a usage block or
a traceback: it is often run from scripts and `make`, whose logs should say what to fix and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from engagements import lifecycle, plugins
from engagements.store.base import StoreError
from engagements.store.sqlite import SQLiteStore
from sync.cloud import KEEP_CLOUD, KEEP_LOCAL, GameReport, Progress, Retention, resolve, sync_all, verify_all
from sync.show import shown
from sync.target import Target, open_cloud

# The services' own rules, checked here so that a typo is named before any AWS call: a region is one DNS
# label (botocore), a table 3 to 255 of these characters (DynamoDB), a stack name starts with a letter
# (CloudFormation, which also takes a stack's ARN).
REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")
TABLE = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
STACK = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")


class OptionError(click.ClickException):
    """A bad option, told in one line (click's UsageError adds the usage and a hint)."""

    exit_code = 2


class OneLineErrors(click.Command):
    """A command whose option errors are one line: `Error: Invalid value for '--x': ...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            raise OptionError(e.format_message()) from None


def check_endpoint_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(
            f"--endpoint-url must be a URL such as http://127.0.0.1:8000, not {shown(repr(value))}"
        )
    return value


def check_region(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not REGION.fullmatch(value):
        raise OptionError(f"--region must be a region name such as eu-west-1, not {shown(repr(value))}")
    return value or None


def _table(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not TABLE.fullmatch(value):
        raise OptionError(
            f"--table must be a DynamoDB table name (3 to 255 letters, digits, _ . -), "
            f"not {shown(repr(value))}"
        )
    return value or None


def _stack(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value and not (STACK.fullmatch(value) or value.startswith("arn:")):
        raise OptionError(
            f"--stack must be a CloudFormation stack name (a letter, then letters, digits and -), "
            f"not {shown(repr(value))}"
        )
    return value or None


def cloud_options(command: Any) -> Any:
    """The options naming the cloud table, shared by `sync` and `serve --auto-sync`/`--store dynamodb`."""
    options = [
        click.option(
            "--table", envvar="ENGAGEMENTS_CLOUD_TABLE", callback=_table, help="The cloud DynamoDB table."
        ),
        click.option(
            "--stack",
            envvar="ENGAGEMENTS_CLOUD_STACK",
            callback=_stack,
            help="Read the table name from this base stack's outputs.",
        ),
        click.option(
            "--endpoint-url",
            envvar="ENGAGEMENTS_CLOUD_ENDPOINT_URL",
            callback=check_endpoint_url,
            help="A DynamoDB-compatible endpoint (DynamoDB Local, moto); AWS itself when left out.",
        ),
        click.option(
            "--region",
            envvar="ENGAGEMENTS_CLOUD_REGION",
            callback=check_region,
            help="AWS region (else AWS_REGION or profile).",
        ),
        click.option(
            "--cloud-retention-days",
            envvar="ENGAGEMENTS_CLOUD_RETENTION_DAYS",
            type=click.IntRange(1, 3650),
            default=lifecycle.CLOUD_RETENTION_DAYS,
            show_default=True,
            help="Days the cloud keeps a synced game, from its sync (the items' ttl there).",
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


@click.command(cls=OneLineErrors)
@data_dir_option
@cloud_options
@retention_option
@click.option("--dry-run", is_flag=True, help="List what would go up; change nothing.")
@click.option(
    "--verify",
    is_flag=True,
    help="Also re-check the synced games still here against the cloud; put back what it lost.",
)
@click.option(
    "--resolve",
    type=(click.Choice([KEEP_LOCAL, KEEP_CLOUD]), str),
    default=None,
    metavar="keep-local|keep-cloud GAME",
    help="Settle one game whose cloud copy differs: overwrite the cloud's, or keep it as it is.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report for scripts.")
def sync(
    data_dir: Path,
    table: str | None,
    stack: str | None,
    endpoint_url: str | None,
    region: str | None,
    cloud_retention_days: int,
    retention_days: int,
    dry_run: bool,
    verify: bool,
    resolve: tuple[str, str] | None,
    as_json: bool,
) -> None:
    """Upload finished games to the cloud table, verify them there, then mark them synced here."""
    if dry_run and (verify or resolve):
        raise OptionError("--dry-run contacts nothing, so it cannot --verify or --resolve")
    if verify and resolve:
        raise OptionError("--resolve settles one game: run --verify on its own")
    target = Target(table, stack, endpoint_url, region, cloud_retention_days)
    retention = Retention(retention_days, cloud_retention_days)
    try:
        reports = asyncio.run(run(data_dir, target, retention, dry_run, verify, resolve, as_json))
    except StoreError as e:
        if as_json:
            click.echo(json.dumps({"error": str(e)}))
        raise click.ClickException(shown(" ".join(str(e).split()))) from None  # one line, always
    failed = [r for r in reports if r.status == "failed"]
    if as_json:
        click.echo(json.dumps({"games": [dataclasses.asdict(r) for r in reports]}, indent=2))
    else:
        click.echo(summary(reports, dry_run))
    if failed:
        sys.exit(1)


async def run(
    data_dir: Path,
    target: Target,
    retention: Retention,
    dry_run: bool,
    verify: bool,
    resolving: tuple[str, str] | None,
    quiet: bool,
) -> list[GameReport]:
    database = data_dir / "engagements.db"
    if not database.exists():
        raise StoreError(f"no appliance data at {database}: pass --data-dir")
    local = await SQLiteStore.open(database)
    cloud = None
    try:
        if not dry_run:
            cloud = await open_cloud(target)  # before anything else: a bad target changes nothing here
        now = time.time_ns() // 1_000_000
        types = plugins.load_types()  # a game's result pages go up with it (lifecycle.cloud_copy)
        if resolving is not None:
            assert cloud is not None
            choice, game_id = resolving
            return [
                await resolve(local, cloud, game_id, choice, now_ms=now, retention=retention, types=types)
            ]
        games = await lifecycle.pending(local)
        total = sum(len(g) for g in games)
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
                    game=lambda r: bar.update(0, shown(f"{r.title} ({r.game_id})")), items=bar.update
                )
            else:
                progress = Progress() if dry_run or quiet else Progress(game=_plain)
            reports = await sync_all(
                local,
                cloud,
                now_ms=now,
                retention=retention,
                types=types,
                dry_run=dry_run,
                progress=progress,
                games=games,
            )
        if verify:
            assert cloud is not None
            synced_now = {r.game_id for r in reports}
            checked = await verify_all(local, cloud, retention=retention, types=types, progress=Progress())
            reports += [r for r in checked if r.game_id not in synced_now]
        return reports
    finally:
        if cloud is not None:
            await cloud.close()
        await local.close()


def _plain(report: GameReport) -> None:
    click.echo(shown(f"{report.game_id}  {report.title}  ({report.items} items)"))


VERIFIED = ("verified", "repaired", "expired")


def summary(reports: list[GameReport], dry_run: bool) -> str:
    """What the admin reads: counts first, then one line per game that needs them."""
    if dry_run:
        if not reports:
            return "Nothing to sync: every finished game is already in the cloud."
        lines = [shown(f"  {r.game_id}  {r.title}  ({r.items} items)") for r in reports]
        return "\n".join([f"Would sync {len(reports)} finished games:", *lines])
    resolved = [r for r in reports if r.action == "resolve"]
    if resolved:
        r = resolved[0]
        if r.status == "kept cloud":
            return shown(f"Kept the cloud copy of {r.game_id}  {r.title}: marked synced, 0 items uploaded.")
        return shown(
            f"Kept the local copy of {r.game_id}  {r.title}: {r.uploaded} items uploaded, "
            f"{r.removed} removed from the cloud."
        )
    checked = [r for r in reports if r.action == "verify"]
    syncing = [r for r in reports if r.action == "sync"]
    lines = []
    if syncing:
        done = [r for r in syncing if r.status == "synced"]
        uploaded = sum(r.uploaded for r in syncing)
        lines.append(f"Synced {len(done)} of {len(syncing)} games ({uploaded} items uploaded).")
    else:
        lines.append("Nothing to sync: every finished game is already in the cloud.")
    if checked:
        counts = {status: sum(r.status == status for r in checked) for status in VERIFIED}
        uploaded = sum(r.uploaded for r in checked)
        lines.append(
            f"Verified {len(checked)} synced games: {counts['verified']} whole, {counts['repaired']} "
            f"repaired ({uploaded} items uploaded), {counts['expired']} expired from the cloud."
        )
    lines += [shown(f"  failed: {r.game_id}  {r.title}: {r.error}") for r in reports if r.status == "failed"]
    return "\n".join(lines)
