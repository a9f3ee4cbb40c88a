"""The log port: what the ledger needs from Kafka, and what the embedded log provides too.

Both adapters pass the same contract tests (``ledger/log/testcase.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ledger.errors import IntegrityError, Unavailable


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: bytes
    value: bytes
    #: Record time to stamp, in ms since the epoch; None lets the log's clock decide.
    timestamp_ms: int | None = None


@dataclass(frozen=True)
class LogRecord:
    """A record as read back. ``timestamp_ms`` is record time: when the log appended it."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    timestamp_ms: int


@dataclass(frozen=True, order=True)
class TopicPartition:
    topic: str
    partition: int


#: Where a consumer starts on each partition it is assigned: the next offset to read.
StartOffsets = Callable[[TopicPartition], int]


class LogError(Unavailable):
    """The log could not do what was asked (broker unreachable, append failed)."""


class RecordsLost(IntegrityError):
    """Records a reader needed were deleted from the log (retention, DeleteRecords)
    before it read them: what it would build from the rest is silently incomplete."""

    def __init__(self, lost: Mapping[TopicPartition, tuple[int, int]], reader: str) -> None:
        self.lost = dict(lost)
        spans = ", ".join(
            f"{tp.topic}[{tp.partition}] offsets {first}..{end - 1}"
            for tp, (first, end) in sorted(self.lost.items())
        )
        super().__init__(
            f"{reader}: the log lost records it had not read yet ({spans}): they were "
            "deleted (topic retention, or records deleted by an operator)",
            "restore the topics from a backup, or raise their retention (`retention.ms`: the "
            "ledger's topics must keep everything); the projections were left as they were",
        )


def lost_records(
    needed_from: Mapping[TopicPartition, int], starts: Mapping[TopicPartition, int]
) -> dict[TopicPartition, tuple[int, int]]:
    """The offsets ``[needed, start)`` of each partition whose log start is past the
    offset a reader still needs."""
    return {
        tp: (needed, starts[tp])
        for tp, needed in needed_from.items()
        if tp in starts and starts[tp] > needed
    }


class LogConsumer(ABC):
    """Reads records of a consumer group, from offsets the caller's checkpoints decide."""

    @abstractmethod
    def poll(self, timeout_s: float, max_records: int = 500) -> list[LogRecord]:
        """The next records, in order within each partition; empty after ``timeout_s``.
        Raises ``RecordsLost`` when the next offset to read was deleted from the log
        (never skips ahead to what is left)."""

    @abstractmethod
    def positions(self) -> dict[TopicPartition, int]:
        """The next offset to read on each partition this consumer currently owns.

        Past transaction markers on Kafka, so compare it, not the last record's offset,
        with ``EventLog.end_offsets`` to know whether the consumer has caught up."""

    @abstractmethod
    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        """Tell the log how far the group got (for lag monitoring; the projection store's
        own checkpoint is the source of truth for resuming)."""

    @abstractmethod
    def close(self) -> None: ...


class EventLog(ABC):
    """An append-only, partitioned log of records keyed by subject id."""

    @abstractmethod
    def ensure_topics(self, topics: Mapping[str, int], compacted: Iterable[str] = ()) -> None:
        """Create missing topics with the given partition counts; those named in
        ``compacted`` keep only the latest record per key (the embedded log keeps all,
        and readers of a compacted topic take the latest per key anyway)."""

    @abstractmethod
    def append(self, records: Sequence[OutgoingRecord]) -> None:
        """Append all records or none. Records with the same key keep their order."""

    @abstractmethod
    def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """The offset the next record appended to each partition will get."""

    @abstractmethod
    def start_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """The oldest offset still held on each partition: everything before it was
        deleted (or never existed). 0 on a log that lost nothing."""

    @abstractmethod
    def delete_records(self, before: Mapping[TopicPartition, int]) -> None:
        """Delete every record below ``before[tp]`` (Kafka's DeleteRecords): what
        retention does to old segments. The ledger never calls it; operators and tests
        do, to see that readers notice."""

    @abstractmethod
    def first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """Record time (ms) of the first record at or after each start offset and before
        its end: where a lagging consumer's wait began. A partition whose remaining
        offsets hold only transaction markers is absent."""

    @abstractmethod
    def scan(self, topics: Iterable[str]) -> Iterator[LogRecord]:
        """Every record now in ``topics``, partition by partition, outside any consumer
        group: for verifiers and listings that must see the raw log."""

    @abstractmethod
    def consumer(
        self, group: str | None, topics: Sequence[str], start: StartOffsets
    ) -> LogConsumer:
        """A member of ``group`` reading ``topics``; starts each partition at ``start(tp)``.
        With no group it owns every partition and joins nothing (no rebalances: what a
        rebuild wants), and ``commit`` does nothing."""

    @abstractmethod
    def close(self) -> None: ...
