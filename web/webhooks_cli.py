"""`engagements webhooks`: add, list, remove and test webhooks, and a receiver to try them with.

On the appliance the commands go through its admin API (`--server`, authorised by the admin secret:
`--admin-secret`, or the data directory's), so the running appliance knows at once. With `--table` or
`--stack` they change the cloud table's webhooks instead, which the stack's functions read (authorised by
your AWS credentials). A webhook's secret is printed once, by `add`, and never again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import click

from engagements import deliveries
from engagements.model import Rejected
from engagements.store.base import StoreError
from sync.cli import cloud_options, data_dir_option
from sync.show import shown
from sync.target import Target, open_cloud
from web.admin import SECRET_FILE
from web.receiver import Receiver
from web.webhooks import Webhooks

SECRET_ENV = "ENGAGEMENTS_WEBHOOK_SECRET"


def _now_ms() -> int:
    return int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)


def _when(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def where_options(command: Any) -> Any:
    """The appliance (`--server` and its admin secret) or the cloud table (`--table`, `--stack`)."""
    options = [
        click.option(
            "--server",
            envvar="ENGAGEMENTS_SERVER",
            default="http://127.0.0.1:8080",
            show_default=True,
            help="The appliance whose webhooks these are.",
        ),
        click.option(
            "--admin-secret",
            envvar="ENGAGEMENTS_ADMIN_SECRET",
            help="The appliance's admin secret; else the one kept in the data directory.",
        ),
        data_dir_option,
        cloud_options,
    ]
    for option in reversed(options):
        command = option(command)
    return command


class Place:
    """Where the webhooks are: the appliance's admin API, or a cloud table (then `table` is set)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.server = options["server"].rstrip("/")
        self.target = (
            Target(options["table"], options["stack"], options["endpoint_url"], options["region"])
            if options["table"] or options["stack"]
            else None
        )
        self.options = options

    def secret(self) -> str:
        given = self.options["admin_secret"]
        if given:
            return given.strip()
        path: Path = self.options["data_dir"] / SECRET_FILE
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise click.ClickException(
                f"cannot read the admin secret from {path} ({e.strerror}): pass --admin-secret or --data-dir"
            ) from None

    async def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.secret()}"}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.request(method, f"{self.server}{path}", json=body, headers=headers) as r,
            ):
                answer = await r.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as e:
            raise click.ClickException(f"cannot reach the appliance at {self.server}: {e}") from None
        if not isinstance(answer, dict):
            raise click.ClickException(f"{self.server} answered, but not as an Engagements appliance does")
        if isinstance(answer.get("error"), dict):
            raise click.ClickException(shown(str(answer["error"].get("message", "refused"))))
        return answer

    async def table(self, *, private: bool = False) -> Webhooks:
        assert self.target is not None
        return Webhooks(await open_cloud(self.target), _now_ms, private=private)


def _run(work: Any) -> Any:
    try:
        return asyncio.run(work)
    except (StoreError, Rejected) as e:
        raise click.ClickException(shown(str(getattr(e, "message", e)))) from None


@click.group()
def webhooks() -> None:
    """Webhooks: signed events (game finished, game synced) sent to URLs you choose.

    See docs/operations.md, "Webhooks", for what a receiver gets and how it checks the signature.
    """


@webhooks.command()
@click.argument("url")
@where_options
@click.option(
    "--allow-private",
    is_flag=True,
    help="With --table: accept a private or loopback address (a local stack's receiver on this machine).",
)
def add(url: str, allow_private: bool, **options: Any) -> None:
    """Add a webhook; prints its id and its secret, this once."""
    place = Place(options)

    async def work() -> tuple[dict[str, Any], str]:
        if place.target is None:
            made = await place.api("POST", "/api/webhooks", {"url": url})
            return made["webhook"], made["secret"]
        hooks = await place.table(private=allow_private)
        try:
            hook = await hooks.add(url)
        finally:
            await hooks.store.close()
        return deliveries.hook_view(hook), hook["secret"]

    hook, secret = _run(work())
    click.echo(f"Added webhook {hook['id']}: {shown(hook['url'])}")
    click.echo(
        f"Its secret (shown this once: give it to the receiver, it checks each signature with it):\n{secret}"
    )


@webhooks.command(name="list")
@where_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(as_json: bool, **options: Any) -> None:
    """The webhooks and their latest deliveries (the delivery log), newest first."""
    place = Place(options)

    async def work() -> list[dict[str, Any]]:
        if place.target is None:
            return (await place.api("GET", "/api/webhooks"))["webhooks"]
        hooks = await place.table()
        try:
            return await hooks.listing()
        finally:
            await hooks.store.close()

    found = _run(work())
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    if not found:
        click.echo("No webhooks. Add one with: engagements webhooks add URL")
    for hook in found:
        click.echo(f"{hook['id']}  {shown(hook['url'])}  (added {_when(hook['created_at'])})")
        for d in hook["deliveries"]:
            answer = d["last_status"] or shown(d["last_error"] or "")
            due = f", next attempt {_when(d['next_at'])}" if d["status"] == deliveries.PENDING else ""
            click.echo(
                f"  {_when(d['created_at'])}  {d['event']:<14} {d['status']:<9} "
                f"{d['attempts']} attempt(s)  {answer}{due}"
            )


@webhooks.command()
@click.argument("webhook_id")
@where_options
def remove(webhook_id: str, **options: Any) -> None:
    """Remove a webhook; its pending deliveries are given up."""
    place = Place(options)

    async def work() -> None:
        if place.target is None:
            await place.api("DELETE", f"/api/webhooks/{webhook_id}")
            return
        hooks = await place.table()
        try:
            await hooks.remove(webhook_id)
        finally:
            await hooks.store.close()

    _run(work())
    click.echo(f"Removed webhook {shown(webhook_id)}.")


@webhooks.command()
@click.argument("webhook_id")
@where_options
def test(webhook_id: str, **options: Any) -> None:
    """Send a `webhook.test` event to one of the appliance's webhooks (see it with `list`)."""
    place = Place(options)
    if place.target is not None:
        raise click.UsageError("test events are sent by an appliance: leave out --table and --stack")
    answer = _run(place.api("POST", f"/api/webhooks/{webhook_id}/test"))
    click.echo(
        f"Queued test event {answer['delivery']['event_id']}: `engagements webhooks list` shows how it went."
    )


@webhooks.command(name="test-receiver")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=9000, show_default=True)
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"A file holding the webhook's secret (else ${SECRET_ENV}).",
)
def test_receiver(host: str, port: int, secret_file: Path | None) -> None:
    """Listen for deliveries, check each signature and print what came."""
    secret = (
        secret_file.read_text(encoding="utf-8").strip() if secret_file else os.environ.get(SECRET_ENV, "")
    )
    if not secret:
        raise click.UsageError(f"the webhook's secret is needed: --secret-file FILE or ${SECRET_ENV}")
    receiver = Receiver(secret, out=lambda text: click.echo(text))

    async def serve() -> None:
        bound = await receiver.start(host, port)
        click.echo(f"Listening on http://{host}:{bound}/ for signed deliveries (Ctrl-C stops).")
        try:
            await asyncio.Event().wait()
        finally:
            await receiver.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
