"""Cloud-local's Lambda runtime: an invocation past its timeout runs on in its thread (Lambda would
cut it off; a thread cannot be), and the runtime's close waits for it, so no handler ever makes a
boto3 client after its endpoints on loopback are taken back: that client would go to AWS."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from tests.cloudlocal.lambdas import LambdaRuntime
from tests.cloudlocal.template import Function

LOCAL = "http://127.0.0.1:1"
SEEN: list[str | None] = []  # the endpoint each slow invocation saw when it woke


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(event["seconds"])
    SEEN.append(os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"))
    return {}


async def test_an_invocation_past_its_timeout_ends_before_its_environment_is_taken_back(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    function = Function("slow", f"{__name__}.slow", {}, timeout=0.2)
    runtime = LambdaRuntime(
        {"slow": function}, region="us-east-1", overrides={"AWS_ENDPOINT_URL_DYNAMODB": LOCAL}
    )
    runtime.start()
    outcome = await runtime.invoke("slow", {"seconds": 1.0})
    assert outcome.error is not None and outcome.error["errorType"] == "Sandbox.Timedout"
    assert SEEN == []  # still asleep in its thread

    await runtime.close()

    assert SEEN == [LOCAL]
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ
    assert not [t for t in threading.enumerate() if t.name.startswith("lambda")]
