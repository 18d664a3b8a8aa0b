"""Question packs: the sample packs that ship with the appliance, the files hosts import, and a game's
questions exported back as a pack.

A pack has a type, and the type says how its prompts are written (its hooks in
engagements/types/__init__.py): JSON items go to its `parse_prompt` as they are, a CSV row goes through
its `csv_prompt` (its own columns, named in a header), and a type may read further file kinds itself
(the quiz reads Kahoot! spreadsheets). The pack's type is the JSON's `type`, a CSV `type` column, or
the type the host chose in the form; each prompt is shown as a line of the host's form (`prompt_line`;
a line the file holds stays as written). A prompt may name another type (a JSON item's `type`, a line's
`[slug]`, a CSV row's `type` cell): the pack then makes a mixed game, and that prompt's line starts
with its `[slug]`, as the form writes it. The formats are documented in README.md.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from pathlib import Path
from typing import Any

from engagements import jsondoc, text
from engagements.creation import MAX_PROMPTS, declared, marked, prompt_type
from engagements.model import Game, Rejected
from engagements.packfile import PackError, RawPack
from engagements.plugins import default_type
from engagements.settings import JOIN_SETTINGS
from engagements.types import EngagementType, kind_of

__all__ = [
    "MAX_UPLOAD_BYTES",
    "PackError",
    "export_pack",
    "parse_pack",
    "parse_upload",
    "sample_pack",
    "sample_packs",
]

PACKS_DIR = Path(__file__).parent / "packs"
SAMPLE_SUFFIXES = (".json", ".csv")
MAX_PACK_BYTES = 256 * 1024
# An upload is JSON (`parse_upload`), the file in base64: a third bigger, plus the file's name.
MAX_UPLOAD_BYTES = MAX_PACK_BYTES * 4 // 3 + 4096
ERRORS_SHOWN = 5  # bad rows named in one message; the host fixes those and tries again
HEADER = ("prompt", "text", "question", "type")  # a CSV whose first row names one of these has a header

Types = dict[str, EngagementType]


def parse_upload(body: dict[str, Any], types: Types) -> dict[str, Any]:
    """`POST /api/packs/parse`'s body, `{"filename", "type"?, "data": base64}`, read as a pack.

    The file travels as base64 inside JSON because every POST body is JSON (docs/security.md): a
    spreadsheet is binary, and a form or text/plain post is what another site's page can forge.
    """
    filename, data, slug = body.get("filename", ""), body.get("data"), body.get("type")
    if not isinstance(filename, str) or not isinstance(data, str) or not isinstance(slug, str | None):
        raise PackError(
            'Send the file as {"filename": "...", "type"?: "...", "data": "<the file in base64>"}.'
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise PackError('"data" must be the file in base64.') from e
    return parse_pack(raw, filename, types, slug)


def parse_pack(data: bytes, filename: str, types: Types, type_slug: str | None = None) -> dict[str, Any]:
    """A pack as {"type", "types", "title", "prompts": [line], "settings", "notes"}, each prompt judged
    by its type and written as a line of the host's form; `types` lists every type it plays, its own
    first. `type_slug` is the host's choice, for files that do not say their type; raises PackError
    naming every bad row (the first few)."""
    if len(data) > MAX_PACK_BYTES:
        raise PackError(f"That file is too big for a question pack ({MAX_PACK_BYTES // 1024} KB at most).")
    chosen = type_slug if type_slug in types else default_type(types)
    raw = _read(types, data, filename, chosen)
    kind = types.get(raw.type or chosen)
    if kind is None:
        raise PackError(f"That pack is for a kind of game this appliance has not got: {raw.type}.")
    errors = list(raw.errors)
    lines = []
    used = {kind.slug: kind}
    for where, item in raw.prompts:
        named, own = prompt_type(item, types)
        plays = types.get(named) if named is not None else kind
        if plays is None:
            errors.append(f"{where}: no installed type is called {str(named)[:40]!r}")
            continue
        try:
            prompt = plays.parse_prompt(own)
        except Rejected as e:
            errors.append(f"{where}: {e.message}")
            continue
        # A line is already in the form's words; an object is written as one by its type.
        line = own.strip() if isinstance(own, str) else plays.prompt_line(prompt)
        lines.append(line if plays is kind else marked(plays.slug, line))
        used[plays.slug] = plays
    if errors:
        more = f" (and {len(errors) - ERRORS_SHOWN} more)" if len(errors) > ERRORS_SHOWN else ""
        raise PackError("; ".join(e.rstrip(".") for e in errors[:ERRORS_SHOWN]) + more + ".")
    if not lines:
        raise PackError("No prompts found in that file.")
    if len(lines) > MAX_PROMPTS:
        raise PackError(f"A game holds at most {MAX_PROMPTS} prompts; that file has {len(lines)}.")
    try:
        title = text.title(raw.title, "") or _stem_title(filename)
    except Rejected as e:
        raise PackError(e.message) from e
    return {
        "type": kind.slug,
        "types": list(used),
        "title": title,
        "prompts": lines,
        "settings": _settings(list(used.values()), raw.settings),
        "notes": raw.notes,
    }


def export_pack(game: Game, types: Types) -> dict[str, Any]:
    """A game's questions as a JSON pack: importing it gives the same prompts and its types' settings.
    A round of a mixed game played by another type than the game's names it, as the API and the form
    take it (an object's `type`, a line's `[slug]`)."""
    kinds = [kind_of(game, types, r) for r in range(len(game.prompts))]
    own = {s.name for kind in kinds for s in kind.settings}
    items = []
    for prompt, kind in zip(game.prompts, kinds, strict=True):
        item = kind.pack_item(prompt)
        if kind.slug != game.type:
            item = {"type": kind.slug, **item} if isinstance(item, dict) else marked(kind.slug, item)
        items.append(item)
    return {
        "type": game.type,
        "title": game.title,
        "settings": {name: value for name, value in game.settings.items() if name in own},
        "prompts": items,
    }


def _read(types: Types, data: bytes, filename: str, chosen: str) -> RawPack:
    suffix = Path(filename).suffix.lower()
    readers = [types[chosen], *types.values()]  # the host's type first, should two read one suffix
    reader = next((kind for kind in readers if suffix in kind.pack_suffixes), None)
    if reader is not None:
        raw = reader.read_pack_file(data, suffix)
        raw.type = reader.slug
        return raw
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PackError(
            "Question packs must be UTF-8 text (or a spreadsheet of a type that reads one)."
        ) from e
    if suffix == ".json" or body.lstrip()[:1] in ("{", "["):
        return _from_json(body)
    return _from_csv(types, body, chosen)


def _stem_title(filename: str) -> str:
    """A pack without a title is titled by its file name, which the browser sends as it is on disk."""
    stem = Path(filename).stem.replace("-", " ").replace("_", " ").strip().title()
    try:
        return text.title(stem, "Imported pack")
    except Rejected:
        return "Imported pack"


def _from_json(body: str) -> RawPack:
    try:
        doc = jsondoc.loads(body)
    except jsondoc.BadJson as e:
        raise PackError(f"That JSON does not parse: {e}") from e
    pack = RawPack([])
    if isinstance(doc, dict):
        pack.title = doc.get("title") if isinstance(doc.get("title"), str) else None
        pack.type = doc.get("type") if isinstance(doc.get("type"), str) else None
        settings = doc.get("settings", {})
        if not isinstance(settings, dict):
            raise PackError('A JSON pack\'s "settings" is an object: {"quiz_seconds": 20}, say.')
        pack.settings = settings
        doc = doc.get("prompts")
    if not isinstance(doc, list):
        raise PackError(
            'A JSON pack is {"type"?, "title"?, "settings"?, "prompts": [...]} or a list of prompts.'
        )
    blank = [isinstance(item, str) and not item.strip() for item in doc]
    pack.prompts = [(f"In prompt number {n}", item) for n, item in enumerate(doc, 1) if not blank[n - 1]]
    return pack


def _from_csv(types: Types, body: str, chosen: str) -> RawPack:
    """Rows numbered as a spreadsheet shows them (the header is row 1), blank ones skipped."""
    try:
        rows = [
            (n, row) for n, row in enumerate(csv.reader(io.StringIO(body)), 1) if any(c.strip() for c in row)
        ]
    except csv.Error as e:  # a field over csv's size limit, say
        raise PackError(f"That CSV does not parse: {e}.") from e
    pack = RawPack([])
    if not rows:
        return pack
    header = [cell.strip().lower() for cell in rows[0][1]]
    column = header.index("type") if "type" in header else None

    def type_cell(row: list[str]) -> str:
        return row[column].strip() if column is not None and column < len(row) else ""

    # The pack's type is the first its type column names; a row naming another makes a mixed game.
    pack.type = next((type_cell(row) for _, row in rows[1:] if type_cell(row)), None)
    named = any(name in header for name in HEADER)
    for n, row in rows[1:] if named else rows:
        slug = type_cell(row) if named else ""
        kind = types.get(slug or pack.type or chosen)
        if kind is None:
            pack.errors.append(f"Row {n}: no installed type is called {(slug or pack.type)[:40]!r}")
            continue
        try:
            prompt = kind.csv_prompt(row, header if named else None)
        except Rejected as e:
            pack.errors.append(f"Row {n}: {e.message}")
            continue
        if slug and slug != (pack.type or chosen):  # as parse_pack reads a prompt of another type
            prompt = {**prompt, "type": slug} if isinstance(prompt, dict) else marked(slug, prompt)
        pack.prompts.append((f"Row {n}", prompt))
    return pack


def _settings(kinds: list[EngagementType], given: dict[str, Any]) -> dict[str, Any]:
    """A pack's settings, each one its types declare (a pack does not set the room's join rules)."""
    own = {s.name: s for s in declared(*kinds) if s not in JOIN_SETTINGS}
    unknown = sorted(set(given) - set(own))
    if unknown:
        titles = " or ".join(kind.title for kind in kinds)
        raise PackError(f"{', '.join(unknown)} is not a setting of {titles} games.")
    try:
        return {name: own[name].check(value) for name, value in given.items()}
    except Rejected as e:
        raise PackError(e.message) from e


def _sample_paths() -> dict[str, Path]:
    """Each sample pack by name (its file's stem): the JSON when a pack also ships as CSV."""
    paths: dict[str, Path] = {}
    for path in sorted(PACKS_DIR.iterdir()):
        if path.suffix in SAMPLE_SUFFIXES and (path.stem not in paths or path.suffix == ".json"):
            paths[path.stem] = path
    return paths


def sample_packs(types: Types, type_slug: str | None = None) -> list[dict[str, Any]]:
    """The sample packs, each {"name", "type", "types", "title", "count"}; only those that play
    `type_slug` when given (a mixed pack is listed under each of its types). A sample of a type that is
    not installed is left out."""
    packs = []
    for name, path in _sample_paths().items():
        pack = _sample(types, path)
        if pack is not None and (type_slug is None or type_slug in pack["types"]):
            listed = {k: pack[k] for k in ("type", "types", "title")}
            packs.append({"name": name, **listed, "count": len(pack["prompts"])})
    return packs


def sample_pack(name: str, types: Types) -> dict[str, Any] | None:
    path = _sample_paths().get(name)
    return _sample(types, path) if path is not None else None


def _sample(types: Types, path: Path) -> dict[str, Any] | None:
    try:
        return parse_pack(path.read_bytes(), path.name, types)
    except PackError:  # its type is not installed here (a plugin's sample packs ship with it)
        return None
