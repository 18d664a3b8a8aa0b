"""The browser pages: which address shows which template, where their APIs are, and the static site.

The appliance serves the pages itself, with its HTTP API and WebSocket on the same origin. The cloud's
pages are the same templates rendered once into a directory of files (`make cloud-pages`), for a static
host (S3 and CloudFront later, `make cloud-local`'s pages server now) that serves `/play/<id>` with
`play.html`: the pages take a game's id or code from their address when it is not rendered into them, and
`Endpoints`, rendered into every page's `<meta>` tags (base.html, read by static/endpoints.js), says where
the two APIs are. Only those URLs differ: the pages speak the same protocol to both.

    python -m web.pages --api https://api.example.org --socket 'wss://ws.example.org/prod?game={game}' \\
        --output build/cloud-pages
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from engagements import __version__
from engagements.plugins import load_types
from engagements.types import EngagementType

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
NOT_FOUND = "not_found.html"
GAME = "{game}"  # where a socket URL names the game


@dataclass(frozen=True)
class Endpoints:
    """Where the pages' HTTP API and WebSocket are; the defaults are the appliance's own origin.

    `api` is the base URL put before `/api/…` ("" for the page's origin). `socket` is a game's WebSocket
    URL with `{game}` for its id; a path is on the page's origin, with ws: or wss: as the page is http: or
    https:.
    """

    api: str = ""
    socket: str = f"/ws/{GAME}"

    def __post_init__(self) -> None:
        if GAME not in self.socket:
            raise ValueError(f"the socket URL must name the game with {GAME}: {self.socket!r}")

    @property
    def content_security_policy(self) -> str:
        """Keeps the pages to their own origin and their APIs' (QR codes are images from the HTTP API)."""
        api, socket = _origin(self.api), _origin(self.socket)
        images = f" {api}" if api else ""
        calls = "".join(f" {o}" for o in dict.fromkeys((api, socket)) if o)
        return (
            f"default-src 'self'; img-src 'self' data:{images}; connect-src 'self'{calls}; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
        )

    @property
    def cloud(self) -> bool:
        """Pages of the cloud's stack (their API elsewhere), not of an appliance: their wording says so."""
        return bool(self.api)

    @property
    def security_headers(self) -> dict[str, str]:
        """What every page and API answer carries (the appliance's, and a static host's for the pages)."""
        return {
            "Content-Security-Policy": self.content_security_policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }


APPLIANCE = Endpoints()


def _origin(url: str) -> str:
    """The scheme and host of an absolute URL; "" for a path on the page's own origin."""
    found = re.match(r"^[a-z][a-z0-9+.-]*://[^/?#]+", url)
    return found.group(0) if found else ""


@dataclass(frozen=True)
class Page:
    path: str  # aiohttp's pattern; its one `{name}` is the page's game id or join code
    template: str
    name: str
    game: bool = False  # the appliance answers 404 for a game it does not have

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$")


PAGES = (
    Page("/", "home.html", "home"),
    Page("/host", "host_new.html", "host_new"),
    Page("/host/{game_id}", "host.html", "host", game=True),
    Page("/screen/{game_id}", "screen.html", "screen", game=True),
    Page("/j/{code}", "join.html", "join_code"),
    Page("/join", "join.html", "join"),
    Page("/play/{game_id}", "play.html", "play", game=True),
    Page("/history", "history.html", "history"),
    Page("/history/{game_id}", "history_game.html", "history_game", game=True),
)


def page_for(path: str) -> Page | None:
    """The page a static host shows at `path` (what the appliance's router does for its pages)."""
    return next((page for page in PAGES if page.pattern.match(path)), None)


def template_options() -> dict[str, Any]:
    """The templates' Jinja environment, for the appliance (web/app.py) and the static site alike."""
    return {
        "loader": jinja2.FileSystemLoader(TEMPLATES),
        "autoescape": jinja2.select_autoescape(default=True),
    }


def stylesheets(types: dict[str, EngagementType]) -> list[str]:
    """The types whose module has a `round.css`: every page links them in its head, so a phase's first
    paint is styled (the module adds its sheet too, for a page without them, but only after it loaded and
    the phase may already be drawn, e.g. six answer buttons at their unstyled 21 px)."""
    return [
        slug
        for slug, kind in types.items()
        if kind.static_dir is not None and (kind.static_dir / "round.css").is_file()
    ]


def build_site(
    output: Path, endpoints: Endpoints, types: dict[str, EngagementType] | None = None
) -> list[Path]:
    """Renders every page once into `output` (as `<template>`) and copies the static files beside them
    (`static/`, each engagement type's `types/<slug>/`), replacing what was there; returns the pages."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    env = jinja2.Environment(**template_options())
    types = types if types is not None else load_types()
    context = {"version": __version__, "endpoints": endpoints, "type_styles": stylesheets(types)}
    written = []
    for template in sorted({page.template for page in PAGES} | {NOT_FOUND}):
        target = output / template
        target.write_text(env.get_template(template).render(**context))
        written.append(target)
    shutil.copytree(STATIC, output / "static")
    for slug, kind in types.items():
        if kind.static_dir is not None:
            shutil.copytree(kind.static_dir, output / "types" / slug)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m web.pages", description="Render the pages for a static host.")
    p.add_argument("--api", required=True, help="base URL of the HTTP API (the HTTP stack's HttpApiUrl)")
    p.add_argument(
        "--socket",
        required=True,
        help=f"a game's WebSocket URL, {GAME} for its id: wss://…/<stage>?game={GAME}",
    )
    p.add_argument("--output", type=Path, default=Path("build/cloud-pages"))
    args = p.parse_args(argv)
    pages = build_site(args.output, Endpoints(api=args.api.rstrip("/"), socket=args.socket))
    print(f"{len(pages)} pages and their static files in {args.output}")


if __name__ == "__main__":
    main()
