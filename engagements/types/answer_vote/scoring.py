"""The scoring rule (also in the README), as one function of the round's votes and ballots.

Every vote is worth 100 points, weighed by how often the answer could be chosen: an answer's votes
are scaled by the round's mean exposure over its own exposure (the ballots of the round's voters it
was on), so an answer that happened to land on fewer ballots is not worth less. With equal exposure
(always, when nobody needed a ballot) the weight is exactly 1 and the rule is the classic one:

- 100 points per vote, weighed as above, rounded to the nearest point;
- +100 to the answer with the best weighed votes (every answer tied there gets it);
- +200 more for a sweep: the answer took every vote cast, and at least three were cast.
"""

from __future__ import annotations

from fractions import Fraction

POINTS_PER_VOTE = 100
TOP_BONUS = 100
SWEEP_BONUS = 200
SWEEP_MIN_VOTES = 3


def round_points(votes: dict[str, int], shown: dict[str, int] | None = None) -> dict[str, int]:
    """Points per author from the votes their answer received and the ballots it was on.

    `shown` None means every answer was equally exposed (no ballots).
    """
    if not votes:
        return {}
    cast = sum(votes.values())
    if shown is None or len(set(shown.values())) <= 1:
        weight = dict.fromkeys(votes, Fraction(1))
    else:
        mean = Fraction(sum(shown.values()), len(shown))
        weight = {a: mean / shown[a] if shown.get(a) else Fraction(1) for a in votes}
    weighed = {a: votes[a] * weight[a] for a in votes}
    top = max(weighed.values())
    points = {}
    for author, v in votes.items():
        pts = int(POINTS_PER_VOTE * weighed[author] + Fraction(1, 2))  # half up
        if v and weighed[author] == top:
            pts += TOP_BONUS
            if v == cast >= SWEEP_MIN_VOTES:
                pts += SWEEP_BONUS
        points[author] = pts
    return points
