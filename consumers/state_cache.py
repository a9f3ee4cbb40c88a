"""Folded states a consumer keeps in memory across batches, bounded by their text's size."""

from __future__ import annotations

import random
from typing import Any

from consumers.store import UnitOfWork
from projections.base import Projection

#: folded states kept in memory across batches, bounded by the size of their stored text
#: (8 MiB of it: as objects, about 5 times that): a subject seen again while its state is
#: kept is not parsed again. A bound in states would not bound memory: a state grows with
#: its subject's events.
CACHED_TEXT = 8 * 2**20


class StateCache:
    """Folded states kept across batches, each with the text the store was given for it.

    A state is reused only while the store still holds that very text: one that another
    member of the group changed meanwhile is parsed again from the store. A store with
    one writer (``authoritative``: a rebuild's own file) is not asked at all for the
    states kept, nor is their text kept. A batch that fails empties the cache: it may
    hold states the store never got. Past ``size`` characters of text, states are dropped
    at random down to nine tenths of it: random, not least recently used, so that a log
    which revisits its subjects in rounds longer than the cache still finds a share of
    them in it."""

    def __init__(self, size: int, authoritative: bool = False) -> None:
        self.size = size
        self.authoritative = authoritative
        #: (projection, key) -> (text, unless authoritative; its length; the state)
        self._kept: dict[tuple[str, str], tuple[str | None, int, Any]] = {}
        #: the length of the text of every state kept
        self.weight = 0
        self._dropping = random.Random(0)  # which states are dropped only changes speed

    def __len__(self) -> int:
        return len(self._kept)

    def states(
        self, uow: UnitOfWork, projection: Projection[Any], keys: set[str]
    ) -> dict[str, Any]:
        """The current state of each of ``keys``, read from the store only when needed."""
        found: dict[str, Any] = {}
        if self.authoritative:
            for key in keys:
                kept = self._kept.get((projection.name, key))
                if kept is not None:
                    found[key] = kept[2]
            keys = keys - found.keys()
        if keys:
            stored = uow.states_of(projection.name, keys)
            for key in keys:
                found[key] = self.state(projection, key, stored.get(key))
        return found

    def state(self, projection: Projection[Any], key: str, stored: str | None) -> Any:
        """The state of ``key`` given the text the store holds for it (None: none yet)."""
        if stored is None:
            return projection.initial(key)
        kept = self._kept.get((projection.name, key))
        if kept is not None and kept[0] == stored:
            return kept[2]
        return projection.load(stored)

    def keep(
        self, projection: Projection[Any], texts: dict[str, str], states: dict[str, Any]
    ) -> None:
        if self.size <= 0:
            return
        for key, text in texts.items():
            slot = (projection.name, key)
            old = self._kept.get(slot)
            if old is not None:
                self.weight -= old[1]
            self._kept[slot] = (None if self.authoritative else text, len(text), states[key])
            self.weight += len(text)
        if self.weight > self.size:
            self._drop(self.size * 9 // 10)

    def _drop(self, down_to: int) -> None:
        """Drop states at random until ``down_to``: a sample about the share to drop, not
        a shuffle of every slot (this runs once per batch on a full cache)."""
        while self.weight > down_to and self._kept:
            share = (self.weight - down_to) / self.weight
            count = min(len(self._kept), max(1, int(len(self._kept) * share) + 1))
            for slot in self._dropping.sample(list(self._kept), count):
                self.weight -= self._kept.pop(slot)[1]
                if self.weight <= down_to:
                    break

    def clear(self) -> None:
        self._kept.clear()
        self.weight = 0
