"""The pages on both runtimes: one place says where their APIs are, the cloud's are rendered into a static
site, and every HTTP call the pages make is answered alike by the appliance and the cloud's HTTP API."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.conftest import ADMIN, pack_upload
from web.pages import APPLIANCE, PAGES, Endpoints, build_site, page_for

CLOUD = Endpoints(api="https://api.example.org", socket="wss://ws.example.org/prod?game={game}")


def test_every_address_of_the_appliance_has_its_page_in_the_static_site(tmp_path) -> None:
    site = tmp_path / "site"
    build_site(site, CLOUD)
    for page in PAGES:
        html = (site / page.template).read_text()
        assert '<meta name="engagements:api" content="https://api.example.org">' in html
        assert '<meta name="engagements:socket" content="wss://ws.example.org/prod?game={game}">' in html
    assert (site / "static" / "endpoints.js").is_file() and (site / "static" / "app.css").is_file()
    assert (site / "types" / "answer-vote" / "round.js").is_file()
    assert (site / "not_found.html").is_file()
    templates = [page.template for page in PAGES] + ["not_found.html"]
    words = " ".join((site / template).read_text() for template in templates)
    assert "appliance" not in words.lower(), "the cloud's pages speak of no appliance"
    assert "the stack's admin secret" in (site / "host_new.html").read_text()
    paths = ("/", "/host", "/host/g1", "/j/AB12")
    shown = {path: getattr(page_for(path), "template", None) for path in paths}
    expected = {"/": "home.html", "/host": "host_new.html", "/host/g1": "host.html", "/j/AB12": "join.html"}
    assert shown == expected
    assert page_for("/play/g1") == next(p for p in PAGES if p.name == "play")
    assert page_for("/play/g1/x") is None and page_for("/static") is None


def test_a_socket_url_must_say_where_the_game_goes() -> None:
    with pytest.raises(ValueError):
        Endpoints(socket="wss://ws.example.org/prod")


def test_the_cloud_pages_may_call_their_apis_and_nothing_else() -> None:
    assert "connect-src 'self' https://api.example.org wss://ws.example.org;" in CLOUD.content_security_policy
    assert "img-src 'self' data: https://api.example.org;" in CLOUD.content_security_policy
    assert "connect-src 'self';" in APPLIANCE.content_security_policy


async def test_the_appliance_pages_keep_their_apis_on_their_own_origin(http) -> None:
    async with http.get("/host") as r:
        html = await r.text()
        assert r.headers["Content-Security-Policy"] == APPLIANCE.content_security_policy
    assert '<meta name="engagements:api" content="">' in html
    assert '<meta name="engagements:socket" content="/ws/{game}">' in html


async def test_every_page_is_styled_for_every_type_before_its_first_paint(http, tmp_path) -> None:
    """A type's stylesheet is linked in the head, not only added by its module once loaded: otherwise a
    phase drawn before the sheet arrives shows unstyled (a quiz's answer buttons at 21 px, not 48)."""
    links = [f'<link rel="stylesheet" href="/types/{slug}/round.css" data-round-css="{slug}">' for slug in
             ("answer-vote", "poll", "qa", "quiz", "word-cloud")]  # fmt: skip
    build_site(tmp_path / "site", CLOUD)
    cloud_play = (tmp_path / "site" / "play.html").read_text()
    async with http.get("/play/nosuchgame") as r:  # the not-found page is styled alike
        appliance_missing = await r.text()
    async with http.get("/host") as r:
        appliance_host = await r.text()
    for html in (cloud_play, appliance_missing, appliance_host):
        head = html.split("</head>")[0]
        assert all(link in head for link in links), head
    async with http.get("/types/quiz/round.css") as r:
        assert r.status == 200 and ".qz-option" in await r.text()


async def test_the_cloud_local_site_serves_each_page_at_the_appliances_address(cloud_pages) -> None:
    pages = cloud_pages.settings.pages_url
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{pages}/play/anything") as r:
            assert r.status == 200 and 'src="/static/play.js"' in await r.text()
            assert r.headers["Content-Security-Policy"] == cloud_pages.endpoints.content_security_policy
        async with session.get(f"{pages}/static/socket.js") as r:
            assert r.status == 200 and "javascript" in r.content_type
        for missing in ("/nowhere", "/static/nothing.js", "/static/%2e%2e/pages.py"):
            async with session.get(f"{pages}{missing}") as r:
                assert r.status == 404 and "No such game here" in await r.text()
        # The HTTP API lets the pages' origin call it (CORS, the template's AllowedOrigins).
        preflight = {"Origin": pages, "Access-Control-Request-Method": "POST"}
        async with session.options(f"{cloud_pages.settings.http_url}/api/join", headers=preflight) as r:
            assert r.status == 204 and r.headers["Access-Control-Allow-Origin"] == pages


@pytest.fixture(params=["appliance", "cloud-local"])
def api(request) -> aiohttp.ClientSession:
    """An HTTP session on the appliance, then on the cloud's HTTP API: the pages call both alike."""
    if request.param == "appliance":
        return request.getfixturevalue("http")
    return request.getfixturevalue("cloud_local")[0]


async def json_of(response: aiohttp.ClientResponse) -> Any:
    return await response.json(content_type=None)


async def test_the_pages_calls_are_answered_alike_by_both_runtimes(api) -> None:
    async with api.get("/api/admin", headers=ADMIN) as r:
        assert (r.status, await json_of(r)) == (200, {"admin": True})
    async with api.get("/api/admin", headers={"Authorization": "Bearer wrong-wrong-wrong"}) as r:
        assert r.status == 401 and (await json_of(r))["error"]["code"] == "unauthorized"
    csv = b"prompt\nA bad name for a cat\nThe worst pizza topping\n"
    async with api.post("/api/packs/parse", json=pack_upload(csv, "two.csv"), headers=ADMIN) as r:
        assert r.status == 200
        assert (await json_of(r))["prompts"] == ["A bad name for a cat", "The worst pizza topping"]
    async with api.post("/api/packs/parse", json=pack_upload(b"[", "x.json"), headers=ADMIN) as r:
        assert r.status == 400 and (await json_of(r))["error"]["code"] == "invalid"

    async with api.post("/api/games", json={"title": "Both", "prompts": ["One"]}, headers=ADMIN) as r:
        created = await json_of(r)
        assert r.status == 201 and created["host_url"] == f"/host/{created['game_id']}"
    async with api.get("/api/games", headers=ADMIN) as r:
        listed = (await json_of(r))["games"]
        assert created["game_id"] in [g["id"] for g in listed]
    body = {"code": created["code"], "nickname": "  Ann  "}
    async with api.post("/api/join", json=body) as r:
        joined = await json_of(r)
        assert r.status == 200 and joined["nickname"] == "Ann"
        assert joined["play_url"] == f"/play/{created['game_id']}"
    async with api.get(f"/api/games/{created['game_id']}/qr.svg") as r:
        assert r.status == 200 and r.content_type == "image/svg+xml"


async def test_the_host_downloads_the_results_from_either_runtime(any_table_factory) -> None:
    table = await any_table_factory()
    token = {"Authorization": f"Bearer {table.created['host_token']}"}
    async with table.http.get(f"/api/games/{table.game_id}/results.csv", headers=token) as r:
        assert r.status == 200 and r.content_type == "text/csv"
    await table.close()
