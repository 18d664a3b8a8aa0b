"""The quiz's scoring rule (also in the README and docs/protocol.md), as functions of entries alone.

A correct answer is worth between 1,000 points (it arrived as the question opened) and 500 (it
arrived at the deadline), falling linearly with the time it took: the time between the question
opening and the answer's *arrival on the server*, so a slow phone or a busy server does not decide
it. A wrong answer, or none, is worth 0. Consecutive correct answers earn a streak bonus:

    points = 0                                              if wrong or unanswered
    points = round(1000 - 500 * ms / window) + bonus        if correct
    bonus  = 100 * min(streak - 1, 5)

where `ms` is the answer's time (0 <= ms <= window), `window` the question's seconds times 1000,
rounded half up, and `streak` the number of correct answers in a row ending with this one, counted
over the game's scored questions (a skipped question neither breaks nor extends a streak).
"""

from __future__ import annotations

MAX_POINTS = 1000
MIN_POINTS = 500  # a correct answer at the deadline
STREAK_BONUS = 100
STREAK_BONUS_CAP = 5  # bonuses: at most +500, from a streak of six


def speed_points(ms: int, window: int) -> int:
    """Points for a correct answer that took `ms` of a `window`: 1,000 down to 500, half up."""
    ms = min(max(ms, 0), window)
    drop = MAX_POINTS - MIN_POINTS
    return (2 * (MAX_POINTS * window - drop * ms) + window) // (2 * window)  # half up, in integers


def streak_bonus(streak: int) -> int:
    """The bonus for the `streak`-th correct answer in a row (the first earns none)."""
    return STREAK_BONUS * min(max(streak - 1, 0), STREAK_BONUS_CAP)


def answer_points(correct: bool, ms: int, window: int, streak: int) -> int:
    return speed_points(ms, window) + streak_bonus(streak) if correct else 0
