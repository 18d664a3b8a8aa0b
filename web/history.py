"""The history routes on the appliance: finished games by time (admin), a game's rounds and podium and a
page of a round's results (its host token or the admin secret). The bodies are engagements.history's,
as in the cloud (cloud/routes.py), so the history pages work against both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from engagements import auth, history, items
from engagements.model import Game, Rejected
from engagements.service import Games
from web.admin import admin_only
from web.keys import ADMIN, GAMES


@admin_only
async def list_history(request: web.Request) -> web.Response:
    return web.json_response(await history.games(request.app[GAMES].store, request.query))


async def game_history(request: web.Request) -> web.Response:
    return await _read(request, history.summary)


async def round_results(request: web.Request) -> web.Response:
    query, round = request.query, request.match_info["round"]
    return await _read(request, lambda game, types: history.results(game, types, round, query))


async def _read(request: web.Request, body: Callable[[Game, Any], dict[str, Any]]) -> web.Response:
    """`body` of the URL's game for its host or the admin, from its items in the store and on a thread,
    as the exports are (web/routes.py, game_export): a large room's history never holds up a game."""
    games: Games = request.app[GAMES]
    game = await games.get(request.match_info["game_id"])
    if game is None:
        raise Rejected("not_found", "No such game on this appliance.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not (scheme.lower() == "bearer" and auth.may_read(game, token.strip())):
        refused = request.app[ADMIN].refusal(request)  # a wrong token counts as a wrong secret
        if refused is not None:
            return refused
    found = await games.store.query_all(items.game_pk(game.id))
    return web.json_response(
        await asyncio.to_thread(lambda: body(items.load_game(found, games.types), games.types))
    )


def setup_history_routes(app: web.Application) -> None:
    app.router.add_get("/api/history", list_history, name="list_history")
    app.router.add_get("/api/games/{game_id}/history", game_history, name="game_history")
    app.router.add_get("/api/games/{game_id}/rounds/{round}/results", round_results, name="round_results")
