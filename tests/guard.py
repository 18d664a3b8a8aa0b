"""Runs a deploy/rules/*.guard file over a template with cfn-guard-rs and says whether its one rule holds.

Each rule file declares exactly one named rule (parameterised helpers aside), so one run judges one rule.
cfn-guard-rs 0.3.3 returns only the last part of a report longer than about 8 KiB: a passing or skipped
rule's report is a few hundred bytes and always parses; a report that does not parse is a failure's (it
holds the values that failed), and the custom messages that survive in it explain the failure. Its tail,
the rule's lists of compliant and not applicable rules, says so, when the cut leaves it whole.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfn_guard_rs.cfn_guard_rs import run_checks_rs
from cfnlint.decode.decode import decode_str

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
TEMPLATES = sorted(DEPLOY.glob("*.yaml"))
RULE_FILES = sorted((DEPLOY / "rules").glob("*.guard"))

# cfn-lint judges a template against each region's resource specification, about 0.8 s a region: all 46
# would cost the suite two to three minutes for five templates. These span the partitions' commercial
# regions a venue's cloud would run in, old and new; `make lint` checks every region.
LINT_REGIONS = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
]

# A named rule at the start of a line; parameterised ones (`rule name(args) {`) only serve named ones.
_RULE = re.compile(r"^rule\s+([A-Za-z_][A-Za-z0-9_]*)\s+(?:when\b|\{)", re.MULTILINE)
_MESSAGE = re.compile(r'"custom_message":\s*"((?:[^"\\]|\\.)*)"')
_TAIL = re.compile(r'"not_applicable":\s*(\[[^\]]*\]),\s*"compliant":\s*(\[[^\]]*\])\s*\}\s*$')


@dataclass(frozen=True)
class Verdict:
    rule: str
    status: str  # PASS, SKIP (nothing in the template it applies to) or FAIL
    messages: tuple[str, ...]


def load(template: Path | str) -> dict[str, Any]:
    """A template as plain JSON data, intrinsic functions in their long form (`Fn::Sub`, `Ref`)."""
    text = template.read_text() if isinstance(template, Path) else template
    decoded, errors = decode_str(text)
    assert not errors and decoded is not None, errors
    return json.loads(json.dumps(decoded))


def rule_name(rules: str) -> str:
    (name,) = _RULE.findall(rules)
    return name


def evaluate(template: dict[str, Any], rule_file: Path) -> Verdict:
    rules = rule_file.read_text()
    name = rule_name(rules)
    report = run_checks_rs(json.dumps(template), rules, False)
    messages = tuple(sorted({json.loads(f'"{m}"') for m in _MESSAGE.findall(report) if m}))
    try:
        parsed = json.loads(report)
    except json.JSONDecodeError:
        tail = _TAIL.search(report)
        assert tail or '"comparison"' in report, f"neither a report nor a failure's: {report[-300:]!r}"
        assert tail is None or name not in json.loads(tail[1]) + json.loads(tail[2]), report[-300:]
        return Verdict(name, "FAIL", messages)
    if name in parsed["compliant"]:
        return Verdict(name, "PASS", ())
    if name in parsed["not_applicable"]:
        return Verdict(name, "SKIP", ())
    assert parsed["status"] == "FAIL", parsed
    return Verdict(name, "FAIL", messages)
