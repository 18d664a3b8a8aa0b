"""The wheel is the appliance: built from the sources, installed into a fresh venv outside the checkout,
its `engagements serve` serves every page, every static file the pages load, each type's browser module
and the sample packs, and plays a game.

How it is installed, and why: `pip wheel --no-deps` builds it (its build backend comes from the
configured index, as for `pip install -e .`); a venv made `--without-pip` gets it from this venv's pip
(`pip --python`), `--no-deps`. Its dependencies are not downloaded again (slow, and the index's business,
not the wheel's): the new venv sees, through a `.pth`, a directory holding exactly the distributions the
wheel's `Requires-Dist` names, and theirs, linked from this venv. So a module the wheel lacks, a data
file missing from its package data, or a dependency used but not declared fails here as it would after
`pipx install` at a venue, while nothing of the checkout (nor its editable install) is on the path.
"""

from __future__ import annotations

import email
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urljoin

import aiohttp
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from engagements import __version__
from tests.conftest import ADMIN, ServerProcess, create_game

ROOT = Path(__file__).parent.parent
IMPORTS = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']""")  # ES module specifiers
LINKS = re.compile(r"""(?:src|href)="(/[^"]*)\"""")
CSS_URLS = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
TYPES = {".js": "javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(into: Path) -> Path:
    """The wheel, built from a copy of what the sources hold (no build/ left over from an earlier one)."""
    source = into / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    for name in packages["find"]["include"]:
        top = name.rstrip("*")
        shutil.copytree(ROOT / top, source / top, ignore=shutil.ignore_patterns("__pycache__"))
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", into / "dist", source)
    (wheel,) = (into / "dist").glob("engagements-*.whl")
    return wheel


def dependencies(requires: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions `requires` names (no extras of ours), and theirs, transitively."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [(Requirement(r), "") for r in requires]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name not in found:
            found[name] = importlib.metadata.distribution(requirement.name)
            todo += [(Requirement(r), "") for r in found[name].requires or []]
        todo += [(Requirement(r), e) for e in requirement.extras for r in found[name].requires or []]
    return list(found.values())


def link_dependencies(requires: list[str], into: Path) -> None:
    """Every file of the dependencies, linked into `into` as they lie in this venv's site-packages."""
    into.mkdir()
    for dist in dependencies(requires):
        site = Path(dist.locate_file(""))
        for top in {Path(f).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            if not (into / top).exists():
                (into / top).symlink_to(site / top)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the wheel installed: its bin/ directory."""
    work = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(work)
    venv = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    (dist_info,) = site.glob("engagements-*.dist-info")
    metadata = email.message_from_string((dist_info / "METADATA").read_text())
    link_dependencies(metadata.get_all("Requires-Dist") or [], work / "dependencies")
    (site / "dependencies.pth").write_text(f"{work / 'dependencies'}\n")
    return venv / "bin"


DATA = ("engagements.packs.PACKS_DIR", "web.pages.TEMPLATES", "web.pages.STATIC")


def test_the_installed_appliance_runs_from_the_wheel_and_carries_its_templates_and_packs(installed, tmp_path):
    program = f"import engagements.packs, web.pages, sync, cloud; print({', '.join(DATA)})"
    where = [Path(p) for p in run(installed / "python", "-c", program, cwd=tmp_path).split()]
    venv = installed.parent.resolve()
    assert all(p.resolve().is_relative_to(venv) for p in where), where
    for installed_dir, source in zip(
        where, ("engagements/packs", "web/templates", "web/static"), strict=True
    ):
        assert sorted(p.name for p in installed_dir.iterdir()) == sorted(
            p.name for p in (ROOT / source).iterdir()
        )
    assert "Usage: engagements" in run(installed / "engagements", "--help", cwd=tmp_path)


async def crawl(http: aiohttp.ClientSession, start: list[str]) -> dict[str, str]:
    """Each address in `start`, and every file they load (page links, module imports, CSS urls), by URL:
    its content type. Fails on any that is not served."""
    seen: dict[str, str] = {}
    todo = list(start)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        async with http.get(url) as r:
            assert r.status == 200, f"{url}: {r.status}"
            body = await r.text()
            seen[url] = r.content_type
        assert body.strip(), f"{url} is empty"
        if r.content_type == "text/html":
            found = LINKS.findall(body)
        elif "javascript" in r.content_type:
            found = [s for s in IMPORTS.findall(body) if s.startswith(("/", "./", "../"))]
        elif r.content_type == "text/css":
            found = [u for u in CSS_URLS.findall(body) if not u.startswith("data:")]
        else:
            found = []
        todo += [urljoin(url, link) for link in found]
    return seen


def static_files() -> list[tuple[str, Path]]:
    """Every static file of the checkout, by the URL the appliance serves it at."""
    files = [(f"/static/{p.name}", p) for p in (ROOT / "web" / "static").iterdir()]
    for kind in (ROOT / "engagements" / "types").iterdir():
        if (kind / "static").is_dir():
            slug = kind.name.replace("_", "-")
            files += [(f"/types/{slug}/{p.name}", p) for p in (kind / "static").iterdir()]
    return files


async def test_the_installed_serve_serves_every_page_and_file_and_plays_a_game(
    installed, tmp_path, monkeypatch, unused_tcp_port
):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    elsewhere = tmp_path / "elsewhere"  # neither the checkout nor anywhere near it
    elsewhere.mkdir()
    program = [str(installed / "engagements")]
    server = ServerProcess(elsewhere / "data", unused_tcp_port, "--no-mdns", program=program, cwd=elsewhere)
    await server.start()
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            table = await create_game(http, prompts=["Capital of France? | Lyon | *Paris"], type="quiz")
            game, code = table.game_id, table.created["code"]
            pages = ["/", "/host", "/join", f"/j/{code}", f"/host/{game}", f"/screen/{game}", f"/play/{game}"]
            async with http.get("/api/types", headers=ADMIN) as r:
                slugs = [t["slug"] for t in (await r.json())["types"]]
            assert set(slugs) >= {"answer-vote", "poll", "quiz"}
            modules = [f"/types/{slug}/{file}" for slug in slugs for file in ("round.js", "round.css")]
            served = await crawl(http, pages + modules)
            for url, content_type in served.items():
                suffix = Path(url).suffix
                assert TYPES[suffix or ".html"] in content_type, (url, content_type)
            for url, source in static_files():
                async with http.get(url) as r:
                    assert r.status == 200 and await r.read() == source.read_bytes(), url

            async with http.get("/api/packs") as r:
                packs = [p["name"] for p in (await r.json())["packs"]]
            assert sorted(packs) == sorted({p.stem for p in (ROOT / "engagements" / "packs").iterdir()})
            for pack in packs:
                async with http.get(f"/api/packs/{pack}") as r:
                    assert r.status == 200 and (await r.json())["prompts"], pack
            async with http.get(f"/api/games/{game}/qr.png") as r:
                assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")

            ann = await table.join("Ann")
            await table.host.ok("start")
            await ann.phase("question")
            await ann.ok("answer", round=0, choice=1)
            await table.host.phase("reveal")
            assert (await ann.you("result"))["result"]["correct"]
            await table.host.ok("next", round=0)
            podium = await table.host.phase("finished")
            assert podium["leaderboard"][0]["nickname"] == "Ann"
            await table.close()
    finally:
        output = server.stop()
    assert f"Engagements {__version__} is running." in output, output
    assert "Traceback" not in output, output
