"""The appliance as a host starts it: `engagements serve`, found on the network, QR codes that scan."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid

import pytest
import zxingcpp
from PIL import Image

from engagements.creation import MAX_PROMPTS
from tests.conftest import ADMIN, create_game, pack_upload

# mDNS on loopback: one worker holds every such test, so no two responders race for 5353 (pyproject).
pytestmark = pytest.mark.xdist_group("mdns")


async def test_served_appliance_is_found_by_discover_on_loopback(server_process):
    name = f"Engagements test {uuid.uuid4().hex[:8]}"
    server = server_process("--mdns-interfaces", "127.0.0.1", "--name", name)
    await server.start()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "web.cli",
            "discover",
            "--interfaces",
            "127.0.0.1",
            "--timeout",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    found = [s for s in json.loads(out.stdout) if s["name"] == name]
    assert found, out.stdout
    assert found[0]["port"] == server.port and "127.0.0.1" in found[0]["addresses"]
    printed = server.stop()
    assert f"Announced over mDNS as '{name}' on 127.0.0.1" in printed
    assert "Host console:  http://127.0.0.1:" in printed


async def test_game_qr_code_decodes_to_its_join_url(http):
    table = await create_game(http)
    async with http.get(f"/api/games/{table.game_id}/qr.png") as r:
        assert r.status == 200 and r.content_type == "image/png"
        image = Image.open(io.BytesIO(await r.read()))
    decoded = [b.text for b in zxingcpp.read_barcodes(image)]
    assert decoded == [table.created["join_url"]]
    assert table.created["join_url"].endswith(f"/j/{table.created['code']}")
    async with http.get(f"/api/games/{table.game_id}/qr.svg") as r:
        assert r.content_type == "image/svg+xml" and b"<path" in await r.read()
    await table.close()


async def test_join_page_from_the_qr_code_carries_the_code(http):
    table = await create_game(http)
    async with http.get(f"/j/{table.created['code']}") as r:
        assert r.status == 200
        assert table.created["code"] in await r.text()
    async with http.get("/play/gnosuchgame") as r:
        assert r.status == 404
    await table.close()


async def test_pages_refuse_to_load_anything_from_the_internet(http):
    async with http.get("/") as r:
        csp = r.headers["Content-Security-Policy"]
        html = await r.text()
    assert "default-src 'self'" in csp
    assert "http://" not in html and "https://" not in html


async def test_question_packs_ship_and_import_from_json_and_csv(http):
    async with http.get("/api/packs") as r:
        packs = (await r.json())["packs"]
    assert len(packs) >= 2 and all(p["count"] > 0 for p in packs)
    csv_pack = 'prompt\nFirst question\n\n"Second, with a comma"\n'
    async with http.post("/api/packs/parse", json=pack_upload(csv_pack, "my-pack.csv"), headers=ADMIN) as r:
        pack = await r.json()
    assert (pack["title"], pack["prompts"]) == ("My Pack", ["First question", "Second, with a comma"])
    doc = json.dumps({"title": "J", "prompts": ["a", {"prompt": "b"}]})
    async with http.post("/api/packs/parse", json=pack_upload(doc), headers=ADMIN) as r:
        pack = await r.json()
    assert (pack["type"], pack["title"], pack["prompts"]) == ("answer-vote", "J", ["a", "b"])
    async with http.post("/api/packs/parse", json=pack_upload("{broken"), headers=ADMIN) as r:
        assert r.status == 400 and "does not parse" in (await r.json())["error"]["message"]


async def test_creating_a_game_validates_its_input(http):
    bad = [
        {"prompts": []},
        {"prompts": ["ok"], "question_seconds": 1},
        {"prompts": ["ok"], "type": "nope"},
        {"prompts": [""]},
    ]
    for body in bad:
        async with http.post("/api/games", json=body, headers=ADMIN) as r:
            assert r.status == 400, body
            assert (await r.json())["error"]["code"] == "invalid"
    big = {**ADMIN, "Content-Type": "application/json"}
    async with http.post("/api/games", data=b"x" * 600_000, headers=big) as r:
        assert r.status == 413


async def test_a_game_holds_as_many_prompts_as_its_creation_can_write_at_once(http):
    """META, the join code and every prompt are one transaction (at most 100 items): 98 prompts."""
    prompts = [f"Prompt number {i}" for i in range(MAX_PROMPTS)]
    async with http.post("/api/games", json={"prompts": prompts}, headers=ADMIN) as r:
        assert r.status == 201, await r.text()
    async with http.post("/api/games", json={"prompts": [*prompts, "One too many"]}, headers=ADMIN) as r:
        assert (r.status, (await r.json())["error"]["code"]) == (400, "invalid")
