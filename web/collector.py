"""Keeps full garbage collections from walking the connected players while games are played."""

from __future__ import annotations

import gc


class Collector:
    """When a game starts, every object alive (the sockets, the players, the games) is frozen out of
    the collector's reach (`gc.freeze`): a full collection walked every object of every connected
    player and stalled the event loop for 100-200 ms at a time with thousands of players. Objects made
    later are still collected as usual, and reference counting frees nearly everything anyway. Once
    no game is being played the freeze is lifted, so the rare reference cycle among frozen objects
    that became garbage meanwhile is collected then.
    """

    def __init__(self) -> None:
        self.playing: set[str] = set()

    def update(self, game_id: str, playing: bool) -> None:
        if playing and game_id not in self.playing:
            self.playing.add(game_id)
            gc.freeze()
        elif not playing and game_id in self.playing:
            self.playing.discard(game_id)
            if not self.playing:
                gc.unfreeze()

    def close(self) -> None:
        if self.playing:
            self.playing.clear()
            gc.unfreeze()
