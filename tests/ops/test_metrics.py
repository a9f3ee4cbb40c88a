"""The metrics `pdl run` exports: what the observer counts, the scrape-time collectors,
the endpoint's life cycle and the command-line switches. Embedded log only: the Kafka
side of lag is in test_lag.py."""

from __future__ import annotations

import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from consumers.admission import Admission
from consumers.decode import decode
from consumers.lag import LagProbe
from consumers.metrics import (
    REASON_CLASSES,
    KeyStoreCollector,
    LagCollector,
    MetricsObserver,
    exported_names,
    reason_class,
)
from consumers.runner import ProjectionConsumer
from ledger.log.base import LogRecord, OutgoingRecord, TopicPartition
from ledger.service.backends import Backends
from ledger.service.monitoring import Monitoring
from ledger.service.settings import Settings
from projections.installed import all_projections
from tests.command import pdl
from tests.ops.support import SUBJECT_ID, by_partition, emit, free_port, parse, scrape
from tests.scenario import collected, consent
from tests.trust.test_side_door import outside_producer_value, plaintext_phone

REQUIRED = {
    "pdl_consumer_committed_offset",
    "pdl_log_end_offset",
    "pdl_consumer_lag_messages",
    "pdl_consumer_lag_seconds",
    "pdl_events_consumed_total",
    "pdl_dead_letters_total",
    "pdl_projection_apply_seconds_bucket",
    "pdl_checkpoint_commit_seconds_bucket",
    "pdl_keystore_keys",
    "pdl_build_info",
    "pdl_erasures_total",
    "pdl_retention_actions_total",
    "pdl_requests_overdue",
}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Backends]:
    opened = Backends(Settings.from_environment(None, tmp_path / "data"))
    yield opened
    opened.close()


def test_every_metric_of_issue_7_is_exported_with_prometheus_naming() -> None:
    names = exported_names()
    assert names >= REQUIRED
    assert all(n.startswith("pdl_") for n in names)


def test_dead_letter_reasons_fall_into_a_few_fixed_classes(ledger: Backends) -> None:
    # prepared, not appended: a consent, which has no personal value to seal
    event = ledger.intake().prepare(consent("r@example.fr"))
    valid = ledger.registry.encode(event.type_name(), event.model_dump(mode="python"))

    def reason(value: bytes, key: bytes = event.log_key.encode()) -> str:
        outcome = decode(LogRecord("t", 0, 0, key, value, 0), ledger.registry)
        assert isinstance(outcome, str)
        return outcome

    assert reason_class(reason(b"garbage")) == "not_avro"
    assert reason_class(reason(valid[:2] + bytes(8) + valid[10:])) == "unknown_schema"
    assert reason_class(reason(valid + b"\x00")) == "corrupt_body"
    assert reason_class(reason(valid, key=b"sub_other")) == "key_mismatch"
    assert reason_class("invalid event: purpose: unknown purpose") == "invalid_event"
    assert reason_class("something new") == "other"
    assert {reason_class(r) for r in ("x", "not Avro")} <= set(REASON_CLASSES)


def test_records_that_bypassed_the_ledger_have_reason_classes_of_their_own(
    ledger: Backends,
) -> None:
    """Plaintext on a topic, a value sealed for someone else and what the policy refuses
    are told apart from ``other``: each calls for a different answer."""
    intake = ledger.intake()
    mine, theirs = (intake.prepare(collected(e, e)) for e in ("m@example.fr", "t@example.fr"))
    refused = intake.prepare(consent("m@example.fr")).model_copy(update={"purpose": "accounting"})
    subject = mine.log_key  # a subject event's key is its subject id
    sealed = [s.record for s in intake.seal([mine, theirs, refused])]
    type_name, fields = ledger.registry.decode(sealed[1].value)
    misfiled = ledger.registry.encode(type_name, {**fields, "subject_id": subject})
    plaintext = outside_producer_value("DataCollected", plaintext_phone(subject))
    now_ms = int(time.time() * 1000)  # a record time after every valid time above
    records = [
        LogRecord("t", 0, offset, subject.encode(), value, now_ms)
        for offset, value in enumerate([plaintext, misfiled, sealed[2].value])
    ]
    judged = Admission(ledger.log, ledger.registry, ledger.topics).judge(records, ledger.keys)
    reasons = [outcome for _, outcome in judged]
    assert all(isinstance(r, str) for r in reasons), reasons
    assert [reason_class(str(r)) for r in reasons] == ["unsealed", "foreign_key", "policy"]


def test_observer_counts_events_by_type_and_dead_letters_by_reason(ledger: Backends) -> None:
    group = f"ops-{uuid.uuid4().hex[:8]}"
    emit(ledger, 3)
    ledger.log.append([OutgoingRecord(ledger.topics.of("consent"), b"k", b"garbage")])
    observer = MetricsObserver(group)
    assert observer.owned() is None
    ProjectionConsumer(
        ledger.log,
        ledger.store,
        ledger.registry,
        all_projections(),
        ledger.topics,
        group,
        observer=observer,
    ).catch_up()

    def value(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"group": group, **labels})

    assert value("pdl_events_consumed_total", type="DataCollected") == 3
    assert value("pdl_events_consumed_total", type="ConsentGiven") == 3
    assert value("pdl_events_consumed_total", type="DataErased") == 0  # exists from the start
    assert value("pdl_dead_letters_total", reason="not_avro") == 1
    assert value("pdl_dead_letters_total", reason="other") == 0
    assert (value("pdl_projection_apply_seconds_count") or 0) >= 1
    assert (value("pdl_checkpoint_commit_seconds_count") or 0) >= 1
    assert observer.owned() == frozenset(ledger.log.end_offsets(ledger.topics.event_topics()))


def test_lag_collector_reports_the_backlog_then_zero(ledger: Backends) -> None:
    group = f"ops-{uuid.uuid4().hex[:8]}"
    emit(ledger, 4)
    registry = CollectorRegistry()
    probe = LagProbe(ledger.log, ledger.store)
    collector = LagCollector(probe, group, ledger.topics.event_topics())
    registry.register(collector)
    try:
        behind = parse(generate_latest(registry).decode())
        lag = by_partition(behind, "pdl_consumer_lag_messages", ledger.topics.event_topics())
        ends = ledger.log.end_offsets(ledger.topics.event_topics())
        assert lag == {tp: float(end) for tp, end in ends.items()}
        seconds = by_partition(behind, "pdl_consumer_lag_seconds", ledger.topics.event_topics())
        assert all((seconds[tp] > 0) == (end > 0) for tp, end in ends.items())

        ProjectionConsumer(
            ledger.log, ledger.store, ledger.registry, all_projections(), ledger.topics, group
        ).catch_up()
        after = parse(generate_latest(registry).decode())
        assert not any(
            by_partition(after, "pdl_consumer_lag_messages", ledger.topics.event_topics()).values()
        )
        assert not any(
            by_partition(after, "pdl_consumer_lag_seconds", ledger.topics.event_topics()).values()
        )
    finally:
        collector.close()


def test_lag_collector_reports_only_the_partitions_this_consumer_owns(ledger: Backends) -> None:
    group = f"ops-{uuid.uuid4().hex[:8]}"
    emit(ledger, 2)
    observer = MetricsObserver(group)
    registry = CollectorRegistry()
    registry.register(
        LagCollector(
            LagProbe(ledger.log, ledger.store), group, ledger.topics.event_topics(), owned=observer
        )
    )
    lag = "pdl_consumer_lag_messages"
    assert (
        by_partition(parse(generate_latest(registry).decode()), lag, ledger.topics.event_topics())
        == {}
    )
    mine = TopicPartition(ledger.topics.of("consent"), 1)
    observer.positions(group, {mine: 0})
    reported = by_partition(
        parse(generate_latest(registry).decode()), lag, ledger.topics.event_topics()
    )
    assert list(reported) == [mine]


def test_key_store_size_is_read_from_the_file_and_absent_without_it(
    ledger: Backends, tmp_path: Path
) -> None:
    emit(ledger, 3)
    path = tmp_path / "data" / "keys.sqlite"
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM data_keys").fetchone()
    assert count >= 3
    for where, expected in ((path, float(count)), (tmp_path / "none.sqlite", None)):
        registry = CollectorRegistry()
        registry.register(KeyStoreCollector(where))
        assert registry.get_sample_value("pdl_keystore_keys") == expected


def test_endpoint_serves_on_loopback_and_unregisters_on_close(ledger: Backends) -> None:
    emit(ledger, 1)
    for _ in range(2):  # a second endpoint in the same process: no duplicate series
        port = free_port()
        monitoring = Monitoring(ledger.settings, REGISTRY)
        try:
            monitoring.serve("127.0.0.1", port)
            text, samples = scrape(port)
        finally:
            monitoring.close()
        assert samples[("pdl_keystore_keys", ())] == 1
        assert ("pdl_build_info", (("version", "0.1.0"),)) in samples
        assert "_created" not in text
        assert not SUBJECT_ID.search(text) and "@" not in text


def test_run_and_lag_commands() -> None:
    ran = pdl("run", "--until-caught-up", "--metrics-port", "0")
    assert ran.returncode == 0, ran.stderr
    assert "metrics on" not in ran.stderr
    lag = pdl("lag")
    assert lag.returncode == 0, lag.stderr
    table = lag.stdout
    assert "TOPIC" in table and "LAG-MESSAGES" in table and "LAG-SECONDS" in table
    assert table.splitlines()[-1].split()[:2] == ["total", "0"]
    for command in ("lag", "run"):
        helped = pdl(command, "--help")
        assert helped.returncode == 0 and "examples:" in helped.stdout


def test_a_chosen_metrics_port_that_is_taken_or_malformed_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = pdl("run", "--until-caught-up", "--metrics-port", str(port))
        assert ran.returncode == 2
        assert f"cannot serve metrics on 127.0.0.1:{port}" in ran.stderr
    monkeypatch.setenv("PDL_METRICS_PORT", "ninety")
    ran = pdl("run", "--until-caught-up")
    assert ran.returncode == 2
    assert "PDL_METRICS_PORT must be a port number" in ran.stderr
