"""HTTP routes: the pages, the small JSON API, QR codes and static files."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from engagements import __version__, export, exportfiles, items, jsondoc, openapi
from engagements.codes import is_client_id
from engagements.creation import catalogue
from engagements.model import Game, Rejected
from engagements.packs import PackError, export_pack, parse_upload, sample_pack, sample_packs
from engagements.qr import qr_png, qr_svg
from engagements.service import Games
from engagements.statuses import STATUS
from engagements.store.base import StoreError
from engagements.types import EngagementType
from web.admin import admin_only, whoami
from web.health import healthz, readyz
from web.history import setup_history_routes
from web.keys import FAULTS, GAMES, JOINS, ROOMS, SOCKETS
from web.metrics import counted_as, metrics
from web.pages import APPLIANCE, NOT_FOUND, PAGES, STATIC, stylesheets

JSON_PATHS = ("/api/", "/healthz", "/readyz", "/metrics")  # where every answer, errors included, is JSON


def error(code: str, message: str, status: int | None = None, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status or STATUS.get(code, 400), headers=headers
    )


def http_error(e: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no such path, no such method) as the API's JSON errors."""
    if e.status == 404:
        return error("not_found", "There is no such API path.")
    if e.status == 405:
        allow = e.headers.get("Allow", "")
        return error("method_not_allowed", f"That path takes {allow or 'other methods'}.", Allow=allow)
    if e.status == 413:
        return error("too_large", "That upload is too big.")
    return error("invalid", e.reason, e.status)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object. Only JSON: a form or text/plain post is what another site can forge."""
    if request.content_type != "application/json":
        raise Rejected("not_json", "Send the body as JSON (Content-Type: application/json).")
    try:
        body = jsondoc.loads(await request.read())
    except jsondoc.BadJson as e:
        raise Rejected("bad_message", f"The body is not JSON we read: {e}") from e
    if not isinstance(body, dict):
        raise Rejected("bad_message", "The body must be a JSON object.")
    return body


def page(template: str, *, game: bool = False):
    """A page handler whose context is its URL's parts; a game page 404s for a game we do not have."""

    async def handler(request: web.Request) -> web.Response:
        context = {
            "version": __version__,
            "endpoints": APPLIANCE,
            "type_styles": stylesheets(request.app[GAMES].types),
            **request.match_info,
        }
        if game and await request.app[GAMES].get(request.match_info["game_id"]) is None:
            return aiohttp_jinja2.render_template(NOT_FOUND, request, context, status=404)
        return aiohttp_jinja2.render_template(template, request, context)

    return handler


@admin_only
async def create_game(request: web.Request) -> web.Response:
    body = await read_json(request)
    games: Games = request.app[GAMES]
    created = await games.create(body.get("title"), body.get("prompts"), body.get("type"), body)
    g = created.game
    return web.json_response(
        {
            "game_id": g.id,
            "code": g.code,
            "host_token": created.host_token,
            "join_url": games.join_url(g),
            "host_url": f"/host/{g.id}",
            "screen_url": f"/screen/{g.id}",
        },
        status=201,
    )


@counted_as("join")
async def join_game(request: web.Request) -> web.Response:
    joins = request.app[JOINS]
    address = request.remote or "?"
    body = await read_json(request)
    device_id = body.get("device_id")
    device = device_id if is_client_id(device_id) else ""
    refused = joins.admit(address, device)
    if refused is not None:
        return error("rate_limited", refused.message, **{"Retry-After": str(refused.retry_after)})
    games: Games = request.app[GAMES]
    code = body.get("code")
    game_id = await games.find_code(code) if isinstance(code, str) else None
    game = await games.get(game_id) if game_id else None
    if game is None:
        joins.wrong_code(address, device)
        return error("not_found", "No game has that code. Check the code on the big screen.")
    player_id, token, outcome = await games.join(
        game,
        body.get("nickname"),
        body.get("previous_token"),
        client_id=body.get("client_id"),
        device_id=device_id,
        address=address,
    )
    request.app[ROOMS].deliver(game, outcome)
    await outcome.saved()
    return web.json_response(
        {
            "game_id": game.id,
            "player_id": player_id,
            "player_token": token,
            "nickname": game.players[player_id].nickname,
            "play_url": f"/play/{game.id}",
        }
    )


@admin_only
async def list_types(request: web.Request) -> web.Response:
    return web.json_response(catalogue(request.app[GAMES].types))


@admin_only
async def list_games(request: web.Request) -> web.Response:
    return web.json_response({"games": await request.app[GAMES].recent()})


async def hosted(request: web.Request, what: str) -> Game:
    """The URL's game, for its host only (`Authorization: Bearer <host token>`); raises Rejected."""
    games: Games = request.app[GAMES]
    game = await games.get(request.match_info["game_id"])
    if game is None:
        raise Rejected("not_found", "No such game on this appliance.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        games.authenticate(game, token if scheme.lower() == "bearer" else None, "host")
    except Rejected:
        raise Rejected("unauthorized", f"The host token is needed for {what}.") from None
    return game


async def results_csv(request: web.Request) -> web.Response:
    """Every scored round's full results, for the host (the page shows only the best of each)."""
    games: Games = request.app[GAMES]
    game = await hosted(request, "the results")
    name = f"results-{game.code}.csv"
    return web.Response(
        text=export.results_csv(game, games.types),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def game_export(request: web.Request) -> web.Response:
    """The game, its rounds, players and results (README.md, "Exports"), from its items in the store
    and on a thread: the game in play is never read off the event loop, and a large room's export
    (seconds for a spreadsheet of 10,000 players) never holds up a game."""
    games: Games = request.app[GAMES]
    game_id = (await hosted(request, "the export")).id
    fmt = request.match_info["fmt"]
    found = await games.store.query_all(items.game_pk(game_id))
    name, body = await asyncio.to_thread(
        lambda: exportfiles.export_file(items.load_game(found, games.types), games.types, fmt)
    )
    response = web.Response(
        body=body,
        content_type=exportfiles.CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    if fmt == "json":
        response.enable_compression()  # for a client that accepts it: a tenth of the size, on a thread
    return response


async def game_pack(request: web.Request) -> web.Response:
    """The game's questions as a JSON pack, for the host to keep and import again."""
    game = await hosted(request, "the questions")
    name = f"questions-{game.code}.json"
    return web.json_response(
        export_pack(game, request.app[GAMES].types),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def qr(request: web.Request) -> web.Response:
    games: Games = request.app[GAMES]
    game = await games.get(request.match_info["game_id"])
    if game is None:
        return error("not_found", "No such game on this appliance.")
    url = games.join_url(game)
    if request.match_info["fmt"] == "svg":
        return web.Response(body=qr_svg(url), content_type="image/svg+xml")
    return web.Response(body=qr_png(url), content_type="image/png")


async def packs(request: web.Request) -> web.Response:
    """The sample packs; `?type=` keeps one type's."""
    return web.json_response({"packs": sample_packs(request.app[GAMES].types, request.query.get("type"))})


async def pack(request: web.Request) -> web.Response:
    found = sample_pack(request.match_info["name"], request.app[GAMES].types)
    if found is None:
        return error("not_found", "No such question pack.")
    return web.json_response(found)


@admin_only
async def parse_uploaded_pack(request: web.Request) -> web.Response:
    body = await read_json(request)
    try:
        return web.json_response(parse_upload(body, request.app[GAMES].types))
    except PackError as e:
        return error("invalid", str(e))


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=openapi.description(), content_type="application/json")


@web.middleware
async def errors_and_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    """Refusals become JSON errors; every answer carries headers that keep pages to our own origin.

    An API client always gets JSON, even for a path or method we do not have, and a bug is answered
    `500 internal` and logged once, without the traceback reaching the client.
    """
    try:
        response = await handler(request)
    except Rejected as e:
        response = error(e.code, e.message)
    except web.HTTPRequestEntityTooLarge:
        response = error("too_large", "That upload is too big.")
    except StoreError:
        response = error("internal", "That could not be saved: please try again.", 503)
    except web.HTTPException as e:
        if e.status < 400 or not request.path.startswith(JSON_PATHS):
            raise
        response = http_error(e)
    except Exception as e:
        request.app[FAULTS].unexpected(f"{request.method} {request.match_info.route.name or '?'}", e)
        response = error("internal", "That went wrong on the appliance; it has been logged.", 500)
    if not response.prepared:
        for name, value in APPLIANCE.security_headers.items():
            response.headers.setdefault(name, value)
    return response


async def websocket(request: web.Request) -> web.WebSocketResponse:
    return await request.app[SOCKETS].handle(request)


def setup_routes(app: web.Application, types: dict[str, EngagementType]) -> None:
    for p in PAGES:
        app.router.add_get(p.path, page(p.template, game=p.game), name=p.name)
    app.router.add_post("/api/games", create_game, name="create_game")
    app.router.add_get("/api/games", list_games, name="list_games")
    app.router.add_get("/api/admin", whoami, name="admin")
    app.router.add_get("/api/types", list_types, name="types")
    app.router.add_post("/api/join", join_game, name="join_game")
    app.router.add_get("/api/games/{game_id}/qr.{fmt:svg|png}", qr, name="qr")
    app.router.add_get("/api/games/{game_id}/results.csv", results_csv, name="results_csv")
    app.router.add_get("/api/games/{game_id}/pack.json", game_pack, name="game_pack")
    app.router.add_get("/api/games/{game_id}/export.{fmt:json|zip|xlsx}", game_export, name="export")
    setup_history_routes(app)
    app.router.add_get("/api/packs", packs, name="packs")
    app.router.add_get("/api/packs/{name}", pack, name="pack")
    app.router.add_post("/api/packs/parse", parse_uploaded_pack, name="parse_pack")
    app.router.add_get("/api/openapi.json", openapi_json, name="openapi")
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    app.router.add_get("/metrics", metrics, name="metrics")
    app.router.add_get("/ws/{game_id}", websocket, name="ws")
    app.router.add_static("/static/", STATIC, name="static")
    for slug, kind in types.items():
        if kind.static_dir is not None:
            app.router.add_static(f"/types/{slug}/", kind.static_dir, name=f"type-{slug}")
