"""How far a consumer group is behind the log, per partition, in messages and in seconds.

One computation serves ``pdl lag`` and the ``pdl_consumer_lag_*`` metrics:

- *committed* is the group's checkpoint in the projection store (the source of truth:
  where a restarted consumer resumes). The runner commits the same offsets to Kafka's
  group after each batch, so Kafka's own tools show the same figure, unless that
  advisory commit failed or the projection store was reset since.
- *end* is the log's end offset (Kafka's high watermark, transaction markers included,
  as ``kafka-consumer-groups.sh`` shows it).
- *lag in messages* is ``end - committed`` (never negative).
- *lag in seconds* is now minus the record time of the oldest record not yet applied
  (the first record at or after *committed*), and 0 when caught up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from consumers.store import ProjectionStore
from ledger.log.base import EventLog, TopicPartition
from ledger.log.embedded import EmbeddedLog

Clock = Callable[[], float]


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    lag_messages: int
    lag_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LagProbe:
    """Measures a group's lag. Not thread-safe: give each thread its own, or a lock."""

    def __init__(self, log: EventLog, store: ProjectionStore, clock: Clock = time.time) -> None:
        self._log = log
        self._store = store
        self._clock = clock
        self._times = _record_times(log)

    def measure(
        self,
        group: str,
        topics: Iterable[str],
        only: Collection[TopicPartition] | None = None,
    ) -> list[PartitionLag]:
        """Every partition of ``topics`` (or those in ``only``), sorted."""
        ends = self._log.end_offsets(topics)
        if only is not None:
            ends = {tp: end for tp, end in ends.items() if tp in only}
        checkpoints = self._store.checkpoints(group)
        committed = {tp: min(checkpoints.get(tp, 0), end) for tp, end in ends.items()}
        behind = {tp: c for tp, c in committed.items() if c < ends[tp]}
        first_ms = self._times.first_timestamps(behind, ends) if behind else {}
        now = self._clock()
        return [
            PartitionLag(
                group,
                tp.topic,
                tp.partition,
                committed[tp],
                end,
                end - committed[tp],
                max(0.0, now - first_ms[tp] / 1000) if tp in first_ms else 0.0,
            )
            for tp, end in sorted(ends.items())
        ]

    def close(self) -> None:
        self._times.close()


class _RecordTimes:
    """Reads the record time (ms) of the first record at or after each start offset."""

    def first_timestamps(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _EmbeddedTimes(_RecordTimes):
    def __init__(self, log: EmbeddedLog) -> None:
        self._log = log

    def first_timestamps(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        found = {}
        for tp, offset in starts.items():
            records = self._log.read(tp, offset, 1)
            if records:
                found[tp] = records[0].timestamp_ms
        return found


class _KafkaTimes(_RecordTimes):
    """Reads the first record at each offset with its own, group-less consumer.

    ``read_uncommitted``: the record a consumer waits on may belong to a transaction
    still open; its record time is what the wait is measured from. Control records
    (transaction markers) are skipped, so a partition whose unread tail is only markers
    has no such record and 0 s of lag."""

    def __init__(self, bootstrap: str, timeout_s: float = 10.0) -> None:
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._consumer: Any = None

    def first_timestamps(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        from kafka import TopicPartition as KafkaTP

        consumer = self._reader()
        wanted = {KafkaTP(tp.topic, tp.partition): tp for tp in starts}
        consumer.assign(list(wanted))
        for ktp, tp in wanted.items():
            consumer.seek(ktp, starts[tp])
        found: dict[TopicPartition, int] = {}
        pending = set(wanted)
        deadline = time.monotonic() + self._timeout_s
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

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
            self._consumer = None

    def _reader(self) -> Any:
        if self._consumer is None:
            from kafka import KafkaConsumer
            from kafka.errors import KafkaError

            from ledger.log.base import LogError

            try:
                self._consumer = KafkaConsumer(
                    bootstrap_servers=self._bootstrap,
                    client_id="pdl-lag",
                    group_id=None,
                    enable_auto_commit=False,
                    isolation_level="read_uncommitted",
                    auto_offset_reset="earliest",  # a checkpoint before retention: the oldest
                    max_partition_fetch_bytes=64 * 1024,
                )
            except KafkaError as exc:
                raise LogError(f"no Kafka broker reachable at {self._bootstrap}: {exc}") from exc
        return self._consumer


def _record_times(log: EventLog) -> _RecordTimes:
    if isinstance(log, EmbeddedLog):
        return _EmbeddedTimes(log)
    from ledger.log.kafka import KafkaEventLog

    if isinstance(log, KafkaEventLog):
        return _KafkaTimes(log.bootstrap)
    raise TypeError(f"cannot read record times from a {type(log).__name__}")
