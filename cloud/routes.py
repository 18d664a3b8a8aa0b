"""The HTTP API's routes (payload format 2.0): the appliance's JSON endpoints, with the same bodies, so
the same pages work against both (web/pages.py).

Creating a game needs the admin secret (`Authorization: Bearer`), compared in constant time; the
results, history and exports need the game's host token or the admin secret (a synced appliance game
keeps its host token's hash at home, engagements.lifecycle.HOME_ONLY; its cloud copy's reader hash lets
the host token read it, and nothing more: engagements.auth.may_read). Errors are
`{"error": {"code", "message"}}` with the appliance's statuses (engagements.statuses).
"""

from __future__ import annotations

import base64
import gzip
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from cloud import results
from cloud.games import CloudGames
from engagements import (
    auth,
    export,
    exportfiles,
    history,
    items,
    jsondoc,
    lifecycle,
    openapi,
    resultpages,
    views,
)
from engagements.creation import catalogue
from engagements.model import Rejected
from engagements.packs import (
    MAX_UPLOAD_BYTES,
    PackError,
    export_pack,
    parse_upload,
    sample_pack,
    sample_packs,
)
from engagements.qr import qr_svg
from engagements.statuses import STATUS
from engagements.store.base import StoreError
from engagements.telemetry import context
from engagements.telemetry.metrics import ACK_LATENCY, COMMANDS, HTTP_REQUESTS, Telemetry
from engagements.types import kind_of

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
# Lambda answers at most 6 MB, and a binary body goes base64 (4 bytes for 3): an export past this is
# refused with what to do instead (docs/cloud.md, "Exports").
MAX_EXPORT = 4 * 1024 * 1024
TOO_LARGE = (
    "This game's export is larger than the cloud can send in one answer. The spreadsheet (export.xlsx) "
    "and the CSV files (export.zip) are compressed, as is the JSON for a client that accepts gzip."
)

Response = dict[str, Any]


def respond(status: int, body: Any, content_type: str = "application/json", **headers: str) -> Response:
    """A JSON body, a text, or bytes (sent base64, as API Gateway wants a binary body)."""
    if isinstance(body, bytes):
        return {
            "statusCode": status,
            "headers": {"content-type": content_type, **headers},
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    return {"statusCode": status, "headers": {"content-type": content_type, **headers}, "body": text}


def error(code: str, message: str, status: int | None = None) -> Response:
    return respond(status or STATUS.get(code, 400), {"error": {"code": code, "message": message}})


class Routes:
    def __init__(
        self,
        games: CloudGames,
        admin_secret: Callable[[], str],
        joined: Callable[[str], Awaitable[None]],
        *,
        public_url: str,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.games = games
        self.telemetry = telemetry or Telemetry()
        self.joined = joined  # tells the board views (cloud.sockets.Sockets.room_changed)
        self.admin_secret = admin_secret  # read when first needed (an SSM parameter in AWS)
        self.public_url = public_url
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Awaitable[Response]]]] = [
            ("POST", re.compile(r"/api/games"), self.create),
            ("GET", re.compile(r"/api/games"), self.list_games),
            ("GET", re.compile(r"/api/admin"), self.whoami),
            ("POST", re.compile(r"/api/join"), self.join),
            ("GET", re.compile(r"/api/types"), self.types),
            ("GET", re.compile(r"/api/openapi\.json"), self.openapi),
            ("GET", re.compile(r"/api/packs"), self.packs),
            ("POST", re.compile(r"/api/packs/parse"), self.parse_upload),
            ("GET", re.compile(r"/api/packs/(?P<name>[\w-]+)"), self.pack),
            ("GET", re.compile(r"/api/games/(?P<game_id>\w+)/qr\.svg"), self.qr),
            ("GET", re.compile(r"/api/games/(?P<game_id>\w+)/results\.csv"), self.results_csv),
            ("GET", re.compile(r"/api/games/(?P<game_id>\w+)/pack\.json"), self.game_pack),
            ("GET", re.compile(r"/api/games/(?P<game_id>\w+)/export\.(?P<fmt>json|zip|xlsx)"), self.export),
            ("GET", re.compile(r"/api/games/(?P<game_id>\w+)/results"), self.results),
            ("GET", re.compile(r"/api/history"), self.history),
            ("GET", re.compile(r"/api/games/(?P<game_id>\w+)/history"), self.game_history),
            (
                "GET",
                re.compile(r"/api/games/(?P<game_id>\w+)/rounds/(?P<round>\d+)/results"),
                self.round_results,
            ),
        ]

    async def handle(self, event: dict[str, Any]) -> Response:
        route, response = await self._handle(event)
        status = response["statusCode"]
        self.telemetry.count(HTTP_REQUESTS, route=route, status=f"{status // 100}xx")
        if route == "join":  # a command, counted as the sockets' are (cloud.sockets)
            outcome = "ok" if status < 400 else json.loads(response["body"])["error"]["code"]
            self.telemetry.count(COMMANDS, type="join", outcome=outcome)
            arrived = event["requestContext"].get("timeEpoch")  # when API Gateway received it, ms
            if outcome == "ok" and isinstance(arrived, int):
                latency = max(0, self.games.clock() - arrived) / 1000
                self.telemetry.observe(ACK_LATENCY, latency, type="join")
        log.debug("%s answered %d", route, status)
        return response

    async def _handle(self, event: dict[str, Any]) -> tuple[str, Response]:
        """(the route's name, its response)"""
        method = event["requestContext"]["http"]["method"]
        path = event.get("rawPath", "/")
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                context.bind(game_id=match.groupdict().get("game_id"))  # this invocation's task only
                try:
                    return handler.__name__, await handler(event, **match.groupdict())
                except Rejected as e:
                    return handler.__name__, error(e.code, e.message)
                except StoreError:
                    return handler.__name__, error("internal", "Nothing was saved: try again.", 503)
        return "unmatched", error("not_found", "No such endpoint.", 404)

    def join_url(self, code: str) -> str:
        return f"{self.public_url}/j/{code}"

    # -- the routes ------------------------------------------------------------------------------

    def is_admin(self, event: dict[str, Any]) -> bool:
        return hmac.compare_digest(bearer(event).encode(), self.admin_secret().encode())

    async def whoami(self, event: dict[str, Any]) -> Response:
        """Lets the host page check a secret typed into its sign-in form before it trusts it."""
        if not self.is_admin(event):
            return error("unauthorized", "That is not the admin secret.")
        return respond(200, {"admin": True})

    async def list_games(self, event: dict[str, Any]) -> Response:
        if not self.is_admin(event):
            return error("unauthorized", "The admin secret is needed to list the games.")
        return respond(200, {"games": await lifecycle.recent(self.games.store)})

    async def create(self, event: dict[str, Any]) -> Response:
        if not self.is_admin(event):
            return error("unauthorized", "The admin secret is needed to create a game.")
        body = read_json(event)
        created = await self.games.create(body.get("title"), body.get("prompts"), body.get("type"), body)
        g = created.game
        return respond(
            201,
            {
                "game_id": g.id,
                "code": g.code,
                "host_token": created.host_token,
                "join_url": self.join_url(g.code),
                "host_url": f"/host/{g.id}",
                "screen_url": f"/screen/{g.id}",
            },
        )

    async def types(self, event: dict[str, Any]) -> Response:
        if not self.is_admin(event):
            return error("unauthorized", "The admin secret is needed to create a game.")
        return respond(200, catalogue(self.games.types))

    async def join(self, event: dict[str, Any]) -> Response:
        body = read_json(event)
        game_id = await self.games.find_code(body.get("code"))
        if game_id is None:
            return error("not_found", "No game has that code. Check the code on the big screen.")
        game, player_id, token = await self.games.join(
            game_id,
            body.get("nickname"),
            body.get("previous_token"),
            client_id=body.get("client_id"),
            device_id=body.get("device_id"),
            address=event["requestContext"]["http"].get("sourceIp", ""),
        )
        await self.joined(game_id)
        return respond(
            200,
            {
                "game_id": game.id,
                "player_id": player_id,
                "player_token": token,
                "nickname": game.players[player_id].nickname,
                "play_url": f"/play/{game.id}",
            },
        )

    async def openapi(self, event: dict[str, Any]) -> Response:
        """The HTTP API's description (both runtimes')."""
        return respond(200, openapi.description().decode())

    async def packs(self, event: dict[str, Any]) -> Response:
        """The sample packs; `?type=` keeps one type's."""
        kept = query(event).get("type")
        return respond(200, {"packs": sample_packs(self.games.types, kept)})

    async def pack(self, event: dict[str, Any], name: str) -> Response:
        found = sample_pack(name, self.games.types)
        return respond(200, found) if found else error("not_found", "No such pack.", 404)

    async def parse_upload(self, event: dict[str, Any]) -> Response:
        """An imported pack file's prompts, read by the same rules as the appliance's."""
        if not self.is_admin(event):
            return error("unauthorized", "The admin secret is needed to import a pack.")
        try:
            return respond(200, parse_upload(read_json(event, MAX_UPLOAD_BYTES), self.games.types))
        except PackError as e:
            return error("invalid", str(e))

    async def qr(self, event: dict[str, Any], game_id: str) -> Response:
        meta = await self.games.meta(game_id)
        if meta is None:
            return error("not_found", "No such game.", 404)
        return respond(200, qr_svg(self.join_url(meta["code"])).decode(), "image/svg+xml")

    async def results_csv(self, event: dict[str, Any], game_id: str) -> Response:
        game = await self._hosted(event, game_id)
        name = f"results-{game.code}.csv"
        return respond(
            200,
            export.results_csv(game, self.games.types),
            "text/csv",
            **{"content-disposition": f'attachment; filename="{name}"'},
        )

    async def game_pack(self, event: dict[str, Any], game_id: str) -> Response:
        """The game's questions as a JSON pack, for the host to keep and import again."""
        game = await self._hosted(event, game_id)
        name = f"questions-{game.code}.json"
        return respond(
            200,
            export_pack(game, self.games.types),
            **{"content-disposition": f'attachment; filename="{name}"'},
        )

    async def export(self, event: dict[str, Any], game_id: str, fmt: str) -> Response:
        """The game, its rounds, players and results, as the appliance exports them."""
        name, body = exportfiles.export_file(await self._hosted(event, game_id), self.games.types, fmt)
        headers = {"content-disposition": f'attachment; filename="{name}"', "vary": "accept-encoding"}
        if fmt == "json" and "gzip" in header(event, "accept-encoding"):
            body, headers["content-encoding"] = gzip.compress(body), "gzip"  # a tenth of the size
        if len(body) > MAX_EXPORT:
            raise Rejected("too_large", TOO_LARGE)
        return respond(200, body, exportfiles.CONTENT_TYPES[fmt], **headers)

    async def results(self, event: dict[str, Any], game_id: str) -> Response:
        """Every scored round's results as JSON (a synced appliance game reads here too)."""
        game = await self._hosted(event, game_id)
        rounds = [
            {
                "round": r,
                "type": game.round_type(r),
                "prompt": game.prompts[r]["text"],
                "results": kind_of(game, self.games.types, r).results(game, r),
            }
            for r, outcome in sorted(game.outcomes.items())
            if outcome == "scored"
        ]
        return respond(
            200,
            {
                "game_id": game.id,
                "title": game.title,
                "status": game.status,
                "rounds": rounds,
                "leaderboard": views.leaderboard(game),
            },
        )

    async def history(self, event: dict[str, Any]) -> Response:
        """Finished games, cloud-hosted and synced, newest first, a page at a time (the index, no scan)."""
        if not self.is_admin(event):
            return error("unauthorized", "The admin secret is needed to list the games.")
        return respond(200, await history.games(self.games.store, query(event)))

    async def game_history(self, event: dict[str, Any], game_id: str) -> Response:
        """A game's rounds, podium and downloads, for its host (a synced game's too) or the admin."""
        return respond(200, history.summary(await self._hosted(event, game_id), self.games.types))

    async def round_results(self, event: dict[str, Any], game_id: str, round: str) -> Response:
        """A page of one round's results: of a scored round from META and its page items
        (cloud.results), whatever the room; else, or when its pages are not there, from the whole game."""
        meta = await self.games.meta(game_id)
        if meta is None:
            raise Rejected("not_found", "No such game.")
        bare = items.load_game([meta], self.games.types)  # who may read it, and its outcomes
        self._may_read(event, bare, meta)
        r = int(round) - 1  # the route's pattern: digits
        if bare.outcomes.get(r) == "scored":
            offset, limit = history.window(query(event))
            listing = await results.read(self.games.store, meta, r, resultpages.HISTORY, offset, limit)
            if listing is not None:
                page = (r, listing.type, listing.prompt, listing.total, offset, limit, listing.rows)
                return respond(200, history.results_page(*page))
        game = await self._hosted(event, game_id)
        return respond(200, history.results(game, self.games.types, round, query(event)))

    async def _hosted(self, event: dict[str, Any], game_id: str) -> Any:
        """The game, for its host token (a synced copy's reader hash: auth.may_read) or the admin."""
        loaded = await self.games.load(game_id)
        if loaded is None:
            raise Rejected("not_found", "No such game.")
        game, meta = loaded
        self._may_read(event, game, meta)
        return game

    def _may_read(self, event: dict[str, Any], game: Any, meta: dict[str, Any]) -> None:
        """Refuse a request with neither the game's host token (auth.may_read) nor the admin secret:
        from META alone (`game` loaded from it or more)."""
        if not auth.may_read(game, bearer(event), meta.get(lifecycle.READER)) and not self.is_admin(event):
            raise Rejected("unauthorized", "The host token or the admin secret is needed for this game.")


def header(event: dict[str, Any], name: str) -> str:
    """A request header by its lower-case name ("" when absent)."""
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == name), "")


def query(event: dict[str, Any]) -> dict[str, str]:
    """The query string's parameters (API Gateway joins a repeated one with commas)."""
    return event.get("queryStringParameters") or {}


def bearer(event: dict[str, Any]) -> str:
    scheme, _, token = header(event, "authorization").partition(" ")
    return token if scheme.lower() == "bearer" else ""


def read_json(event: dict[str, Any], limit: int = MAX_BODY) -> dict[str, Any]:
    """The body as a JSON object (engagements.jsondoc's rules). Only JSON, as on the appliance: a form
    or text/plain post is what another site can forge."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise Rejected("not_json", "Send the body as JSON (Content-Type: application/json).")
    try:
        body = jsondoc.loads(raw_body(event, limit) or "{}")
    except jsondoc.BadJson as e:
        raise Rejected("bad_message", f"The body is not JSON we read: {e}") from e
    if not isinstance(body, dict):
        raise Rejected("bad_message", "The body must be a JSON object.")
    return body


def raw_body(event: dict[str, Any], limit: int) -> bytes:
    """The request's body as bytes (API Gateway sends binary ones base64), refused over `limit`."""
    raw: str | bytes = event.get("body") or ""
    if event.get("isBase64Encoded"):
        data = base64.b64decode(raw)
    else:
        data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > limit:
        raise Rejected("too_large", "That body is too large.")
    return data
