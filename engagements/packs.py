"""Question packs: the sample packs that ship with the appliance, and JSON or CSV files hosts import.

A pack belongs to one type (the JSON's `type`, else the one the host's form has chosen, else the
default): its type reads each prompt (`parse_prompt`, `csv_prompt`) by the rules a typed prompt
obeys, and writes it as a line of the host's form (`prompt_line`), where it can be read and edited.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from engagements import jsondoc, text
from engagements.creation import MAX_PROMPTS
from engagements.model import Rejected
from engagements.plugins import default_type
from engagements.types import EngagementType

PACKS_DIR = Path(__file__).parent / "packs"
MAX_PACK_BYTES = 256 * 1024
HEADER = ("prompt", "text", "question")  # a CSV whose first row names one of these has a header


class PackError(ValueError):
    """The file is not a question pack we can read; the message says what to fix."""


def parse_pack(
    data: bytes, filename: str, types: dict[str, EngagementType], type_slug: str | None = None
) -> dict[str, Any]:
    """A pack as {"title", "type", "prompts": [str]} (each prompt one line of the host's form, checked
    by its type), from JSON (an object or a list) or CSV (one prompt a row)."""
    if len(data) > MAX_PACK_BYTES:
        raise PackError("That file is too big for a question pack (256 KB at most).")
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PackError("Question packs must be UTF-8 text.") from e
    slug = type_slug if type_slug in types else default_type(types)
    if filename.lower().endswith(".json") or body.lstrip()[:1] in ("{", "["):
        title, named, raw = _from_json(body)
        if named is not None:
            if named not in types:
                raise PackError(f"That pack is for a kind of game this appliance has not got: {named}.")
            slug = named
    else:
        title, raw = None, _from_csv(body, types[slug])
    kind = types[slug]
    raw = [p for p in raw if not (isinstance(p, str) and not p.strip())]
    if not raw:
        raise PackError("No prompts found in that file.")
    if len(raw) > MAX_PROMPTS:
        raise PackError(f"A game holds at most {MAX_PROMPTS} prompts; that file has {len(raw)}.")
    prompts = []
    try:
        for n, p in enumerate(raw, 1):
            try:
                parsed = kind.parse_prompt(p)
                # A line is already in the form's words; an object is written as one by its type.
                prompts.append(p.strip() if isinstance(p, str) else kind.prompt_line(parsed))
            except Rejected as e:
                raise Rejected(e.code, f"In prompt number {n}: {e.message}") from e
        title = text.title(title, "")
    except Rejected as e:
        raise PackError(e.message) from e
    return {"title": title or _stem_title(filename), "type": slug, "prompts": prompts}


def _stem_title(filename: str) -> str:
    """A CSV pack is titled by its file name, which the browser sends as it is on the host's disk."""
    stem = Path(filename).stem.replace("-", " ").replace("_", " ").strip().title()
    try:
        return text.title(stem, "Imported pack")
    except Rejected:
        return "Imported pack"


def _from_json(body: str) -> tuple[str | None, str | None, list[Any]]:
    """The title, the type named and the prompts of a JSON pack (each for its type to read)."""
    try:
        doc = jsondoc.loads(body)
    except jsondoc.BadJson as e:
        raise PackError(f"That JSON does not parse: {e}") from e
    title = named = None
    if isinstance(doc, dict):
        title = doc.get("title") if isinstance(doc.get("title"), str) else None
        named = doc.get("type") if isinstance(doc.get("type"), str) else None
        doc = doc.get("prompts")
    if not isinstance(doc, list):
        raise PackError('A JSON pack is {"title": ..., "prompts": [...]} or a list of prompts.')
    return title, named, doc


def _from_csv(body: str, kind: EngagementType) -> list[Any]:
    try:
        rows = [row for row in csv.reader(io.StringIO(body)) if any(cell.strip() for cell in row)]
    except csv.Error as e:  # a field over csv's size limit, say
        raise PackError(f"That CSV does not parse: {e}.") from e
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    if any(name in header for name in HEADER):
        return [kind.csv_prompt(row, header) for row in rows[1:]]
    return [kind.csv_prompt(row, None) for row in rows]


def sample_packs(types: dict[str, EngagementType]) -> list[dict[str, Any]]:
    """The shipped packs of the installed types."""
    packs = []
    for path in sorted(PACKS_DIR.glob("*.json")):
        if _named_type(path) not in (None, *types):
            continue
        pack = parse_pack(path.read_bytes(), path.name, types)
        packs.append(
            {"name": path.stem, "title": pack["title"], "type": pack["type"], "count": len(pack["prompts"])}
        )
    return packs


def sample_pack(name: str, types: dict[str, EngagementType]) -> dict[str, Any] | None:
    path = PACKS_DIR / f"{name}.json"
    if not name.replace("-", "").isalnum() or not path.is_file() or _named_type(path) not in (None, *types):
        return None
    return parse_pack(path.read_bytes(), path.name, types)


def _named_type(path: Path) -> str | None:
    """The type a shipped pack names (a pack for a type that is not installed is not offered)."""
    doc = jsondoc.loads(path.read_text(encoding="utf-8"))
    return doc.get("type") if isinstance(doc, dict) else None
