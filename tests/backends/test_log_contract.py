"""Both log adapters pass the same contract, the one shipped in ``ledger.log.testcase``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.log.base import EventLog
from ledger.log.embedded import EmbeddedEventLog
from ledger.log.kafka import KafkaEventLog
from ledger.log.testcase import EventLogTestCase
from tests.conftest import require_kafka


class TestEmbeddedLog(EventLogTestCase):
    @pytest.fixture(autouse=True)
    def _where(self, tmp_path: Path) -> None:
        self.path = tmp_path / "log.sqlite"

    def make_log(self) -> EventLog:
        return EmbeddedEventLog(self.path)


@pytest.mark.kafka
class TestKafkaLog(EventLogTestCase):
    @pytest.fixture(autouse=True)
    def _where(self) -> None:
        self.address = require_kafka()

    def make_log(self) -> EventLog:
        # short metadata wait so the failed-batch test fails fast on the unknown topic
        return KafkaEventLog(self.address, max_block_ms=5_000)


@pytest.mark.kafka
class TestConfluentLog(EventLogTestCase):
    """The second Kafka transport (librdkafka), on the same broker and the same contract."""

    @pytest.fixture(autouse=True)
    def _where(self) -> None:
        self.address = require_kafka()

    def make_log(self) -> EventLog:
        from ledger.log.confluent import ConfluentEventLog

        return ConfluentEventLog(self.address, max_block_ms=5_000)
