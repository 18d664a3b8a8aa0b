"""Keeps full garbage collections from walking the connected players while rooms fill and games play."""

from __future__ import annotations

import gc

# Sockets entering rooms between two freezes: what a full collection may still have to walk of them.
FREEZE_EVERY = 500


class Collector:
    """Every object alive is frozen out of the collector's reach (`gc.freeze`) when a game starts,
    and after every FREEZE_EVERY sockets that enter a room: a full collection walked every object of
    every connected player, stalling the event loop 100-200 ms at a time with thousands of players (at
    2,000 joining players, five full collections took 0.6 s, a sixth of the server's time). Objects
    made later are still collected as usual, and reference counting frees nearly everything anyway.
    Once no game is being played the freeze is lifted, so the rare reference cycle among frozen
    objects that became garbage meanwhile (a socket that closed) is collected then.
    """

    def __init__(self) -> None:
        self.playing: set[str] = set()
        self.entered = 0  # sockets that entered a room since the last freeze
        self.frozen = False

    def entered_room(self) -> None:
        self.entered += 1
        if self.entered >= FREEZE_EVERY:
            self._freeze()

    def update(self, game_id: str, playing: bool) -> None:
        if playing and game_id not in self.playing:
            self.playing.add(game_id)
            self._freeze()
        elif not playing and game_id in self.playing:
            self.playing.discard(game_id)
            if not self.playing:
                self._thaw()

    def close(self) -> None:
        self.playing.clear()
        self._thaw()

    def _freeze(self) -> None:
        self.entered = 0
        self.frozen = True
        gc.freeze()

    def _thaw(self) -> None:
        self.entered = 0
        if self.frozen:
            self.frozen = False
            gc.unfreeze()
