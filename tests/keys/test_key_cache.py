"""The unwrapped-key cache is bounded by count as well as by time."""

from __future__ import annotations

import os
import uuid

import pytest

from ledger.keys import key_cache
from ledger.keys.key_cache import UnwrappedKeys
from ledger.keys.store import DataKey


def _key() -> DataKey:
    return DataKey(str(uuid.uuid4()), "sub_" + "0" * 32, "informatique70", "c", os.urandom(32))


def test_the_cache_holds_at_most_its_bound_and_drops_the_oldest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(key_cache, "HELD_AT_MOST", 3)
    cache = UnwrappedKeys()
    keys = [_key() for _ in range(5)]
    for key in keys:
        cache.keep(key)
    assert [k.key_id for k in cache.held()] == [k.key_id for k in keys[2:]]
    assert cache.get(keys[0].key_id) is None
    assert cache.get(keys[4].key_id) == keys[4]


def test_keeping_a_held_key_again_makes_it_the_newest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(key_cache, "HELD_AT_MOST", 2)
    cache = UnwrappedKeys()
    first, second, third = _key(), _key(), _key()
    cache.keep(first)
    cache.keep(second)
    cache.keep(first)
    cache.keep(third)
    assert {k.key_id for k in cache.held()} == {first.key_id, third.key_id}
