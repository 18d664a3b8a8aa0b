"""How late the local gateway fires SQS deadlines: `python -m tests.cloudlocal.measure [intervals…]`.

Sends deadlines of `DelaySeconds=1` one after another through the fixture templates (moto's SQS, the
gateway's poller, the fixture's deadline handler) and prints the lateness after the delay for each poll
interval: the figures in docs/cloud-local.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import boto3
from aiohttp.test_utils import unused_port

from engagements.store.schema import create_table

from .__main__ import DUMMY_CREDENTIALS
from .fixtures.handlers import RECORDER
from .gateway import Gateway, Settings

FIXTURES = Path(__file__).parent / "fixtures"


async def lateness(aws_endpoint: str, interval: float, count: int) -> list[float]:
    """Seconds after its delay at which each of `count` deadlines reached the handler."""
    table = f"measure-{uuid.uuid4().hex[:8]}"
    create_table(boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name="us-east-1"), table)
    settings = Settings(
        templates=[FIXTURES / "realtime.yaml"],
        aws_endpoint=aws_endpoint,
        port=unused_port(),
        http_port=unused_port(),
        exports={"engagements-dev-TableName": table},
        poll_interval=interval,
    )
    gateway = Gateway(settings)
    await gateway.start()
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name="us-east-1")
    RECORDER.clear()
    late = []
    try:
        for i in range(count):
            sent = time.time()
            body = json.dumps({"game_id": "measure", "deadline": sent + 1})
            await asyncio.to_thread(
                sqs.send_message, QueueUrl=os.environ["DEADLINE_QUEUE_URL"], MessageBody=body, DelaySeconds=1
            )
            while len(RECORDER.get("deadline")) <= i:
                await asyncio.sleep(0.002)
            late.append(RECORDER.get("deadline")[i]["at"] - sent - 1)
            await asyncio.sleep((i % 7) * 0.013)  # spread the sends over the poll cycle
    finally:
        await gateway.close()
    return sorted(late)


def main() -> None:
    from moto.server import ThreadedMotoServer

    os.environ.update(DUMMY_CREDENTIALS)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    intervals = [float(a) for a in sys.argv[1:]] or [0.05, 0.1, 0.25]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        for interval in intervals:
            late = asyncio.run(lateness(f"http://{host}:{port}", interval, 30))
            ms = [round(x * 1000) for x in late]
            print(
                f"poll {interval} s: min {ms[0]} ms, median {statistics.median(ms):.0f} ms, "
                f"p90 {ms[int(len(ms) * 0.9)]} ms, max {ms[-1]} ms, early {sum(1 for x in late if x < 0)}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
