"""The HTTP API's OpenAPI 3.1 description, `openapi.json` beside this module: one file for both
runtimes, which serve it at `/api/openapi.json` (tests/test_openapi.py holds it to their routes)."""

from __future__ import annotations

import functools
from importlib.resources import files


@functools.cache
def description() -> bytes:
    return files(__package__).joinpath("openapi.json").read_bytes()
