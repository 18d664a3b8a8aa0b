"""Exports (README.md, "Exports"): a game, each round, each player and every result, as JSON, a zip of
CSV files and a spreadsheet, the same from the appliance, the cloud stack and `engagements export`;
nothing that stays home goes in, and nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import zipfile
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook

from engagements import export, exportfiles, items, lifecycle
from engagements.creation import new_game
from engagements.engine import handle
from engagements.model import HOST, SYSTEM, Actor, Command
from engagements.plugins import load_types
from tests.conftest import ADMIN, Table, create_game
from tests.test_mixed import FUNNY, LAST, QUIZ, Mixed
from web.keys import GAMES

TYPES = load_types()
INJECTION = '=HYPERLINK("x","y")'  # a nickname a spreadsheet would run as a formula
NICKS = ("Ann", "Bob", INJECTION)
POLL = {"type": "poll", "question": "Tea or coffee?", "options": ["Tea", "Coffee"]}
GAMES_BY_KIND = {
    "answer-vote": [{"type": "answer-vote", "prompt": "A bad name for a cat"}],
    "quiz": [QUIZ, LAST],
    "poll": [POLL],
    "mixed": [QUIZ, FUNNY, POLL, LAST],
}
FIRST_PHASE = {"answer-vote": "question", "quiz": "question", "poll": "open"}
SHEETS = {
    "answer-vote": ["Game", "Rounds", "Players", "Results"],
    "quiz": ["Game", "Rounds", "Players", "Results"],
    "poll": ["Game", "Rounds", "Players", "Results"],
    "mixed": ["Game", "Rounds", "Players", "Results Quiz", "Results Answer, then vote", "Results Poll"],
}


def rescored(doc: dict[str, Any]) -> dict[str, int]:
    """A checker of the JSON export alone: each player's score as the sum of their points per round,
    those points as the round's own result rows give them, and no points from a round without any."""
    scores = {}
    for player in doc["players"]:
        assert all(round_ in {str(r["round"]) for r in doc["rounds"]} for round_ in player["points"])
        scores[player["nickname"]] = sum(player["points"].values())
    for r in doc["rounds"]:
        rows = r["results"]
        by_nickname = {row.get("player", row.get("author")): row.get("points") for row in rows}
        listed = {
            p["nickname"]: p["points"][str(r["round"])]
            for p in doc["players"]
            if str(r["round"]) in p["points"]
        }
        if r["type"] == "poll":
            assert not listed and r["points"] is None, "a poll gives no points"
            assert sum(row["votes"] for row in rows) == r["entries"]["vote"]
        elif r["outcome"] == "scored":
            assert listed == {n: p for n, p in by_nickname.items() if n in listed}, r["round"]
            assert sum(listed.values()) == r["points"]
    return scores


# -- the export itself, from the engine -----------------------------------------------------------


def test_the_json_export_of_a_mixed_game_reimported_reproduces_its_scores():
    m = Mixed([QUIZ, FUNNY, POLL, LAST])
    m.run(HOST, "start")
    for pid, choice in (("p0", 1), ("p1", 1), ("p2", 0)):
        m.play(pid, "answer", choice=choice)
    m.run(HOST, "next", round=0)
    for pid in ("p0", "p1", "p2"):
        m.answer(pid)
    for voter, author in (("p0", "p1"), ("p1", "p0"), ("p2", "p1")):
        m.play(voter, "vote", option=m.options[author])
    m.run(HOST, "next", round=1)
    for pid in ("p0", "p1", "p2"):
        m.play(pid, "vote", choices=[0 if pid == "p2" else 1])
    m.run(HOST, "next", round=2)
    m.play("p0", "answer", choice=1)
    m.run(HOST, "kick", player="p2")
    m.run(HOST, "skip", round=3)  # the question is dropped, unscored

    doc = json.loads(exportfiles.as_json(export.build(m.game, TYPES)))
    assert doc["format"] == "engagements-export/1"
    assert rescored(doc) == {m.game.players[p].nickname: s for p, s in m.scores().items()}
    assert [(r["type"], r["outcome"]) for r in doc["rounds"]] == [
        ("quiz", "scored"),
        ("answer-vote", "scored"),
        ("poll", "scored"),
        ("quiz", "skipped"),
    ]
    assert doc["rounds"][2]["results"][1] == {
        "question": "Tea or coffee?",
        "multiple": "no",
        "option": "Coffee",
        "votes": 2,
        "voters": 3,
        "percent": 67,
    }
    assert [(p["rank"], p["nickname"], p["kicked"]) for p in doc["players"]][-1] == (None, "Player 2", True)
    assert doc["game"]["types"] == ["quiz", "answer-vote", "poll"] and doc["game"]["kicked"] == 1

    game, rounds, players, *results = export.tables(export.build(m.game, TYPES))
    assert players.columns == ["rank", "nickname", "score", "round 1", "round 2", "joined_at", "kicked"]
    assert rounds.columns == ["round", "type", "prompt", "outcome", "players", "answers", "votes", "points"]
    assert [row[5:] for row in rounds.rows] == [[3, 0, 2000], [3, 3, 400], [0, 3, None], [1, 0, None]]
    assert game.rows[0][game.columns.index("quiz_seconds")] == 20
    assert [t.name for t in results] == ["results"]


def test_spreadsheets_never_run_what_players_typed():
    m = Mixed([FUNNY], players=0)
    for pid, nick in (("p0", INJECTION), ("p1", "@SUM(1+1)"), ("p2", "#N/A")):
        m.run(SYSTEM, "join", player_id=pid, nickname=nick, token_hash="x")
        m.run(SYSTEM, "presence", player=pid, connected=True)
    m.run(HOST, "start")
    for pid in ("p0", "p1", "p2"):
        m.options[pid] = m.play(pid, "answer", text=f"+{pid} -1")[1]["option"]
    for voter, author in (("p0", "p1"), ("p1", "p0"), ("p2", "p0")):
        m.play(voter, "vote", option=m.options[author])
    built = export.build(m.game, TYPES)

    players = list(csv.reader(io.StringIO(exportfiles.csv_files(built)["players.csv"].lstrip("\ufeff"))))
    assert [row[1] for row in players[1:]] == [f"'{INJECTION}", "'@SUM(1+1)", "#N/A"]
    results = exportfiles.csv_files(built)["results.csv"]
    assert "'+p0 -1" in results and ",+p0" not in results

    sheet = load_workbook(io.BytesIO(exportfiles.as_xlsx(built)))["Players"]
    cells = [sheet.cell(row, 2) for row in range(2, 5)]
    assert [(c.value, c.data_type) for c in cells] == [(INJECTION, "s"), ("@SUM(1+1)", "s"), ("#N/A", "s")]
    assert json.loads(exportfiles.as_json(built))["players"][0]["nickname"] == INJECTION, "JSON is as typed"


def test_a_10000_player_game_exports_in_time_linear_in_its_rows():
    """Figures, not assertions on time: the build and each file, for 10,000 players and two rounds."""
    kind, players = TYPES["answer-vote"], 10_000
    game = new_game(TYPES, "Big", ["One", "Two"], now=0).game
    clock = iter(range(1, 10**9))

    def run(actor: Actor, type_: str, **fields: Any) -> None:
        at = next(clock)
        handle(game, Command(type_, actor, fields, at, f"c{at}"), TYPES)

    for i in range(players):
        run(SYSTEM, "join", player_id=f"p{i:05d}", nickname=f"Player {i:05d}", token_hash="x")
        run(SYSTEM, "presence", player=f"p{i:05d}", connected=True)
    run(HOST, "start")
    for r in range(2):
        for i, pid in enumerate(list(game.players)):
            run(Actor("player", pid), "answer", round=r, text=f"answer {i}")
        for pid in list(game.players):
            run(Actor("player", pid), "vote", round=r, option=kind.you_view(game, pid)["ballot"][0]["id"])
        run(HOST, "next", round=r)
    assert game.status == "finished"
    start = time.perf_counter()
    built = export.build(game, TYPES)
    figures = [f"build {time.perf_counter() - start:.2f} s"]
    for fmt in ("json", "zip"):
        start = time.perf_counter()
        size = len(exportfiles.render(built, fmt))
        figures.append(f"{fmt} {size / 1e6:.1f} MB {time.perf_counter() - start:.2f} s")
    print(f"\n10,000 players, 2 rounds: {', '.join(figures)}")
    tables = {t.name: t for t in export.tables(built)}
    assert (len(tables["players"].rows), len(tables["results"].rows)) == (players, 2 * players)
    assert rescored(json.loads(exportfiles.as_json(built))) == {
        p.nickname: p.score for p in game.players.values()
    }


# -- over HTTP, after a real game on either runtime ------------------------------------------------


async def play(table: Table, prompts: list[dict[str, Any]]) -> dict[str, int]:
    """Every round played by three phones; the podium's scores."""
    for nick in NICKS:
        await table.join(nick)
    await table.host.ok("start")
    for r, prompt in enumerate(prompts):
        kind = prompt["type"]
        await table.host.phase(FIRST_PHASE[kind])
        phones = list(table.players.values())
        if kind == "quiz":
            for i, phone in enumerate(phones):
                await phone.ok("answer", round=r, choice=i % 2)
            await table.host.phase("reveal")
        elif kind == "poll":
            for i, phone in enumerate(phones):
                await phone.ok("vote", round=r, choices=[i % 2])
            await table.host.phase("results")
        else:
            options = [
                (await phone.ok("answer", round=r, text=f"-{i} cats"))["option"]
                for i, phone in enumerate(phones)
            ]
            await table.host.phase("voting")
            for i, phone in enumerate(phones):
                await phone.ok("vote", round=r, option=options[(i + 1) % 3])
            await table.host.phase("results")
        await table.host.ok("next", round=r)
    podium = await table.host.phase("finished")
    return {row["nickname"]: row["score"] for row in podium["leaderboard"]}


async def download(table: Table, fmt: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token or table.created['host_token']}"}
    async with table.http.get(f"/api/games/{table.game_id}/export.{fmt}", headers=headers) as r:
        assert r.status == 200, await r.text()
        assert r.content_type == exportfiles.CONTENT_TYPES[fmt]
        name = f"export-{table.created['code']}.{fmt}"
        assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        if fmt == "json":
            assert r.headers["Content-Encoding"] in ("gzip", "deflate"), "aiohttp asks for it, unpacks it"
        return await r.read()


@pytest.mark.parametrize("kind", list(GAMES_BY_KIND))
async def test_the_host_exports_a_played_game_from_either_runtime(any_table_factory, kind):
    prompts = GAMES_BY_KIND[kind]
    table = await any_table_factory(prompts=prompts)
    scores = await play(table, prompts)

    doc = json.loads(await download(table, "json"))
    assert rescored(doc) == scores
    assert [(r["type"], r["outcome"], r["players"]) for r in doc["rounds"]] == [
        (p["type"], "scored", 3) for p in prompts
    ]
    assert (doc["game"]["status"], doc["game"]["players"]) == ("finished", 3)

    archive = zipfile.ZipFile(io.BytesIO(await download(table, "zip")))
    folder = f"export-{table.created['code']}"
    assert archive.namelist() == [f"{folder}/{n}.csv" for n in ("game", "rounds", "players", "results")]
    files = {n.split("/")[1]: archive.read(n).decode("utf-8-sig") for n in archive.namelist()}
    players = {row["nickname"]: row for row in csv.DictReader(io.StringIO(files["players.csv"]))}
    assert {n: int(row["score"]) for n, row in players.items()} == {
        f"'{n}" if n == INJECTION else n: s for n, s in scores.items()
    }
    token = {"Authorization": f"Bearer {table.created['host_token']}"}
    async with table.http.get(f"/api/games/{table.game_id}/results.csv", headers=token) as r:
        assert files["results.csv"] == await r.text(), "the console's results CSV, in the zip"

    workbook = load_workbook(io.BytesIO(await download(table, "xlsx")))
    assert workbook.sheetnames == SHEETS[kind]
    nicknames = [row[1] for row in workbook["Players"].iter_rows(min_row=2, values_only=True)]
    assert sorted(nicknames) == sorted(NICKS)

    for secret in (table.created["host_token"], *table.tokens.values(), *table.ids.values()):
        for body in (json.dumps(doc), *files.values()):
            assert secret not in body
    await table.close()


async def test_an_export_needs_the_host_token_on_either_runtime(any_table_factory):
    table = await any_table_factory()
    await table.join("Ann")
    path = f"/api/games/{table.game_id}/export.xlsx"
    for headers in ({}, {"Authorization": f"Bearer {table.tokens['Ann']}"}, {"Authorization": "Bearer x.y"}):
        async with table.http.get(path, headers=headers) as r:
            assert r.status == 401, headers
            assert (await r.json())["error"]["code"] == "unauthorized"
    async with table.http.get("/api/games/nosuchgame/export.json", headers=ADMIN) as r:
        assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"
    async with table.http.get(f"/api/games/{table.game_id}/export.pdf", headers=ADMIN) as r:
        assert r.status == 404
    doc = json.loads(await download(table, "json"))
    assert doc["game"]["status"] == "lobby" and doc["rounds"][0]["outcome"] == "not played"
    await table.close()


async def test_nothing_that_stays_home_is_in_an_export(server, http):
    table = await create_game(http, prompts=GAMES_BY_KIND["answer-vote"])
    await play(table, GAMES_BY_KIND["answer-vote"])
    partition = await server.app[GAMES].store.query_all(items.game_pk(table.game_id))
    private = {
        str(item[name])
        for item in partition
        for name in (*lifecycle.HOME_ONLY, "client", "device", "address", "player_id")
        if item.get(name)
    }
    private |= {
        item["SK"].split("#", 1)[1] for item in partition if item["SK"].startswith(("CLIENT#", "DEVICE#"))
    }
    assert len(private) >= 2 + 3 * 2 + 1, "the secret, the host's and players' token hashes, ids, address"
    bodies = [await download(table, "json")]
    archive = zipfile.ZipFile(io.BytesIO(await download(table, "zip")))
    bodies += [archive.read(n) for n in archive.namelist()]
    sheets = zipfile.ZipFile(io.BytesIO(await download(table, "xlsx")))
    bodies += [sheets.read(n) for n in sheets.namelist()]
    for body in bodies:
        text = body.decode()
        assert not [value for value in private if value in text]
    await table.close()


# -- the command line, against a real data directory ---------------------------------------------


async def test_engagements_export_writes_the_same_files_from_the_data_directory(server_process, tmp_path):
    server = server_process("--no-mdns")
    await server.start()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        table = await create_game(http, prompts=GAMES_BY_KIND["mixed"])
        scores = await play(table, GAMES_BY_KIND["mixed"])
        served = {fmt: await download(table, fmt) for fmt in ("json", "zip", "xlsx")}
        await table.close()

    def export_cli(game: str, *options: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "web.cli", "export", game, "--data-dir", str(server.data_dir)]
        return subprocess.run([*command, *options], capture_output=True, text=True, timeout=60)

    code, out = table.created["code"], tmp_path / "out"
    done = export_cli(table.game_id, "--format", "json", "--out", str(out))  # while the server runs
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out / f"export-{code}.json")]
    assert (out / f"export-{code}.json").read_bytes() == served["json"]
    assert rescored(json.loads(served["json"])) == scores
    server.stop()

    done = export_cli(code.lower(), "--out", str(out))  # by its join code; CSV files by default
    assert done.returncode == 0, done.stderr
    archive = zipfile.ZipFile(io.BytesIO(served["zip"]))
    assert sorted(done.stdout.split()) == sorted(str(out / name) for name in archive.namelist())
    for name in archive.namelist():
        assert (out / name).read_bytes() == archive.read(name), name
    done = export_cli(table.game_id, "--format", "xlsx", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert load_workbook(out / f"export-{code}.xlsx").sheetnames == SHEETS["mixed"]

    done = export_cli("nosuchgame", "--out", str(out))
    assert done.returncode == 1
    database = server.data_dir / "engagements.db"
    assert done.stderr.strip() == f"Error: no game 'nosuchgame' in {database}: give its id or its join code"
    done = export_cli(table.game_id, "--format", "pdf")
    assert done.returncode == 2 and "'pdf' is not one of" in done.stderr
