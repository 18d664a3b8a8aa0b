"""The serverless stack as the benchmark's server under test: `python -m bench.cloudserver --port …`.

What `make cloud-local` runs (tests/cloudlocal: deploy/realtime.yaml and deploy/http.yaml on a local API
Gateway and Lambda, DynamoDB and SQS on moto), plus a meter: every DynamoDB call of the handlers is charged
to its invocation (bench/meter.py). moto runs in a child process so that it has a core of its own rather
than sharing this process's interpreter lock with the handlers. Everything listens on 127.0.0.1; AWS
clients get dummy credentials.

A control port answers `GET /healthz` once the stack is up, and `GET /meter` with the counts: per
invocation label (bench/meter.py), invocations per function (and those past their timeout), and the
WebSocket API's messages
(tests/cloudlocal/state.py `Traffic`). The admin secret is written to `<data dir>/admin-secret`, where the
benchmark reads the appliance's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web

from bench.meter import Key, Meter, key_of
from cloud.runtime import runtime
from tests.cloudlocal.__main__ import DUMMY_CREDENTIALS, local_parameters, store_admin_secret
from tests.cloudlocal.gateway import Gateway, Settings
from tests.cloudlocal.stack import deploy_base
from tests.cloudlocal.template import Locale

ROOT = Path(__file__).resolve().parent.parent
BASE_STACK = "engagements-bench"
REGION = "us-east-1"


@contextlib.contextmanager
def moto_process(port: int) -> Any:
    """moto's server in a child process on 127.0.0.1:`port`, stopped when the block ends; its
    transactions save their own items, not the whole table (tests/cloudlocal/transactions.py)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.cloudlocal.transactions", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(dynamodb: Any) -> None:
    for _ in range(200):
        with contextlib.suppress(Exception):
            dynamodb.list_tables()
            return
        time.sleep(0.05)
    raise RuntimeError("moto did not start")


def table_sizes(dynamodb: Any, table: str) -> dict[Key, int]:
    """Every item's size now (a scan: outside any invocation, so the meter charges it to no command)."""
    from bench.meter import item_size

    sizes: dict[Key, int] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            sizes[key_of(item)] = item_size(item)
    return sizes


async def serve(args: argparse.Namespace, aws_endpoint: str) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=REGION)
    await asyncio.to_thread(wait_for, dynamodb)
    settings = Settings(
        templates=[ROOT / "deploy" / "realtime.yaml", ROOT / "deploy" / "http.yaml"],
        aws_endpoint=aws_endpoint,
        port=args.port,
        http_port=args.http_port,
        region=REGION,
        parameters=local_parameters(BASE_STACK),
    )
    locale = Locale(REGION, aws_endpoint, {"WEBSOCKET": settings.url, "HTTP": settings.http_url})
    settings.exports = await asyncio.to_thread(
        deploy_base, ROOT / "deploy" / "base.yaml", stack_name=BASE_STACK, dynamodb=dynamodb, locale=locale
    )
    secret = secrets.token_urlsafe(18)
    settings.environment = {"ADMIN_SECRET": secret}
    args.data_dir.mkdir(parents=True, exist_ok=True)
    secret_file = args.data_dir / "admin-secret"
    secret_file.touch(mode=0o600)
    secret_file.write_text(secret)
    gateway = Gateway(settings)
    await gateway.start()
    await asyncio.to_thread(store_admin_secret, gateway, secret)
    rt = await asyncio.to_thread(runtime)  # the handlers' own runtime: the same cached clients
    functions = gateway.wiring.functions
    meter = Meter({f.name: f.handler for f in functions.values()})
    meter.watch(rt.games.store.client)
    table = settings.exports[f"{BASE_STACK}-TableName"]

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def counts(request: web.Request) -> web.Response:
        labels = meter.summary(lambda: table_sizes(dynamodb, table))
        counts = gateway.state.runtime.counts
        invocations = {meter.handlers.get(name, name): n for name, n in counts.by_function.items()}
        seconds = {meter.handlers.get(name, name): round(t, 2) for name, t in counts.seconds.items()}
        timed_out = Counter(meter.label(rid, name) for rid, name in counts.timed_out.items())
        traffic = gateway.state.traffic
        return web.json_response(
            {
                "labels": labels,
                "invocations": invocations,
                "seconds": seconds,  # each function's invocations together, wall clock, on this machine
                "timed_out": timed_out,  # invocations past their function's timeout, by label
                "traffic": {
                    "received": traffic.received,
                    "posted": traffic.posted,
                    "posted_bytes": traffic.posted_bytes,
                    "billed": traffic.billed,
                },
                "memory_mb": {f.handler: f.memory_mb for f in functions.values()},
            }
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/meter", counts)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.control_port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await gateway.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cloudserver", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="WebSocket, management and Invoke APIs")
    parser.add_argument("--http-port", type=int, required=True, help="the HTTP API")
    parser.add_argument("--control-port", type=int, required=True, help="/healthz and /meter")
    parser.add_argument("--moto-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--data-dir", type=Path, required=True, help="where the admin secret is written")
    args = parser.parse_args()
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    moto_port = args.moto_port
    if not moto_port:
        from bench.run import free_port

        moto_port = free_port()
    with moto_process(moto_port) as endpoint:
        asyncio.run(serve(args, endpoint))


if __name__ == "__main__":
    main()
