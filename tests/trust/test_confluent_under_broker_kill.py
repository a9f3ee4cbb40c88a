"""`pdl emit` on the second Kafka transport (``PDL_KAFKA_CLIENT=confluent``) when the
broker dies mid-transaction: the same runs as tests/trust/test_append_under_broker_kill.py
(every run ends with the whole file committed and exit 0, or an error exit that states
the outcome), with every ``pdl`` it starts on librdkafka."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from subprocess import Popen

import pytest

import tests.trust.test_append_under_broker_kill as kill
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.resilience.support import pdl_daemon as started
from tests.trust.test_append_under_broker_kill import committed_events

#: a broker of its own, apart from the kafka-python run's (both may run at once)
PORT = int(os.environ.get("PDL_TEST_CONFLUENT_KILL_PORT", "19796"))


def committed_once_resolved(address: str, prefix: str, data_dir: Path) -> int:
    """Events committed, counted once no transaction is open: an emit whose abort could
    not reach a broker still restarting leaves its transaction to the broker, which
    aborts it after the transaction time-out (docs/OPERATORS.md), and a committed-only
    count taken before that would stall on it, not on anything the emit did wrong."""
    settings = Settings.from_environment(
        f"kafka://{address}", data_dir, environ={"PDL_TOPIC_PREFIX": prefix}
    )
    ledger = Backends(settings)
    try:
        names = ledger.topics.event_topics()
        deadline = time.monotonic() + settings.transaction_timeout_s + 60
        while ledger.log.open_transactions(names) and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        ledger.close()
    return committed_events(address, prefix, data_dir)


@pytest.mark.kafka
def test_a_broker_killed_mid_emit_never_leaves_a_false_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def on_confluent(
        *args: str, log_url: str | None, extra_env: Mapping[str, str] | None = None
    ) -> Popen[str]:
        return started(
            *args, log_url=log_url, extra_env={**(extra_env or {}), "PDL_KAFKA_CLIENT": "confluent"}
        )

    monkeypatch.setattr(kill, "pdl_daemon", on_confluent)
    monkeypatch.setattr(kill, "PORT", PORT)
    monkeypatch.setattr(kill, "committed_events", committed_once_resolved)
    kill.test_a_broker_killed_mid_emit_never_leaves_a_false_success(tmp_path)
