"""Rebuild: events/s from offset 0 into the projections, vs two baselines, same events.

Subject: ``consumers.rebuild.rebuild`` into a fresh store path (what ``pdl rebuild``
does: a groupless consumer, decode, fold both projections, one SQLite transaction with
state, journal rows and checkpoints per poll of up to 500 records, swap).

Baselines, on the same log or the same events:
- consume-and-decode only: a groupless ``ledger.log.consumer(None, topics, lambda tp:
  0)`` polled to the end offsets, ``consumers.decode.decode`` on every record;
- a naive eventsourcing-library application (``bench.es_baseline``): the same events
  recorded once into one aggregate per subject on its SQLite persistence, then every
  aggregate reconstructed with ``app.repository.get(id)``.
The three run in rotating order, ``ctx.rounds`` times; ratios are paired per round.
"""

from __future__ import annotations

from typing import Any

from bench import es_baseline
from bench.common import (
    Context,
    Dataset,
    Result,
    calls,
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
from consumers.decode import decode
from consumers.rebuild import rebuild
from ledger.service.backends import Backends

DECODE_TARGET = 0.5
SQLITE_EXECUTE = "<method 'execute' of 'sqlite3.Connection' objects>"
ES_TARGET = 3.0

PARTS = {
    "poll (Kafka: kafka-python fetch, CRC, unpack)": ("ledger/log/kafka_reading.py", "poll"),
    "poll (Kafka: librdkafka, confluent)": ("ledger/log/confluent_reading.py", "poll"),
    "poll (embedded: SQLite read)": ("ledger/log/embedded.py", "poll"),
    "caught_up (end offsets per step)": ("consumers/runner.py", "caught_up"),
    "decode (Avro + pydantic model_validate)": ("consumers/runner.py", "_decode"),
    "  Avro decode (fastavro)": ("ledger/contract/wire.py", "decode"),
    "  pydantic model_validate": ("pydantic/main.py", "model_validate"),
    "apply (fold + store) in the unit of work": ("consumers/runner.py", "_apply"),
    "  fold (load state, apply projections)": ("consumers/runner.py", "_fold"),
    "    load state JSON (model_validate_json)": ("pydantic/main.py", "model_validate_json"),
    "    BasisFactsProjection.apply": ("projections/basis.py", "apply"),
    "    SubjectStateProjection.apply": ("projections/subject_state.py", "apply"),
    "  dump state JSON (projection_state_text)": (
        "ledger/contract/canonical.py",
        "projection_state_text",
    ),
    "  journal rows": ("consumers/runner.py", "_journal"),
    "SQLite execute (all statements)": ("~", SQLITE_EXECUTE),
}


def decode_only(ledger: Backends) -> int:
    """Poll every event topic from offset 0 to its end offset and decode each record."""
    names = ledger.topics.event_topics()
    ends = ledger.log.end_offsets(names)
    consumer = ledger.log.consumer(None, names, lambda tp: 0)
    decoded = 0
    try:
        while any(consumer.positions().get(tp, 0) < end for tp, end in ends.items()):
            for record in consumer.poll(0.5, 500):
                if not isinstance(decode(record, ledger.registry), str):
                    decoded += 1
    finally:
        consumer.close()
    return decoded


def run(ctx: Context, dataset: Dataset, profile_on: Dataset) -> list[Result]:
    es_db = ctx.work / f"es-{dataset.label}.sqlite"
    ids, recorded_s = timed(lambda: es_baseline.record(es_db, dataset.events, dataset.salt))
    print(
        f"  eventsourcing app: {dataset.events:,} events recorded in {recorded_s:.1f} s "
        f"({len(ids):,} aggregates)",
        flush=True,
    )
    sides = ("ours", "decode", "es")
    rates: dict[str, list[float]] = {s: [] for s in sides}
    counts: dict[str, int] = {}
    with topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        for r in range(ctx.rounds):
            for side in sides[r % 3 :] + sides[: r % 3]:
                if side == "ours":
                    store = ctx.work / f"rebuild-{dataset.label}-{r}.sqlite"
                    progress, s = timed(
                        lambda: rebuild(ledger.log, ledger.registry, ledger.topics, store)  # noqa: B023
                    )
                    count = progress.applied
                elif side == "decode":
                    count, s = timed(lambda: decode_only(ledger))
                else:
                    (count, s) = es_baseline.replay(es_db, ids)
                counts[side] = count
                rates[side].append(rate(count, s))
            print(
                "  rebuild round {}: ours {:,.0f} ev/s, decode-only {:,.0f} ev/s, "
                "eventsourcing replay {:,.0f} ev/s".format(r + 1, *(rates[s][-1] for s in sides)),
                flush=True,
            )
    to_decode = [o / d for o, d in zip(rates["ours"], rates["decode"], strict=True)]
    to_es = [o / e for o, e in zip(rates["ours"], rates["es"], strict=True)]
    details: dict[str, Any] = {
        "events": dataset.events,
        "counts": counts,
        "rounds": ctx.rounds,
        "per_s": rates,
        "ratios_vs_decode": to_decode,
        "ratios_vs_es": to_es,
        "es_record_seconds": round(recorded_s, 2),
        "es_aggregates": len(ids),
    }
    details.update(_profile(ctx, profile_on))
    ours = f"rebuild {fmt_rate(median(rates['ours']))}"
    return [
        Result(
            "rebuild: ours / consume+decode",
            ours,
            f"decode only {fmt_rate(median(rates['decode']))}",
            median(to_decode),
            f">= {DECODE_TARGET}",
            median(to_decode) >= DECODE_TARGET,
            details,
        ),
        Result(
            "rebuild: ours / eventsourcing app",
            ours,
            f"es replay {fmt_rate(median(rates['es']))}",
            median(to_es),
            f">= {ES_TARGET}",
            median(to_es) >= ES_TARGET,
            {"see": "previous row"},
        ),
    ]


def _profile(ctx: Context, dataset: Dataset) -> dict[str, Any]:
    """Where a rebuild spends its time (a smaller dataset: cProfile doubles the cost)."""
    store = ctx.work / f"rebuild-profile-{dataset.label}.sqlite"
    with topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        _, stats = profiled(lambda: rebuild(ledger.log, ledger.registry, ledger.topics, store))
        _, dstats = profiled(lambda: decode_only(ledger))
    execute = calls(stats, "~", SQLITE_EXECUTE)
    return {
        "profile_events": dataset.events,
        "sqlite_statements_per_event": round(execute / max(1, dataset.events), 2),
        "profile_shares": {k: round(v, 3) for k, v in shares(stats, PARTS).items() if v > 0},
        "profile_top5": top(stats, 5),
        "decode_profile_top5": top(dstats, 5),
    }


def explain(results: list[Result]) -> list[str]:
    d = results[0].details
    if "profile_shares" not in d:
        return []
    lines = [f"rebuild: where it spends its time (cProfile of {d['profile_events']:,} events):"]
    lines += [f"    {share:6.1%}  {label}" for label, share in d["profile_shares"].items()]
    lines += [f"  SQLite statements per event: {d['sqlite_statements_per_event']}"]
    lines += ["  top 5 by own time:"] + [f"    {line}" for line in d["profile_top5"]]
    lines += ["  decode-only, top 5 by own time:"]
    lines += [f"    {line}" for line in d["decode_profile_top5"]]
    return lines
