"""A batch's Kafka transaction is sized by its length, up to what the brokers allow: a
batch too large for one transaction is refused before anything is appended."""

from __future__ import annotations

import uuid

import pytest

from ledger.log.base import LogError, OutgoingRecord
from ledger.log.kafka import KafkaEventLog
from ledger.log.transactions import SIZING_RECORDS_PER_S
from tests.conftest import require_kafka


class Claimed(list[OutgoingRecord]):
    """Records that claim a length of their own: how the adapter learns a spool's size."""

    def __init__(self, records: list[OutgoingRecord], claimed: int) -> None:
        super().__init__(records)
        self.claimed = claimed

    def __len__(self) -> int:
        return self.claimed


@pytest.mark.kafka
def test_a_batch_longer_than_the_brokers_allow_appends_nothing() -> None:
    log = KafkaEventLog(require_kafka(), max_block_ms=5_000)
    topic = f"size-{uuid.uuid4().hex[:12]}"
    try:
        log.ensure_topics({topic: 1})
        records = [OutgoingRecord(topic, b"k", b"%d" % i) for i in range(3)]
        # 20 s + 2,000,000 / rate: past the brokers' default 900 s maximum
        too_long = Claimed(records, 2_000_000)
        with pytest.raises(LogError, match="longer than the brokers allow") as refused:
            log.append(too_long)
        assert "nothing committed" in refused.value.message
        assert "split the input" in (refused.value.fix or "")
        assert sum(log.end_offsets([topic]).values()) == 0
        # a batch within the maximum gets a longer transaction, and is appended
        log.append(Claimed(records, 100 * SIZING_RECORDS_PER_S))
        assert [r.value for r in log.scan([topic])] == [b"0", b"1", b"2"]
    finally:
        log.close()
