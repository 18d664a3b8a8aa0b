"""Lambda's SQS event source mapping, run against moto's SQS: poll the queue, invoke, delete what succeeded.

Why moto's SQS rather than a delay queue of our own: handlers then send their deadline messages with boto3's
real `send_message(DelaySeconds=…)` to a real SQS endpoint, and nothing but the poller is ours. The price is
precision: moto hides a delayed message until whole seconds have passed (as SQS does: `DelaySeconds` is an
integer) and we see it at the next poll, so a deadline fires between 0 and `poll_interval` (plus one
invocation's start) after its delay; docs/cloud-local.md gives the measured figures.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .lambdas import LambdaRuntime
from .template import EventSource

log = logging.getLogger(__name__)


class QueuePoller:
    """Polls one queue for one event source mapping until cancelled."""

    def __init__(
        self,
        source: EventSource,
        queue_url: str,
        client: Any,
        runtime: LambdaRuntime,
        *,
        region: str,
        interval: float,
    ) -> None:
        self.source, self.queue_url, self.client = source, queue_url, client
        self.runtime, self.region, self.interval = runtime, region, interval

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:  # moto restarting, a network blip: deadlines must not stop for good
                log.exception("polling %s failed; trying again", self.queue_url)
                await asyncio.sleep(1)

    async def poll_once(self) -> None:
        messages = await asyncio.to_thread(self._receive)
        if not messages:
            await asyncio.sleep(self.interval)
            return
        outcome = await self.runtime.invoke(self.source.function, self.event(messages))
        done = self._succeeded(messages, outcome.result) if outcome.ok else []
        if not outcome.ok:
            log.warning("%s failed; the batch returns to the queue: %s", self.source.function, outcome.error)
        if done:
            await asyncio.to_thread(self._delete, done)

    def _receive(self) -> list[dict[str, Any]]:
        reply = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return reply.get("Messages", [])

    def _succeeded(self, messages: list[dict[str, Any]], result: Any) -> list[dict[str, Any]]:
        """Every message, or with ReportBatchItemFailures all but those the function listed as failed."""
        if not self.source.report_item_failures or not isinstance(result, dict):
            return messages
        failed = {item.get("itemIdentifier") for item in result.get("batchItemFailures") or []}
        return [m for m in messages if m["MessageId"] not in failed]

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Lambda's SQS event: one record per message, attributes as Lambda spells them."""
        return {"Records": [self._record(m) for m in messages]}

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            k: v
            for k, v in message.get("Attributes", {}).items()
            if k
            in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
        }
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.source.queue_arn,
            "awsRegion": self.region,
        }
