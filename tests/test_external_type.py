"""A type from outside the appliance is the whole plugin: `pick-a-number` (tests/plugins/pick-a-number,
a package of its own) is installed into a directory of its own, and the real appliance, started with
that directory on its path, finds it through the `engagements.types` entry-point group, lists its
settings, and plays it end to end over WebSockets and on a phone's page, with no core file naming it."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from tests.conftest import ADMIN, create_game

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "tests" / "plugins" / "pick-a-number"
SLUG = "pick-a-number"


def test_no_core_file_names_the_type():
    core = [p for d in ("engagements", "web", "cloud") for p in (ROOT / d).rglob("*") if p.is_file()]
    assert core and not [p for p in core if SLUG.encode() in p.read_bytes()]


def test_the_core_pages_name_no_other_types_commands_or_fields():
    words = ("answer-vote", "answer_option", "ballot", '"answer"', '"vote"', '"question"', '"voting"')
    for page in (ROOT / "web" / "static").glob("*.js"):
        assert not [w for w in words if w in page.read_text()], page.name


def install(package: Path, target: Path) -> None:
    """Lay the package out in `target` as pip lays out its wheel: the modules, and a dist-info whose
    entry_points.txt importlib.metadata reads. (pip itself cannot build it here: the venv's setuptools
    needs the `wheel` package for that, and the tests use no network.)"""
    pyproject = tomllib.loads((package / "pyproject.toml").read_text())
    project = pyproject["project"]
    for name in pyproject["tool"]["setuptools"]["packages"]:
        shutil.copytree(package / name, target / name)
    dist = target / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    groups = project["entry-points"].items()
    lines = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in groups]
    (dist / "entry_points.txt").write_text("\n".join(lines))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    install(PACKAGE, target)
    return target


@pytest.fixture
async def appliance(installed, server_process, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(installed))
    proc = server_process("--no-mdns")
    await proc.start()
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        yield http


async def test_the_appliance_lists_an_installed_type_and_its_settings(appliance):
    async with appliance.get("/api/types", headers=ADMIN) as r:
        listed = await r.json()
    assert listed["default"] == "answer-vote"
    pick = next(t for t in listed["types"] if t["slug"] == SLUG)
    assert [(s["name"], s["min"], s["max"], s["default"]) for s in pick["settings"]] == [
        ("pick_seconds", 5, 120, 30),
        ("highest", 2, 100, 10),
    ]
    body = {"title": "Numbers", "prompts": ["One"], "type": SLUG, "highest": 101}
    async with appliance.post("/api/games", json=body, headers=ADMIN) as r:
        assert (r.status, (await r.json())["error"]["message"]) == (
            400,
            "highest must be a whole number from 2 to 100.",
        )
    async with appliance.get(f"/types/{SLUG}/round.js") as r:
        assert r.status == 200 and "export function reduce" in await r.text()


async def test_an_installed_type_plays_a_whole_game_over_websockets(appliance):
    table = await create_game(appliance, ["Lowest unique", "Again"], type=SLUG, highest=5)
    ann, bob, cy = [await table.join(nick) for nick in ("Ann", "Bob", "Cy")]
    await table.host.ok("start")
    opened = await cy.phase("picking")
    assert (opened["round"]["highest"], opened["round"]["prompt"]) == (5, "Lowest unique")
    refused = await ann.command("pick", round=0, number=6)
    assert (refused["type"], refused["code"]) == ("error", "invalid")
    refused = await ann.command("answer", round=0, text="not this game's")
    assert refused["code"] == "unknown_type"
    await ann.ok("pick", round=0, number=1)
    await bob.ok("pick", round=0, number=1)
    await cy.ok("pick", round=0, number=2)  # everyone has picked: the round closes at once

    revealed = await table.host.phase("reveal")
    assert revealed["round"]["winner"] == {"number": 2, "nickname": "Cy"}
    assert revealed["leaderboard"][0] == {"id": table.ids["Cy"], "nickname": "Cy", "score": 100, "rank": 1}
    _, snapshot = await table.connect(table.tokens["Bob"], "player")
    assert snapshot["you"]["pick"] == 1 and snapshot["you"]["player"]["score"] == 0

    await table.host.ok("next", round=0)
    await table.host.phase("picking")
    await table.host.ok("end_phase", round=1, phase="picking")  # nobody picked: nobody wins
    assert (await table.host.phase("reveal"))["round"]["winner"] is None
    await table.host.ok("next", round=1)
    final = await table.host.phase("finished")
    assert [row["nickname"] for row in final["leaderboard"]][:1] == ["Cy"]
    csv_headers = {"Authorization": f"Bearer {table.created['host_token']}"}
    async with appliance.get(f"/api/games/{table.game_id}/results.csv", headers=csv_headers) as r:
        assert (await r.text()).splitlines()[:3] == ["round,number,picks", "1,1,2", "1,2,1"]
    await table.close()


@pytest.mark.browser
async def test_a_phone_plays_an_installed_type_from_its_own_round_module(appliance, browser):
    table = await create_game(appliance, ["Lowest unique"], type=SLUG, highest=3)
    await table.join("Ann")  # a socket of her own keeps the seat counted; the page plays Bob
    async with appliance.post("/api/join", json={"code": table.created["code"], "nickname": "Bob"}) as r:
        bob = await r.json()
    page = await browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    base = str(appliance._base_url).rstrip("/")
    await page.goto(f"{base}/")
    await page.evaluate(
        "([key, token]) => localStorage.setItem(key, token)",
        [f"engagements:player:{table.game_id}", bob["player_token"]],
    )
    await page.goto(f"{base}/play/{table.game_id}")
    await table.host.ok("start")
    await page.locator("[data-number='3']").click()
    await page.get_by_text("You picked 3").wait_for()
    await table.players["Ann"].ok("pick", round=0, number=3)
    await page.get_by_text("Nobody picked a number of their own.").wait_for()
    await expect(page.locator("#announcer")).to_have_text("Round 1. The winning number is out.")
    assert problems == []
    await page.close()
    await table.close()
