"""`python -m tests.cloudlocal` (what `make cloud-local` runs): moto, the table, the gateway, the URLs.

Every option has an `ENGAGEMENTS_CLOUD_LOCAL_…` environment variable; docs/cloud-local.md lists them.
Everything listens on 127.0.0.1 only and every AWS client gets dummy credentials, so nothing reaches AWS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

import boto3

from .connections import Limits
from .gateway import Gateway, Settings
from .stack import deploy_base
from .template import Locale

PREFIX = "ENGAGEMENTS_CLOUD_LOCAL_"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(PREFIX + name, default)


def _list(name: str) -> list[str]:
    """A comma-separated environment variable, for the options that repeat."""
    return [item.strip() for item in (_env(name) or "").split(",") if item.strip()]


def _pair(value: str) -> tuple[str, str]:
    """NAME=VALUE, refused by argparse (with the usage) when there is no `=`."""
    name, sep, rest = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{value!r} is not NAME=VALUE")
    return name, rest


def local_parameters(base_stack: str, pages_url: str | None = None) -> dict[str, str]:
    """Values for the parameters the contract's templates declare without a default (docs/cloud-local.md).

    The code location is unused (handlers are imported from this repository); the realtime stack's name is
    the one the gateway gives deploy/realtime.yaml, so the HTTP stack's imports of its exports resolve.
    With the pages served at `pages_url`, the HTTP API allows that origin and join links lead there.
    """
    parameters = {
        "BaseStack": base_stack,
        "RealtimeStack": "local-realtime",
        "CodeBucket": "cloud-local",
        "CodeKey": "cloud-lambda.zip",
        "AllowedOrigins": "http://127.0.0.1",
    }
    if pages_url is not None:
        parameters["AllowedOrigins"] += f",{pages_url}"
        parameters["PublicUrl"] = pages_url
    return parameters


def store_admin_secret(gateway: Gateway, secret: str) -> None:
    """Puts the secret in moto's SSM under every ADMIN_SECRET_PARAMETER, for handlers that read it there."""
    names = {f.environment["ADMIN_SECRET_PARAMETER"] for f in gateway.wiring.functions.values()
             if "ADMIN_SECRET_PARAMETER" in f.environment}  # fmt: skip
    ssm = boto3.client("ssm", endpoint_url=gateway.settings.aws_endpoint, region_name=gateway.settings.region)
    for name in names:
        ssm.put_parameter(Name=name, Value=secret, Type="SecureString", Overwrite=True)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.cloudlocal",
        description="A local API Gateway and Lambda for the serverless stack: a test double of AWS.",
    )
    p.add_argument(
        "--template",
        action="append",
        type=Path,
        default=[Path(t) for t in _list("TEMPLATES")],
        help="a CloudFormation template to serve (repeat; read in order)",
    )
    p.add_argument(
        "--base-template",
        type=Path,
        default=Path(_env("BASE_TEMPLATE", "deploy/base.yaml")),
        help="the template of the table, deployed on moto",
    )
    p.add_argument(
        "--base-stack",
        default=_env("BASE_STACK", "engagements-dev"),
        help="the base stack's name: its exports are <name>-TableName and <name>-TableArn",
    )
    p.add_argument(
        "--dynamodb-endpoint",
        default=_env("DYNAMODB_ENDPOINT"),
        help="a running moto server (DynamoDB, SQS, SSM); default: start one here",
    )
    p.add_argument(
        "--moto-port",
        type=int,
        default=int(_env("MOTO_PORT", "0")),
        help="port of the moto server started here (0: any free port)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=int(_env("PORT", "8787")),
        help="WebSocket API, management API and Lambda Invoke API",
    )
    p.add_argument("--http-port", type=int, default=int(_env("HTTP_PORT", "8788")), help="HTTP API")
    p.add_argument(
        "--pages-port",
        type=int,
        default=int(_env("PAGES_PORT", "8789")),
        help="the browser pages, rendered for these APIs (the stand-in for S3 and CloudFront)",
    )
    p.add_argument("--region", default=_env("REGION", "us-east-1"))
    p.add_argument(
        "--parameter",
        action="append",
        type=_pair,
        default=[_pair(item) for item in _list("PARAMETERS")],
        metavar="NAME=VALUE",
        help="a template parameter (repeat)",
    )
    p.add_argument(
        "--env",
        action="append",
        type=_pair,
        default=[_pair(item) for item in _list("ENV")],
        metavar="NAME=VALUE",
        help="an environment variable for every function, over the templates' (repeat)",
    )
    p.add_argument(
        "--idle-timeout",
        type=float,
        default=float(_env("IDLE_TIMEOUT", "600")),
        help="seconds without traffic before a socket is closed (API Gateway: 600)",
    )
    p.add_argument(
        "--max-connection-age",
        type=float,
        default=float(_env("MAX_CONNECTION_AGE", "7200")),
        help="seconds before any socket is closed (API Gateway: 7200)",
    )
    rate = _env("POST_RATE")
    p.add_argument(
        "--post-rate",
        type=float,
        default=float(rate) if rate else None,
        help="post_to_connection calls a second before 429 (default: no limit)",
    )
    p.add_argument(
        "--poll-interval",
        type=float,
        default=float(_env("POLL_INTERVAL", "0.05")),
        help="seconds between polls of an empty SQS queue: how late a deadline may fire",
    )
    p.add_argument(
        "--admin-secret",
        default=_env("ADMIN_SECRET"),
        help="the admin secret the handlers accept (default: a new one, printed)",
    )
    return p


@contextlib.contextmanager
def moto_server(endpoint: str | None, port: int) -> Iterator[str]:
    """The given endpoint, or a moto server started on 127.0.0.1 for as long as the block runs."""
    if endpoint:
        yield endpoint
        return
    from moto.server import ThreadedMotoServer

    from tests.cloudlocal.transactions import install

    install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per SQS poll
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.stop()


async def serve(args: argparse.Namespace, aws_endpoint: str) -> None:
    chosen_secret = args.admin_secret  # a chosen secret is never printed, as the appliance does
    if chosen_secret is None:
        args.admin_secret = secrets.token_urlsafe(18)
    settings = Settings(
        templates=args.template,
        aws_endpoint=aws_endpoint,
        port=args.port,
        http_port=args.http_port,
        pages_port=args.pages_port,
        region=args.region,
        environment={"ADMIN_SECRET": args.admin_secret, **dict(args.env)},
        limits=Limits(idle_seconds=args.idle_timeout, max_age_seconds=args.max_connection_age),
        post_rate=args.post_rate,
        poll_interval=args.poll_interval,
    )
    settings.parameters = {**local_parameters(args.base_stack, settings.pages_url), **dict(args.parameter)}
    locale = Locale(args.region, aws_endpoint, {"WEBSOCKET": settings.url, "HTTP": settings.http_url})
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=args.region)
    settings.exports = await asyncio.to_thread(
        deploy_base, args.base_template, stack_name=args.base_stack, dynamodb=dynamodb, locale=locale
    )
    gateway = Gateway(settings)
    await gateway.start()
    await asyncio.to_thread(store_admin_secret, gateway, args.admin_secret)
    ws_api, http_api = gateway.state.websocket_api, gateway.state.http_api
    table = settings.exports.get(f"{args.base_stack}-TableName", "?")
    print("cloud-local is running: a test double of AWS for development and tests (docs/cloud-local.md).")
    if ws_api is not None:
        print(f"  WebSocket API:   {gateway.websocket_url}{ws_api.stage}?game=<id>")
    if http_api is not None:
        print(f"  HTTP API:        {settings.http_url}")
    if gateway.serves_pages:
        print(f"  Pages:           {settings.pages_url} (players join at /j/<code>)")
    print(f"  Management API:  {settings.url}/@connections/<id>")
    print(f"  Lambda:          {settings.url} ({len(gateway.wiring.functions)} functions)")
    print(f"  moto:            {aws_endpoint} (DynamoDB table {table}, SQS, SSM)")
    if chosen_secret is None:
        print(f"  Admin secret:    {args.admin_secret}")
        if gateway.serves_pages:
            print(f"  Host console:    {settings.pages_url}/host#admin={quote(args.admin_secret, safe='')}")
    if not args.template:
        print("  No templates given: only the table and the management API are served.")
    print("Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await gateway.close()


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    with moto_server(args.dynamodb_endpoint, args.moto_port) as endpoint:
        asyncio.run(serve(args, endpoint))


if __name__ == "__main__":
    main()
