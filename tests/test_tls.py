"""HTTPS and WSS with a certificate: pages, sockets, QR codes and the mDNS announcement all say https."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import uuid

import aiohttp
import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from tests.conftest import ADMIN, Certificate
from web.cli import main

# mDNS on loopback: one worker holds every such test, so no two responders race for 5353 (pyproject).
pytestmark = pytest.mark.xdist_group("mdns")


async def test_tls_serves_https_and_wss_and_every_url_follows(server_process, certificate):
    name = f"Engagements TLS {uuid.uuid4().hex[:8]}"
    server = server_process(
        "--certfile",
        str(certificate.certfile),
        "--keyfile",
        str(certificate.keyfile),
        "--mdns-interfaces",
        "127.0.0.1",
        "--name",
        name,
        tls=certificate.client,
    )
    await server.start()
    https = f"https://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=certificate.client)) as http:
        body = {"title": "Secure night", "prompts": ["A bad name for a cat"]}
        async with http.post(f"{https}/api/games", json=body, headers=ADMIN) as r:
            assert r.status == 201, await r.text()
            created = await r.json()
        assert created["join_url"] == f"{https}/j/{created['code']}"
        async with http.get(f"{https}/api/games/{created['game_id']}/qr.png") as r:
            decoded = [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(await r.read())))]
        assert decoded == [created["join_url"]]
        ws = await http.ws_connect(f"wss://127.0.0.1:{server.port}/ws/{created['game_id']}", origin=https)
        await ws.send_json({"type": "hello", "view": "host", "token": created["host_token"]})
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        await ws.close()
    # Plain HTTP on the same port gets no answer: nothing travels in clear.
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(aiohttp.ClientError):
            async with plain.get(f"http://127.0.0.1:{server.port}/healthz") as r:
                await r.read()
    discover = ["discover", "--interfaces", "127.0.0.1", "--timeout", "2", "--json"]
    found = subprocess.run(
        [sys.executable, "-m", "web.cli", *discover],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert [s["url"] for s in json.loads(found.stdout) if s["name"] == name] == [f"{https}/"], found.stdout
    printed = server.stop()
    assert f"Host console:  {https}/host (sign in" in printed
    assert f"Players join:  {https}/join" in printed


def test_unusable_certificate_files_stop_serve_with_one_line(tmp_path, certificate):
    other = Certificate(tmp_path)  # a second certificate: its key does not match the first one
    cases = [
        (["--certfile", str(tmp_path / "none.pem"), "--keyfile", str(certificate.keyfile)], "no such file"),
        (["--certfile", str(certificate.certfile), "--keyfile", str(other.keyfile)], "cannot use"),
        (["--certfile", str(certificate.keyfile), "--keyfile", str(certificate.keyfile)], "cannot use"),
    ]
    for options, message in cases:
        result = CliRunner().invoke(main, ["serve", "--no-mdns", "--data-dir", str(tmp_path), *options])
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Traceback" not in result.output
    result = CliRunner().invoke(main, ["serve", "--no-mdns", "--certfile", str(certificate.certfile)])
    assert result.exit_code == 2 and "--certfile and --keyfile go together" in result.output
    files = ["--certfile", str(certificate.certfile), "--keyfile", str(certificate.keyfile)]
    result = CliRunner().invoke(main, ["serve", "--no-mdns", *files, "--public-url", "http://10.0.0.5:8080"])
    assert result.exit_code == 2 and "--public-url must be https://" in result.output
