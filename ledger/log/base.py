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
    """A record to append. It carries no time: record time is the log's, stamped when it
    appends (Kafka's LogAppendTime), so no producer can choose it."""

    topic: str
    key: bytes
    value: bytes


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

#: The topic contract (docs/OPERATORS.md, "Topics"): every ledger topic keeps its records
#: forever and takes the broker's time. These are Kafka's topic configuration names.
RETENTION_MS = "retention.ms"
RETENTION_BYTES = "retention.bytes"
TIMESTAMP_TYPE = "message.timestamp.type"
CLEANUP_POLICY = "cleanup.policy"
MIN_INSYNC_REPLICAS = "min.insync.replicas"
LOG_APPEND_TIME = "LogAppendTime"


def ledger_topic_config(compacted: bool) -> dict[str, str]:
    """What a ledger topic is created with: compaction only where designed (the latest
    record per key is the whole truth there), deletion never."""
    return {
        CLEANUP_POLICY: "compact" if compacted else "delete",
        RETENTION_MS: "-1",
        RETENTION_BYTES: "-1",
        TIMESTAMP_TYPE: LOG_APPEND_TIME,
    }


@dataclass(frozen=True)
class TopicSettings:
    """A topic's configuration as the log reports it: the effective value of each contract
    setting (``ledger_topic_config``, ``min.insync.replicas``) and its replication."""

    topic: str
    config: Mapping[str, str]
    replication_factor: int


def keyed_partition(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner for keyed records (kafka-python computes it the same)."""
    from kafka.partitioner import murmur2  # here: importing kafka costs every command

    return int(murmur2(key) & 0x7FFFFFFF) % partitions


class LogError(Unavailable):
    """The log could not do what was asked (broker unreachable, append failed)."""


class AppendOutcomeUnknown(LogError):
    """An append whose commit was neither acknowledged nor aborted: the broker failed or
    the wait ran out mid-commit. Nothing or all of the batch may be committed."""

    def __init__(self, where: str, cause: str) -> None:
        super().__init__(
            f"append to {where}: outcome unknown ({cause}): nothing or all of the batch may "
            "be committed",
            "re-run the same command once the log is reachable; appends are idempotent by "
            "event_id, so what was committed is not appended twice",
        )


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
    def topic_settings(self, topics: Iterable[str]) -> dict[str, TopicSettings]:
        """How each of ``topics`` is configured now (a missing topic is absent): what the
        topic contract (``ledger.service.topic_contract``) is checked against."""

    @abstractmethod
    def append(self, records: Iterable[OutgoingRecord]) -> None:
        """Append all records or none, stamped with the log's time. Records with the same
        key keep their order. ``records`` is consumed once, lazily, inside the one
        transaction, so a batch need not fit in memory; a ``Sized`` one (a list, a spool)
        tells an adapter how long its transaction may take. Returns only once the whole
        batch is committed; raises ``LogError`` when nothing was, and
        ``AppendOutcomeUnknown`` when the log could not say (the caller must re-run:
        appends are idempotent by event_id). An error raised by ``records`` itself is
        raised as it is, after the transaction is aborted: nothing committed."""

    @abstractmethod
    def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """The offset the next record appended to each partition will get."""

    @abstractmethod
    def open_transactions(self, topics: Iterable[str]) -> dict[TopicPartition, tuple[int, int]]:
        """Partitions of ``topics`` holding a transaction not yet committed or aborted, as
        ``(stable offset, high watermark)``: committed-only readers cannot pass the stable
        offset (the open transaction's first record) until the transaction ends. On
        Kafka, its producer ends it, or the broker aborts it after the producer's
        transaction timeout. A log whose appends are atomic (embedded) has none."""

    @abstractmethod
    def start_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        """The oldest offset still held on each partition: everything before it was
        deleted (or never existed). 0 on a log that lost nothing."""

    @abstractmethod
    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """The next offset ``group`` last committed to the log on each of ``partitions``
        (``LogConsumer.commit``); a partition the group never committed is absent. Read
        from the log, not from any consumer, so it stays true while the group is down."""

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

    def partition_for(self, topic: str, key: bytes) -> int:
        """The partition of ``topic`` a record keyed ``key`` is appended to: Kafka's
        default partitioner (murmur2 of the key, modulo the partition count), which both
        adapters use. A subject's records on a topic all live in this one partition."""
        count = self._partition_count(topic)
        if not count:
            raise LogError(f"topic {topic!r} does not exist", "run `pdl doctor` to create it")
        return keyed_partition(key, count)

    def _partition_count(self, topic: str) -> int:
        """How many partitions ``topic`` has; 0 if it does not exist. Adapters that know
        it without asking for end offsets say so."""
        return len(self.end_offsets([topic]))

    def read_partition(
        self, tp: TopicPartition, start: int, end: int | None = None
    ) -> Iterator[LogRecord]:
        """The records of one partition at offsets ``start`` up to ``end`` (default: the
        partition's end offset when called), in order, outside any consumer group: what a
        reader following one subject needs. Adapters read only that range; this generic
        version filters a scan."""
        stop = self.end_offsets([tp.topic]).get(tp, 0) if end is None else end
        for record in self.scan([tp.topic]):
            if record.partition == tp.partition and start <= record.offset < stop:
                yield record

    @abstractmethod
    def consumer(
        self, group: str | None, topics: Sequence[str], start: StartOffsets
    ) -> LogConsumer:
        """A member of ``group`` reading ``topics``; starts each partition at ``start(tp)``.
        With no group it owns every partition and joins nothing (no rebalances: what a
        rebuild wants), and ``commit`` does nothing."""

    @abstractmethod
    def close(self) -> None: ...
