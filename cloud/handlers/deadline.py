"""The deadline function: SQS delivers a phase's deadline, a room update's turn or a webhook delivery's
attempt (cloud.webhooks), once its delay passed."""

from __future__ import annotations

import logging
from typing import Any

from cloud.deadlines import Due, parse
from cloud.invocations import observed
from cloud.runtime import runtime

log = logging.getLogger(__name__)


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Reports the records that failed, so SQS retries only those (ReportBatchItemFailures)."""
    rt = runtime()
    failures = []
    attempts: list[tuple[str, Due]] = []  # webhook deliveries: after the deadlines, all at once
    for record in event.get("Records", []):
        try:
            job = parse(record["body"])
            if isinstance(job, Due):
                attempts.append((record["messageId"], job))
                continue
            rt.run(rt.sockets.timer(job))
        except Exception:  # SQS delivers it again; the others of the batch are done
            log.exception("deadline %s failed", record["messageId"])
            failures.append({"itemIdentifier": record["messageId"]})
    if attempts:
        failed = rt.run(rt.webhooks.attempt_all([due for _, due in attempts]))
        failures += [
            {"itemIdentifier": message} for (message, _), bad in zip(attempts, failed, strict=True) if bad
        ]
    return {"batchItemFailures": failures}
