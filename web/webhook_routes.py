"""The admin's webhook API and page: add, list with each one's delivery log, remove, send a test event.

Everything needs the admin secret. A webhook's secret is in the answer that created it and nowhere
after: the list shows URLs and deliveries only (docs/security.md, "Webhooks").
"""

from __future__ import annotations

from aiohttp import web

from engagements import deliveries
from engagements.codes import is_id
from engagements.model import Rejected
from web.admin import admin_only
from web.keys import WEBHOOKS
from web.routes import page, read_json


def _hook_id(request: web.Request) -> str:
    hook_id = request.match_info["webhook_id"]
    if not is_id(hook_id):
        raise Rejected("not_found", "No such webhook on this appliance.")
    return hook_id


@admin_only
async def list_webhooks(request: web.Request) -> web.Response:
    listing = await request.app[WEBHOOKS].listing()
    return web.json_response({"webhooks": listing, "log_size": deliveries.LOG_SIZE})


@admin_only
async def add_webhook(request: web.Request) -> web.Response:
    body = await read_json(request)
    hook = await request.app[WEBHOOKS].add(body.get("url"))
    return web.json_response({"webhook": deliveries.hook_view(hook), "secret": hook["secret"]}, status=201)


@admin_only
async def remove_webhook(request: web.Request) -> web.Response:
    hook_id = _hook_id(request)
    await request.app[WEBHOOKS].remove(hook_id)
    return web.json_response({"removed": hook_id})


@admin_only
async def test_webhook(request: web.Request) -> web.Response:
    delivery = await request.app[WEBHOOKS].send_test(_hook_id(request))
    return web.json_response({"delivery": delivery}, status=202)


def setup_webhook_routes(app: web.Application) -> None:
    app.router.add_get("/admin/webhooks", page("webhooks.html"), name="webhooks_page")
    app.router.add_get("/api/webhooks", list_webhooks, name="list_webhooks")
    app.router.add_post("/api/webhooks", add_webhook, name="add_webhook")
    app.router.add_delete("/api/webhooks/{webhook_id}", remove_webhook, name="remove_webhook")
    app.router.add_post("/api/webhooks/{webhook_id}/test", test_webhook, name="test_webhook")
