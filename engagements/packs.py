"""Question packs: the sample packs that ship with the appliance, and JSON or CSV files hosts import."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from engagements import jsondoc, text
from engagements.creation import MAX_PROMPTS
from engagements.model import Rejected
from engagements.types.answer_vote import PROMPT_MAX

PACKS_DIR = Path(__file__).parent / "packs"
MAX_PACK_BYTES = 256 * 1024


class PackError(ValueError):
    """The file is not a question pack we can read; the message says what to fix."""


def parse_pack(data: bytes, filename: str = "") -> dict[str, Any]:
    """A pack as {"title", "prompts": [str]}, from JSON (object or list) or CSV (one prompt a row)."""
    if len(data) > MAX_PACK_BYTES:
        raise PackError("That file is too big for a question pack (256 KB at most).")
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PackError("Question packs must be UTF-8 text.") from e
    if filename.lower().endswith(".json") or body.lstrip()[:1] in ("{", "["):
        title, raw = _from_json(body)
    else:
        title, raw = None, _from_csv(body)
    raw = [p for p in raw if p.strip()]
    if not raw:
        raise PackError("No prompts found in that file.")
    if len(raw) > MAX_PROMPTS:
        raise PackError(f"A game holds at most {MAX_PROMPTS} prompts; that file has {len(raw)}.")
    try:
        prompts = [text.one_line(p, PROMPT_MAX, f"prompt number {n}") for n, p in enumerate(raw, 1)]
        title = text.title(title, "")
    except Rejected as e:
        raise PackError(e.message) from e
    return {"title": title or _stem_title(filename), "prompts": prompts}


def _stem_title(filename: str) -> str:
    """A CSV pack is titled by its file name, which the browser sends as it is on the host's disk."""
    stem = Path(filename).stem.replace("-", " ").replace("_", " ").strip().title()
    try:
        return text.title(stem, "Imported pack")
    except Rejected:
        return "Imported pack"


def _from_json(body: str) -> tuple[str | None, list[Any]]:
    try:
        doc = jsondoc.loads(body)
    except jsondoc.BadJson as e:
        raise PackError(f"That JSON does not parse: {e}") from e
    title = None
    if isinstance(doc, dict):
        title = doc.get("title") if isinstance(doc.get("title"), str) else None
        doc = doc.get("prompts")
    if not isinstance(doc, list):
        raise PackError('A JSON pack is {"title": ..., "prompts": [...]} or a list of prompts.')
    out = []
    for item in doc:
        if isinstance(item, dict):
            item = item.get("prompt", item.get("text"))
        if not isinstance(item, str):
            raise PackError('Each prompt in a JSON pack must be text (or an object with a "prompt").')
        out.append(item)
    return title, out


def _from_csv(body: str) -> list[str]:
    try:
        rows = [row for row in csv.reader(io.StringIO(body)) if any(cell.strip() for cell in row)]
    except csv.Error as e:  # a field over csv's size limit, say
        raise PackError(f"That CSV does not parse: {e}.") from e
    if not rows:
        return []
    header = [cell.strip().lower() for cell in rows[0]]
    for name in ("prompt", "text", "question"):
        if name in header:
            col = header.index(name)
            return [row[col] for row in rows[1:] if col < len(row)]
    return [row[0] for row in rows]


def sample_packs() -> list[dict[str, Any]]:
    packs = []
    for path in sorted(PACKS_DIR.glob("*.json")):
        pack = parse_pack(path.read_bytes(), path.name)
        packs.append({"name": path.stem, "title": pack["title"], "count": len(pack["prompts"])})
    return packs


def sample_pack(name: str) -> dict[str, Any] | None:
    path = PACKS_DIR / f"{name}.json"
    if not name.replace("-", "").isalnum() or not path.is_file():
        return None
    return parse_pack(path.read_bytes(), path.name)
