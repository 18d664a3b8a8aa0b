"""engagements/openapi.json stays true: valid OpenAPI 3.1, every HTTP route of both runtimes in it and
no other, with their methods, and every documented operation answering on a real server as described
(its status, its media type, a JSON body valid against its schema)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
from aiohttp import web
from openapi_spec_validator import validate

from engagements import openapi
from engagements.plugins import load_types
from tests.conftest import ADMIN
from tests.guard import DEPLOY, load
from tests.test_stacks import of_type
from web.app import create_app

DOC = json.loads(openapi.description())
APPLIANCE, CLOUD = "appliance", "cloud"
WORDS = re.compile(r"\(\?P<(\w+)>(\w+(?:\|\w+)+)\)")  # a route's parameter that takes a few words only


def documented(runtime: str) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOC["paths"].items()
        for method, operation in item.items()
        if runtime in operation["x-runtimes"]
    }


def templates(resource: web.AbstractResource) -> set[str]:
    """The paths a resource answers, as OpenAPI writes them: `qr.{fmt:svg|png}` is two paths."""
    info = resource.get_info()
    if "path" in info:
        return {info["path"]}
    if "prefix" in info:  # static files: the pages' own, and each type's browser module
        slugs = {f"/types/{slug}" for slug in load_types()}
        return {"/types/{slug}/{file}" if info["prefix"] in slugs else info["prefix"] + "/{file}"}
    paths = {info["formatter"]}
    for name, words in WORDS.findall(info["pattern"].pattern):
        paths = {p.replace(f"{{{name}}}", word) for p in paths for word in words.split("|")}
    return paths


def test_the_description_is_valid_openapi_3_1():
    validate(DOC)  # raises, saying where
    assert DOC["openapi"].startswith("3.1.")
    ids = [op["operationId"] for item in DOC["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), "one operation id each"


def test_every_route_of_the_appliance_is_documented_and_no_other(settings):
    routes = [route for route in create_app(settings).router.routes()]
    registered = {(route.method, path) for route in routes for path in templates(route.resource)}
    gets = {path for method, path in registered if method == "GET"}
    assert {path for method, path in registered if method == "HEAD"} == gets, "every GET answers HEAD"
    assert {(method, path) for method, path in registered if method != "HEAD"} == documented(APPLIANCE)


def test_every_route_of_the_cloud_stack_is_documented_and_no_other():
    routes = of_type(load(DEPLOY / "http.yaml"), "AWS::ApiGatewayV2::Route").values()
    keys = [route["Properties"]["RouteKey"].replace("{id}", "{game_id}") for route in routes]
    assert {tuple(key.split(" ", 1)) for key in keys} == documented(CLOUD)


def sample(path: str, table: Any) -> str:
    values = {
        "game_id": table.game_id,
        "code": table.created["code"],
        "name": "party-starters",
        "slug": "quiz",
        "file": "round.js" if path.startswith("/types/") else "host.js",
        "webhook_id": getattr(table, "webhook_id", ""),
        "round": "1",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def auth(operation: dict[str, Any], table: Any) -> dict[str, str]:
    schemes = {name for requirement in operation["security"] for name in requirement}
    if "hostToken" in schemes:
        return {"Authorization": f"Bearer {table.created['host_token']}"}
    return ADMIN if "adminSecret" in schemes else {}


def body_of(operation: dict[str, Any], table: Any) -> dict[str, Any] | None:
    if "requestBody" not in operation:
        return None
    body = dict(operation["requestBody"]["content"]["application/json"]["example"])
    if "code" in body:  # a join: the game's own code
        body["code"] = table.created["code"]
    return body


def check_body(schema: dict[str, Any], body: Any, where: str) -> None:
    """The body against its schema, the description's components at hand for its references."""
    validator = jsonschema.Draft202012Validator({**schema, "components": DOC["components"]})
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, f"{where}: {errors[:3]}"


async def test_every_documented_operation_answers_as_described_on_either_runtime(any_table_factory):
    table = await any_table_factory()
    await table.join("Bea")  # the join's example is Ann
    runtime = APPLIANCE if table.socket_url(table.game_id).startswith("/ws/") else CLOUD
    checked = 0
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if runtime not in operation["x-runtimes"]:
                continue
            url, where = sample(path, table), f"{method.upper()} {path}"
            if path.startswith("/ws/"):
                ws = await table.http.ws_connect(url)  # 101, or it raises
                await ws.close()
                continue
            status = min(code for code in operation["responses"] if code.startswith("2"))
            expected = operation["responses"][status].get("content", {})
            request = table.http.request(
                method.upper(), url, headers=auth(operation, table), json=body_of(operation, table)
            )
            async with request as r:
                assert r.status == int(status), f"{where}: {r.status} {await r.text()}"
                media = next(iter(expected))
                if media != "*/*":
                    assert r.content_type == media, where
                if media == "application/json":
                    answer = json.loads(await r.read())
                    check_body(expected[media]["schema"], answer, where)
                    if operation["operationId"] == "addWebhook":  # the next operations name it
                        table.webhook_id = answer["webhook"]["id"]
            checked += 1
    assert checked >= len(documented(runtime)) - 1
    await table.close()
