"""GameSocket's reducer in Chromium, fed messages by hand: events with seq, updates without, and the
host's requests answered by their replies (docs/protocol.md, "Ordering"). The socket hands the type's
part of each message (its `progress`, its `you` fields) to the type's reducer: here answer-vote's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# A socket that is "open" without a network: raw() records what would be sent.
SETUP = """async () => {
  const { GameSocket } = await import('/static/socket.js');
  const { reduce } = await import('/types/answer-vote/round.js');
  const s = new GameSocket({ gameId: 'g', token: 't', view: 'player', reduce });
  s.sent = [];
  s.raw = (msg) => { s.sent.push(msg); return true; };
  s.ready = true;
  s.events = [];
  for (const name of ['state', 'you', 'room', 'progress', 'event', 'fatal']) {
    s.on(name, () => s.events.push(name));
  }
  s.onMessage({ type: 'snapshot', seq: 4, now: Date.now(),
    you: { view: 'player', player: { id: 'p1', score: 0, rank: 1 },
           answer_option: null, vote: null, ballot: null, result: null },
    game: { phase: 'question', status: 'playing', room: { players: 3, connected: 3 }, leaderboard: [],
            round: { index: 0, phase: 'question', answered: 0, voted: 0, eligible: 3 } } });
  window.sock = s;
}"""


@pytest.fixture
async def page(server, browser) -> AsyncIterator[Any]:
    base = str(server.make_url("/")).rstrip("/")
    page = await browser.new_page()
    await page.goto(f"{base}/")
    await page.evaluate(SETUP)
    yield page


async def test_updates_replace_their_piece_and_events_keep_order(page) -> None:
    state = await page.evaluate("""() => {
      const s = window.sock;
      s.onMessage({ type: 'progress', round: 1, answered: 9, voted: 0, eligible: 9 });  // another round
      s.onMessage({ type: 'progress', round: 0, answered: 2, voted: 0, eligible: 3 });
      s.onMessage({ type: 'room', players: 5, connected: 4 });
      s.onMessage({ type: 'phase_changed', seq: 5, status: 'playing', phase: 'voting', leaderboard: [],
                    round: { index: 0, phase: 'voting', answered: 3, voted: 0, eligible: 3 } });
      s.onMessage({ type: 'you', answer_option: 'o1', ballot: [{ id: 'o2', text: 'B' }] });
      s.onMessage({ type: 'lobby_locked', seq: 7, locked: true });  // a gap: asks for a snapshot
      return { game: s.state.game, you: s.state.you, seq: s.state.seq, sent: s.sent, events: s.events };
    }""")
    assert state["game"]["round"]["phase"] == "voting"
    assert state["game"]["room"] == {"players": 5, "connected": 4}
    assert state["you"]["ballot"] == [{"id": "o2", "text": "B"}]
    assert state["you"]["player"] == {"id": "p1", "score": 0, "rank": 1}  # merged, not replaced
    assert state["seq"] == 5
    assert state["game"].get("locked") is None  # not applied: it came after a gap
    assert {"type": "sync"} in state["sent"]
    assert state["events"].count("you") == 1 and state["events"].count("room") == 1
    assert state["events"].count("progress") == 1  # the other round's counts were ignored


async def test_a_new_phase_drops_the_old_ballot_and_result(page) -> None:
    you = await page.evaluate("""() => {
      const s = window.sock;
      s.onMessage({ type: 'phase_changed', seq: 5, phase: 'voting', leaderboard: [], round: { index: 0 } });
      s.onMessage({ type: 'you', ballot: [{ id: 'o2', text: 'B' }], vote: 'o2' });
      s.onMessage({ type: 'phase_changed', seq: 6, phase: 'results', leaderboard: [], round: { index: 0 } });
      const inResults = { ...s.state.you };
      s.onMessage({ type: 'phase_changed', seq: 7, phase: 'question', leaderboard: [], round: { index: 1 } });
      return [inResults, s.state.you];
    }""")
    assert you[0]["ballot"] is None and you[0]["vote"] == "o2"
    assert you[1]["vote"] is None and you[1]["result"] is None


async def test_requests_resolve_with_their_reply(page) -> None:
    replies = await page.evaluate("""async () => {
      const s = window.sock;
      const first = s.request('players', { query: 'a', offset: 0 });
      const second = s.request('players', { query: 'ab', offset: 0 });  // supersedes the first
      const results = s.request('results', { round: 0, offset: 20 });
      s.onMessage({ type: 'players', query: 'a', offset: 0, total: 9, matched: 3, items: [] });  // too late
      s.onMessage({ type: 'results', round: 0, offset: 20, total: 40, items: [] });
      s.onMessage({ type: 'players', query: 'ab', offset: 0, total: 9, matched: 1, items: [] });
      const refused = s.request('results', { round: 5, offset: 0 });
      s.onMessage({ type: 'error', code: 'no_such_round', message: 'No results.' });
      let error = null;
      try { await refused; } catch (e) { error = e.code; }
      return { first: await first, second: await second, results: await results, error, sent: s.sent };
    }""")
    assert replies["first"] is None
    assert replies["second"]["matched"] == 1
    assert replies["results"]["offset"] == 20
    assert replies["error"] == "no_such_round"
    assert {"type": "players", "query": "ab", "offset": 0} in replies["sent"]
    assert all("id" not in m for m in replies["sent"] if m["type"] in ("players", "results"))
