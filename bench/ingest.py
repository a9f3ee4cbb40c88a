"""Ingest: events/s through the full append path vs the raw producer, same bytes; and
the ceiling of that ratio (``bench/ingest_floor.py``).

Subject: what ``pdl emit FILE`` does, ``ledger.service.submission.submit_lines`` on the
file's JSON lines (producer events with natural identifiers: a DataCollected with two
personal values, then a ConsentGiven, per person), the whole round as ONE submitted
batch (all or nothing: parse, validate, pseudonymise, seal, append), on fresh topics and
a fresh key store. How the append path splits that batch into Kafka transactions or
chunks is its own business: the clock covers the call.

Baseline on Kafka: kafka-python's ``KafkaProducer`` (acks=all, idempotent, linger_ms=5
like the ledger's producer, not transactional) sending the very records the subject
appended (read back from its topics: same count, keys, bytes and topic layout) to fresh
topics, flushed at the end. On the embedded log: the log adapter's own ``append`` of
those records as one batch. Producers and topics are set up before the clock starts, on
both sides.
"""

from __future__ import annotations

import json
import os
import pstats
from pathlib import Path

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
from bench.ingest_floor import floor_seconds
from ledger.log.base import OutgoingRecord
from ledger.service.submission import submit_lines

TARGET = 0.5

#: Where the full path spends its time (cumulative; the indented ones are inside the one
#: above them).
PARTS = {
    "submit_lines (pdl emit)": ("ledger/service/submission.py", "submit_lines"),
    "  JSON parse and checks (_parse)": ("ledger/service/submission.py", "_parse"),
    "Intake.screen (first pass: validate, check)": ("ledger/service/intake.py", "screen"),
    "  pydantic validation (model_validate)": ("pydantic/main.py", "model_validate"),
    "  policy check": ("ledger/policy/check.py", "check"),
    "  key store: natural id -> subject (subject_for)": (
        "ledger/keys/sqlite_subjects.py",
        "subject_for",
    ),
    "  key store: erasure fence (is_erased_subject)": (
        "ledger/keys/sqlite_subjects.py",
        "is_erased_subject",
    ),
    "spooling validated events (encrypted)": ("ledger/service/spools.py", "keep"),
    "reading them back (model_validate_json)": ("ledger/service/spools.py", "events"),
    "Intake.reconfirm (second pass: subject again)": ("ledger/service/intake.py", "reconfirm"),
    "Intake.seal": ("ledger/service/intake.py", "seal"),
    "  sealing walk (_sealed)": ("ledger/service/intake.py", "_sealed"),
    "    key store: data key (data_key)": ("ledger/keys/sqlite_store.py", "data_key"),
    "    AES-GCM seal": ("ledger/keys/sealing.py", "seal"),
    "Intake.append": ("ledger/service/intake.py", "append"),
    "  model_dump": ("pydantic/main.py", "model_dump"),
    "  Avro encode": ("ledger/contract/wire.py", "encode"),
    "  Kafka transaction (begin, send, commit)": ("ledger/log/kafka_append.py", "append"),
    "  Kafka transaction (confluent)": ("ledger/log/confluent_append.py", "append"),
    "  embedded log append (SQLite)": ("ledger/log/embedded.py", "append"),
}


def _full_path(ctx: Context, lines: list[bytes], label: str) -> tuple[float, str, Path]:
    """Seconds for ``submit_lines`` of every line (what ``pdl emit FILE`` does); the prefix
    of the topics it appended to, and its data directory (the embedded log is there)."""
    prefix, data_dir = ctx.new_prefix(label), ctx.data_dir(label)
    with topics(prefix), opened(ctx, data_dir) as ledger:
        ledger.catalogs  # noqa: B018 — scans the policy topic once, before the clock
        intake = ledger.intake()
        intake.append([])  # producer, transactions and schema topic ready before the clock
        _, seconds = timed(lambda: submit_lines(intake, lines))
    return seconds, prefix, data_dir


def _appended(ctx: Context, prefix: str, data_dir: Path) -> list[OutgoingRecord]:
    """The event records the full path appended, read back from its topics: the bytes
    the baseline sends (read back, not recorded on the way, so the append path's
    internals can change freely)."""
    with topics(prefix), opened(ctx, data_dir) as ledger:
        names = ledger.topics.event_topics()
        return [OutgoingRecord(r.topic, r.key, r.value) for r in ledger.log.scan(names)]


def _profile(ctx: Context, lines: list[bytes]) -> pstats.Stats:
    with topics(ctx.new_prefix("ingest-profile")), opened(ctx, ctx.data_dir("prof")) as ledger:
        ledger.catalogs  # noqa: B018
        intake = ledger.intake()
        intake.append([])
        return profiled(lambda: submit_lines(intake, lines))[1]


def _raw(ctx: Context, records: list[OutgoingRecord], source: str, label: str) -> float:
    """Seconds for the raw baseline to send the same records to fresh topics."""
    prefix = ctx.new_prefix(label)
    renamed = [
        OutgoingRecord(prefix + r.topic.removeprefix(source), r.key, r.value) for r in records
    ]
    with topics(prefix), opened(ctx, ctx.data_dir(label)) as ledger:
        log = ledger.log  # creates the same topics, same partition counts
        names = ledger.topics.all()
        if ctx.kafka is None:  # the adapter's own append, one batch as the subject's
            return timed(lambda: log.append(renamed))[1]
    if os.environ.get("PDL_KAFKA_CLIENT") == "confluent":  # the same library's raw producer
        return _raw_confluent(ctx.kafka, renamed)
    producer = KafkaProducer(
        bootstrap_servers=ctx.kafka, acks="all", enable_idempotence=True, linger_ms=5
    )
    try:
        for name in names:
            producer.partitions_for(name)  # metadata fetched before the clock

        def send() -> None:
            for r in renamed:
                producer.send(r.topic, key=r.key, value=r.value)
            producer.flush()

        return timed(send)[1]
    finally:
        producer.close(timeout=10)


def _raw_confluent(bootstrap: str, records: list[OutgoingRecord]) -> float:
    """Seconds for confluent-kafka's raw producer (acks=all, idempotent, linger 5 ms,
    murmur2 like the adapter) to send ``records``, flushed at the end."""
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "partitioner": "murmur2_random",
        }
    )
    producer.list_topics(timeout=10)  # metadata fetched before the clock

    def send() -> None:
        for r in records:
            while True:
                try:
                    producer.produce(r.topic, value=r.value, key=r.key)
                    break
                except BufferError:  # local queue full: let deliveries drain it
                    producer.poll(0.05)
            producer.poll(0)
        producer.flush(60)

    return timed(send)[1]


def run(ctx: Context) -> list[Result]:
    count = ctx.sizes["ingest"]
    lines = [json.dumps(d, ensure_ascii=False).encode() for d in ingest_dicts(count, ctx.run_id)]
    full: list[float] = []
    raw: list[float] = []
    ratios: list[float] = []
    floor: list[float] = []
    ceilings: list[float] = []
    records: list[OutgoingRecord] = []
    source = ""
    for r in range(ctx.rounds):  # interleaved: full then raw, raw then full, ...
        order = ("full", "raw") if r % 2 == 0 else ("raw", "full")
        got: dict[str, float] = {}
        for side in order:
            if side == "full":
                seconds, prefix, data_dir = _full_path(ctx, lines, f"ingest-full-{r}")
                got["full"] = rate(count, seconds)
                if not records:  # round 0 runs the full path first: its bytes are reused
                    records, source = _appended(ctx, prefix, data_dir), prefix
            else:
                got["raw"] = rate(count, _raw(ctx, records, source, f"ingest-raw-{r}"))
        full.append(got["full"])
        raw.append(got["raw"])
        ratios.append(got["full"] / got["raw"])
        floor.append(rate(count, floor_seconds(lines)))
        # seconds per event: the raw send, against the floor's work plus that send
        ceilings.append((1 / got["raw"]) / (1 / floor[-1] + 1 / got["raw"]))
        print(
            f"  ingest round {r + 1}: full path {got['full']:,.0f} ev/s, "
            f"raw {got['raw']:,.0f} msg/s, ratio {ratios[-1]:.3f}; "
            f"floor {floor[-1]:,.0f} ev/s, ceiling {ceilings[-1]:.3f}",
            flush=True,
        )
    if len(records) != count:
        raise RuntimeError(f"the full path appended {len(records)} records, not {count}")
    sizes = [len(rec.value) for rec in records]
    stats = _profile(ctx, lines[: min(count, 2_000)])
    where = {k: round(v, 3) for k, v in shares(stats, PARTS).items() if v > 0}
    client = os.environ.get("PDL_KAFKA_CLIENT") or "kafka-python"
    baseline = f"raw {client} producer" if ctx.kafka else "raw EmbeddedEventLog.append"
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
                "submitted_batches": 1,
                "line_bytes_mean": round(sum(map(len, lines)) / max(1, count), 1),
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
        ),
        Result(
            "ingest ceiling: raw / (floor + raw)",
            f"floor {fmt_rate(median(floor))} (parse, validate, seal, encode once)",
            f"{baseline} {fmt_rate(median(raw), 'msg/s')}",
            median(ceilings),
            "reported",
            None,
            {"floor_per_s": floor, "ceilings": ceilings},
        ),
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
