"""The pages on the web stack: rendered with the stacks' endpoints, uploaded to its bucket, then CloudFront
told to forget what it cached.

The files keep their names from one deploy to the next (`host.html`, `static/app.js`), so what a browser
or CloudFront holds must be short-lived: pages are revalidated on every load (`no-cache`), the rest is
kept five minutes, and every upload that changed something is followed by an invalidation of `/*`.
An object whose bytes are already there (its ETag is their MD5) is not uploaded again, and objects no
longer in the site are deleted, so the bucket holds exactly the rendered site.
"""

from __future__ import annotations

import hashlib
import mimetypes
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web.pages import GAME, Endpoints, build_site

PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"
TYPES = {  # what the browsers need, whatever this machine's mimetypes database says
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Upload:
    uploaded: int
    unchanged: int
    deleted: int

    @property
    def changed(self) -> bool:
        return bool(self.uploaded or self.deleted)


def endpoints(http_api_url: str, websocket_url: str) -> Endpoints:
    """The pages' endpoints from the HTTP and realtime stacks' outputs (docs/cloud.md, "The same pages")."""
    return Endpoints(api=http_api_url.rstrip("/"), socket=f"{websocket_url}?game={GAME}")


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def publish(s3: Any, bucket: str, site: Endpoints) -> Upload:
    """Renders the pages for `site` and makes the bucket hold exactly them."""
    with tempfile.TemporaryDirectory(prefix="engagements-pages-") as scratch:
        root = Path(scratch) / "site"
        build_site(root, site)
        files = {
            path.relative_to(root).as_posix(): path for path in sorted(root.rglob("*")) if path.is_file()
        }
        present = _objects(s3, bucket)
        uploaded = unchanged = 0
        for key, path in files.items():
            body = path.read_bytes()
            if present.get(key) == hashlib.md5(body, usedforsecurity=False).hexdigest():
                unchanged += 1
                continue
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=content_type(path),
                CacheControl=PAGE_CACHE if path.suffix == ".html" else ASSET_CACHE,
            )
            uploaded += 1
    stale = sorted(present.keys() - files.keys())
    for start in range(0, len(stale), 1000):  # DeleteObjects takes at most 1,000 keys
        batch = stale[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
    return Upload(uploaded, unchanged, len(stale))


def _objects(s3: Any, bucket: str) -> dict[str, str]:
    """Key → ETag (without its quotes) of every object in the bucket."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = item["ETag"].strip('"')
    return found


def empty(s3: Any, bucket: str) -> int:
    """Deletes every object of the bucket (CloudFormation deletes only an empty bucket); how many."""
    keys = sorted(_objects(s3, bucket))
    for start in range(0, len(keys), 1000):
        batch = keys[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True})
    return len(keys)


def invalidate(cloudfront: Any, distribution: str) -> str:
    """Asks CloudFront to drop every cached file of the distribution; the invalidation's id."""
    created = cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time_ns())},
    )
    return created["Invalidation"]["Id"]
