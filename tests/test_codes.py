"""Ids and codes: ids spell only their alphabet, every symbol as often as the others, never twice."""

from __future__ import annotations

import collections

import pytest

from engagements.codes import CODE_ALPHABET, ID_ALPHABET, is_code, is_id, new_code, new_id


@pytest.mark.parametrize("length", [1, 8, 10, 12, 13])
def test_an_id_is_its_prefix_and_length_symbols_of_the_id_alphabet(length: int) -> None:
    for _ in range(200):
        made = new_id("p", length)
        assert made.startswith("p") and len(made) == 1 + length and is_id(made)
        assert set(made[1:]) <= set(ID_ALPHABET)


def test_every_symbol_of_an_id_is_equally_likely_and_ids_do_not_repeat() -> None:
    ids = [new_id("", 10) for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    seen = collections.Counter("".join(ids))
    mean = 200_000 / len(ID_ALPHABET)  # 6,250; a symbol's count strays by about 78 (one deviation)
    assert set(seen) == set(ID_ALPHABET)
    assert all(abs(n - mean) < 8 * 78 for n in seen.values()), seen


def test_a_join_code_spells_only_symbols_read_right_across_a_room() -> None:
    for _ in range(200):
        code = new_code()
        assert is_code(code) and set(code) <= set(CODE_ALPHABET)
