"""The fan-out's chunks and the deadline queue, on their own (real SQS on moto)."""

from __future__ import annotations

import json
import uuid

import boto3

from cloud.deadlines import MAX_DELAY, Deadlines, Timer, parse
from cloud.delivery import PAYLOAD_BYTES, chunks


def test_chunks_fit_an_async_invocation_and_keep_every_post_in_order():
    posts = [(f"conn{i:04d}=", [json.dumps({"type": "you", "pad": "x" * 2000, "i": i})]) for i in range(300)]
    found = chunks(posts)
    assert len(found) > 1
    assert [p for chunk in found for p in chunk] == posts
    for chunk in found:
        payload = json.dumps({"game_id": "g1", "posts": chunk})
        assert len(payload.encode()) <= PAYLOAD_BYTES + 64


def test_deadlines_are_delayed_to_the_second_rounded_up_and_capped(moto_endpoint, aws_env):
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    url = sqs.create_queue(QueueName=f"deadlines-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    deadlines = Deadlines(sqs, url)
    now = 1_000_000
    assert deadlines.schedule("g1", now + 2_300, now) == 3  # never before the deadline
    assert deadlines.schedule("g1", now + 2_000_000, now) == MAX_DELAY
    assert deadlines.schedule("g1", now - 50, now) == 0  # already due: at once
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert parse(message["Body"]) == Timer("g1", now - 50)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "2"
