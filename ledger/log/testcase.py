"""The contract every ``EventLog`` adapter passes: subclass ``EventLogTestCase`` and
implement ``make_log``.

Shipped in the package, like the eventsourcing library's own reusable test cases, so an
adapter for another broker, written anywhere, proves itself by passing this suite
unchanged. It needs pytest (a development dependency, not a runtime one): only tests
import this module. The class name does not start with ``Test``, so pytest collects the
suite only through a subclass.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator

import pytest

from ledger.log.base import (
    CLEANUP_POLICY,
    LOG_APPEND_TIME,
    RETENTION_BYTES,
    RETENTION_MS,
    TIMESTAMP_TYPE,
    EventLog,
    LogConsumer,
    LogError,
    LogRecord,
    OutgoingRecord,
    RecordsLost,
    TopicPartition,
)


def drain(consumer: LogConsumer, expected: int, timeout_s: float = 30.0) -> list[LogRecord]:
    """Poll until ``expected`` records came or ``timeout_s`` passed."""
    got: list[LogRecord] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < expected and time.monotonic() < deadline:
        got.extend(consumer.poll(0.5))
    return got


class EventLogTestCase(ABC):
    @abstractmethod
    def make_log(self) -> EventLog:
        """A log on the same storage each call (a second call is a process restart)."""

    topic: str
    other: str
    missing: str
    compacted: str

    @pytest.fixture
    def log(self) -> Iterator[EventLog]:
        # fresh topic names per test, so tests never see each other's records on a
        # shared broker
        prefix = f"contract-{uuid.uuid4().hex[:12]}."
        self.topic, self.other = prefix + "events", prefix + "other"
        self.missing = prefix + "no-such-topic"
        self.compacted = prefix + "compacted"
        log = self.make_log()
        log.ensure_topics({self.topic: 3, self.other: 1})
        yield log
        log.close()

    def test_per_key_order_is_kept(self, log: EventLog) -> None:
        keys = [f"sub_{i:032x}".encode() for i in range(5)]
        batch = [
            OutgoingRecord(self.topic, k, f"{k.decode()}#{n}".encode())
            for n in range(20)
            for k in keys
        ]
        log.append(batch)
        consumer = log.consumer("order-group", [self.topic], lambda tp: 0)
        got = drain(consumer, len(batch))
        consumer.close()
        assert len(got) == len(batch)
        for key in keys:
            mine = [r.value.decode() for r in got if r.key == key]
            assert mine == [f"{key.decode()}#{n}" for n in range(20)]
        assert len({r.partition for r in got}) > 1, "keys should spread over partitions"

    def test_end_offsets_count_appends(self, log: EventLog) -> None:
        before = sum(log.end_offsets([self.other]).values())
        log.append([OutgoingRecord(self.other, b"k", b"v%d" % i) for i in range(3)])
        after = log.end_offsets([self.other])
        assert sum(after.values()) >= before + 3  # Kafka adds a transaction marker

    def test_record_time_is_the_logs_append_time(self, log: EventLog) -> None:
        before_ms = time.time() * 1000
        log.append([OutgoingRecord(self.other, b"k", b"now")])
        consumer = log.consumer("time-group", [self.other], lambda tp: 0)
        (got,) = drain(consumer, 1)
        consumer.close()
        assert before_ms - 5_000 <= got.timestamp_ms <= time.time() * 1000 + 5_000

    def test_topics_keep_everything_and_take_the_logs_time(self, log: EventLog) -> None:
        log.ensure_topics({self.compacted: 1}, compacted=[self.compacted])
        settings = log.topic_settings([self.topic, self.other, self.compacted, self.missing])
        assert sorted(settings) == sorted([self.topic, self.other, self.compacted])
        for name, found in settings.items():
            assert found.topic == name and found.replication_factor >= 1
            assert found.config[TIMESTAMP_TYPE] == LOG_APPEND_TIME
            policy = found.config[CLEANUP_POLICY]
            if "delete" in policy:
                assert found.config[RETENTION_MS] == found.config[RETENTION_BYTES] == "-1"
            if name != self.compacted:
                assert policy == "delete"

    def test_durable_across_restart(self, log: EventLog) -> None:
        log.append([OutgoingRecord(self.topic, b"sub_durable", b"kept")])
        log.close()
        reopened = self.make_log()
        try:
            consumer = reopened.consumer("restart-group", [self.topic], lambda tp: 0)
            got = drain(consumer, 1)
            consumer.close()
        finally:
            reopened.close()
        assert [r.value for r in got] == [b"kept"]

    def test_consumer_resumes_from_given_offsets(self, log: EventLog) -> None:
        log.append([OutgoingRecord(self.other, b"k", b"%d" % i) for i in range(6)])
        first = log.consumer("resume-group", [self.other], lambda tp: 0)
        got = drain(first, 6)
        first.close()
        checkpoint = got[3].offset  # pretend records 0..2 were applied
        second = log.consumer("resume-group", [self.other], lambda tp: checkpoint)
        rest = drain(second, 3)
        second.close()
        assert [r.value for r in rest] == [b"3", b"4", b"5"]

    def test_failed_batch_appends_nothing(self, log: EventLog) -> None:
        before = log.end_offsets([self.topic])
        with pytest.raises(LogError):
            log.append(
                [
                    OutgoingRecord(self.topic, b"k", b"first"),
                    OutgoingRecord(self.missing, b"k", b"second"),
                ]
            )
        log.append([OutgoingRecord(self.topic, b"k", b"after")])
        consumer = log.consumer("atomic-group", [self.topic], lambda tp: before.get(tp, 0))
        got = drain(consumer, 1, timeout_s=10)
        got += consumer.poll(1.0)
        consumer.close()
        assert [r.value for r in got] == [b"after"]

    def test_an_iterable_is_appended_lazily_and_whole(self, log: EventLog) -> None:
        before = log.end_offsets([self.topic])
        log.append(OutgoingRecord(self.topic, b"sub_lazy", b"%d" % i) for i in range(50))
        consumer = log.consumer("lazy-group", [self.topic], lambda tp: before.get(tp, 0))
        got = drain(consumer, 50)
        consumer.close()
        assert [r.value for r in got] == [b"%d" % i for i in range(50)]

    def test_an_iterable_that_fails_midway_appends_nothing(self, log: EventLog) -> None:
        before = log.end_offsets([self.topic])

        class SourceFailed(Exception):
            pass

        def records() -> Iterator[OutgoingRecord]:
            for i in range(30):
                yield OutgoingRecord(self.topic, f"sub_{i % 4}".encode(), b"early")
            raise SourceFailed("the spool could not be read")

        with pytest.raises(SourceFailed):  # the caller's own error, not the log's
            log.append(records())
        log.append([OutgoingRecord(self.topic, b"k", b"after")])
        consumer = log.consumer("lazy-atomic", [self.topic], lambda tp: before.get(tp, 0))
        got = drain(consumer, 1, timeout_s=10)
        got += consumer.poll(1.0)
        consumer.close()
        assert [r.value for r in got] == [b"after"]

    def test_scan_reads_every_record_outside_any_group(self, log: EventLog) -> None:
        log.append([OutgoingRecord(self.topic, f"sub_{i}".encode(), b"%d" % i) for i in range(9)])
        log.append([OutgoingRecord(self.other, b"k", b"other")])
        scanned = list(log.scan([self.topic, self.other]))
        assert sorted(r.value for r in scanned) == sorted(
            [b"%d" % i for i in range(9)] + [b"other"]
        )
        assert list(log.scan([self.topic])) == [r for r in scanned if r.topic == self.topic]

    def test_a_keys_records_are_read_from_its_partition_only(self, log: EventLog) -> None:
        keys = [f"sub_{i:032x}".encode() for i in range(6)]
        log.append([OutgoingRecord(self.topic, k, k + b"#%d" % n) for n in range(3) for k in keys])
        scanned = list(log.scan([self.topic]))
        for key in keys:
            partition = log.partition_for(self.topic, key)
            assert {r.partition for r in scanned if r.key == key} == {partition}
        tp = TopicPartition(self.topic, log.partition_for(self.topic, keys[0]))
        held = [r for r in scanned if r.partition == tp.partition]
        assert list(log.read_partition(tp, 0)) == held
        assert list(log.read_partition(tp, held[1].offset)) == held[1:]
        assert list(log.read_partition(tp, held[1].offset, held[2].offset)) == [held[1]]
        assert list(log.read_partition(tp, held[-1].offset + 1)) == []
        with pytest.raises(LogError):
            log.partition_for(self.missing, keys[0])

    def test_consumer_without_group_owns_every_partition(self, log: EventLog) -> None:
        log.append([OutgoingRecord(self.topic, f"sub_{i}".encode(), b"%d" % i) for i in range(9)])
        alone = log.consumer(None, [self.topic], lambda tp: 0)
        got = drain(alone, 9)
        assert len(alone.positions()) == 3
        alone.commit(alone.positions())  # nothing to commit to: must not fail
        alone.close()
        assert sorted(r.value for r in got) == sorted(b"%d" % i for i in range(9))

    def test_committed_offsets_outlive_the_consumer(self, log: EventLog) -> None:
        log.append([OutgoingRecord(self.other, b"k", b"%d" % i) for i in range(4)])
        group = f"committed-{uuid.uuid4().hex[:8]}"
        partition = next(iter(log.end_offsets([self.other])))
        assert log.committed(group, [partition]) == {}
        consumer = log.consumer(group, [self.other], lambda tp: 0)
        drain(consumer, 4)
        consumer.commit({partition: 3})
        consumer.close()
        assert log.committed(group, [partition]) == {partition: 3}
        assert log.committed(group, []) == {}

    def test_committed_appends_leave_no_open_transaction(self, log: EventLog) -> None:
        log.append([OutgoingRecord(self.topic, b"k", b"committed")])
        assert log.open_transactions([self.topic, self.other]) == {}
        assert log.open_transactions([]) == {}

    def test_first_record_times_from_an_offset(self, log: EventLog) -> None:
        for i in range(3):
            log.append([OutgoingRecord(self.other, b"k", b"%d" % i)])
        ends = log.end_offsets([self.other])
        (tp,) = ends
        times = {r.offset: r.timestamp_ms for r in log.scan([self.other])}
        second = sorted(times)[1]
        assert log.first_record_times({tp: second}, ends) == {tp: times[second]}
        past_last = max(times) + 1
        assert log.first_record_times({tp: past_last}, ends) == {}  # only a marker (Kafka)

    def test_deleted_records_move_the_start_and_stop_readers(self, log: EventLog) -> None:
        log.append([OutgoingRecord(self.other, b"k", b"%d" % i) for i in range(5)])
        (tp,) = log.end_offsets([self.other])
        assert log.start_offsets([self.other]) == {tp: 0}
        log.delete_records({tp: 3})
        assert log.start_offsets([self.other]) == {tp: 3}
        assert [r.value for r in log.scan([self.other])] == [b"3", b"4"]
        end = log.end_offsets([self.other])[tp]
        log.append([OutgoingRecord(self.other, b"k", b"after")])
        assert log.end_offsets([self.other])[tp] > end  # offsets are never reused
        behind = log.consumer(None, [self.other], lambda tp: 1)
        try:
            with pytest.raises(RecordsLost) as lost:
                drain(behind, 1, timeout_s=10)
        finally:
            behind.close()
        assert lost.value.lost == {tp: (1, 3)}
        assert f"{self.other}[0] offsets 1..2" in str(lost.value)
        ahead = log.consumer(None, [self.other], lambda tp: 3)
        got = drain(ahead, 3)
        ahead.close()
        assert [r.value for r in got] == [b"3", b"4", b"after"]
