"""The ``engagements`` command line."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

import click

from deploy.command import deploy
from engagements import __version__
from engagements.deliveries import Retry
from engagements.store.base import StoreError
from engagements.telemetry.logs import FORMATS, level_named
from engagements.text import printable
from sync.cli import cloud_options, data_dir_option, retention_option, sync
from sync.show import shown
from sync.target import Target
from web.admin import AdminSecretError
from web.doctor import doctor
from web.exports import export
from web.logs import setup_logging
from web.mdns import discover as discover_servers
from web.mdns import parse_interfaces
from web.network import join_base_url
from web.server import serve as run_server
from web.settings import Settings
from web.systemd import install_service
from web.tls import TLSError
from web.tracing import EXPORTERS, TracingError
from web.webhooks_cli import webhooks


def _interfaces_option(ctx: click.Context, param: click.Parameter, value: str) -> list[str] | None:
    try:
        return parse_interfaces(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@click.group()
@click.version_option(__version__, prog_name="engagements")
@click.option(
    "--config",
    envvar="ENGAGEMENTS_CONFIG",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A TOML file whose [serve] and [sync] tables give option defaults (names as on the command line).",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Engagements: live audience games run from one laptop on the venue network.

    The laptop serves the host console, the projector screen and the players'
    phones over the local network; players join by scanning a QR code, and the
    server advertises itself over mDNS so other devices can find it.
    """
    if config is not None:
        ctx.default_map = read_config(config)


def read_config(path: Path) -> dict[str, dict[str, object]]:
    """Options from a config file, below the command line and environment variables."""
    try:
        doc = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"{path}: {e}", param_hint="--config") from None
    return {
        command: {key.replace("-", "_"): value for key, value in table.items()}
        for command, table in doc.items()
        if isinstance(table, dict)
    }


def interfaces_option(flag: str, doing: str) -> Any:
    return click.option(
        flag,
        envvar="ENGAGEMENTS_MDNS_INTERFACES",
        default="all",
        show_default=True,
        callback=_interfaces_option,
        help=f"Addresses to {doing}, comma separated, or 'all' (a venue). Tests and dev machines: 127.0.0.1.",
    )


def _public_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return join_base_url(value, "", 0)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx=ctx, param=param) from None


@main.command()
@click.option(
    "--host",
    envvar="ENGAGEMENTS_HOST",
    default="0.0.0.0",
    show_default=True,
    help="Address to serve HTTP on.",
)
@click.option(
    "--port", envvar="ENGAGEMENTS_PORT", type=click.IntRange(0, 65535), default=8080, show_default=True
)
@data_dir_option
@interfaces_option("--mdns-interfaces", "announce mDNS on")
@click.option(
    "--no-mdns", is_flag=True, envvar="ENGAGEMENTS_NO_MDNS", help="Do not announce the server over mDNS."
)
@click.option(
    "--public-url",
    envvar="ENGAGEMENTS_PUBLIC_URL",
    callback=_public_url,
    help="Base URL for QR codes and join links when the detected LAN address is wrong, e.g. http://10.0.0.5:8080.",
)
@click.option("--name", envvar="ENGAGEMENTS_NAME", default="", help="Name to announce over mDNS.")
@retention_option
@click.option(
    "--store",
    envvar="ENGAGEMENTS_STORE",
    type=click.Choice(["sqlite", "dynamodb"]),
    default="sqlite",
    show_default=True,
    help="Keep games in the embedded SQLite database, or serve them from the cloud DynamoDB table.",
)
@cloud_options
@click.option(
    "--auto-sync",
    envvar="ENGAGEMENTS_AUTO_SYNC",
    is_flag=True,
    help="Sync finished games to the cloud table in the background, retrying while offline.",
)
@click.option(
    "--admin-secret",
    envvar="ENGAGEMENTS_ADMIN_SECRET",
    help="The secret that creates and lists games (12 characters or more); else the data directory's.",
)
@click.option(
    "--certfile",
    envvar="ENGAGEMENTS_CERTFILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM certificate chain (leaf first): serve HTTPS and WSS. Needs --keyfile.",
)
@click.option(
    "--keyfile",
    envvar="ENGAGEMENTS_KEYFILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The certificate's PEM private key (unencrypted).",
)
@click.option(
    "--webhook-timeout",
    envvar="ENGAGEMENTS_WEBHOOK_TIMEOUT",
    type=click.FloatRange(0.1, 60),
    default=Retry.timeout,
    show_default=True,
    help="Seconds a webhook receiver has to answer one delivery before it is retried.",
)
@click.option(
    "--webhook-retry",
    envvar="ENGAGEMENTS_WEBHOOK_RETRY",
    type=click.FloatRange(0.1, 3600),
    default=Retry.first,
    show_default=True,
    help="Seconds before a failed webhook delivery's first retry (at most; doubled each time after).",
)
@click.option(
    "--log-format",
    envvar="ENGAGEMENTS_LOG_FORMAT",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="Log lines on stderr: JSON with correlation ids, or text; auto: text on a terminal, else JSON.",
)
@click.option(
    "--log-level",
    envvar="ENGAGEMENTS_LOG_LEVEL",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="debug adds a line per command and request (for a test night, not a full room).",
)
@click.option(
    "--trace",
    envvar="ENGAGEMENTS_TRACE",
    type=click.Choice(EXPORTERS),
    default="none",
    show_default=True,
    help="OpenTelemetry spans: console (stderr) or otlp (OTEL_EXPORTER_OTLP_ENDPOINT).",
)
def serve(
    host: str,
    port: int,
    data_dir: Path,
    mdns_interfaces: list[str] | None,
    no_mdns: bool,
    public_url: str | None,
    name: str,
    retention_days: int,
    store: str,
    table: str | None,
    stack: str | None,
    endpoint_url: str | None,
    region: str | None,
    cloud_retention_days: int,
    auto_sync: bool,
    admin_secret: str | None,
    certfile: Path | None,
    keyfile: Path | None,
    webhook_timeout: float,
    webhook_retry: float,
    log_format: str,
    log_level: str,
    trace: str,
) -> None:
    """Run the appliance: host console, big screen and players' phones, on this network."""
    if (certfile is None) != (keyfile is None):
        raise click.UsageError("--certfile and --keyfile go together")
    if certfile is not None and public_url is not None and not public_url.startswith("https://"):
        raise click.UsageError("with --certfile the appliance speaks HTTPS: --public-url must be https://")
    cloud = Target(table, stack, endpoint_url, region, cloud_retention_days) if table or stack else None
    if (store == "dynamodb" or auto_sync) and cloud is None:
        raise click.UsageError("--store dynamodb and --auto-sync need the cloud table: --table or --stack")
    if store == "dynamodb" and auto_sync:
        raise click.UsageError(
            "--auto-sync copies the embedded store to the cloud: it has nothing to do here"
        )
    settings = Settings(
        host=host,
        port=port,
        data_dir=data_dir,
        mdns=not no_mdns,
        mdns_interfaces=mdns_interfaces,
        public_url=public_url,
        name=name,
        retention_days=retention_days,
        store=store,
        cloud=cloud,
        auto_sync=auto_sync,
        admin_secret=admin_secret,
        certfile=certfile,
        keyfile=keyfile,
        webhooks=Retry(first=webhook_retry, timeout=webhook_timeout),
        trace=trace,
    )
    setup_logging(log_format, level_named(log_level))
    try:
        asyncio.run(run_server(settings))
    except (StoreError, AdminSecretError, TLSError, TracingError) as e:
        raise click.ClickException(shown(" ".join(str(e).split()))) from None  # one line, always


@main.command()
@interfaces_option("--interfaces", "browse mDNS on")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="Seconds to listen for servers.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def discover(interfaces: list[str] | None, timeout: float, as_json: bool) -> None:
    """List Engagements servers advertising on the local network."""
    found = asyncio.run(discover_servers(interfaces, timeout))
    if as_json:
        click.echo(json.dumps([{**dataclasses.asdict(item), "url": item.url} for item in found], indent=2))
    elif not found:
        click.echo("No Engagements servers found on the network.")
    else:
        # Names and versions come from anyone on the network: escaped, they cannot drive the terminal.
        heard = ((printable(item.name), printable(item.url), printable(item.version)) for item in found)
        rows = [("NAME", "URL", "VERSION"), *heard]
        name_width = max(len(row[0]) for row in rows)
        url_width = max(len(row[1]) for row in rows)
        for name, url, version in rows:
            click.echo(f"{name:<{name_width}}  {url:<{url_width}}  {version}")


main.add_command(sync)
main.add_command(export)
main.add_command(doctor)
main.add_command(install_service)
main.add_command(webhooks)
main.add_command(deploy)

if __name__ == "__main__":
    main()
