"""Every message stays within its size limit at any number of players (docs/protocol.md, "Rooms of any
size"): a 5,000-player round with the longest nicknames and answers, played through the engine."""

from __future__ import annotations

from engagements import views
from engagements.engine import handle
from engagements.model import HOST, SYSTEM, Actor, Command, Game
from engagements.types.answer_vote import ANSWER_MAX, AnswerVote
from web.wire import MAX_FRAME, frame

KIND = AnswerVote()
TYPES = {KIND.slug: KIND}
PLAYERS = 5000
PHONE_BUDGET = 16 * 1024  # bytes a phone may receive per question
WIDE = "\U0001f600"  # four bytes in UTF-8: the widest text a player can type


def test_no_message_is_over_32_kb_and_a_phone_gets_under_16_kb_per_question_at_5000_players():
    game = Game("g", "ABCDEFG", "T" * 80, KIND.slug, [{"text": "P" * 200}], dict(KIND.defaults), "h", "s", 0)
    clock = iter(range(1, 10**9))

    def run(actor, type_, **fields):
        events, _ = handle(game, Command(type_, actor, fields, next(clock), f"c{next(clock)}"), TYPES)
        return views.messages(game, TYPES, events)

    for i in range(PLAYERS):
        nickname = f"{i:05d}" + WIDE * 15
        run(SYSTEM, "join", player_id=f"p{i:05d}", nickname=nickname, token_hash="x")
        run(SYSTEM, "presence", player=f"p{i:05d}", connected=True)
    sent: list[views.Messages] = [run(HOST, "start")]
    for i, pid in enumerate(game.players):  # the last answer opens the vote
        sent.append(run(Actor("player", pid), "answer", round=0, text=f"{i:05d}" + WIDE * (ANSWER_MAX - 5)))
    assert game.phase == "voting"
    for pid in game.players:
        sent.append(
            run(Actor("player", pid), "vote", round=0, option=KIND.you_view(game, pid)["ballot"][0]["id"])
        )
    assert game.phase == "results"

    frames = [frame(m) for s in sent for r in s.broadcast for m in r.values()]
    frames += [frame(m) for s in sent for m in s.private.values()]
    views_ = ((HOST, "host"), (HOST, "screen"), (Actor("player", "p00007"), "player"))
    url = "http://x/j/ABCDEFG"
    frames += [frame(views.snapshot(game, TYPES, actor, view, url)) for actor, view in views_]
    frames += [frame(views.players_page(game, "", offset)) for offset in (0, 4950)]
    frames += [frame(views.results_page(game, TYPES, 0, offset)) for offset in (0, 20, 4980)]
    frames += [frame({"type": "room", **views.room(game, a)}) for a in views.AUDIENCES]
    biggest = max(len(f) for f in frames)
    assert biggest <= MAX_FRAME, f"a message of {biggest} bytes"

    # One phone's question: its renditions of every broadcast, its own `you`s, and the counts, which
    # it gets at most every three seconds through the question and the vote (60 s + 45 s by default).
    phone = "p00042"
    mine = [frame(r[views.PHONES]) for s in sent for r in s.broadcast]
    mine += [frame(s.private[phone]) for s in sent if phone in s.private]
    counts = len(frame(views.progress(game, TYPES)))
    received = sum(len(f) for f in mine) + (60 + 45) // 3 * counts
    assert received <= PHONE_BUDGET, f"a phone received {received} bytes in one question"
