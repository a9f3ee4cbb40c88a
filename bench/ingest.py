"""Ingest: events/s through the full append path vs the raw producer, same bytes.

Subject: ``Intake.prepare`` on producer dicts with natural identifiers (a DataCollected
with two personal values, then a ConsentGiven, per person) and ``Intake.append`` in
batches of BATCH (one Kafka transaction each), on fresh topics and a fresh key store.

Baseline on Kafka: kafka-python's ``KafkaProducer`` (acks=all, idempotent, linger_ms=5
like the ledger's producer, not transactional) sending the very records the subject
appended (same count, keys, sizes and topic layout) to fresh topics, flushed at the
end. On the embedded log: the log adapter's own ``append`` of those records in the same
batches. Producers and topics are set up before the clock starts, on both sides.
"""

from __future__ import annotations

import pstats
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from kafka import KafkaProducer

from bench.common import (
    Context,
    Result,
    fmt_rate,
    median,
    opened,
    profiled,
    rate,
    shares,
    timed,
    top,
    topics,
)
from bench.data import ingest_dicts
from ledger.log.base import (
    EventLog,
    LogConsumer,
    LogRecord,
    OutgoingRecord,
    StartOffsets,
    TopicSettings,
)
from ledger.log.base import TopicPartition as TP
from ledger.service.intake import Intake

BATCH = 1_000
TARGET = 0.7

#: Where the full path spends its time (cumulative; the indented ones are inside the one
#: above them).
PARTS = {
    "Intake.prepare": ("ledger/intake.py", "prepare"),
    "  pydantic validation (model_validate)": ("pydantic/main.py", "model_validate"),
    "  policy check": ("ledger/policy/check.py", "check"),
    "  key store: natural id -> subject (subject_for)": ("sqlite_store.py", "subject_for"),
    "  key store: erasure fence (is_erased_subject)": ("sqlite_store.py", "is_erased_subject"),
    "  sealing walk (_sealed)": ("ledger/intake.py", "_sealed"),
    "    key store: data key (data_key)": ("sqlite_store.py", "data_key"),
    "    AES-GCM seal": ("ledger/keys/sealing.py", "seal"),
    "Intake.append": ("ledger/intake.py", "append"),
    "  model_dump": ("pydantic/main.py", "model_dump"),
    "  Avro encode": ("ledger/contract/wire.py", "encode"),
    "  Kafka transaction (begin, send, commit)": ("ledger/log/kafka.py", "append"),
    "  embedded log append (SQLite)": ("ledger/log/embedded.py", "append"),
}


class Recording(EventLog):
    """Delegates to a log and keeps what was appended (the baseline resends it)."""

    def __init__(self, inner: EventLog) -> None:
        self.inner = inner
        self.batches: list[list[OutgoingRecord]] = []

    def ensure_topics(self, topics: Mapping[str, int], compacted: Iterable[str] = ()) -> None:
        self.inner.ensure_topics(topics, compacted)

    def topic_settings(self, topics: Iterable[str]) -> dict[str, TopicSettings]:
        return self.inner.topic_settings(topics)

    def append(self, records: Sequence[OutgoingRecord]) -> None:
        self.batches.append(list(records))
        self.inner.append(records)

    def end_offsets(self, topics: Iterable[str]) -> dict[TP, int]:
        return self.inner.end_offsets(topics)

    def start_offsets(self, topics: Iterable[str]) -> dict[TP, int]:
        return self.inner.start_offsets(topics)

    def committed(self, group: str, partitions: Iterable[TP]) -> dict[TP, int]:
        return self.inner.committed(group, partitions)

    def delete_records(self, before: Mapping[TP, int]) -> None:
        self.inner.delete_records(before)

    def first_record_times(self, starts: Mapping[TP, int], ends: Mapping[TP, int]) -> dict[TP, int]:
        return self.inner.first_record_times(starts, ends)

    def scan(self, topics: Iterable[str]) -> Iterator[LogRecord]:
        return self.inner.scan(topics)

    def consumer(
        self, group: str | None, topics: Sequence[str], start: StartOffsets
    ) -> LogConsumer:
        return self.inner.consumer(group, topics, start)

    def close(self) -> None:
        self.inner.close()


def _full_path(
    ctx: Context, dicts: list[dict[str, Any]], label: str
) -> tuple[float, list[list[OutgoingRecord]], str]:
    """Seconds to prepare and append ``dicts``; the event batches appended; the prefix."""
    prefix = ctx.new_prefix(label)
    with topics(prefix), opened(ctx, ctx.data_dir(label)) as ledger:
        ledger.catalogs  # noqa: B018 — scans the policy topic once, before the clock
        recording = Recording(ledger.log)
        intake = Intake(
            recording, ledger.keys, ledger.catalogs, ledger.registry, ledger.topics, ledger.clock
        )
        intake.append([])  # producer, transactions and schema topic ready before the clock
        _, seconds = timed(lambda: _append_all(intake, dicts))
    events = [b for b in recording.batches if b and not b[0].topic.endswith("schemas")]
    return seconds, events, prefix


def _append_all(intake: Intake, dicts: list[dict[str, Any]]) -> None:
    for i in range(0, len(dicts), BATCH):
        intake.append([intake.prepare(d) for d in dicts[i : i + BATCH]])


def _profile(ctx: Context, dicts: list[dict[str, Any]]) -> pstats.Stats:
    with topics(ctx.new_prefix("ingest-profile")), opened(ctx, ctx.data_dir("prof")) as ledger:
        ledger.catalogs  # noqa: B018
        intake = ledger.intake()
        intake.append([])
        return profiled(lambda: _append_all(intake, dicts))[1]


def _raw(ctx: Context, batches: list[list[OutgoingRecord]], source: str, label: str) -> float:
    """Seconds for the raw baseline to send the same records to fresh topics."""
    prefix = ctx.new_prefix(label)
    renamed = [
        [OutgoingRecord(prefix + r.topic.removeprefix(source), r.key, r.value) for r in b]
        for b in batches
    ]
    with topics(prefix), opened(ctx, ctx.data_dir(label)) as ledger:
        log = ledger.log  # creates the same topics, same partition counts
        names = ledger.topics.all()
        if ctx.kafka is None:
            return timed(lambda: [log.append(b) for b in renamed])[1]
    producer = KafkaProducer(
        bootstrap_servers=ctx.kafka, acks="all", enable_idempotence=True, linger_ms=5
    )
    try:
        for name in names:
            producer.partitions_for(name)  # metadata fetched before the clock

        def send() -> None:
            for batch in renamed:
                for r in batch:
                    producer.send(r.topic, key=r.key, value=r.value)
            producer.flush()

        return timed(send)[1]
    finally:
        producer.close(timeout=10)


def run(ctx: Context) -> list[Result]:
    count = ctx.sizes["ingest"]
    dicts = ingest_dicts(count, ctx.run_id)
    full: list[float] = []
    raw: list[float] = []
    ratios: list[float] = []
    batches: list[list[OutgoingRecord]] = []
    source = ""
    for r in range(ctx.rounds):  # interleaved: full then raw, raw then full, ...
        order = ("full", "raw") if r % 2 == 0 else ("raw", "full")
        got: dict[str, float] = {}
        for side in order:
            if side == "full":
                seconds, appended, prefix = _full_path(ctx, dicts, f"ingest-full-{r}")
                got["full"] = rate(count, seconds)
                if not batches:  # round 0 runs the full path first: its bytes are reused
                    batches, source = appended, prefix
            else:
                got["raw"] = rate(count, _raw(ctx, batches, source, f"ingest-raw-{r}"))
        full.append(got["full"])
        raw.append(got["raw"])
        ratios.append(got["full"] / got["raw"])
        print(
            f"  ingest round {r + 1}: full path {got['full']:,.0f} ev/s, "
            f"raw {got['raw']:,.0f} msg/s, ratio {ratios[-1]:.3f}",
            flush=True,
        )
    sizes = [len(rec.value) for b in batches for rec in b]
    stats = _profile(ctx, dicts[: min(count, 2_000)])
    where = {k: round(v, 3) for k, v in shares(stats, PARTS).items() if v > 0}
    baseline = "raw KafkaProducer" if ctx.kafka else "raw EmbeddedEventLog.append"
    ratio = median(ratios)
    return [
        Result(
            "ingest: append path / raw producer",
            f"full path {fmt_rate(median(full))}",
            f"{baseline} {fmt_rate(median(raw), 'msg/s')}",
            ratio,
            f">= {TARGET}",
            ratio >= TARGET,
            {
                "events": count,
                "batch": BATCH,
                "rounds": ctx.rounds,
                "full_per_s": full,
                "raw_per_s": raw,
                "ratios": ratios,
                "records_sent": len(sizes),
                "mean_value_bytes": round(sum(sizes) / max(1, len(sizes)), 1),
                "profile_events": min(count, 2_000),
                "profile_shares": where,
                "profile_top5": top(stats, 5),
            },
        )
    ]


def explain(result: Result) -> list[str]:
    """Lines for the console: where the full path spends its time."""
    d = result.details
    if "profile_shares" not in d:
        return []
    lines = ["ingest: where the full path spends its time (cProfile, cumulative share):"]
    lines += [f"    {share:6.1%}  {label}" for label, share in d["profile_shares"].items()]
    lines += ["  top 5 by own time:"] + [f"    {line}" for line in d["profile_top5"]]
    return lines
