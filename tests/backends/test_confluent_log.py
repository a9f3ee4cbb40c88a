"""The second Kafka transport (confluent-kafka, ``ledger.log.confluent``) next to the first
(kafka-python): the same partitions for the same keys, consumers that know when they
caught up, and ``pdl`` itself on it when ``PDL_KAFKA_CLIENT=confluent``. The log contract
runs on it in tests/backends/test_log_contract.py; secured listeners in
tests/trust/test_secured_confluent.py."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from ledger.errors import ConfigError
from ledger.log.base import OutgoingRecord, keyed_partition
from ledger.log.confluent import ConfluentEventLog
from ledger.log.confluent_reading import client_config
from ledger.log.kafka import KafkaEventLog
from ledger.log.kafka_security import KafkaSecurity
from ledger.log.testcase import drain
from ledger.service.settings import Settings
from tests.command import pdl
from tests.conftest import require_kafka
from tests.scenario import canary, collected, consent, lines


@pytest.mark.kafka
def test_both_clients_put_a_key_on_the_same_partition() -> None:
    address = require_kafka()
    topic = f"partitioning-{uuid.uuid4().hex[:12]}"
    partitions = 7  # a count where CRC32 (librdkafka's default) and murmur2 disagree often
    keys = [f"sub_{i:032x}".encode() for i in range(40)]
    python, confluent = KafkaEventLog(address), ConfluentEventLog(address)
    try:
        python.ensure_topics({topic: partitions})
        python.append([OutgoingRecord(topic, key, b"kafka-python") for key in keys])
        confluent.append([OutgoingRecord(topic, key, b"confluent") for key in keys])
        scanned = list(python.scan([topic]))
    finally:
        python.close()
        confluent.close()
    assert len(scanned) == 2 * len(keys)
    for key in keys:
        found = {(r.value, r.partition) for r in scanned if r.key == key}
        expected = keyed_partition(key, partitions)
        assert found == {(b"kafka-python", expected), (b"confluent", expected)}


@pytest.mark.kafka
def test_a_consumer_that_read_everything_is_at_the_end_offsets() -> None:
    """Its positions pass the transactions' commit markers, so a runner comparing them
    with the end offsets knows it caught up."""
    address = require_kafka()
    topic = f"positions-{uuid.uuid4().hex[:12]}"
    log = ConfluentEventLog(address)
    try:
        log.ensure_topics({topic: 2})
        for n in range(3):
            log.append([OutgoingRecord(topic, b"sub_%d" % i, b"%d" % n) for i in range(4)])
        for group in (None, f"positions-{uuid.uuid4().hex[:8]}"):
            consumer = log.consumer(group, [topic], lambda tp: 0)
            try:
                assert len(drain(consumer, 12)) == 12
                caught_up = consumer.positions()
                # the end offsets are read again each time: a commit returns once the
                # coordinator decided it, and its markers reach the partitions just after
                ends = log.end_offsets([topic])
                for _ in range(10):  # the position passes a marker when it is fetched
                    if caught_up == ends:
                        break
                    consumer.poll(0.5)
                    caught_up, ends = consumer.positions(), log.end_offsets([topic])
            finally:
                consumer.close()
            assert caught_up == ends
            assert all(end == 9 for end in ends.values())  # 6 records, 3 commit markers
    finally:
        log.close()


@pytest.mark.kafka
def test_pdl_runs_on_the_confluent_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log_url = f"kafka://{require_kafka()}"
    monkeypatch.setenv("PDL_KAFKA_CLIENT", "confluent")
    email = canary("email") + "@example.fr"
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines(collected(email, email), consent(email))) + "\n")
    emitted = pdl("emit", str(events), log_url=log_url)
    assert emitted.returncode == 0, emitted.stderr
    shown = pdl("state", email, "--json", log_url=log_url)
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert [v["value"] for v in state["values"]] == [email]
    # the records are where kafka-python's adapter reads them too
    monkeypatch.setenv("PDL_KAFKA_CLIENT", "kafka-python")
    again = pdl("state", email, "--json", log_url=log_url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["values"] == state["values"]


def test_an_unknown_client_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_text({"data_dir": str(tmp_path), "kafka_client": "librdkafka"})
    assert "PDL_KAFKA_CLIENT 'librdkafka'" in refused.value.message
    assert refused.value.fix and "confluent" in refused.value.fix
    chosen = Settings.from_text({"data_dir": str(tmp_path), "kafka_client": "Confluent"})
    assert chosen.kafka_client == "confluent"
    assert Settings.from_text({"data_dir": str(tmp_path)}).kafka_client == "kafka-python"


def test_security_settings_take_librdkafkas_names(tmp_path: Path) -> None:
    password = canary("password")
    sasl = KafkaSecurity(
        protocol="SASL_SSL",
        ca_file=tmp_path / "ca.pem",
        check_hostname=False,
        sasl_mechanism="SCRAM-SHA-512",
        user="pdl",
        password=password,
    )
    config = client_config("b:9093", sasl, "pdl-test")
    assert {k: v for k, v in config.items() if k != "logger"} == {
        "bootstrap.servers": "b:9093",
        "client.id": "pdl-test",
        "security.protocol": "sasl_ssl",
        "ssl.ca.location": str(tmp_path / "ca.pem"),
        "ssl.endpoint.identification.algorithm": "none",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "pdl",
        "sasl.password": password,
    }
    tls = KafkaSecurity(
        protocol="SSL", cert_file=tmp_path / "client.pem", key_file=tmp_path / "client.key"
    )
    config = client_config("b:9093", tls, "pdl-test")
    assert config["ssl.ca.location"] == "probe"  # none given: the system's CAs
    assert config["ssl.endpoint.identification.algorithm"] == "https"
    assert config["ssl.certificate.location"] == str(tmp_path / "client.pem")
    assert config["ssl.key.location"] == str(tmp_path / "client.key")
    assert "sasl.username" not in config
