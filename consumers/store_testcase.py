"""The contract every ``ProjectionStore`` adapter passes: subclass
``ProjectionStoreTestCase`` and implement ``make_store``.

Shipped in the package, like the eventsourcing library's own reusable test cases, so a
store written anywhere (PostgreSQL) proves itself by passing this suite unchanged. It
needs pytest (a development dependency, not a runtime one): only tests import this
module. The class name does not start with ``Test``, so pytest collects the suite only
through a subclass.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from consumers.store import (
    CheckpointConflict,
    JournalEntry,
    ProjectionStore,
    StaleProjections,
)
from ledger.errors import Conflict
from ledger.log.base import TopicPartition

GROUP = "pdl-projections"
EVENTS_0 = TopicPartition("pdl.events", 0)
EVENTS_1 = TopicPartition("pdl.events", 1)
OTHER = TopicPartition("pdl.other", 0)
ALICE = "sub_" + "a" * 32
BOB = "sub_" + "b" * 32
T0 = datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
#: an instant whose float timestamp times 10^6 falls 1 µs short: times must be exact
EXACT = datetime(2005, 1, 17, 7, 43, 18, 223508, tzinfo=UTC)


def entry(subject_id: str, occurred_at: datetime, event_id: str, offset: int = 0) -> JournalEntry:
    # a value that is not UTF-8: the journal keeps the log's bytes as they were
    value = b"\x00\xff" + event_id.encode()
    recorded_ms = 1_700_000_000_000 + offset
    return JournalEntry(
        subject_id, occurred_at, event_id, recorded_ms, "pdl.events", 0, offset, value
    )


class ProjectionStoreTestCase(ABC):
    @abstractmethod
    def make_store(self, name: str = "projections") -> ProjectionStore:
        """A store on the storage called ``name``: the same storage each call with the
        same name (a second call is a process restart, or another process while the first
        is open), a separate, empty one for another name. Closing a store twice must be
        harmless (the fixture closes the store a restart test already closed)."""

    @pytest.fixture
    def store(self) -> Iterator[ProjectionStore]:
        store = self.make_store()
        yield store
        store.close()

    # units of work

    def test_a_new_store_is_empty(self, store: ProjectionStore) -> None:
        assert store.checkpoint(GROUP, EVENTS_0) == 0
        assert store.checkpoints(GROUP) == {}
        assert store.state("subject_state", ALICE) is None
        assert list(store.states("subject_state")) == []
        assert list(store.states_with_prefix("subject_state", "")) == []
        assert store.journal(ALICE) == []
        assert list(store.canonical_dump()) == []

    def test_a_unit_of_work_commits_state_checkpoint_and_journal(
        self, store: ProjectionStore
    ) -> None:
        applied = entry(ALICE, T0, "e1", offset=4)
        with store.unit_of_work() as uow:
            assert uow.checkpoint(GROUP, EVENTS_0) == 0
            uow.put_state("subject_state", ALICE, '{"n": 1}')
            uow.journal(applied)
            uow.set_checkpoint(GROUP, EVENTS_0, 5)
            # the unit of work reads its own writes
            assert uow.state("subject_state", ALICE) == '{"n": 1}'
            assert uow.checkpoint(GROUP, EVENTS_0) == 5
        assert store.checkpoint(GROUP, EVENTS_0) == 5
        assert store.checkpoints(GROUP) == {EVENTS_0: 5}
        assert store.state("subject_state", ALICE) == '{"n": 1}'
        assert store.journal(ALICE) == [applied]

    def test_a_failed_unit_of_work_leaves_neither_state_nor_checkpoint(
        self, store: ProjectionStore
    ) -> None:
        kept = entry(ALICE, T0, "e1")
        with store.unit_of_work() as uow:
            uow.put_state("subject_state", ALICE, "old")
            uow.journal(kept)
            uow.set_checkpoint(GROUP, EVENTS_0, 3)

        class Crash(Exception):
            pass

        with pytest.raises(Crash), store.unit_of_work() as uow:
            uow.put_state("subject_state", ALICE, "new")
            uow.put_state("subject_state", BOB, "new")
            uow.journal(entry(ALICE, T0 + timedelta(days=1), "e2"))
            uow.set_checkpoint(GROUP, EVENTS_0, 7)
            uow.set_checkpoint(GROUP, OTHER, 1)
            raise Crash
        assert store.checkpoints(GROUP) == {EVENTS_0: 3}
        assert store.state("subject_state", ALICE) == "old"
        assert store.state("subject_state", BOB) is None
        assert store.journal(ALICE) == [kept]
        with store.unit_of_work() as uow:  # the store is usable after a rollback
            uow.set_checkpoint(GROUP, EVENTS_0, 4)
        assert store.checkpoint(GROUP, EVENTS_0) == 4

    def test_a_checkpoint_only_moves_forward(self, store: ProjectionStore) -> None:
        with store.unit_of_work() as uow:
            uow.set_checkpoint(GROUP, EVENTS_0, 5)
        for same_or_earlier in (5, 3):
            with pytest.raises(CheckpointConflict), store.unit_of_work() as uow:
                uow.set_checkpoint(GROUP, EVENTS_0, same_or_earlier)
        with pytest.raises(CheckpointConflict), store.unit_of_work() as uow:
            uow.set_checkpoint(GROUP, EVENTS_1, 2)
            uow.set_checkpoint(GROUP, EVENTS_1, 2)  # within one unit of work too
        assert issubclass(CheckpointConflict, Conflict)
        assert store.checkpoints(GROUP) == {EVENTS_0: 5}

    def test_checkpoints_are_per_group_and_partition(self, store: ProjectionStore) -> None:
        # group names that a careless prefix or pattern match would confuse
        written = {
            GROUP: {EVENTS_0: 4, EVENTS_1: 9, OTHER: 2},
            "pdl": {EVENTS_0: 3},
            GROUP + "-2": {EVENTS_0: 6},
            "a_b": {EVENTS_0: 1},
            "axb": {EVENTS_0: 2},
            "50%": {EVENTS_1: 7},
            "500": {EVENTS_1: 8},
            "back\\slash": {OTHER: 5},
        }
        with store.unit_of_work() as uow:
            for group, checkpoints in written.items():
                for tp, next_offset in checkpoints.items():
                    uow.set_checkpoint(group, tp, next_offset)
        for group, checkpoints in written.items():
            assert store.checkpoints(group) == checkpoints
            for tp in (EVENTS_0, EVENTS_1, OTHER):
                assert store.checkpoint(group, tp) == checkpoints.get(tp, 0)
        assert store.checkpoints("no-such-group") == {}

    # queries

    def test_states_are_read_by_key_and_by_prefix(self, store: ProjectionStore) -> None:
        keys = ["sub_a", "sub_a|x|1", "sub_a|y", "sub_a|é", "sub_ab|z", "sub_b", "Sub_a|x"]
        keys += ["x%y", "xay", "x_y"]
        with store.unit_of_work() as uow:
            for key in reversed(keys):
                uow.put_state("basis", key, f"state of {key}")
            uow.put_state("other", "sub_a|x|1", "another projection's")
            uow.put_state("basis", "sub_b", "replaced")
        expected = {k: f"state of {k}" for k in keys} | {"sub_b": "replaced"}
        # by key in code point order (a database's locale collation would differ)
        assert list(store.states("basis")) == sorted(expected.items())
        assert store.state("basis", "sub_b") == "replaced"
        assert store.state("other", "sub_a|x|1") == "another projection's"
        for prefix in ("sub_a|", "sub_a", "sub_", "x%", "x_", "", "nothing"):
            assert list(store.states_with_prefix("basis", prefix)) == sorted(
                (k, v) for k, v in expected.items() if k.startswith(prefix)
            ), prefix

    def test_the_journal_is_per_subject_in_valid_time_order(self, store: ProjectionStore) -> None:
        later = T0 + timedelta(hours=5)
        paris = timezone(timedelta(hours=2))
        first = entry(ALICE, T0, "e-b", offset=1)
        same_instant = entry(ALICE, T0.astimezone(paris), "e-a", offset=2)
        last = entry(ALICE, later, "e-c", offset=3)
        bobs = entry(BOB, T0, "e-d", offset=4)
        with store.unit_of_work() as uow:
            for applied in (last, bobs, first, same_instant):
                uow.journal(applied)
            uow.journal(entry(ALICE, T0, "e-b", offset=9))  # a redelivery: kept once
        assert store.journal(ALICE) == [same_instant, first, last]
        assert all(e.occurred_at.utcoffset() == timedelta(0) for e in store.journal(ALICE))
        assert store.journal(ALICE, until=later) == [same_instant, first, last]
        assert store.journal(ALICE, until=later - timedelta(microseconds=1)) == [
            same_instant,
            first,
        ]
        assert store.journal(ALICE, until=T0 - timedelta(microseconds=1)) == []
        assert store.journal(BOB) == [bobs]
        assert store.journal("sub_" + "c" * 32) == []

    def test_journal_times_are_exact_to_the_microsecond(self, store: ProjectionStore) -> None:
        one = timedelta(microseconds=1)
        applied = [entry(ALICE, EXACT - one, "e1"), entry(ALICE, EXACT, "e2")]
        with store.unit_of_work() as uow:
            for e in applied:
                uow.journal(e)
        assert store.journal(ALICE) == applied
        assert store.journal(ALICE, until=EXACT) == applied
        assert store.journal(ALICE, until=EXACT - one) == applied[:1]

    def test_the_canonical_dump_ignores_write_order(self) -> None:
        a, b, c = (self.make_store(name) for name in ("dump-a", "dump-b", "dump-c"))
        try:
            with a.unit_of_work() as uow:
                uow.put_state("basis", "k1", "s1")
                uow.put_state("basis", "k2", "s2")
                uow.journal(entry(ALICE, T0, "e1"))
                uow.journal(entry(BOB, T0, "e2"))
                uow.set_checkpoint(GROUP, EVENTS_0, 2)
                uow.set_checkpoint(GROUP, EVENTS_1, 1)
            for store in (b, c):
                with store.unit_of_work() as uow:
                    uow.set_checkpoint(GROUP, EVENTS_1, 1)
                    uow.journal(entry(BOB, T0, "e2"))
                    uow.put_state("basis", "k2", "s2")
                with store.unit_of_work() as uow:
                    uow.put_state("basis", "k1", "s1" if store is b else "different")
                    uow.journal(entry(ALICE, T0, "e1"))
                    uow.set_checkpoint(GROUP, EVENTS_0, 1)
                with store.unit_of_work() as uow:
                    uow.set_checkpoint(GROUP, EVENTS_0, 2)
            dump = list(a.canonical_dump())
            assert len(dump) == 6
            assert list(b.canonical_dump()) == dump
            assert list(c.canonical_dump()) != dump
        finally:
            for store in (a, b, c):
                store.close()

    def test_an_event_id_is_applied_once(self, store: ProjectionStore) -> None:
        """The same event appended twice to the log is applied once, wherever its copies
        are: in one unit of work, in later ones, or after a restart."""

        class Crash(Exception):
            pass

        with store.unit_of_work() as uow:
            assert uow.record_applied("e1")
            assert not uow.record_applied("e1")
            assert uow.record_applied("e2")
        with store.unit_of_work() as uow:
            assert not uow.record_applied("e2")
        with pytest.raises(Crash), store.unit_of_work() as uow:
            assert uow.record_applied("e3")
            raise Crash
        # ids are bookkeeping, not content: two stores that applied the same are alike
        assert list(store.canonical_dump()) == []
        store.close()
        again = self.make_store()
        try:
            with again.unit_of_work() as uow:
                assert not uow.record_applied("e1")
                assert uow.record_applied("e3")  # the crashed unit of work applied nothing
        finally:
            again.close()

    def test_a_batch_is_written_and_read_in_bulk(self, store: ProjectionStore) -> None:
        """More keys than one statement's parameters hold, read back with missing ones."""
        states = {f"sub_{n:05d}": f"state {n}" for n in range(1203)}
        kept = entry(ALICE, T0, "e1", offset=1)
        with store.unit_of_work() as uow:
            uow.put_states("basis", states)
            uow.put_states("other", {"sub_00001": "another projection's"})
            uow.journal(kept)
            uow.journal_many([entry(BOB, T0, "e2"), kept, entry(ALICE, T0, "e1", offset=9)])
            uow.set_checkpoints(GROUP, {EVENTS_0: 3, EVENTS_1: 5})
        with store.unit_of_work() as uow:
            asked = [*states, "sub_none", "sub_other"]
            assert uow.states_of("basis", asked) == states
            assert uow.states_of("basis", []) == {}
            uow.put_states("basis", {"sub_00002": "replaced", "sub_new": "new"})
            assert uow.states_of("basis", ["sub_00002", "sub_new"]) == {
                "sub_00002": "replaced",
                "sub_new": "new",
            }
            uow.set_checkpoints(GROUP, {EVENTS_0: 4, OTHER: 1})
        assert store.state("other", "sub_00001") == "another projection's"
        assert store.journal(ALICE) == [kept] and len(store.journal(BOB)) == 1
        assert store.checkpoints(GROUP) == {EVENTS_0: 4, EVENTS_1: 5, OTHER: 1}
        # one partition not moving forward moves none of them
        with pytest.raises(CheckpointConflict), store.unit_of_work() as uow:
            uow.set_checkpoints(GROUP, {EVENTS_0: 9, EVENTS_1: 5})
        assert store.checkpoints(GROUP) == {EVENTS_0: 4, EVENTS_1: 5, OTHER: 1}

    def test_event_ids_are_noted_in_bulk(self, store: ProjectionStore) -> None:
        many = [f"evt_{n:05d}" for n in range(1100)]
        with store.unit_of_work() as uow:
            assert uow.record_applied_many(["e1", "e2", "e1"]) == {"e1", "e2"}
            assert uow.record_applied_many([]) == set()
        with store.unit_of_work() as uow:
            assert uow.record_applied_many(["e2", "e3", *many, "e3"]) == {"e3", *many}
            assert uow.record_applied_many(["e1", many[-1]]) == set()
        assert list(store.canonical_dump()) == []

    # durability and sharing

    def test_a_reopened_store_keeps_everything(self, store: ProjectionStore) -> None:
        store.check_versions({"basis": "1"})
        with store.unit_of_work() as uow:
            uow.put_state("basis", "k", "s")
            uow.journal(entry(ALICE, T0, "e1"))
            uow.set_checkpoint(GROUP, EVENTS_0, 8)
        dump = list(store.canonical_dump())
        store.close()
        again = self.make_store()
        try:
            assert list(again.canonical_dump()) == dump
            assert again.checkpoints(GROUP) == {EVENTS_0: 8}
            assert again.state("basis", "k") == "s"
            assert again.journal(ALICE) == [entry(ALICE, T0, "e1")]
            with pytest.raises(StaleProjections):
                again.check_versions({"basis": "2"})
        finally:
            again.close()

    def test_stores_open_on_the_same_storage_share_it(self, store: ProjectionStore) -> None:
        other = self.make_store()  # another member of the group, in another process
        try:
            with store.unit_of_work() as uow:
                uow.set_checkpoint(GROUP, EVENTS_0, 3)
                uow.put_state("basis", "k", "s")
            assert other.checkpoint(GROUP, EVENTS_0) == 3
            assert other.state("basis", "k") == "s"
            with pytest.raises(CheckpointConflict), other.unit_of_work() as uow:
                uow.set_checkpoint(GROUP, EVENTS_0, 3)
        finally:
            other.close()

    def test_a_unit_of_work_waits_for_another_to_end(self, store: ProjectionStore) -> None:
        """Read the checkpoint, apply, move it: no two members apply the same records."""
        other = self.make_store()
        started = threading.Event()
        seen: list[int] = []

        def member() -> None:
            started.set()
            with other.unit_of_work() as uow:
                seen.append(uow.checkpoint(GROUP, EVENTS_0))
                uow.set_checkpoint(GROUP, EVENTS_0, seen[-1] + 1)

        try:
            with store.unit_of_work() as uow:
                thread = threading.Thread(target=member)
                thread.start()
                started.wait(10)
                uow.set_checkpoint(GROUP, EVENTS_0, uow.checkpoint(GROUP, EVENTS_0) + 1)
                time.sleep(0.2)  # the other member is waiting meanwhile
            thread.join(30)
            assert not thread.is_alive()
            assert seen == [1]
            assert store.checkpoint(GROUP, EVENTS_0) == 2
        finally:
            other.close()

    # projection versions

    def test_a_store_built_by_other_projections_is_refused(self, store: ProjectionStore) -> None:
        store.check_versions({"basis": "1", "subject_state": "1"})
        store.check_versions({"basis": "1", "subject_state": "1"})
        store.check_versions({"basis": "1"})  # a consumer folding only some of them
        with pytest.raises(StaleProjections) as refused:
            store.check_versions({"basis": "2", "subject_state": "1"})
        assert refused.value.names == ["basis"]
        assert isinstance(refused.value, Conflict) and refused.value.fix
        # an unused store takes a new projection; a refusal recorded nothing
        store.check_versions({"basis": "1", "subject_state": "1", "consent": "1"})
        with store.unit_of_work() as uow:
            uow.set_checkpoint(GROUP, EVENTS_0, 1)
        # a used store lacks the new projection's states for what it applied
        with pytest.raises(StaleProjections) as refused:
            store.check_versions({"basis": "1", "retention": "1"})
        assert refused.value.names == ["retention"]
        store.check_versions({"basis": "1", "subject_state": "1", "consent": "1"})
