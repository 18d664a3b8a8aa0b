"""The core stays pure: it imports with asyncio, aiohttp and boto3 unavailable.

That is what lets the appliance (aiohttp) and the cloud (Lambda, boto3) share it: the engine, the
one door for commands, the types, the item layout and the views must never need either runtime.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CORE = [
    "engagements",
    "engagements.commands",
    "engagements.engine",
    "engagements.model",
    "engagements.items",
    "engagements.views",
    "engagements.codes",
    "engagements.packs",
    "engagements.plugins",
    "engagements.types",
    "engagements.types.answer_vote",
    "engagements.webhooks",
    "engagements.deliveries",
    "engagements.telemetry.context",
    "engagements.telemetry.logs",
    "engagements.telemetry.metrics",
]
BLOCKED = ["asyncio", "aiohttp", "boto3", "botocore"]

PROGRAM = textwrap.dedent(
    """
    import sys

    BLOCKED = {blocked!r}

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{{name}} is blocked: the core must not need it")
            return None

    sys.meta_path.insert(0, Block())
    import importlib
    for module in {core!r}:
        importlib.import_module(module)
    from engagements.plugins import load_types
    assert "answer-vote" in load_types()
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("pure")
    """
)


def run(program: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)


def test_the_core_imports_without_asyncio_aiohttp_or_boto3() -> None:
    result = run(PROGRAM.format(blocked=BLOCKED, core=CORE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"


def test_the_block_does_stop_an_impure_module() -> None:
    """The check can fail: the service (asyncio) and the DynamoDB store (boto3) are refused."""
    for impure in ("engagements.service", "engagements.store.dynamodb"):
        result = run(PROGRAM.format(blocked=BLOCKED, core=[impure]))
        assert result.returncode != 0
        assert "is blocked" in result.stderr


def test_the_lambda_handlers_need_neither_the_lan_server_nor_pillow() -> None:
    """The functions' package carries the core, `cloud` and boto3: no aiohttp, no `web`, no Pillow, none of
    the appliance's Prometheus and OpenTelemetry (the functions write embedded metrics, X-Ray traces
    them); and openpyxl only for a spreadsheet import, so no cold start pays for loading it."""
    handlers = [f"cloud.handlers.{name}" for name in ("websocket", "http", "fanout", "deadline")]
    blocked = ["aiohttp", "web", "PIL", "zeroconf", "openpyxl", "prometheus_client", "opentelemetry"]
    program = PROGRAM.format(blocked=blocked, core=handlers)
    program = program.replace('assert "answer-vote" in load_types()', "")
    result = run(program)
    assert result.returncode == 0, result.stderr
