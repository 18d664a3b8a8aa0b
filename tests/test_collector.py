"""The garbage collector's freeze: what is alive while rooms fill and games play is out of reach of
full collections, and everything is collectable again once no game is being played."""

from __future__ import annotations

import gc

from web.collector import FREEZE_EVERY, Collector


def test_a_filling_room_freezes_what_is_alive_every_few_hundred_sockets():
    gc.unfreeze()
    collector = Collector()
    try:
        for _ in range(FREEZE_EVERY - 1):
            collector.entered_room()
        assert gc.get_freeze_count() == 0
        collector.entered_room()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        kept = [[n] for n in range(1000)]  # made after the freeze: not frozen until the next one
        for _ in range(FREEZE_EVERY):
            collector.entered_room()
        assert gc.get_freeze_count() >= frozen + len(kept)
    finally:
        collector.close()
    assert gc.get_freeze_count() == 0


def test_the_freeze_is_lifted_when_the_last_game_stops_playing():
    gc.unfreeze()
    collector = Collector()
    collector.update("g1", True)
    collector.update("g2", True)
    assert gc.get_freeze_count() > 0
    collector.update("g1", False)
    assert gc.get_freeze_count() > 0, "g2 still plays"
    collector.update("g2", False)
    assert gc.get_freeze_count() == 0
