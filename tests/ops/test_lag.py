"""Consumer lag: our figures against the log itself, against Kafka's own
kafka-consumer-groups tool, and as a running `pdl run` exports them."""

from __future__ import annotations

import json
import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consumers.lag import LagProbe, PartitionLag
from consumers.runner import ProjectionConsumer
from ledger.log.base import TopicPartition
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from projections.installed import all_projections
from tests.command import pdl
from tests.conftest import LedgerFactory, per_test_topics
from tests.ops.support import (
    SUBJECT_ID,
    Samples,
    by_partition,
    emit,
    free_port,
    kafka_describe,
    pdl_process,
    scrape,
)

TEN_MINUTES_AGO = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def partly_consumed(ledger: Backends, group: str, at_least: int = 4) -> ProjectionConsumer:
    """A runner that applied a few records of the backlog (small batches), then stopped."""
    runner = ProjectionConsumer(
        ledger.log, ledger.store, ledger.registry, all_projections(), ledger.topics, group=group
    )
    consumer = runner.open_consumer()
    deadline = time.monotonic() + 60
    try:
        while runner.progress.applied < at_least:  # the first polls may wait for the group
            assert time.monotonic() < deadline, "the consumer never got records"
            runner.step(consumer, timeout_s=1.0, max_records=2)
    finally:
        consumer.close()
    return runner


def figures(lags: list[PartitionLag]) -> dict[TopicPartition, tuple[int, int, int]]:
    return {
        TopicPartition(x.topic, x.partition): (x.committed, x.end, x.lag_messages) for x in lags
    }


def test_lag_is_end_minus_checkpoint_and_age_of_oldest_unapplied_record(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    embedded = ledger.settings.kafka_bootstrap is None
    ledger.log_clock = TEN_MINUTES_AGO.timestamp  # record time on the embedded log only
    appended = emit(ledger, 12)
    group = f"ops-{uuid.uuid4().hex[:8]}"
    partly_consumed(ledger, group)
    now = time.time()
    probe = LagProbe(ledger.log, ledger.store, clock=lambda: now)
    try:
        lags = probe.measure(group, per_test_topics().event_topics())
    finally:
        probe.close()

    ends = ledger.log.end_offsets(per_test_topics().event_topics())
    checkpoints = ledger.store.checkpoints(group)
    records = list(ledger.log.scan(per_test_topics().event_topics()))
    assert [(x.topic, x.partition) for x in lags] == [(t.topic, t.partition) for t in sorted(ends)]
    for x in lags:
        tp = TopicPartition(x.topic, x.partition)
        assert (x.committed, x.end) == (checkpoints.get(tp, 0), ends[tp])
        assert x.lag_messages == x.end - x.committed >= 0
        unapplied = [
            r
            for r in records
            if (r.topic, r.partition) == (x.topic, x.partition) and r.offset >= x.committed
        ]
        expected = now - unapplied[0].timestamp_ms / 1000 if unapplied else 0.0
        assert x.lag_seconds == pytest.approx(expected)
    assert sum(x.lag_messages for x in lags) >= appended - 4 - 2  # a few applied, few left
    if embedded:  # on Kafka record time is the broker's: the records are seconds old
        assert any(x.lag_seconds == pytest.approx(now - TEN_MINUTES_AGO.timestamp()) for x in lags)
    assert any(x.committed > 0 for x in lags)


@pytest.mark.kafka
def test_lag_equals_kafka_consumer_groups_tool(kafka_address: str, tmp_path: Path) -> None:
    url = f"kafka://{kafka_address}"
    ledger = Backends(Settings.from_environment(url, tmp_path / "data"))
    group = f"ops-{uuid.uuid4().hex[:8]}"
    topics = per_test_topics().event_topics()
    try:
        emit(ledger, 12)
        partly_consumed(ledger, group)
        for phase in ("partly consumed", "caught up"):
            # no appends between our figures and Kafka's
            lagging = pdl("--log", url, "lag", "--group", group, "--json")
            assert lagging.returncode == 0, lagging.stderr
            ours = {
                TopicPartition(x["topic"], x["partition"]): (
                    x["committed"],
                    x["end"],
                    x["lag_messages"],
                )
                for x in json.loads(lagging.stdout)
            }
            kafkas = {
                tp: row
                for tp, row in kafka_describe(kafka_address, group).items()
                if tp.topic in topics
            }
            assert kafkas == ours, f"{phase}: ours {sorted(ours.items())}"
            if phase == "partly consumed":
                assert sum(lag for _, _, lag in ours.values()) > 0
                ProjectionConsumer(
                    ledger.log,
                    ledger.store,
                    ledger.registry,
                    all_projections(),
                    ledger.topics,
                    group=group,
                ).catch_up()
            else:
                assert all(lag == 0 for _, _, lag in ours.values())
    finally:
        ledger.close()


def test_a_stopped_consumer_lags_and_a_running_one_catches_up_on_its_metrics(
    log_url: str | None, tmp_path: Path
) -> None:
    ledger = Backends(Settings.from_environment(log_url, tmp_path / "data"))
    try:
        appended = emit(ledger, 5)
    finally:
        ledger.close()
    topics = per_test_topics().event_topics()

    # nothing consumes yet: the backlog shows as lag
    lagging = pdl("lag", "--json", log_url=log_url)
    assert lagging.returncode == 0, lagging.stderr
    before = json.loads(lagging.stdout)
    assert sum(x["lag_messages"] for x in before) >= appended
    assert all((x["lag_seconds"] > 0) == (x["lag_messages"] > 0) for x in before)

    port = free_port()
    process = pdl_process("run", "--metrics-port", str(port), log_url=log_url)
    try:
        text, samples = "", Samples()
        lag: dict[TopicPartition, float] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            try:
                text, samples = scrape(port)
            except OSError:  # not listening yet
                time.sleep(0.2)
                continue
            lag = by_partition(samples, "pdl_consumer_lag_messages", topics)
            consumed = sum(
                v for (name, _), v in samples.items() if name == "pdl_events_consumed_total"
            )
            if len(lag) == 3 * len(topics) and not any(lag.values()) and consumed >= appended:
                break
            time.sleep(0.2)
        assert lag and not any(lag.values()), f"not caught up:\n{text}"
        assert not any(by_partition(samples, "pdl_consumer_lag_seconds", topics).values())
        committed = by_partition(samples, "pdl_consumer_committed_offset", topics)
        assert committed == by_partition(samples, "pdl_log_end_offset", topics)
        assert sum(committed.values()) >= appended
        types = {
            dict(labels)["type"]: v
            for (name, labels), v in samples.items()
            if name == "pdl_events_consumed_total"
        }
        assert types["DataCollected"] == types["ConsentGiven"] == appended // 2
        assert samples[("pdl_keystore_keys", ())] >= 5
        assert samples[("pdl_build_info", (("version", "0.1.0"),))] == 1
        assert not SUBJECT_ID.search(text) and "@" not in text  # nothing personal
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"metrics on http://127.0.0.1:{port}/metrics" in err
