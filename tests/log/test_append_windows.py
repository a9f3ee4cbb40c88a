"""A large append is sent in windows, each acknowledged before the next is sent, so the
producer's buffer stays bounded; the append stays one transaction, all or nothing, on
both Kafka clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import ledger.log.confluent_append as confluent_append
import ledger.log.kafka_append as kafka_append
from ledger.log.base import EventLog, LogError, OutgoingRecord
from ledger.log.kafka import KafkaEventLog
from tests.conftest import require_kafka


class SourceFailed(Exception):
    pass


def _kafka_python() -> EventLog:
    return KafkaEventLog(require_kafka(), max_block_ms=5_000)


def _confluent() -> EventLog:
    from ledger.log.confluent import ConfluentEventLog

    return ConfluentEventLog(require_kafka(), max_block_ms=5_000)


@pytest.fixture(params=[_kafka_python, _confluent], ids=["kafka-python", "confluent"])
def log(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[EventLog]:
    # windows and polls of a few records: a small batch spans many of them
    monkeypatch.setattr(kafka_append, "WINDOW_RECORDS", 7)
    monkeypatch.setattr(kafka_append, "WINDOW_BYTES", 1_000)
    monkeypatch.setattr(confluent_append, "POLL_EVERY", 3)
    opened: EventLog = request.param()
    yield opened
    opened.close()


@pytest.fixture
def topic(log: EventLog) -> str:
    name = f"windows-{uuid.uuid4().hex[:12]}"
    log.ensure_topics({name: 3})
    return name


@pytest.mark.kafka
def test_an_append_of_many_windows_is_appended_whole_and_in_order(
    log: EventLog, topic: str
) -> None:
    log.append(OutgoingRecord(topic, b"sub_1", b"%d" % i) for i in range(100))
    # values of 100 bytes: the byte bound closes windows too
    log.append([OutgoingRecord(topic, b"sub_2", b"%099d" % i) for i in range(30)])
    got = list(log.scan([topic]))
    assert [r.value for r in got if r.key == b"sub_1"] == [b"%d" % i for i in range(100)]
    assert [r.value for r in got if r.key == b"sub_2"] == [b"%099d" % i for i in range(30)]


@pytest.mark.kafka
def test_a_failure_after_windows_were_acknowledged_commits_nothing(
    log: EventLog, topic: str
) -> None:
    def records() -> Iterator[OutgoingRecord]:
        for i in range(40):  # several windows sent and acknowledged
            yield OutgoingRecord(topic, f"sub_{i % 5}".encode(), b"early")
        raise SourceFailed("the spool could not be read")

    with pytest.raises(SourceFailed):
        log.append(records())
    with pytest.raises(LogError, match="nothing committed"):
        log.append(
            [OutgoingRecord(topic, b"sub_1", b"early")] * 20
            + [OutgoingRecord(topic + "-missing", b"sub_1", b"lost")]
        )
    log.append([OutgoingRecord(topic, b"k", b"after")])
    assert [r.value for r in log.scan([topic])] == [b"after"]
