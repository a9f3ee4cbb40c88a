"""Basis query latency: p50 and p99 of ``ledger.service.queries.basis_answer`` at two log sizes.

The projections are caught up first (a groupless runner, so no consumer group on the
shared broker is disturbed), then only the query is timed: the store lookup of the
subject's basis facts and ``projections.lawfulness.basis_at`` (plus the judgements
``basis_answer`` returns with it), for random subjects and random valid-time instants,
as known now. The subjects of the bulk data all have newsletter basis facts.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from bench.common import (
    Context,
    Dataset,
    Result,
    opened,
    percentile,
    profiled,
    shares,
    timed,
    top,
    topics,
)
from bench.data import T0, subject_id, subjects_for
from ledger.service.queries import basis_answer

TARGET = 2.0
PURPOSE = "newsletter"

PARTS = {
    "basis_facts (store lookup)": ("ledger/service/queries.py", "basis_facts"),
    "  SQLiteProjectionStore.states (every row of the projection)": (
        "consumers/sqlite_store.py",
        "states",
    ),
    "  load the subject's facts (model_validate_json)": (
        "pydantic/main.py",
        "model_validate_json",
    ),
    "basis_at (lawfulness, pure)": ("projections/lawfulness.py", "basis_at"),
    "judge (every processing, twice)": ("projections/lawfulness.py", "judge"),
}


def _queries(dataset: Dataset, count: int, seed: int) -> list[tuple[str, Any]]:
    rng = random.Random(seed)
    subjects = subjects_for(dataset.events)
    span = timedelta(days=7 * -(-dataset.events // subjects) + 1).total_seconds()
    return [
        (
            subject_id(rng.randrange(subjects), dataset.salt),
            T0 + timedelta(seconds=rng.uniform(0, span)),
        )
        for _ in range(count)
    ]


def measure(
    ctx: Context, dataset: Dataset, count: int, budget_s: float
) -> tuple[list[float], dict[str, Any]]:
    """Latencies (s) of up to ``count`` queries, stopping after ``budget_s`` (30 at least)."""
    with topics(dataset.prefix), opened(ctx, dataset.data_dir) as ledger:
        _, caught = timed(ledger.catch_up)  # groupless: no group on the shared broker moves
        ledger.catalogs  # noqa: B018 — the policy topic is read once per process
        asked = _queries(dataset, count, seed=dataset.events)
        basis_answer(ledger, asked[0][0], PURPOSE, asked[0][1])  # warm the caches
        latencies: list[float] = []
        deadline = time.perf_counter() + budget_s
        for subject, at in asked:
            began = time.perf_counter()
            basis_answer(ledger, subject, PURPOSE, at)
            latencies.append(time.perf_counter() - began)
            if time.perf_counter() > deadline and len(latencies) >= 30:
                break
        few = asked[:20]
        _, stats = profiled(lambda: [basis_answer(ledger, s, PURPOSE, a) for s, a in few])
    info = {
        "events": dataset.events,
        "subjects": subjects_for(dataset.events),
        "queries": len(latencies),
        "catch_up_seconds": round(caught, 2),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "profile_shares": {k: round(v, 3) for k, v in shares(stats, PARTS).items() if v > 0},
        "profile_top5": top(stats, 5),
    }
    print(
        f"  basis query at {dataset.events:,} events: {len(latencies)} queries, "
        f"p50 {info['p50_ms']:.2f} ms, p99 {info['p99_ms']:.2f} ms "
        f"(catch-up {caught:.1f} s)",
        flush=True,
    )
    return latencies, info


def run(ctx: Context, small: Dataset, large: Dataset) -> list[Result]:
    count, budget = (200, 8.0) if ctx.quick else (500, 90.0)
    small_lat, small_info = measure(ctx, small, count, budget)
    large_lat, large_info = measure(ctx, large, count, budget)
    growth = large.events / small.events
    rows = []
    for name, share in (("p50", 0.5), ("p99", 0.99)):
        lo, hi = percentile(small_lat, share), percentile(large_lat, share)
        rows.append(
            Result(
                f"basis query {name}: {large.events:,} / {small.events:,} events",
                f"{hi * 1000:.2f} ms at {large.events:,}",
                f"{lo * 1000:.2f} ms at {small.events:,}",
                hi / lo,
                f"< {TARGET} over {growth:.0f}x data",
                hi / lo < TARGET,
                {"small": small_info, "large": large_info} if name == "p50" else {},
            )
        )
    return rows


def explain(results: list[Result]) -> list[str]:
    d = results[0].details
    lines = []
    for size in ("small", "large"):
        info = d.get(size)
        if not info:
            continue
        lines.append(
            f"basis query at {info['events']:,} events ({info['subjects']:,} subjects), "
            "where it spends its time (cProfile of 20 queries):"
        )
        lines += [f"    {share:6.1%}  {label}" for label, share in info["profile_shares"].items()]
        lines += ["  top 5 by own time:"] + [f"    {line}" for line in info["profile_top5"]]
    return lines
