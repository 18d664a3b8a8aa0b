"""Every stylesheet the pages load parses cleanly, and none nests a rule inside another's block.

Our CSS is flat. Browsers accept CSS nesting, so a block left unclosed (a merge that dropped a `}`) does
not show as an error: the rules after it silently become nested under the open selector and stop
applying, which is how a phone's Q&A drawer once made its page scroll.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import tinycss2

from engagements.plugins import load_types
from web.pages import STATIC

SHEETS = sorted(STATIC.glob("**/*.css")) + sorted(
    css
    for kind in load_types().values()
    if kind.static_dir is not None
    for css in kind.static_dir.glob("**/*.css")
)


def nested(rules: list, where: str) -> list[str]:
    """The parse errors and nested qualified rules in `rules`, each with the selector it sits in."""
    found = []
    for rule in rules:
        if rule.type == "error":
            found.append(f"{where}: {rule.message}")
        elif rule.type == "qualified-rule":
            selector = tinycss2.serialize(rule.prelude).strip()
            block = tinycss2.parse_blocks_contents(rule.content, skip_whitespace=True, skip_comments=True)
            for part in block:
                if part.type in ("qualified-rule", "at-rule", "error"):
                    found.append(f"{where} {selector!r}: {part.type} inside its block")
        elif (
            rule.type == "at-rule"
            and rule.content is not None
            and rule.lower_at_keyword in ("media", "supports")
        ):
            found += nested(
                tinycss2.parse_rule_list(rule.content, True, True), f"{where} @{rule.lower_at_keyword}"
            )
    return found


def test_there_are_stylesheets_to_check() -> None:
    assert STATIC / "app.css" in SHEETS and len(SHEETS) > 1


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_a_stylesheet_is_flat_and_parses(sheet: Path) -> None:
    rules = tinycss2.parse_stylesheet(sheet.read_text(), skip_whitespace=True, skip_comments=True)
    assert nested(rules, sheet.name) == []
