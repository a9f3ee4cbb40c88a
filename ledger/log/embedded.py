"""The embedded log: a partitioned append-only log in one SQLite file.

Chosen over a hand-rolled segment file because SQLite gives atomic multi-record
appends, crash safety and concurrent readers for free; see docs/ARCHITECTURE.md.
Keys are spread over partitions with Kafka's own partitioner (murmur2), so a subject's
records land in the same partition number on both backends. Record time is stamped by
the log's clock at append, as Kafka's LogAppendTime does; the clock is injectable for
tests that need records recorded "days ago".
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from ledger.log.base import (
    MIN_INSYNC_REPLICAS,
    EventLog,
    LogConsumer,
    LogError,
    LogRecord,
    OutgoingRecord,
    RecordsLost,
    StartOffsets,
    TopicPartition,
    TopicSettings,
    keyed_partition,
    ledger_topic_config,
    lost_records,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL, PRIMARY KEY (grp, topic, partition)
);
CREATE TABLE IF NOT EXISTS log_starts (
    topic TEXT NOT NULL, partition INTEGER NOT NULL,
    start_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition)
);
"""
#: The next offset of a partition: past its last record, and never below its log start
#: (records deleted up to the end leave the offsets they had used, as on Kafka).
_END = (
    "SELECT MAX(COALESCE((SELECT MAX(offset) + 1 FROM records WHERE topic = ?1 AND "
    "partition = ?2), 0), COALESCE((SELECT start_offset FROM log_starts WHERE topic = ?1 "
    "AND partition = ?2), 0))"
)

Clock = Callable[[], float]


_FIX = (
    "is the disk full, or the file damaged or locked by another program? Free space or "
    "stop that program; if the file is damaged, restore it from backup, then run "
    "`pdl rebuild`"
)
P = ParamSpec("P")
R = TypeVar("R")


def _reported(
    method: Callable[Concatenate[EmbeddedEventLog, P], R],
) -> Callable[Concatenate[EmbeddedEventLog, P], R]:
    """The method, with SQLite's errors raised as the port's ``LogError``."""

    @functools.wraps(method)
    def reported(log: EmbeddedEventLog, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(log, *args, **kwargs)
        except sqlite3.Error as exc:
            raise LogError(f"the embedded log {log.path}: {exc}", _FIX) from exc

    return reported


class EmbeddedEventLog(EventLog):
    @_reported
    def __init__(self, path: Path, clock: Clock = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock = clock
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    @_reported
    def ensure_topics(self, topics: Mapping[str, int], compacted: Iterable[str] = ()) -> None:
        with self._lock, self._transaction():
            for name, partitions in topics.items():
                self._db.execute(
                    "INSERT OR IGNORE INTO topics(name, partitions) VALUES (?, ?)",
                    (name, partitions),
                )

    @_reported
    def append(self, records: Iterable[OutgoingRecord]) -> None:
        now_ms = int(self._clock() * 1000)
        with self._lock, self._transaction():
            partitions = self._partition_counts()
            # the write lock is held: each partition's end is read once, then counted on
            ends: dict[tuple[str, int], int] = {}

            def rows() -> Iterator[tuple[str, int, int, bytes, bytes, int]]:
                for record in records:
                    count = partitions.get(record.topic)
                    if count is None:
                        raise LogError(f"topic {record.topic!r} does not exist")
                    at = (record.topic, keyed_partition(record.key, count))
                    offset = ends.get(at)
                    if offset is None:
                        (offset,) = self._db.execute(_END, at).fetchone()
                    ends[at] = offset + 1
                    yield (*at, offset, record.key, record.value, now_ms)

            self._db.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", rows())

    @_reported
    def topic_settings(self, topics: Iterable[str]) -> dict[str, TopicSettings]:
        """The embedded log keeps every record (only ``delete_records`` removes any),
        compacts nothing and stamps its own time: it meets the contract by construction."""
        with self._lock:
            present = self._partition_counts()
        config = {**ledger_topic_config(compacted=False), MIN_INSYNC_REPLICAS: "1"}
        return {t: TopicSettings(t, config, 1) for t in topics if t in present}

    @_reported
    def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        wanted = list(topics)
        with self._lock:
            counts = self._partition_counts()
            ends = {}
            for topic in wanted:
                for partition in range(counts.get(topic, 0)):
                    (end,) = self._db.execute(_END, (topic, partition)).fetchone()
                    ends[TopicPartition(topic, partition)] = int(end)
        return ends

    def open_transactions(self, topics: Iterable[str]) -> dict[TopicPartition, tuple[int, int]]:
        return {}  # an append is one SQLite transaction: never seen half-done

    @_reported
    def start_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        wanted = list(topics)
        with self._lock:
            counts = self._partition_counts()
            marked = self._log_starts()
        return {
            TopicPartition(t, p): marked.get(TopicPartition(t, p), 0)
            for t in wanted
            for p in range(counts.get(t, 0))
        }

    @_reported
    def delete_records(self, before: Mapping[TopicPartition, int]) -> None:
        with self._lock, self._transaction():
            marked = self._log_starts()
            for tp, offset in before.items():
                start = max(offset, marked.get(tp, 0))
                self._db.execute(
                    "INSERT OR REPLACE INTO log_starts VALUES (?, ?, ?)",
                    (tp.topic, tp.partition, start),
                )
                self._db.execute(
                    "DELETE FROM records WHERE topic = ? AND partition = ? AND offset < ?",
                    (tp.topic, tp.partition, start),
                )

    @_reported
    def log_starts(self) -> dict[TopicPartition, int]:
        """The partitions records were deleted from, with their start offsets."""
        with self._lock:
            return self._log_starts()

    def _log_starts(self) -> dict[TopicPartition, int]:
        rows = self._db.execute("SELECT topic, partition, start_offset FROM log_starts")
        return {TopicPartition(str(t), int(p)): int(o) for t, p, o in rows}

    def first_record_times(
        self, starts: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        found = {}
        for tp, offset in starts.items():
            records = self.read(tp, offset, 1)
            if records and records[0].offset < ends.get(tp, records[0].offset + 1):
                found[tp] = records[0].timestamp_ms
        return found

    def scan(self, topics: Iterable[str]) -> Iterator[LogRecord]:
        for tp, end in sorted(self.end_offsets(topics).items()):
            offset = 0
            while offset < end:
                batch = self.read(tp, offset, min(1000, end - offset))
                if not batch:
                    break
                yield from batch
                offset = batch[-1].offset + 1

    @_reported
    def _partition_count(self, topic: str) -> int:
        with self._lock:
            return self._partition_counts().get(topic, 0)

    def read_partition(
        self, tp: TopicPartition, start: int, end: int | None = None
    ) -> Iterator[LogRecord]:
        stop = self.end_offsets([tp.topic]).get(tp, 0) if end is None else end
        offset = start
        while offset < stop:
            batch = [r for r in self.read(tp, offset, min(1000, stop - offset)) if r.offset < stop]
            if not batch:
                break
            yield from batch
            offset = batch[-1].offset + 1

    @_reported
    def consumer(
        self, group: str | None, topics: Sequence[str], start: StartOffsets
    ) -> LogConsumer:
        with self._lock:
            counts = self._partition_counts()
        owned = [TopicPartition(t, p) for t in topics for p in range(counts.get(t, 0))]
        return EmbeddedLogConsumer(self, group, {tp: start(tp) for tp in owned})

    @_reported
    def close(self) -> None:
        self._db.close()

    @_reported
    def read(self, tp: TopicPartition, from_offset: int, limit: int) -> list[LogRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT offset, key, value, timestamp_ms FROM records "
                "WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (tp.topic, tp.partition, from_offset, limit),
            ).fetchall()
        return [LogRecord(tp.topic, tp.partition, o, bytes(k), bytes(v), t) for o, k, v, t in rows]

    @_reported
    def committed(
        self, group: str, partitions: Iterable[TopicPartition]
    ) -> dict[TopicPartition, int]:
        wanted = set(partitions)
        with self._lock:
            rows = self._db.execute(
                "SELECT topic, partition, next_offset FROM group_offsets WHERE grp = ?", (group,)
            ).fetchall()
        found = {TopicPartition(str(t), int(p)): int(o) for t, p, o in rows}
        return {tp: offset for tp, offset in found.items() if tp in wanted}

    @_reported
    def commit_group(self, group: str, next_offsets: Mapping[TopicPartition, int]) -> None:
        with self._lock, self._transaction():
            for tp, offset in next_offsets.items():
                self._db.execute(
                    "INSERT OR REPLACE INTO group_offsets VALUES (?, ?, ?, ?)",
                    (group, tp.topic, tp.partition, offset),
                )

    def _partition_counts(self) -> dict[str, int]:
        return {str(n): int(p) for n, p in self._db.execute("SELECT name, partitions FROM topics")}

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error: appends are all-or-nothing."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


class EmbeddedLogConsumer(LogConsumer):
    """Owns every partition of its topics: there is one process per group on a laptop."""

    _IDLE_SLEEP_S = 0.05

    def __init__(
        self, log: EmbeddedEventLog, group: str | None, positions: dict[TopicPartition, int]
    ) -> None:
        self._log = log
        self._group = group
        self._positions = positions

    def poll(self, timeout_s: float, max_records: int = 500) -> list[LogRecord]:
        deadline = time.monotonic() + timeout_s
        lost = lost_records(self._positions, self._log.log_starts())
        if lost:
            raise RecordsLost(lost, f"consumer of group {self._group or '(none)'}")
        while True:
            batch: list[LogRecord] = []
            for tp in sorted(self._positions):
                if len(batch) >= max_records:
                    break
                records = self._log.read(tp, self._positions[tp], max_records - len(batch))
                if records:
                    self._positions[tp] = records[-1].offset + 1
                    batch.extend(records)
            if batch or time.monotonic() >= deadline:
                return batch
            time.sleep(min(self._IDLE_SLEEP_S, max(0.0, deadline - time.monotonic())))

    def positions(self) -> dict[TopicPartition, int]:
        return dict(self._positions)

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        if self._group is not None:
            self._log.commit_group(self._group, next_offsets)

    def close(self) -> None:
        self._positions = {}
