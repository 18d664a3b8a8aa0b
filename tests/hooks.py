"""Webhook test helpers: receivers on 127.0.0.1 with scripted answers, and a game played to its podium."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.conftest import ADMIN, Table, appliance_socket, create_game
from tests.test_game import play_round
from web.receiver import Received, Receiver


class Script:
    """A receiver's answers, one per delivery in order (the last one repeats); "hang" never answers."""

    def __init__(self, *answers: int | str) -> None:
        self.answers = list(answers)
        self.release = asyncio.Event()  # set: hung deliveries answer 200 at last

    async def __call__(self, got: Received) -> int:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == "hang":
            await self.release.wait()
            return 200
        return int(answer)


@contextlib.asynccontextmanager
async def receivers() -> AsyncIterator[Callable[..., Awaitable[tuple[Receiver, str]]]]:
    """`make(answer)`: a receiver on 127.0.0.1 for a secret given later (`.secret = …`), and its URL."""
    made: list[Receiver] = []

    async def make(answer: Callable[[Received], Awaitable[int]] | None = None) -> tuple[Receiver, str]:
        r = Receiver("", answer=answer)
        port = await r.start()
        made.append(r)
        return r, f"http://127.0.0.1:{port}/hooks"

    try:
        yield make
    finally:
        for r in made:
            if isinstance(r.answer, Script):
                r.answer.release.set()
            await r.close()


async def add_webhook(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.post("/api/webhooks", json={"url": url}, headers=ADMIN) as r:
        assert r.status == 201, await r.text()
        return await r.json()


async def log_of(http: aiohttp.ClientSession, hook_id: str) -> list[dict[str, Any]]:
    async with http.get("/api/webhooks", headers=ADMIN) as r:
        assert r.status == 200
        listing = await r.json()
    return next(h for h in listing["webhooks"] if h["id"] == hook_id)["deliveries"]


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30) -> Any:
    """Poll `check` until it returns something truthy (outcomes, not timings: the bound is generous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.05)
    pytest.fail(f"never happened: {what}")


async def settled(http: aiohttp.ClientSession, hook_id: str, count: int = 1) -> list[dict[str, Any]]:
    async def done() -> list[dict[str, Any]] | None:
        log = await log_of(http, hook_id)
        return log if len(log) >= count and all(d["status"] != "pending" for d in log) else None

    return await until(done, f"{count} deliveries of {hook_id} settled")


async def play_to_the_podium(
    http: aiohttp.ClientSession,
    nicks: tuple[str, ...] = ("Ann", "Bob", "Cy"),
    socket_url: Callable[[str], str] = appliance_socket,
) -> Table:
    """One round, the first player's answer voted best, then the podium: every command acknowledged."""
    table = await create_game(http, prompts=["Only prompt"], socket_url=socket_url)
    for nick in nicks:
        await table.join(nick)
    await table.host.ok("start")
    votes = {nick: nicks[0] for nick in nicks[1:]} | {nicks[0]: nicks[1]}
    await play_round(table, 0, votes)
    await table.host.ok("next", round=0)
    await table.host.phase("finished")
    return table
