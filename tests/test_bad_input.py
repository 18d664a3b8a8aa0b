"""Bad input, from a real client to a real server: a clear error each time, no traceback, and the
socket (and the game) carries on. One test per failure seen from outside in issue 8."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from engagements import views
from engagements.service import Games
from tests.conftest import ADMIN, Client, pack_upload
from web.websocket import MAX_FRAME_IN

DEEP = "[" * 2000 + "]" * 2000  # 4 KB: json.loads alone raises RecursionError on it


async def still_open(client: Client) -> None:
    """The socket answers after the refusal: the error did not drop it."""
    await client.send("ping", t=7)
    assert (await client.expect("pong"))["t"] == 7


async def refused(client: Client, raw: str | bytes) -> dict:
    if isinstance(raw, bytes):
        await client.ws.send_bytes(raw)
    else:
        await client.ws.send_str(raw)
    return await client.expect("error")


@pytest.mark.parametrize(
    ("raw", "code", "says"),
    [
        (DEEP, "bad_json", "nested"),
        ('{"type": "hello", "token": ' + "[" * 40 + "]" * 40 + "}", "bad_json", "nested"),
        ('{"type": "ping", "t": NaN}', "bad_json", "NaN"),
        ('{"type": "ping", "t": 1e999}', "bad_json", "range"),
        ('{"type": "ping", "t": ' + "9" * 5000 + "}", "too_large", "4096"),
        ('{"type": "ping", "id": "\\ud800"}', "bad_json", "surrogate"),
        ('{"type": "hello", "token": "g.\\udfff", "view": "host"}', "bad_json", "surrogate"),
        ("not json", "bad_json", "Expecting value"),
        ('{"type": "ping"', "bad_json", "line 1"),
        ("[1, 2]", "bad_json", "object"),
        ('{"type": "ping"}' + " " * 5000, "too_large", "4096"),
        (b"\x00\xff binary", "bad_json", "JSON text"),
    ],
)
async def test_a_malformed_message_gets_an_error_and_the_socket_stays_open(table_factory, raw, code, says):
    table = await table_factory()
    error = await refused(table.host, raw)
    assert (error["code"], says in error["message"]) == (code, True), error
    await still_open(table.host)


async def test_a_deep_array_from_a_player_mid_game_leaves_the_game_playing(table_factory):
    table = await table_factory()
    ann = await table.join("Ann")
    await table.host.ok("start")
    assert (await refused(ann, DEEP))["code"] == "bad_json"
    assert "option" in await ann.ok("answer", round=0, text="Sir Hairball")


async def test_a_frame_over_the_hard_limit_closes_the_socket_with_1009_as_documented(table_factory):
    table = await table_factory()
    await table.host.ws.send_str("x" * (1024 * 1024))
    msg = await table.host.ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.CLOSE
    assert table.host.ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_a_text_frame_that_is_not_utf8_closes_the_socket_with_1007_as_documented(table_factory):
    table = await table_factory()
    await table.host.ws._writer.send_frame(b'{"type": "\xff"}', aiohttp.WSMsgType.TEXT)
    msg = await table.host.ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.CLOSE
    assert table.host.ws.close_code == aiohttp.WSCloseCode.INVALID_TEXT


async def test_a_frame_just_under_the_hard_limit_is_refused_and_the_socket_stays_open(table_factory):
    table = await table_factory()
    assert (await refused(table.host, "x" * (MAX_FRAME_IN - 1)))["code"] == "too_large"
    await still_open(table.host)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("evil\x1b]0;pwned\x07", "U+001B"),
        ("left\u202etfel", "U+202E"),
        ("zero\u200bwidth", "U+200B"),
        ("private\ue000use", "U+E000"),
        ("a" + "\u0301" * 10, "accents"),
    ],
)
async def test_answers_with_control_or_invisible_characters_are_refused(table_factory, text, says):
    table = await table_factory()
    ann = await table.join("Ann")
    await table.host.ok("start")
    error = await ann.command("answer", round=0, text=text)
    assert (error["code"], says in error["message"]) == ("invalid", True), error


# -- the HTTP API ---------------------------------------------------------------------------------


async def post_raw(http: aiohttp.ClientSession, path: str, body: str | bytes) -> tuple[int, dict]:
    async with http.post(path, data=body, headers={"Content-Type": "application/json", **ADMIN}) as r:
        assert r.content_type == "application/json", await r.text()
        return r.status, await r.json()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (DEEP, "nested"),
        ('{"title": "\\ud800", "prompts": ["A"]}', "surrogate"),
        ('{"title": "T", "prompts": ["A"], "vote_seconds": NaN}', "NaN"),
        (b'{"title": "\xed\xa0\x80", "prompts": ["A"]}', "surrogate"),  # a surrogate in (bad) UTF-8
        (b"{\x80}", "decode"),
        ("[]", "object"),
    ],
)
async def test_a_body_we_cannot_read_is_a_json_400_not_a_500(http, body, says):
    status, reply = await post_raw(http, "/api/games", body)
    assert status == 400, reply
    assert reply["error"]["code"] == "bad_message"
    assert says in reply["error"]["message"]


@pytest.mark.parametrize(
    ("title", "prompts", "says"),
    [
        ("Quiz\x1b[2J\x1b]0;owned\x07", ["A"], "U+001B"),
        ("\u202eevil", ["A"], "U+202E"),
        ("Fine", ["tab\u0000null"], "U+0000"),
        ("Fine", ["x" * 201], "over 200"),
        ("Fine", [{"prompt": "\u2066isolate"}], "U+2066"),
    ],
)
async def test_titles_and_prompts_with_control_characters_are_refused(http, title, prompts, says):
    status, reply = await post_raw(http, "/api/games", _json({"title": title, "prompts": prompts}))
    assert (status, reply["error"]["code"]) == (400, "invalid"), reply
    assert says in reply["error"]["message"]


async def test_titles_keep_emoji_sequences_and_are_cut_not_refused_when_long(http):
    family, scotland = (
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    )
    title = f"{family} {scotland} " + "e\u0301" * 100  # decomposed accents: stored composed (NFC)
    status, created = await post_raw(http, "/api/games", _json({"title": title, "prompts": ["A"]}))
    assert status == 201, created
    async with http.get("/api/games", headers=ADMIN) as r:
        listed = {g["id"]: g["title"] for g in (await r.json())["games"]}
    assert listed[created["game_id"]] == (f"{family} {scotland} " + "\u00e9" * 100)[:80]


async def test_a_nickname_with_a_control_character_is_refused(table_factory, http):
    table = await table_factory()
    body = _json({"code": table.created["code"], "nickname": "Ann\x1b[31m"})
    status, reply = await post_raw(http, "/api/join", body)
    assert (status, reply["error"]["code"]) == (400, "invalid"), reply


@pytest.mark.parametrize(
    ("body", "filename", "says"),
    [
        (DEEP.encode(), "pack.json", "nested"),
        (b'{"title": "ok", "prompts": ["fine", "bell\\u0007"]}', "pack.json", "prompt number 2"),
        (b'{"title": "\\u001b]0;x", "prompts": ["fine"]}', "pack.json", "title"),
        (b"prompt\n" + b"x" * 200_000 + b"\n", "pack.csv", "CSV"),
        (b"prompt\nok\n\xe2\x80\xaeflipped\n", "pack.csv", "U+202E"),
    ],
)
async def test_an_imported_pack_is_held_to_the_same_text_rule(http, body, filename, says):
    status, reply = await post_raw(http, "/api/packs/parse", _json(pack_upload(body, filename)))
    assert (status, reply["error"]["code"]) == (400, "invalid"), reply
    assert says in reply["error"]["message"]


async def test_a_csv_pack_named_with_control_characters_gets_a_plain_title(http):
    status, pack = await post_raw(
        http, "/api/packs/parse", _json(pack_upload(b"one\ntwo\n", "\x1b[31mred.csv"))
    )
    assert (status, pack["title"]) == (200, "Imported pack")


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/nothing-here", 404, "not_found"),
        ("DELETE", "/api/games", 405, "method_not_allowed"),
        ("GET", "/api/join", 405, "method_not_allowed"),
        ("GET", "/api/games/gnope/qr.svg", 404, "not_found"),
        ("GET", "/api/games/%ED%A0%80/qr.svg", 404, "not_found"),
        ("GET", "/api/games/" + "g" * 2000 + "/results.csv", 404, "not_found"),
        ("GET", "/api/packs/..%2f..%2fetc", 404, "not_found"),
    ],
)
async def test_every_api_error_is_json(http, method, path, status, code):
    async with http.request(method, path) as r:
        assert r.content_type == "application/json", await r.text()
        assert (r.status, (await r.json())["error"]["code"]) == (status, code)


async def test_a_player_token_that_is_not_ascii_is_unauthorized_not_a_crash(table_factory):
    table = await table_factory()
    ws = await table.http.ws_connect(f"/ws/{table.game_id}")
    client = Client(ws)
    await client.send("hello", token="p\u00e9.\U0001f600", view="player")
    assert (await client.expect("error"))["code"] == "unauthorized"
    await client.send("hello", token="x.é", view="host")
    assert (await client.expect("error"))["code"] == "unauthorized"


# -- a bug is answered, and logged once without what the client sent ------------------------------


async def test_a_bug_in_an_api_handler_is_a_json_500_logged_once_without_the_token(
    table_factory, http, monkeypatch, caplog
):
    table = await table_factory()
    token = table.created["host_token"]

    def broken(self, game):
        raise RuntimeError(f"bug holding {token}")

    monkeypatch.setattr(Games, "join_url", broken)
    caplog.set_level(logging.ERROR)
    for _ in range(3):
        async with http.get(f"/api/games/{table.game_id}/qr.svg") as r:
            assert (r.status, (await r.json())["error"]["code"]) == (500, "internal")
    faults = [r for r in caplog.records if r.name == "engagements.faults"]
    assert len(faults) == 1, caplog.text
    assert "RuntimeError" in caplog.text and "Traceback" in caplog.text
    assert token not in caplog.text and token.split(".")[1] not in caplog.text


async def test_a_bug_behind_a_websocket_message_is_an_internal_error_and_the_socket_stays_open(
    table_factory, monkeypatch, caplog
):
    table = await table_factory()
    token = table.created["host_token"]

    def broken(game, query, offset):
        raise KeyError(token)

    monkeypatch.setattr(views, "players_page", broken)
    caplog.set_level(logging.ERROR)
    await table.host.send("players", query="", offset=0)
    assert (await table.host.expect("error"))["code"] == "internal"
    await still_open(table.host)
    assert "KeyError" in caplog.text and token not in caplog.text


def _json(value: object) -> str:
    return json.dumps(value)
