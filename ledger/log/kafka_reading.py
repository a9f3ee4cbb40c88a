"""Reading the log on kafka-python: group consumers (``KafkaLogConsumer``), and the
groupless reads of one ``KafkaEventLog`` (``RangeReader``: scans, a partition's ranges,
first record times). Consumers read committed records only, except the record-time
reader: the record a consumer waits on may belong to a transaction still open.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer
from kafka import TopicPartition as KafkaTP
from kafka.errors import KafkaError, OffsetOutOfRangeError
from kafka.structs import OffsetAndMetadata

from ledger.log.base import (
    LogConsumer,
    LogError,
    LogRecord,
    RecordsLost,
    StartOffsets,
    TopicPartition,
    lost_records,
)
from ledger.log.kafka_security import FIX, PLAINTEXT, KafkaSecurity, unreachable

log = logging.getLogger(__name__)


@contextlib.contextmanager
def reported(bootstrap: str, doing: str) -> Iterator[None]:
    """kafka-python's errors, raised as the port's ``LogError``."""
    try:
        yield
    except KafkaError as exc:
        raise LogError(f"{doing} on {bootstrap} failed: {exc}", FIX) from exc


def record_of(m: Any) -> LogRecord:
    return LogRecord(m.topic, m.partition, m.offset, m.key or b"", m.value or b"", m.timestamp)


def _by_partition(tp: Any) -> tuple[str, int]:
    return (tp.topic, tp.partition)


class RangeReader:
    """The groupless readers of one ``KafkaEventLog``, each opened on first use and kept
    open: a subject's reads are a few short ranges, and a consumer's start costs more
    than any of them."""

    def __init__(self, bootstrap: str, security: KafkaSecurity, request_timeout_ms: int) -> None:
        self._bootstrap = bootstrap
        self._security = security
        self._timeout_ms = request_timeout_ms
        self._times_consumer: Any = None
        self._range_consumer: Any = None

    def close(self) -> None:
        if self._times_consumer is not None:
            self._times_consumer.close(autocommit=False)
            self._times_consumer = None
        if self._range_consumer is not None:
            self._range_consumer.close(autocommit=False)
            self._range_consumer = None

    def first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        with reported(self._bootstrap, "reading record times"):
            return self._first_record_times(starts, ends)

    def _first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        consumer = self._times_reader()
        wanted = {KafkaTP(tp.topic, tp.partition): tp for tp in starts}
        consumer.assign(list(wanted))
        for ktp, tp in wanted.items():
            consumer.seek(ktp, starts[tp])
        found: dict[TopicPartition, int] = {}
        pending = set(wanted)
        deadline = time.monotonic() + self._timeout_ms / 1000
        while pending and time.monotonic() < deadline:
            for ktp, messages in consumer.poll(timeout_ms=200).items():
                if ktp in pending and messages:
                    found[wanted[ktp]] = int(messages[0].timestamp)
                    pending.discard(ktp)
            for ktp in list(pending):  # only markers left before the end: nothing to wait on
                if consumer.position(ktp) >= ends[wanted[ktp]]:
                    pending.discard(ktp)
            consumer.pause(*(set(wanted) - pending))
        consumer.assign([])
        return found

    def scan(self, ends: Mapping[TopicPartition, int]) -> Iterator[LogRecord]:
        """Every committed record below ``ends``, from each partition's start."""
        with reported(self._bootstrap, "scanning"):
            yield from self._scan(
                {KafkaTP(tp.topic, tp.partition): end for tp, end in ends.items()}
            )

    def _scan(self, ends: Mapping[KafkaTP, int]) -> Iterator[LogRecord]:
        reader = KafkaConsumer(
            bootstrap_servers=self._bootstrap,
            **self._security.client_options(),
            client_id="pdl-scan",
            request_timeout_ms=self._timeout_ms,
            bootstrap_timeout_ms=self._timeout_ms,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        try:
            reader.assign(sorted(ends, key=_by_partition))
            reader.seek_to_beginning()
            deadline = time.monotonic() + self._timeout_ms / 1000
            while any(reader.position(tp) < end for tp, end in ends.items()):
                batches = reader.poll(timeout_ms=500, max_records=1000)
                if batches:
                    deadline = time.monotonic() + self._timeout_ms / 1000
                elif time.monotonic() > deadline:
                    raise LogError(f"scan of {self._bootstrap} stalled before the end offsets")
                for tp in sorted(batches, key=_by_partition):
                    yield from (record_of(m) for m in batches[tp] if m.offset < ends[tp])
        finally:
            reader.close()

    def read(self, tp: TopicPartition, start: int, stop: int) -> Iterator[LogRecord]:
        """The committed records of ``tp`` from ``start`` to before ``stop``."""
        ktp = KafkaTP(tp.topic, tp.partition)
        with reported(self._bootstrap, f"reading {tp.topic}[{tp.partition}]"):
            reader = self._range_reader()
            reader.assign([ktp])
            reader.seek(ktp, start)
            deadline = time.monotonic() + self._timeout_ms / 1000
            while reader.position(ktp) < stop:
                batches = reader.poll(timeout_ms=500, max_records=1000)
                if batches:
                    deadline = time.monotonic() + self._timeout_ms / 1000
                elif time.monotonic() > deadline:
                    raise LogError(f"reading {tp.topic}[{tp.partition}] stalled before {stop}")
                yield from (record_of(m) for m in batches.get(ktp, []) if m.offset < stop)

    def _times_reader(self) -> Any:
        """A groupless ``read_uncommitted`` reader of single records: the record a consumer
        waits on may belong to a transaction still open, and its record time is what the
        wait is measured from."""
        if self._times_consumer is None:
            try:
                self._times_consumer = KafkaConsumer(
                    bootstrap_servers=self._bootstrap,
                    **self._security.client_options(),
                    client_id="pdl-lag",
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                    group_id=None,
                    enable_auto_commit=False,
                    isolation_level="read_uncommitted",
                    auto_offset_reset="earliest",  # a checkpoint before retention: the oldest
                    max_partition_fetch_bytes=64 * 1024,
                )
            except KafkaError as exc:
                raise unreachable(self._bootstrap, str(exc), self._security) from exc
        return self._times_consumer

    def _range_reader(self) -> Any:
        if self._range_consumer is None:
            try:
                self._range_consumer = KafkaConsumer(
                    bootstrap_servers=self._bootstrap,
                    **self._security.client_options(),
                    client_id="pdl-read",
                    request_timeout_ms=self._timeout_ms,
                    bootstrap_timeout_ms=self._timeout_ms,
                    group_id=None,
                    enable_auto_commit=False,
                    isolation_level="read_committed",
                    # never jump to what is left: a range below the log start fails
                    auto_offset_reset="none",
                )
            except KafkaError as exc:
                raise unreachable(self._bootstrap, str(exc), self._security) from exc
        return self._range_consumer


class _SeekToCheckpoint(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: Any, start: StartOffsets) -> None:
        self._consumer = consumer
        self._start = start

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass  # state is checkpointed per batch; nothing pending to flush

    def on_partitions_assigned(self, assigned: Any) -> None:
        for tp in assigned:
            self._consumer.seek(tp, self._start(TopicPartition(tp.topic, tp.partition)))


class KafkaLogConsumer(LogConsumer):
    """A group member subscribed to topics, or (no group) the owner of given partitions."""

    def __init__(
        self,
        bootstrap: str,
        group: str | None,
        topics: Sequence[str] | Sequence[KafkaTP],
        start: StartOffsets,
        request_timeout_ms: int = 30_000,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._grouped = group is not None
        self._group = group
        self._bootstrap = bootstrap
        try:
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap,
                **security.client_options(),
                group_id=group,
                client_id=f"pdl-{group or 'ungrouped'}",
                enable_auto_commit=False,
                # never jump to what is left: a checkpoint below the log start means
                # records were deleted unread, which the reader must be told (poll)
                auto_offset_reset="none",
                isolation_level="read_committed",
                request_timeout_ms=request_timeout_ms,
                bootstrap_timeout_ms=request_timeout_ms,
            )
        except KafkaError as exc:
            raise unreachable(bootstrap, str(exc), security) from exc
        with reported(bootstrap, "joining the topics"):
            if group is None:
                partitions = [tp for tp in topics if isinstance(tp, KafkaTP)]
                self._consumer.assign(partitions)
                for tp in partitions:
                    self._consumer.seek(tp, start(TopicPartition(tp.topic, tp.partition)))
            else:
                names = [t for t in topics if isinstance(t, str)]
                self._consumer.subscribe(names, listener=_SeekToCheckpoint(self._consumer, start))

    def poll(self, timeout_s: float, max_records: int = 500) -> list[LogRecord]:
        with reported(self._bootstrap, "polling"):
            try:
                batches = self._consumer.poll(
                    timeout_ms=int(timeout_s * 1000), max_records=max_records
                )
            except OffsetOutOfRangeError as exc:
                raise self._lost(exc) from None
        return [record_of(m) for tp in sorted(batches, key=_by_partition) for m in batches[tp]]

    def _lost(self, exc: OffsetOutOfRangeError) -> LogError | RecordsLost:
        """What was deleted below the offsets the broker called out of range."""
        wanted = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        starts = self._consumer.beginning_offsets(list(wanted))
        lost = lost_records(
            {TopicPartition(tp.topic, tp.partition): int(o) for tp, o in wanted.items()},
            {TopicPartition(tp.topic, tp.partition): int(o) for tp, o in starts.items()},
        )
        if not lost:  # out of range above the end: not a deletion
            return LogError(f"polling {self._bootstrap}: offsets out of range ({exc})")
        return RecordsLost(lost, f"consumer of group {self._group or '(none)'}")

    def positions(self) -> dict[TopicPartition, int]:
        with reported(self._bootstrap, "reading positions"):
            return {
                TopicPartition(tp.topic, tp.partition): int(self._consumer.position(tp))
                for tp in self._consumer.assignment()
            }

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        if not next_offsets or not self._grouped:
            return
        offsets = {
            KafkaTP(tp.topic, tp.partition): OffsetAndMetadata(offset, "", -1)
            for tp, offset in next_offsets.items()
        }
        try:
            self._consumer.commit(offsets)
        except KafkaError as exc:  # advisory: lag figures lag a little, state is safe
            log.warning("group offset commit failed: %s", type(exc).__name__)

    def close(self) -> None:
        with reported(self._bootstrap, "closing a consumer"):
            self._consumer.close(autocommit=False)
