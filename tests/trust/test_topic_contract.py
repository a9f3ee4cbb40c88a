"""The topic contract on the real broker: what `pdl` creates, read back with Kafka's own
ConfigCommand; a topic that can expire makes `pdl run` refuse with the fix; record time
is the broker's, whatever time a producer writes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from kafka import KafkaProducer

from ledger.log.base import OutgoingRecord
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.command import pdl
from tests.conftest import per_test_topics
from tests.trust.support import described, kafka_configs

SEVEN_DAYS_MS = str(7 * 24 * 3600 * 1000)
IN_2024_MS = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)


def test_the_embedded_log_keeps_the_contract() -> None:
    done = pdl("doctor")
    assert done.returncode == 0, done.stderr
    assert "topic contract: kept" in done.stdout
    assert "retention.ms=-1" in done.stdout and "LogAppendTime" in done.stdout


@pytest.mark.kafka
def test_topics_pdl_creates_never_expire_and_take_the_brokers_time(kafka_address: str) -> None:
    url = f"kafka://{kafka_address}"
    done = pdl("doctor", log_url=url)
    assert done.returncode == 0, done.stderr
    topics = per_test_topics()
    for topic in topics.all():
        config = described(kafka_address, topic)
        assert config["retention.ms"] == "-1", topic
        assert config["retention.bytes"] == "-1", topic
        assert config["message.timestamp.type"] == "LogAppendTime", topic
        wanted = "compact" if topic in topics.compacted() else "delete"
        assert config["cleanup.policy"] == wanted, topic


@pytest.mark.kafka
def test_a_topic_that_expires_makes_pdl_run_refuse_with_the_fix(kafka_address: str) -> None:
    url = f"kafka://{kafka_address}"
    assert pdl("doctor", log_url=url).returncode == 0
    consent = per_test_topics().of("consent")
    kafka_configs(
        kafka_address, consent, "--alter", "--add-config", f"retention.ms={SEVEN_DAYS_MS}"
    )

    refused = pdl("run", "--until-caught-up", "--metrics-port", "0", log_url=url)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    said = refused.stderr
    assert consent in said and "retention.ms" in said and SEVEN_DAYS_MS in said
    assert f"kafka-configs.sh --bootstrap-server {kafka_address}" in said
    assert "--add-config retention.ms=-1" in said
    doctor = pdl("doctor", log_url=url)
    assert doctor.returncode == 2 and "topic contract: broken" in doctor.stdout

    kafka_configs(kafka_address, consent, "--alter", "--add-config", "retention.ms=-1")
    assert pdl("doctor", log_url=url).returncode == 0


@pytest.mark.kafka
def test_a_record_produced_with_a_2024_time_carries_its_append_time(
    kafka_address: str, tmp_path: object
) -> None:
    ledger = Backends(Settings.from_environment(f"kafka://{kafka_address}"))
    try:
        log = ledger.log
        consent = ledger.topics.of("consent")
        forger = KafkaProducer(bootstrap_servers=kafka_address)
        before_ms = time.time() * 1000
        forger.send(consent, key=b"sub_forged", value=b"not even avro", timestamp_ms=IN_2024_MS)
        forger.flush()
        forger.close()
        log.append([OutgoingRecord(consent, b"sub_ours", b"ours")])
        times = {r.key: r.timestamp_ms for r in log.scan([consent])}
    finally:
        ledger.close()
    assert set(times) == {b"sub_forged", b"sub_ours"}
    for stamped in times.values():
        assert before_ms - 5_000 <= stamped <= time.time() * 1000 + 5_000
