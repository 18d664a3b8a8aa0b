"""Lambda's Invoke API, so handlers can start other functions with boto3 (`AWS_ENDPOINT_URL_LAMBDA`).

`X-Amz-Invocation-Type: Event` answers 202 at once and runs the function in the background, as Lambda's
asynchronous invocation does (without its retries: a failure is logged); `RequestResponse` runs it and
answers with its result, or with `X-Amz-Function-Error` and Lambda's error document when it raised.
"""

from __future__ import annotations

import json

from aiohttp import web

from .management import aws_error
from .state import GATEWAY

MB = 1024 * 1024
# Lambda's payload limits: 6 MB for a synchronous call, 1 MB for an asynchronous one (raised from 256 KB in
# 2025; re-check before relying on the figure).
PAYLOAD_LIMITS = {"RequestResponse": 6 * MB, "Event": 1 * MB, "DryRun": 6 * MB}


async def invoke(request: web.Request) -> web.Response:
    state = request.app[GATEWAY]
    function = state.runtime.resolve(request.match_info["name"])
    if function is None:
        return aws_error(
            404, "ResourceNotFoundException", f"Function not found: {request.match_info['name']}"
        )
    kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
    if kind not in PAYLOAD_LIMITS:
        return aws_error(400, "InvalidParameterValueException", f"Invalid invocation type {kind}")
    payload = await request.read()
    if len(payload) > PAYLOAD_LIMITS[kind]:
        return aws_error(413, "RequestTooLargeException", "Request must be smaller than the payload limit")
    try:
        event = json.loads(payload or b"{}")
    except ValueError:
        return aws_error(400, "InvalidRequestContentException", "Could not parse request body into json")
    if kind == "DryRun":
        return web.Response(status=204)
    if kind == "Event":
        state.runtime.invoke_in_background(function.name, event)
        return web.Response(status=202)
    outcome = await state.runtime.invoke(function.name, event)
    headers = {"X-Amz-Executed-Version": "$LATEST"}
    if not outcome.ok:
        headers["X-Amz-Function-Error"] = "Unhandled"
        return web.json_response(outcome.error, headers=headers)
    return web.json_response(outcome.result, headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/2015-03-31/functions/{name}/invocations", invoke)
