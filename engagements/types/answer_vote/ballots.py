"""Ballots: which answers each voter is shown when a round has more answers than fit on a phone.

The round's answers are laid on a circle in the order of their ids (HMACs of the game's secret, so
the order is secret and fixed). A voter who answered is shown the BALLOT_SIZE answers that follow
their own on the circle: never their own, and every answer is on exactly BALLOT_SIZE of these
ballots. Voters who did not answer take consecutive windows of the circle in the order they joined,
so their ballots cover it evenly too: however many vote, the most and the least shown answers differ
by at most one ballot. Everything is derived from the game's state, so a reconnect or a restart draws
the same ballots, and a late joiner's ballot changes nobody else's.
"""

from __future__ import annotations

from dataclasses import dataclass

BALLOT_SIZE = 8  # read in about half of the default 45 s vote; one and a half phone screens


@dataclass(frozen=True)
class Ballots:
    order: list[str]  # option ids around the circle
    position: dict[str, int]  # option id -> its place on the circle
    own: dict[str, str]  # voter -> the option of their answer
    slot: dict[str, int]  # voter without an answer -> their window, in join order
    size: int = BALLOT_SIZE

    @classmethod
    def draw(cls, authors: dict[str, str], voters: list[str], size: int = BALLOT_SIZE) -> Ballots:
        """`authors`: option id -> author; `voters`: who may vote, in the order they joined."""
        order = sorted(authors)
        own = {author: option for option, author in authors.items()}
        slot = {}
        for voter in voters:
            if voter not in own:
                slot[voter] = len(slot)
        return cls(order, {o: i for i, o in enumerate(order)}, own, slot, size)

    @property
    def used(self) -> bool:
        """Ballots only when there are more answers than one holds; else everyone sees every answer."""
        return len(self.order) > self.size

    def ballot(self, voter: str) -> list[str]:
        """The options `voter` may vote for, in circle order (empty for someone who cannot vote)."""
        own = self.own.get(voter)
        if not self.used:
            return [o for o in self.order if o != own]
        n = len(self.order)
        if own is not None:
            start = self.position[own] + 1
        elif voter in self.slot:
            start = self.slot[voter] * self.size
        else:
            return []
        return [self.order[(start + i) % n] for i in range(self.size)]

    def shown(self, voters: list[str]) -> dict[str, int]:
        """How many of these voters' ballots each option is on."""
        counts = dict.fromkeys(self.order, 0)
        for voter in voters:
            for option in self.ballot(voter):
                counts[option] += 1
        return counts
