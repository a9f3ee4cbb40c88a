"""The data keys a key store holds unwrapped in memory, each for a bounded time.

A key shredded by another process must stop opening values everywhere: the store
confirms every key's row before using it, and this cache bounds how long an unwrapped
key stays in memory unused by a new read (``CACHE_SECONDS``), even if nothing asks for
it again, and how many it holds (``HELD_AT_MOST``), so that memory does not follow the
rate of a large ``pdl emit`` (60 s of new keys at thousands of events a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ledger.keys.store import DataKey

#: seconds an unwrapped key stays in memory unused by a new read: a key shredded by
#: another process is dropped within this bound even if nothing here asks for it again
CACHE_SECONDS = 60.0
#: unwrapped keys held at most: past it the least recently kept leaves first (a miss
#: costs one unwrap; a cache bounded by time alone grew with every key a large batch made)
HELD_AT_MOST = 10_000


class UnwrappedKeys:
    """Unwrapped keys by key id, in expiry order. Not thread-safe: its store locks."""

    def __init__(self) -> None:
        # key id -> (unwrapped key, monotonic instant it expires)
        self._held: dict[str, tuple[DataKey, float]] = {}

    def get(self, key_id: str) -> DataKey | None:
        """The key, unless it is not held or has expired; expired keys leave memory."""
        now = time.monotonic()
        cached = self._held.get(key_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        self._drop_expired(now)
        return None

    def keep(self, key: DataKey) -> None:
        self._held.pop(key.key_id, None)  # re-added last: the entries stay in expiry order
        self._held[key.key_id] = (key, time.monotonic() + CACHE_SECONDS)
        if len(self._held) > HELD_AT_MOST:
            del self._held[next(iter(self._held))]  # the first in expiry order

    def held(self) -> list[DataKey]:
        return [key for key, _ in self._held.values()]

    def discard(self, key_id: str) -> None:
        self._held.pop(key_id, None)

    def drop(self, doomed: Callable[[DataKey], bool]) -> None:
        for key_id in [i for i, (key, _) in self._held.items() if doomed(key)]:
            del self._held[key_id]

    def clear(self) -> None:
        self._held.clear()

    def _drop_expired(self, now: float) -> None:
        # entries are in expiry order, so the expired ones lead: a miss costs what it
        # drops, not a walk over every key of a large batch
        while self._held:
            key_id, (_, expires) = next(iter(self._held.items()))
            if expires > now:
                return
            del self._held[key_id]
