"""`pdl emit` says what happened when the broker dies mid-transaction: a private broker is
SIGKILLed at different moments of an emit and restarted; every run ends with the whole
file committed and exit 0, or an error exit that states the outcome — never exit 0 with
events missing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.resilience.support import OwnBroker, events_file, pdl_daemon

PORT = int(os.environ.get("PDL_TEST_KILL_PORT", "19792"))
PEOPLE = 1500  # 3,000 events: an emit of a few seconds on this machine
OUTCOMES = ("nothing committed", "outcome unknown")


def committed_events(address: str, prefix: str, data_dir: Path) -> int:
    """Events a read_committed reader finds on the event topics."""
    settings = Settings.from_environment(
        f"kafka://{address}", data_dir, environ={"PDL_TOPIC_PREFIX": prefix}
    )
    ledger = Backends(settings)
    try:
        return sum(1 for _ in ledger.log.scan(ledger.topics.event_topics()))
    finally:
        ledger.close()


def appending_to(address: str, topic: str) -> None:
    """Wait until the emit's transaction wrote its first records (uncommitted yet)."""
    deadline = time.monotonic() + 120
    while True:
        with contextlib.suppress(KafkaError):
            reader = KafkaConsumer(bootstrap_servers=address, isolation_level="read_uncommitted")
            try:
                partitions = reader.partitions_for_topic(topic) or set()
                ends = reader.end_offsets([TopicPartition(topic, p) for p in partitions])
            finally:
                reader.close()
            if sum(ends.values()) > 0:
                return
        assert time.monotonic() < deadline, "pdl emit never started its append"
        time.sleep(0.05)


@pytest.mark.kafka
def test_a_broker_killed_mid_emit_never_leaves_a_false_success(tmp_path: Path) -> None:
    broker = OwnBroker(PORT, tmp_path / "broker")
    broker.start()
    try:
        url = f"kafka://{broker.address}"
        lines = events_file(
            tmp_path / "events.jsonl", [f"kill-{i}@example.fr" for i in range(PEOPLE)]
        )
        expected = sum(1 for _ in lines.open())
        for delay_s in (0.0, 0.3, 1.0):
            prefix = f"kill{uuid.uuid4().hex[:8]}."
            data_dir = tmp_path / prefix
            env = {
                "PDL_TOPIC_PREFIX": prefix,
                "PDL_DATA_DIR": str(data_dir),
                "PDL_LOG_TIMEOUT": "5",
            }
            emit = pdl_daemon("emit", "-q", str(lines), log_url=url, extra_env=env)
            appending_to(broker.address, prefix + "collection")
            time.sleep(delay_s)
            pid = int((broker.data_dir / "kafka.pid").read_text().strip())
            os.kill(pid, signal.SIGKILL)
            time.sleep(3)
            broker.start()
            try:
                out, err = emit.communicate(timeout=150)
            except subprocess.TimeoutExpired:
                emit.kill()
                pytest.fail(f"pdl emit hung after the broker was killed at {delay_s} s")
            found = committed_events(broker.address, prefix, data_dir)
            said = out + err
            if emit.returncode == 0:
                assert found == expected, f"exit 0 with {found}/{expected} committed: {said}"
            else:
                assert emit.returncode == 2, said
                assert any(outcome in said for outcome in OUTCOMES), said
                assert found in (0, expected), f"{found}/{expected} committed: {said}"
    finally:
        broker.stop()
