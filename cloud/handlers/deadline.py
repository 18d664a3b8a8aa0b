"""The deadline function: SQS delivers a phase's deadline, or a room update's turn, once its delay passed."""

from __future__ import annotations

import logging
from typing import Any

from cloud.deadlines import parse
from cloud.invocations import observed
from cloud.runtime import runtime

log = logging.getLogger(__name__)


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Reports the records that failed, so SQS retries only those (ReportBatchItemFailures)."""
    rt = runtime()
    failures = []
    for record in event.get("Records", []):
        try:
            rt.run(rt.sockets.timer(parse(record["body"])))
        except Exception:  # SQS delivers it again; the others of the batch are done
            log.exception("deadline %s failed", record["messageId"])
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
