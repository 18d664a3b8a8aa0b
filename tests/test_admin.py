"""The appliance's admin: creating and listing games need the secret; players never do."""

from __future__ import annotations

import re
import stat

import aiohttp
import pytest
from click.testing import CliRunner

from tests.conftest import ADMIN, ADMIN_SECRET, create_game, pack_upload
from web.admin import SECRET_FILE, AdminSecretError, load_secret
from web.cli import main
from web.keys import ADMIN as ADMIN_KEY


async def test_creating_and_listing_games_needs_the_admin_secret(http):
    body = {"title": "Uninvited", "prompts": ["Who let you in?"]}
    for headers in ({}, {"Authorization": "Bearer not-the-secret"}, {"Authorization": ADMIN_SECRET}):
        async with http.post("/api/games", json=body, headers=headers) as r:
            assert r.status == 401, headers
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            refusal = (await r.json())["error"]
        assert refusal["code"] == "unauthorized" and "admin secret" in refusal["message"]
        async with http.get("/api/games", headers=headers) as r:
            assert r.status == 401
        async with http.post(
            "/api/packs/parse", json=pack_upload("prompt\nA\n", "p.csv"), headers=headers
        ) as r:
            assert r.status == 401
        async with http.get("/api/admin", headers=headers) as r:
            assert r.status == 401

    table = await create_game(http, prompts=["Who let you in?"])
    async with http.get("/api/games", headers=ADMIN) as r:
        assert [g["id"] for g in (await r.json())["games"]] == [table.game_id]
    async with http.get("/api/admin", headers=ADMIN) as r:
        assert await r.json() == {"admin": True}
    # Players still join with nothing but the code, and play.
    ann = await table.join("Ann")
    await table.host.ok("start")
    await ann.phase("question")
    await table.close()


async def test_the_secret_stays_out_of_reprs(server, settings):
    assert ADMIN_SECRET not in repr(settings)
    assert ADMIN_SECRET not in repr(server.app[ADMIN_KEY])


async def test_wrong_secrets_from_one_address_are_throttled(http):
    wrong = {"Authorization": "Bearer a-guess-at-the-secret"}
    statuses = []
    for _ in range(12):
        async with http.get("/api/admin", headers=wrong) as r:
            statuses.append(r.status)
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    # While throttled even the right secret is refused: otherwise its answer would confirm a guess.
    async with http.get("/api/admin", headers=ADMIN) as r:
        assert r.status == 429 and int(r.headers["Retry-After"]) > 0


def test_the_secret_is_made_once_kept_0600_and_tightened(tmp_path):
    data = tmp_path / "data"
    secret = load_secret(data)
    path = data / SECRET_FILE
    assert len(secret) >= 24 and path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(data) == secret  # the same at every start
    path.chmod(0o644)
    assert load_secret(data) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(data, "a chosen secret, long") == "a chosen secret, long"  # --admin-secret wins


def test_a_short_secret_is_refused_plainly(tmp_path):
    with pytest.raises(AdminSecretError, match="shorter than 12"):
        load_secret(tmp_path, "hunter2")
    (tmp_path / SECRET_FILE).write_text("\n")
    with pytest.raises(AdminSecretError, match="delete the file"):
        load_secret(tmp_path)
    result = CliRunner().invoke(
        main, ["serve", "--no-mdns", "--data-dir", str(tmp_path), "--admin-secret", "hunter2"]
    )
    assert result.exit_code == 1 and "shorter than 12 characters" in result.output, result.output


async def test_serve_shows_the_secret_once_in_the_console_link_and_nowhere_else(server_process):
    server = server_process("--no-mdns", admin_secret=None)
    await server.start()
    secret = (server.data_dir / SECRET_FILE).read_text().strip()
    assert stat.S_IMODE((server.data_dir / SECRET_FILE).stat().st_mode) == 0o600
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.get("/api/games", headers={"Authorization": f"Bearer {secret}x"}) as r:
            assert r.status == 401 and secret not in await r.text()
        async with http.post("/api/games", json={}, headers={"Authorization": f"Bearer {secret}"}) as r:
            assert r.status == 400  # past the admin check, refused for its (empty) content
    printed = server.stop()
    assert re.search(rf"Host console:  {re.escape(server.url)}/host#admin={re.escape(secret)}\n", printed)
    assert printed.count(secret) == 1, printed
    assert f"Admin secret:  kept in {server.data_dir / SECRET_FILE}" in printed


async def test_a_chosen_secret_is_never_shown(server_process):
    """The admin who chose it knows it; a service's log (the journal) need not learn it."""
    server = server_process("--no-mdns")  # with ENGAGEMENTS_ADMIN_SECRET set
    await server.start()
    printed = server.stop()
    assert f"Host console:  {server.url}/host (sign in with the admin secret you chose)" in printed
    assert ADMIN_SECRET not in printed and "#admin=" not in printed
    assert not (server.data_dir / SECRET_FILE).exists()
