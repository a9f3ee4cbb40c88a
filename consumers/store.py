"""The projection store port: folded states and the checkpoints they cover, kept together.

A consumer applies a batch of records in one unit of work: it reads its checkpoints
(records already applied, before a crash or by another member of the group, are
skipped), writes the new states and journal rows, and moves the checkpoints, and all of
it commits or none of it does. Queries read the states, the checkpoints and the journal.

The embedded adapter is ``consumers/sqlite_store.py``; a server database (PostgreSQL)
implements the same port. Every adapter passes ``consumers/store_testcase.py``
unchanged. Signatures name no database type, and adapters raise ``StoreError`` instead
of their driver's exceptions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ledger.errors import Conflict, Unavailable
from ledger.log.base import TopicPartition


class StoreError(Unavailable):
    """The projection store could not be read or written (file, disk, database)."""


class StaleProjections(Conflict):
    """The store was built by a pdl whose projections differ from this one's.

    ``where`` names the store for the operator (a file path, a database and schema):
    never with credentials in it."""

    def __init__(self, where: str, names: list[str]) -> None:
        super().__init__(
            f"the projection store {where} was built by another version of pdl "
            f"({', '.join(names)} changed)",
            "run `pdl rebuild` to rebuild it from the log",
        )
        self.names = names


class CheckpointConflict(Conflict):
    """A checkpoint may only move forward: the one asked for is not after the stored one."""

    def __init__(self, group: str, tp: TopicPartition, next_offset: int, current: int) -> None:
        super().__init__(
            f"checkpoint of group {group} on {tp.topic}/{tp.partition}: next offset "
            f"{next_offset} is not after {current}",
            "read the checkpoint in the same unit of work and move it only forward",
        )


@dataclass(frozen=True)
class JournalEntry:
    """One applied subject event as the log held it (sealed), with its log position."""

    subject_id: str
    occurred_at: datetime
    event_id: str
    recorded_ms: int
    topic: str
    partition: int
    offset: int
    value: bytes


#: how a store's journal table holds a valid time
At = TypeVar("At")


def journal_rows(
    entries: Iterable[JournalEntry], occurred: Callable[[datetime], At]
) -> list[tuple[str, At, str, int, str, int, int, bytes]]:
    """The entries as rows of a journal table, in its columns' order (every adapter's
    table has the same), with the valid time as ``occurred`` converts it."""
    return [
        (
            e.subject_id,
            occurred(e.occurred_at),
            e.event_id,
            e.recorded_ms,
            e.topic,
            e.partition,
            e.offset,
            e.value,
        )
        for e in entries
    ]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(at: datetime) -> int:
    """Microseconds since the epoch: the valid time as the SQLite journal keeps it and as
    every adapter's canonical dump writes it."""
    # integer arithmetic: a float timestamp times 10^6 is 1 µs short for some instants
    return (at - _EPOCH) // timedelta(microseconds=1)


class UnitOfWork(ABC):
    """One transaction on the store: reads see its own writes; all of it commits or none.

    Adapters implement the bulk methods (a batch of records costs a few statements, not a
    few per record); the one-item forms are shorthands for them."""

    @abstractmethod
    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        """The next offset to apply on a partition (0 before anything was applied)."""

    @abstractmethod
    def set_checkpoints(self, group: str, next_offsets: Mapping[TopicPartition, int]) -> None:
        """Move the group's checkpoints forward; raises ``CheckpointConflict`` (and moves
        none) if a ``next_offset`` is not after the current one of its partition."""

    @abstractmethod
    def states_of(self, projection: str, keys: Collection[str]) -> dict[str, str]:
        """A projection's serialised states for those of ``keys`` that have one."""

    @abstractmethod
    def put_states(self, projection: str, states: Mapping[str, str]) -> None:
        """Write (or replace) a projection's serialised states, key → state."""

    @abstractmethod
    def journal_many(self, entries: Sequence[JournalEntry]) -> None:
        """Keep applied subject events; an entry already kept (same subject, valid time
        and event id: a redelivery) is left as it is."""

    @abstractmethod
    def record_applied_many(self, event_ids: Sequence[str]) -> set[str]:
        """Note that the events with these ids are being applied; returns the ids that no
        event was applied with before (an id given twice counts once). The caller skips
        the others (the same event appended twice, say by a retry whose first append was
        not remembered), so each event counts once. The ids are kept as long as the
        store, and are not part of the canonical dump (bookkeeping, like a database's
        indexes: a store that predates them dumps as a rebuilt one)."""

    def set_checkpoint(self, group: str, tp: TopicPartition, next_offset: int) -> None:
        """``set_checkpoints`` of one partition."""
        self.set_checkpoints(group, {tp: next_offset})

    def state(self, projection: str, key: str) -> str | None:
        """``states_of`` one key: its state, or None if there is none."""
        return self.states_of(projection, (key,)).get(key)

    def put_state(self, projection: str, key: str, state: str) -> None:
        """``put_states`` of one key."""
        self.put_states(projection, {key: state})

    def journal(self, entry: JournalEntry) -> None:
        """``journal_many`` of one entry."""
        self.journal_many((entry,))

    def record_applied(self, event_id: str) -> bool:
        """``record_applied_many`` of one id: False if it was already applied."""
        return bool(self.record_applied_many((event_id,)))


class ProjectionStore(ABC):
    """Projection states, the checkpoints they cover, and the journal of subject events.

    Several stores may be open on the same storage at once (members of a consumer group
    in separate processes): a unit of work excludes the others' until it ends."""

    @abstractmethod
    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def check_versions(self, versions: Mapping[str, str]) -> None:
        """Record the projections' versions (name → version) in a new store; raise
        ``StaleProjections`` for a store built with other versions, or one already in use
        that lacks one of them (its states would be read with the wrong meaning)."""

    @abstractmethod
    def checkpoint(self, group: str, tp: TopicPartition) -> int:
        """The next offset to apply on a partition (0 before anything was applied)."""

    @abstractmethod
    def checkpoints(self, group: str) -> dict[TopicPartition, int]:
        """The next offset to apply on every partition the group has applied records of."""

    @abstractmethod
    def state(self, projection: str, key: str) -> str | None:
        """A projection's serialised state for a key, or None if there is none."""

    @abstractmethod
    def states(self, projection: str) -> Iterator[tuple[str, str]]:
        """Every (key, state) of a projection, by key."""

    @abstractmethod
    def states_with_prefix(self, projection: str, prefix: str) -> Iterator[tuple[str, str]]:
        """The (key, state) pairs whose key starts with ``prefix``, by key; the cost
        follows the matches, not the size of the projection."""

    @abstractmethod
    def journal(self, subject_id: str, until: datetime | None = None) -> list[JournalEntry]:
        """The subject's applied events in valid-time order (then by event id), up to and
        including ``until`` if given."""

    @abstractmethod
    def canonical_dump(self) -> Iterator[str]:
        """Every checkpoint, state and journal row as sorted text lines: two stores with
        the same content give the same lines, whatever order they were written in."""

    @abstractmethod
    def close(self) -> None:
        """Release files and connections."""
