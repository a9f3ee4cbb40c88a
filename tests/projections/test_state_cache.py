"""The folded states a consumer keeps across batches are reused only while the store
holds the text they were written as (or, for the store's sole writer, as they are), and
there are never more of them than its size."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from consumers.sqlite_store import SQLiteProjectionStore
from consumers.state_cache import StateCache
from projections.subject_state import SubjectState, SubjectStateProjection

PROJECTION = SubjectStateProjection()
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _kept(cache: StateCache, key: str, events: int) -> tuple[str, SubjectState]:
    state = SubjectState(subject_id=key, events=events)
    text = PROJECTION.dump(state)
    cache.keep(PROJECTION, {key: text}, {key: state})
    return text, state


def test_a_kept_state_is_reused_while_the_store_holds_its_text() -> None:
    cache = StateCache(10_000)
    text, state = _kept(cache, "sub_a", 3)
    assert cache.state(PROJECTION, "sub_a", text) is state


def test_a_state_written_by_someone_else_is_read_from_the_store() -> None:
    """Another member of the group applied an event meanwhile, or the batch that wrote
    the kept state rolled back: the store's text wins."""
    cache = StateCache(10_000)
    _kept(cache, "sub_a", 3)
    theirs = PROJECTION.dump(SubjectState(subject_id="sub_a", events=4))
    read = cache.state(PROJECTION, "sub_a", theirs)
    assert read.events == 4
    assert cache.state(PROJECTION, "sub_a", None) == PROJECTION.initial("sub_a")


def test_the_cache_keeps_at_most_its_size() -> None:
    """Its size is in characters of the states' text: a bound in memory, whatever the
    size of each state."""
    one = len(_text(10))
    cache = StateCache(10 * one)
    for n in range(25):
        _kept(cache, f"sub_{n:02d}", 10 + n % 10)  # texts of one length
        assert cache.weight <= 10 * one
        assert len(cache) <= 10
    assert len(cache) >= 9
    big = SubjectState(subject_id="sub_big", events=1, anchors={f"a{i}": T0 for i in range(50)})
    cache.keep(PROJECTION, {"sub_big": PROJECTION.dump(big)}, {"sub_big": big})
    assert cache.weight <= 10 * one
    assert len(cache) < 9  # the big state displaced several
    off = StateCache(0)
    text, _ = _kept(off, "sub_a", 1)
    assert len(off) == 0
    assert cache.state(PROJECTION, "sub_zz", None).events == 0
    assert off.state(PROJECTION, "sub_a", text).events == 1


def test_a_sole_writers_cache_is_not_checked_against_the_store(tmp_path: Path) -> None:
    """A rebuild's own store is written by nothing else: the states kept are the stored
    ones, and only the others are read from it."""
    store = SQLiteProjectionStore(tmp_path / "p.sqlite")
    sole, shared = StateCache(10_000, authoritative=True), StateCache(10_000)
    for cache in (sole, shared):
        _kept(cache, "sub_a", 3)
    with store.unit_of_work() as uow:
        uow.put_states(PROJECTION.name, {"sub_a": _text(4), "sub_b": _text(7)})
        read_by_sole = sole.states(uow, PROJECTION, {"sub_a", "sub_b", "sub_c"})
        read_shared = shared.states(uow, PROJECTION, {"sub_a", "sub_b", "sub_c"})
    store.close()
    assert {k: s.events for k, s in read_by_sole.items()} == {"sub_a": 3, "sub_b": 7, "sub_c": 0}
    assert {k: s.events for k, s in read_shared.items()} == {"sub_a": 4, "sub_b": 7, "sub_c": 0}
    sole.clear()  # what a failed batch does: the kept states may never have been written
    assert len(sole) == 0


def _text(events: int) -> str:
    return PROJECTION.dump(SubjectState(subject_id="x", events=events))
