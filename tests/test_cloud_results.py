"""A host's page of a round's results in the cloud reads META and one page item whatever the room
(cloud.results): the same count with 30 players as with 300, where the whole game it was built from
before grows with the room; and the same rows as the appliance builds from the whole game, after the
round's rows change too, and for a game synced from an appliance."""

from __future__ import annotations

import asyncio
from typing import Any

from engagements import history, items, views
from engagements.commands import apply
from engagements.model import Actor, Command
from engagements.service import now_ms
from engagements.store.base import PK, SK, Put, Update
from engagements.store.dynamodb import DynamoStore
from engagements.types import kind_of
from tests.cloudgame import ADMIN, Calls, cloud_stack, dynamodb_endpoint  # noqa: F401  (fixtures)
from tests.test_cloud_handlers import per_command, reconnect, seat

ROUND = 0


def results_of(cloud, created: dict[str, Any], players: int):
    """A game of `players` seats, every one of them answering (written as answers write them: a round
    of 300 answers through the handlers takes minutes on moto), three of them voting through the
    handlers, played to its results by the host: the host's view and the host token's headers."""
    game_id = created["game_id"]
    host = cloud.host(created)
    tokens = seat(cloud, created, players)
    phones = [reconnect(cloud, created, pid, token) for pid, token in list(tokens.items())[:3]]
    host.ok("start")
    answer_all(cloud, game_id, list(tokens))
    host.ok("end_phase", round=ROUND, phase="question")
    for phone in phones:
        phone.ok("vote", round=ROUND, option=phone.last("you")["ballot"][0]["id"])
    host.ok("end_phase", round=ROUND, phase="voting")
    assert host.last("phase_changed")["phase"] == "results"
    return host, {"authorization": f"Bearer {created['host_token']}"}


def answer_all(cloud, game_id: str, players: list[str]) -> None:
    """Each player's answer as the core decides it (engagements.commands.apply), its ENTRY item put and
    META's count of answers added, as an answer's transaction writes them."""
    games = cloud.rt.games
    game, _ = cloud.rt.run(games.load(game_id))
    puts = []
    for i, player in enumerate(players):
        fields = {"round": ROUND, "text": f"Answer number {i} of {player}"}
        command = Command("answer", Actor("player", player), fields, now_ms(), f"a{i}")
        applied = apply(game, games.types, command, games.ttl(game), settle_phases=False)  # as a partial game
        puts += [w.item for w in applied.atomic if isinstance(w, Put)]
    pk = items.game_pk(game_id)

    async def write() -> None:
        for i in range(0, len(puts), 25):
            assert await games.store.batch_write(puts[i : i + 25]) == []
        counted = {items.entry_count(ROUND, "answer"): len(players)}
        await games.store.transact_write([Update(pk, items.META, add=counted)])

    cloud.rt.run(write())


def whole(cloud, game_id: str):
    """The game as the appliance holds it: every item of it, loaded."""
    return cloud.rt.run(cloud.rt.games.load(game_id))[0]


def pages_of(cloud, game_id: str) -> list[dict[str, Any]]:
    return cloud.rt.run(cloud.rt.games.store.query_all(items.game_pk(game_id), "RESULTS#"))


def forget_pages(cloud, game_id: str) -> None:
    """As for a game scored before its rounds had pages."""
    keys = [{PK: i[PK], SK: i[SK]} for i in pages_of(cloud, game_id)]
    cloud.rt.run(cloud.rt.games.store.batch_write(deletes=keys))


def host_pages(
    host, calls: Calls, pages: int | None = None
) -> tuple[list[tuple[int, int]], list[dict[str, Any]]]:
    """The round's results as the host's console reads them, every page or the first `pages`: the items
    each read and wrote, and the replies."""
    replies: list[dict[str, Any]] = []

    def read(offset: int) -> None:
        host.send("results", round=ROUND, offset=offset)
        replies.append(host.last("results"))

    counts = per_command(calls, [lambda: read(0)])
    offsets = range(views.RESULTS_PAGE, replies[0]["total"], views.RESULTS_PAGE)[
        : None if pages is None else pages - 1
    ]
    counts += per_command(calls, [lambda o=o: read(o) for o in offsets])
    return counts, replies


def history_pages(
    cloud, game_id: str, bearer: dict[str, str], calls: Calls, offsets: range, limit: int
) -> tuple[list[tuple[int, int]], list[dict[str, Any]]]:
    """Pages of the round's results through the history's route, `limit` rows each."""
    path = f"/api/games/{game_id}/rounds/{ROUND + 1}/results"
    replies: list[dict[str, Any]] = []

    def read(offset: int) -> None:
        status, body = cloud.http("GET", f"{path}?offset={offset}&limit={limit}", None, bearer)
        assert status == 200, body
        replies.append(body)

    return per_command(calls, [lambda o=o: read(o) for o in offsets]), replies


def test_a_results_page_reads_the_same_few_items_with_300_players_as_with_30(cloud):
    """Every page of a round's results, through the console's request and the history's route: one
    count at both sizes (META and one page item), the rows the whole game gives (views.results_page,
    history.results: the appliance's); without the pages (a game scored before them) the same replies
    from the whole game (the first two pages of each), at a cost that grows with the room."""
    cost: dict[int, dict[str, Any]] = {}
    for players in (30, 300):
        created = cloud.create(["One"])
        game_id = created["game_id"]
        host, bearer = results_of(cloud, created, players)
        game, types = whole(cloud, game_id), cloud.rt.games.types
        calls = Calls(cloud.rt.games.store.client)

        console, replies = host_pages(host, calls)
        assert len(console) == players // views.RESULTS_PAGE + bool(players % views.RESULTS_PAGE)
        assert len(set(console)) == 1, console
        for reply in replies:
            assert reply == views.request(game, types, "results", {"round": ROUND, "offset": reply["offset"]})
        assert [row for r in replies for row in r["items"]] == kind_of(game, types, ROUND).results(
            game, ROUND
        )
        every = range(0, players, history.PAGE)
        read, pages = history_pages(cloud, game_id, bearer, calls, every, history.PAGE)
        assert len(set(read)) == 1, read
        for page in pages:
            query = {"offset": str(page["offset"]), "limit": str(history.PAGE)}
            assert page == history.results(game, types, str(ROUND + 1), query)
        # Rows 90 to 109: at 300 players, the end of the first page item and the start of the second.
        [straddling], [page] = history_pages(cloud, game_id, bearer, calls, range(90, 91), 20)
        assert page == history.results(game, types, str(ROUND + 1), {"offset": "90", "limit": "20"})

        forget_pages(cloud, game_id)  # the first two pages again, from the whole game
        before, replies_before = host_pages(host, calls, pages=2)
        assert replies_before == replies[:2], "the same replies from the whole game"
        before_history, pages_before = history_pages(cloud, game_id, bearer, calls, every[:2], history.PAGE)
        assert pages_before == pages[:2]
        cost[players] = {
            "console": console[0],
            "history": read[0],
            "history, two page items": straddling,
            "console, whole game": before[0],
            "history, whole game": before_history[0],
        }
    print("DynamoDB items (read, written) per page of results:", cost)
    for kind in ("console", "history"):
        assert cost[30][kind] == cost[300][kind]
        assert cost[300][f"{kind}, whole game"][0] > 5 * cost[30][f"{kind}, whole game"][0]
    # The console's: the socket's reverse item, META and one page item; its message's count written on
    # the reverse item. The history's: META and one page item, two across two; nothing written.
    assert cost[30]["console"] == (3, 1) and cost[30]["history"] == (2, 0)
    assert cost[300]["history, two page items"] == (3, 0)


def test_the_pages_follow_a_scored_rounds_rows_when_the_host_changes_them(cloud):
    """A word hidden in a word cloud's results, then a question moderated and a player kicked after a
    Q&A closed: each command's commit names new pages, written before its ack, and the pages it
    replaced are gone; every page served is the whole game's."""
    created = cloud.create(["One word?"], type="word-cloud")
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy")]
    host.ok("start")
    for phone, word in zip(phones, ("tea", "tea", "cake"), strict=True):
        phone.ok("word", round=ROUND, text=word)
    host.ok("end_phase", round=ROUND, phase="open")
    shown = served(cloud, host, created)
    assert [row["word"] for row in shown["console"]["items"]] == ["tea", "cake"]
    host.ok("hide", round=ROUND, word="tea")
    assert [row["word"] for row in served(cloud, host, created)["console"]["items"]] == ["cake"]

    created = cloud.create(["Questions?"], type="qa")
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob")]
    host.ok("start")
    asked = [
        phone.ok("ask", round=ROUND, text=f"A question from {phone.player}")["question"] for phone in phones
    ]
    host.ok("end_phase", round=ROUND, phase="open")
    assert {row["state"] for row in served(cloud, host, created)["console"]["items"]} == {"asked"}
    host.ok("moderate", round=ROUND, question=asked[0], state="answered")
    assert {row["state"] for row in served(cloud, host, created)["console"]["items"]} == {"asked", "answered"}
    host.ok("kick", player=phones[1].player)  # their questions are hidden
    assert {row["state"] for row in served(cloud, host, created)["console"]["items"]} == {
        "hidden",
        "answered",
    }


def served(cloud, host, created: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The first page of round 1's results, as the console and the history's route serve it, after
    checking that it came from the current pages (the only ones there), and is the whole game's."""
    game_id = created["game_id"]
    meta = cloud.rt.run(cloud.rt.games.meta(game_id))
    stamp = meta[items.results_stamp(ROUND)]
    assert {i[SK] for i in pages_of(cloud, game_id)} == {
        items.results_sk(ROUND, stamp, listing, 0) for listing in ("host", "history")
    }, "the current pages, and no other"
    calls = Calls(cloud.rt.games.store.client)
    host.send("results", round=ROUND)
    bearer = {"authorization": f"Bearer {created['host_token']}"}
    status, page = cloud.http("GET", f"/api/games/{game_id}/rounds/1/results", None, bearer)
    assert status == 200, page
    assert calls.reads == 3 + 2, "from the pages: the socket's item, META and a page; META and a page"
    game, types = whole(cloud, game_id), cloud.rt.games.types
    console = host.last("results")
    assert console == views.request(game, types, "results", {"round": ROUND})
    assert page == history.results(game, types, "1", {})
    return {"console": console, "history": page}


async def test_a_game_synced_from_the_appliance_is_paged_from_the_pages_the_sync_wrote(server, http, cloud):
    """The sync writes a game's pages by the cloud's rule (lifecycle.cloud_copy): the cloud serves its
    round's results from META and a page item, the same body as the appliance's route; a copy synced
    before the pages existed is served from the whole game, and `sync --verify` puts its pages up."""
    from sync.cloud import Retention, sync_all, verify_all
    from tests.conftest import create_game
    from tests.test_history import bearer, get, to_the_podium
    from web.keys import GAMES, STORE

    played = await create_game(http, prompts=["Only prompt"])
    await to_the_podium(played)
    await played.close()
    await asyncio.sleep(0.2)  # the finished game settles (the appliance's keep_delay)
    local, retention, types = server.app[STORE], Retention(7), server.app[GAMES].types
    target = await DynamoStore.open(cloud.rt.config.table)
    try:
        [report] = await sync_all(local, target, now_ms=now_ms(), retention=retention, types=types)
        assert report.status == "synced"
        host, path = bearer(played.created["host_token"]), f"/api/games/{played.game_id}/rounds/1/results"
        status, appliance = await get(played, path, host)
        assert status == 200 and appliance["total"] == 3

        def read() -> tuple[int, Any]:
            calls = Calls(cloud.rt.games.store.client)
            status, body = cloud.http("GET", path, None, host)
            assert (status, body) == (200, appliance)
            return calls.reads

        assert await asyncio.to_thread(read) == 2, "META and a page item"
        # Who may read it, from META alone: the host token by the copy's reader hash, the admin, no one else.
        assert (await asyncio.to_thread(cloud.http, "GET", path, None, ADMIN)) == (200, appliance)
        wrong = bearer(f"{played.game_id}.not-its-secret")
        assert (await asyncio.to_thread(cloud.http, "GET", path, None, wrong))[0] == 401
        await asyncio.to_thread(forget_pages, cloud, played.game_id)  # as a copy synced before the pages
        assert await asyncio.to_thread(read) > 2 + 3, "the whole game: META, the prompt, players, entries"
        [checked] = await verify_all(local, target, retention=retention, types=types)
        assert (checked.status, checked.uploaded) == ("repaired", 2)
        assert await asyncio.to_thread(read) == 2
    finally:
        await target.close()
