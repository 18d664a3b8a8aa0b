"""A phone's snapshot in the cloud, read from a few items (cloud.phones), is the snapshot the whole game
gives (views.snapshot, as on the appliance): at every phase of games of every type, for several
players (authors and not, voters and not, scorers and not, a late joiner), through kicks and the lock."""

from __future__ import annotations

from typing import Any

from engagements import views
from engagements.model import Actor, Game
from tests.cloudgame import cloud_stack, dynamodb_endpoint  # noqa: F401  (fixtures)
from tests.test_cloud_handlers import reconnect, seat
from tests.test_cloud_qa import seed_questions

QUIZ = [
    {"question": "Capital of France?", "options": ["Lyon", "Paris", "Nice"], "answer": "Paris"},
    {"question": "The sun is a star", "answer": True},
]
POLL = [
    {"question": "Best pizza?", "options": ["Margherita", "Funghi", "Diavola"]},
    {"question": "Which do you play?", "options": ["Chess", "Go", "Poker"], "multiple": True},
]
MIXED = [
    {"type": "quiz", "question": "Capital of France?", "options": ["Lyon", "Paris"], "answer": "Paris"},
    {"type": "answer-vote", "prompt": "A bad name for a cat"},
    {"type": "poll", "question": "Best pizza?", "options": ["Margherita", "Funghi"]},
]


class Checks:
    """Compares each phone's cheap snapshot with the whole game's, at the points a test names."""

    def __init__(self, cloud, created: dict[str, Any]) -> None:
        self.cloud = cloud
        self.game_id = created["game_id"]
        self.checked: list[str] = []

    def same(self, at: str, phones: list, whole_only: tuple = ()) -> None:
        """Every phone's snapshot from its few items equals the whole game's (`whole_only`: phones
        whose items cannot tell it, such as one who joined during a vote: None, the whole game's)."""
        rt = self.cloud.rt
        game = self.whole()
        for phone in phones:
            cheap = rt.run(rt.sockets.phones.snapshot(self.game_id, phone.player, rt.sockets.join_url))
            if phone in whole_only:
                assert cheap is None, at
                continue
            assert cheap == self.expected(game, phone), (at, phone.player)
        self.checked.append(game.phase)

    def synced(self, at: str, phone) -> None:
        """What a phone's `sync` gets through the socket is the whole game's snapshot too."""
        phone.send("sync")
        got = {k: v for k, v in phone.last("snapshot").items() if k != "now"}
        assert got == self.expected(self.whole(), phone), at

    def whole(self) -> Game:
        rt = self.cloud.rt
        return rt.run(rt.games.load(self.game_id))[0]

    def expected(self, game: Game, phone) -> dict[str, Any]:
        """views.snapshot of the whole game, as the appliance renders it."""
        rt = self.cloud.rt
        actor = Actor("player", phone.player)
        return views.snapshot(game, rt.games.types, actor, "player", rt.sockets.join_url(game.code))


def test_answer_then_vote_with_ballots_at_40_players(cloud):
    created = cloud.create(["A bad name for a cat", "The worst pizza"])
    host = cloud.host(created)
    phones = [cloud.join(created, f"P{i:02d}") for i in range(40)]
    check = Checks(cloud, created)
    watched = [phones[i] for i in (0, 1, 2, 9, 10, 11, 35, 39)]  # the first ten and later joiners
    check.same("lobby", watched)
    host.ok("lock", locked=True)
    check.same("locked lobby", watched)
    host.ok("lock", locked=False)

    host.ok("start")
    check.same("question", watched)
    authors = phones[:30]
    options = {p.player: p.ok("answer", round=0, text=f"Answer of {p.player}")["option"] for p in authors}
    check.same("question, answered", watched)
    check.synced("question, answered", phones[0])

    host.ok("end_phase", round=0, phase="question")
    assert host.last("phase_changed")["round"]["ballots"] is True
    check.same("voting", watched)
    for phone in phones[:20]:  # votes for the first answer on each ballot: a few answers get many
        phone.ok("vote", round=0, option=phone.last("you")["ballot"][0]["id"])
    check.same("voting, voted", watched)
    host.ok("kick", player=phones[30].player)  # no answer, no vote: the ballots are drawn again
    check.same("voting after a kick", watched)
    check.synced("voting after a kick", phones[1])

    host.ok("end_phase", round=0, phase="voting")
    check.same("results", watched)
    best = host.last("phase_changed")["leaderboard"][0]
    top = next(p for p in phones if p.player == best["id"])
    assert best["score"] > 0 and top.player in options
    host.ok("kick", player=top.player)  # ranks move up without being written again
    watched = [p for p in watched if p is not top]
    check.same("results after the top scorer's kick", watched)
    late = cloud.join(created, "Late")  # no points: a rank behind every scorer
    check.same("results with a late joiner", [*watched, late])
    host.ok("lock", locked=True)
    check.same("locked results", [*watched, late])
    host.ok("lock", locked=False)

    host.ok("next", round=0)
    check.same("second question", [*watched, late])
    for phone in [p for p in phones if p is not top and p is not phones[30]] + [late]:
        phone.ok("answer", round=1, text=f"Second of {phone.player}")
    assert host.last("phase_changed")["phase"] == "voting", "everyone answered"
    later = cloud.join(created, "Later")  # joined during the vote: no ballot kept for it
    check.same("second vote", [*watched, late, later], whole_only=(later,))
    check.synced("second vote, joined during it", later)
    host.ok("end_phase", round=1, phase="voting")
    check.same("second results", [*watched, late, later])
    host.ok("next", round=1)
    check.same("finished", [*watched, late, later])
    assert set(check.checked) == {"lobby", "question", "voting", "results", "finished"}


def test_quiz(cloud):
    created = cloud.create(QUIZ, type="quiz")
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy", "Dee", "Eve", "Flo")]
    check = Checks(cloud, created)
    check.same("lobby", phones)
    host.ok("start")
    for phone, choice in zip(phones[:4], (1, 1, 0, 2), strict=True):
        phone.ok("answer", round=0, choice=choice)
    check.same("question, answered", phones)
    host.ok("end_phase", round=0, phase="question")
    check.same("reveal", phones)
    host.ok("kick", player=phones[0].player)  # a right answer, the fastest: the top scorer
    check.same("reveal after a kick", phones[1:])
    host.ok("next", round=0)
    for phone in phones[1:]:
        phone.ok("answer", round=1, choice=0)
    assert host.last("phase_changed")["phase"] == "reveal", "everyone answered"
    check.same("second reveal", phones[1:])
    check.synced("second reveal", phones[2])
    host.ok("next", round=1)
    check.same("finished", phones[1:])
    assert set(check.checked) == {"lobby", "question", "reveal", "finished"}


def test_poll(cloud):
    created = cloud.create(POLL, type="poll")
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy", "Dee")]
    check = Checks(cloud, created)
    host.ok("start")
    check.same("open", phones)
    phones[0].ok("vote", round=0, choices=[1])
    phones[1].ok("vote", round=0, choices=[2])
    check.same("open, voted", phones)
    host.ok("end_phase", round=0, phase="open")
    check.same("results", phones)
    host.ok("next", round=0)
    phones[0].ok("vote", round=1, choices=[0, 2])
    check.same("multiple choice, voted", phones)
    host.ok("end_phase", round=1, phase="open")
    host.ok("next", round=1)
    check.same("finished", phones)
    assert set(check.checked) == {"open", "results", "finished"}


def test_mixed_game(cloud):
    created = cloud.create(MIXED)
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy", "Dee")]
    check = Checks(cloud, created)
    host.ok("start")
    phones[0].ok("answer", round=0, choice=1)
    phones[1].ok("answer", round=0, choice=0)
    check.same("quiz question", phones)
    host.ok("end_phase", round=0, phase="question")
    check.same("quiz reveal", phones)
    host.ok("next", round=0)
    for phone in phones[:3]:
        phone.ok("answer", round=1, text=f"Cat of {phone.player}")
    check.same("answer-vote question", phones)
    host.ok("end_phase", round=1, phase="question")
    phones[0].ok("vote", round=1, option=phones[0].last("you")["ballot"][0]["id"])
    check.same("answer-vote voting", phones)
    host.ok("end_phase", round=1, phase="voting")
    check.same("answer-vote results", phones)
    host.ok("next", round=1)
    phones[3].ok("vote", round=2, choices=[1])
    check.same("poll open", phones)
    host.ok("end_phase", round=2, phase="open")
    check.same("poll results", phones)
    host.ok("next", round=2)
    check.same("finished", phones)
    expected = {"question", "reveal", "voting", "results", "open", "finished"}
    assert set(check.checked) == expected


def test_word_cloud(cloud):
    created = cloud.create(["One word?", "Another?"], type="word-cloud", words_per_player=2)
    host = cloud.host(created)
    phones = [cloud.join(created, name) for name in ("Ann", "Bob", "Cy", "Dee")]
    check = Checks(cloud, created)
    host.ok("start")
    check.same("open", phones)
    phones[0].ok("word", round=0, text="Pizza!")
    phones[1].ok("word", round=0, text="pizza")
    phones[1].ok("word", round=0, text="tea")
    phones[2].ok("word", round=0, text="rude")
    host.ok("hide", round=0, word="rude")
    check.same("open, words sent, one hidden", phones)
    host.ok("end_phase", round=0, phase="open")
    check.same("results", phones)
    check.synced("results", phones[1])
    host.ok("next", round=0)
    phones[3].ok("word", round=1, text="cake")
    check.same("second cloud", phones)
    host.ok("end_phase", round=1, phase="open")
    host.ok("next", round=1)
    check.same("finished", phones)
    assert set(check.checked) == {"open", "results", "finished"}


def test_qa_past_the_lists_the_views_show(cloud):
    """More questions than the views list (TOP + FRESH): a phone's votes are those for listed ones,
    its own questions all of its own (hidden ones too), wherever they rank."""
    created = cloud.create(["Questions", "More"], type="qa", qa_questions=3)
    host = cloud.host(created)
    tokens = seat(cloud, created, 12)
    phones = [reconnect(cloud, created, pid, token) for pid, token in list(tokens.items())[:4]]
    check = Checks(cloud, created)
    host.ok("start")
    check.same("open", phones)
    seed_questions(cloud, created["game_id"], 12, 30)  # the first six players' third slot stays free
    game = check.whole()
    seeded = sorted(game.round_entries(0, "ask").values(), key=lambda q: q.at)
    ours = {p.player for p in phones}
    answered = next(q for q in seeded if q.value["by"] not in ours)  # voted for, then answered
    mine = [p.ok("ask", round=0, text=f"Mine, {p.player}")["question"] for p in phones]
    for i, phone in enumerate(phones):
        others = [q.player for q in seeded[-8:] if q.value["by"] != phone.player]
        for q in [*others[: i + 1], mine[i - 1], answered.player]:
            phone.ok("upvote", round=0, question=q)
    phones[1].ok("unvote", round=0, question=mine[0])
    host.ok("moderate", round=0, question=seeded[-1].player, state="highlighted")
    host.ok("moderate", round=0, question=mine[2], state="hidden")
    host.ok("moderate", round=0, question=answered.player, state="answered")
    host.ok("kick", player=list(tokens)[11])  # their questions are hidden
    listed = cloud.rt.run(cloud.rt.games.ranked_progress(created["game_id"]))
    assert len(listed["top"]) + len(listed["fresh"]) == 25, "more questions than the views list"
    assert answered.player not in repr(listed), "a vote for a question no longer listed is not shown"
    check.same("open, asked and voted", phones)
    check.synced("open, asked and voted", phones[1])
    host.ok("end_phase", round=0, phase="open")
    check.same("closed", phones)
    host.ok("next", round=0)
    check.same("second Q&A", phones)
    host.ok("end_phase", round=1, phase="open")
    host.ok("next", round=1)
    check.same("finished", phones)
    assert set(check.checked) == {"open", "closed", "finished"}
