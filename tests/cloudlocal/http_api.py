"""The HTTP API: a request matched to a route key, one payload-2.0 invocation, the response mapped back.

Route matching follows API Gateway's HTTP API rules: the most specific route wins (a literal segment beats
`{param}`, which beats a greedy `{proxy+}`; a method beats `ANY`), and `$default` catches the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote

from aiohttp import web
from multidict import CIMultiDict

from .events import INTERNAL_ERROR, NOT_FOUND, HttpRequest, http_event, http_response
from .state import GATEWAY


def match(route_keys: Iterable[str], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The best route key for the request and its path parameters."""
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    best: tuple[tuple[int, int, int], str, dict[str, str]] | None = None
    for key in route_keys:
        if key == "$default":
            continue
        route_method, _, template = key.partition(" ")
        if route_method not in (method, "ANY"):
            continue
        parameters = _match_path(template, segments)
        if parameters is None:
            continue
        parts = [p for p in template.strip("/").split("/") if p]
        greedy = bool(parts) and parts[-1].endswith("+}")
        literals = sum(1 for p in parts if not p.startswith("{"))
        score = (0 if greedy else 1, literals, 1 if route_method == method else 0)
        if best is None or score > best[0]:
            best = (score, key, parameters)
    if best is not None:
        return best[1], best[2]
    return ("$default", {}) if "$default" in route_keys else None


def _match_path(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = [p for p in template.strip("/").split("/") if p]
    parameters: dict[str, str] = {}
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            if i >= len(segments) or i != len(parts) - 1:
                return None
            parameters[part[1:-2]] = "/".join(segments[i:])
            return parameters
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            parameters[part[1:-1]] = segments[i]
        elif part != segments[i]:
            return None
    return parameters if len(parts) == len(segments) else None


async def handle(request: web.Request) -> web.Response:
    state = request.app[GATEWAY]
    api = state.http_api
    assert api is not None
    if api.cors is not None and api.cors.is_preflight(request.method, request.headers):
        return web.Response(status=204, headers=api.cors.preflight(request.headers))
    found = match(api.routes, request.method, request.raw_path.split("?", 1)[0])
    if found is None:
        response = NOT_FOUND
    else:
        route_key, parameters = found
        incoming = HttpRequest(
            method=request.method,
            raw_path=request.raw_path.split("?", 1)[0],
            raw_query=request.query_string,
            headers=request.headers,
            query=request.query,
            body=await request.read(),
            source_ip=request.remote or "127.0.0.1",
        )
        event = http_event(incoming, route_key, parameters, api.api_id, api.stage)
        outcome = await state.runtime.invoke(api.routes[route_key], event)
        response = http_response(outcome.result) if outcome.ok else INTERNAL_ERROR
    headers: CIMultiDict[str] = CIMultiDict(response.headers)
    if api.cors is not None:
        api.cors.apply(request.headers, headers)
    return web.Response(status=response.status, body=response.body, headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/{tail:.*}", handle)
