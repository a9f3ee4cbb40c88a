"""Both log adapters pass the same contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.log.base import EventLog
from ledger.log.embedded import EmbeddedEventLog
from ledger.log.kafka import KafkaEventLog
from tests.conftest import require_kafka
from tests.contract.log_contract import EventLogContract


class TestEmbeddedLog(EventLogContract):
    @pytest.fixture(autouse=True)
    def _where(self, tmp_path: Path) -> None:
        self.path = tmp_path / "log.sqlite"

    def make_log(self) -> EventLog:
        return EmbeddedEventLog(self.path)


@pytest.mark.kafka
class TestKafkaLog(EventLogContract):
    @pytest.fixture(autouse=True)
    def _where(self) -> None:
        self.address = require_kafka()

    def make_log(self) -> EventLog:
        # short metadata wait so the failed-batch test fails fast on the unknown topic
        return KafkaEventLog(self.address, max_block_ms=5_000)
