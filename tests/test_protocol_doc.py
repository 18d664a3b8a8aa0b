"""docs/protocol.md stays true: its message types and error codes are exactly the server's."""

from __future__ import annotations

import re
from pathlib import Path

from engagements.engine import HOST_COMMANDS
from engagements.plugins import load_types
from tests.conftest import ADMIN, Client
from web.dispatch import REQUEST_TYPES, SESSION_TYPES

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "protocol.md").read_text()


def table_after(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after `heading`, as cells (header and rule left out)."""
    section = DOC.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def first_column(heading: str) -> set[str]:
    return {code for row in table_after(heading) for code in re.findall(r"`(\w+)`", row[0])}


CLIENT = first_column("### Client to server")
SERVER = first_column("### Server to client")
ERRORS = first_column("### Errors")
HTTP_ERRORS = set(re.findall(r"`\d{3} (\w+)`", DOC.split("## WebSocket")[0]))


def test_documented_client_messages_are_exactly_the_ones_the_server_accepts():
    accepted = set(SESSION_TYPES) | set(REQUEST_TYPES) | set(HOST_COMMANDS)
    for kind in load_types().values():
        accepted |= kind.commands | kind.host_commands | kind.requests
    assert accepted == CLIENT


def test_documented_error_codes_are_exactly_the_ones_the_code_can_send():
    sources = "\n".join(p.read_text() for p in [*ROOT.glob("engagements/**/*.py"), *ROOT.glob("web/*.py")])
    raised = set(re.findall(r'(?:Rejected|error)\(\s*(?:conn,\s*)?"(\w+)"', sources))
    assert raised == ERRORS | HTTP_ERRORS


async def test_a_full_game_sends_every_documented_message_type_and_no_other(table_factory, http):
    table = await table_factory()
    for nick in ("Ann", "Bob", "Cy"):
        await table.join(nick)
    await table.host.ok("lock", locked=True)
    await table.host.send("ping", t=1)
    await table.host.ok("kick", player=table.ids["Cy"])
    table.players.pop("Cy")
    await table.host.ok("start")
    await table.players["Ann"].ok("answer", round=0, text="first")
    await table.host.expect("progress", answered=1)  # the counts, before the round moves on
    bob = await table.players["Bob"].ok("answer", round=0, text="second")
    await table.players["Ann"].ok("vote", round=0, option=bob["option"])
    await table.host.ok("end_phase", round=0, phase="voting")
    await table.host.send("sync")
    await table.host.send("players", query="BO", offset=0)
    assert [p["nickname"] for p in (await table.host.expect("players"))["items"]] == ["Bob"]
    await table.host.send("results", round=0, offset=0, id="r1")
    assert (await table.host.expect("results"))["total"] == 2
    await table.host.send("results", round=9, id="r2")
    assert (await table.host.expect("error", id="r2"))["code"] == "no_such_round"
    await table.host.ok("next", round=0)
    await table.host.ok("end_game")
    await table.host.phase("finished")
    assert (await table.players["Ann"].command("start"))["type"] == "error"
    await table.players["Ann"].ws.close()  # the room's count of connected players drops
    await table.host.expect("room", connected=1)
    seen = {m["type"] for c in [table.host, *table.players.values()] for m in c.seen}
    # A type's own request and reply: a Q&A's page of questions; and a Q&A alongside (its `lane`).
    qa = await table_factory(prompts=["Questions for the speaker"], type="qa", qa_alongside=True)
    await qa.join("Di")
    await qa.host.expect("lane")
    await qa.host.ok("start")
    asked = await qa.players["Di"].ok("ask", round=0, text="Why?")
    await qa.host.ok("moderate", round=0, question=asked["question"], state="highlighted")
    await qa.host.send("questions", state=None, offset=0)
    assert (await qa.host.expect("questions"))["items"][0]["state"] == "highlighted"
    seen |= {m["type"] for c in [qa.host, *qa.players.values()] for m in c.seen}
    assert seen == SERVER


async def test_undocumented_message_types_are_refused(table_factory):
    table = await table_factory()
    reply = await table.host.command("nuke_everything")
    assert reply["code"] == "unknown_type"


async def test_every_documented_http_endpoint_answers(table_factory, http):
    table = await table_factory()
    rows = table_after("## HTTP endpoints")
    gets = [(re.search(r"`GET (\S+)`", row[0]).group(1), row[2]) for row in rows if "`GET" in row[0]]
    assert gets, "the doc lists endpoints"
    host = {"Authorization": f"Bearer {table.created['host_token']}"}
    values = {"game_id": table.game_id, "code": table.created["code"], "name": "party-starters"}
    for path, answer in gets:
        if path.startswith("/ws/"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        async with http.get(url, headers=ADMIN if "admin secret" in answer else host) as r:
            assert r.status == 200, url
    ws = await http.ws_connect(f"/ws/{table.game_id}")
    client = Client(ws)
    await client.send("ping", t=0)
    assert (await client.expect("pong"))["type"] == "pong"
    await ws.close()
