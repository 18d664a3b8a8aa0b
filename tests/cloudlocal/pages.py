"""The pages' static host: a site rendered by web.pages.build_site, served as S3 and CloudFront will.

A stand-in for the later web stack, on a third port: files as they are (`/static/…`, `/types/…`), a page's
address answered with its rendered template (`/play/<id>` with `play.html`, the rewrite a CloudFront
function will do), `not_found.html` with a 404 for anything else, and the security headers the pages need
(their Content-Security-Policy names the two APIs' origins).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web.pages import NOT_FOUND, Endpoints, page_for

SITE = web.AppKey("site", Path)
ENDPOINTS = web.AppKey("endpoints", Endpoints)
FILES = ("/static/", "/types/")


async def serve(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    headers = request.app[ENDPOINTS].security_headers
    path = request.path
    target: Path | None = None
    if path.startswith(FILES):
        candidate = (site / path.lstrip("/")).resolve()
        if candidate.is_relative_to(site) and candidate.is_file():
            target = candidate
    elif (page := page_for(path)) is not None:
        target = site / page.template
    if target is None:
        return web.FileResponse(site / NOT_FOUND, status=404, headers=headers)
    return web.FileResponse(target, headers=headers)


def app(site: Path, endpoints: Endpoints) -> web.Application:
    """The host of the site in `site`, rendered for `endpoints` (for the headers it sends)."""
    application = web.Application()
    application[SITE] = site.resolve()
    application[ENDPOINTS] = endpoints
    application.router.add_get("/{tail:.*}", serve)
    return application
