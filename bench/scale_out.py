"""Scale-out: catch-up events/s of ``pdl run`` processes into SQLite and PostgreSQL.

One log of bulk events on Kafka, its event topics with SCALE_PARTITIONS partitions each
(``PDL_PARTITIONS``), caught up on from offset 0 by ``pdl run --until-caught-up
--no-erasure --metrics-port 0`` in child processes, each with a data directory of its own:

- ``sqlite-1``: one process into a fresh SQLite store (the baseline);
- ``postgres-1``: one process into a fresh PostgreSQL schema;
- ``postgres-2``: two processes started together, one consumer group, one schema. Each
  stops once the store (shared) has applied everything, so the time is until both exit.

The clock runs from the first spawn until the last exit: process start-up and the group's
join and rebalance are inside it, on every side. The schema is dropped before each
PostgreSQL side. The three sides run in rotating order, ``ctx.rounds`` times; ratios are
paired per round. Needs a Kafka broker and a PostgreSQL URL (``--store``, else
``PDL_TEST_POSTGRES``); without either it is reported as not measured.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import ROOT, Context, Dataset, Result, fmt_rate, median, not_measured, rate
from bench.data import make_dataset, subjects_for
from consumers.postgres_store import schema_for
from ledger.service.settings import Settings

SCALE_PARTITIONS = 6
SIDES = ("sqlite-1", "postgres-1", "postgres-2")
#: a child that takes longer than this is stuck, not slow
CHILD_TIMEOUT_S = 600


@contextmanager
def partitions(count: int) -> Iterator[None]:
    """Topics created meanwhile get ``count`` partitions (the settings read the variable)."""
    before = os.environ.get("PDL_PARTITIONS")
    os.environ["PDL_PARTITIONS"] = str(count)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PDL_PARTITIONS", None)
        else:
            os.environ["PDL_PARTITIONS"] = before


def child_env(log_url: str, prefix: str, data_dir: Path, store: str | None) -> dict[str, str]:
    """The environment of a ``pdl`` child: a log, its topics, a data directory, a store."""
    env = dict(
        os.environ,
        PDL_LOG=log_url,
        PDL_TOPIC_PREFIX=prefix,
        PDL_DATA_DIR=str(data_dir),
        PDL_PARTITIONS=str(SCALE_PARTITIONS),
        PDL_METRICS_PORT="0",
    )
    env.pop("PDL_STORE", None)
    if store is not None:
        env["PDL_STORE"] = store
    return env


def drop_schema(ctx: Context, dataset: Dataset, url: str) -> None:
    """Drop the dataset's projection schema, so the next side starts from an empty store."""
    import psycopg
    from psycopg import sql

    settings = Settings.from_environment(ctx.log_url, dataset.data_dir, store=url)
    schema = schema_for(dataset.prefix, settings.log_slug, "projections")
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


#: what ``pdl run`` says when it stops: the counts it reports, summed over the children
SUMMARY = re.compile(
    r"applied (?P<applied>\d+), dead letters (?P<dead_letters>\d+), "
    r"redelivered and skipped (?P<skipped>\d+)"
)


def catch_up(
    ctx: Context, dataset: Dataset, side: str, round_: int
) -> tuple[float, dict[str, int]]:
    """Seconds from the first spawn to the last exit, and the counts the children report
    (applied, dead letters, skipped), summed."""
    store = None if side == "sqlite-1" else ctx.store_url
    if store is not None:
        drop_schema(ctx, dataset, store)
    members = int(side.rsplit("-", 1)[1])
    logs = [ctx.work / f"scale-{side}-{round_}-{m}.stderr" for m in range(members)]
    envs = [
        child_env(ctx.log_url, dataset.prefix, ctx.data_dir(f"scale-{side}-{round_}-{m}"), store)
        for m in range(members)
    ]
    command = [sys.executable, "-m", "ledger.cli.main", "run", "--until-caught-up"]
    command += ["--no-erasure", "--metrics-port", "0"]
    began = time.perf_counter()
    children = []
    for env, path in zip(envs, logs, strict=True):
        with open(path, "wb") as err:
            children.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
            )
    codes = [child.wait(timeout=CHILD_TIMEOUT_S) for child in children]
    seconds = time.perf_counter() - began
    counts = {"applied": 0, "dead_letters": 0, "skipped": 0}
    for code, path in zip(codes, logs, strict=True):
        text = path.read_text("utf-8", "replace")
        if code != 0:
            raise RuntimeError(f"pdl run ({side}) exited {code}: {text[-2000:]}")
        if found := SUMMARY.search(text):
            for name in counts:
                counts[name] += int(found.group(name))
    return seconds, counts


def unavailable(ctx: Context) -> str | None:
    if ctx.kafka is None:
        return "needs a Kafka broker (consumer groups): run with --log kafka://HOST:PORT"
    if not ctx.store_url:
        return "no PostgreSQL URL: give --store postgresql://... or set PDL_TEST_POSTGRES"
    return None


def run(ctx: Context) -> list[Result]:
    target = "(reported, no target)"
    if (why := unavailable(ctx)) is not None:
        print(f"  scale-out: skipped: {why}", flush=True)
        return [
            not_measured("scale-out: postgres-1 / sqlite-1", target, why),
            not_measured("scale-out: postgres-2 / postgres-1", target, why),
        ]
    with partitions(SCALE_PARTITIONS):
        dataset = make_dataset(ctx, "scale-out", ctx.sizes["scale_out"])
    per_s: dict[str, list[float]] = {s: [] for s in SIDES}
    reported: dict[str, list[dict[str, int]]] = {s: [] for s in SIDES}
    for r in range(ctx.rounds):
        for side in SIDES[r % 3 :] + SIDES[: r % 3]:
            seconds, counts = catch_up(ctx, dataset, side, r)
            per_s[side].append(rate(dataset.events, seconds))
            reported[side].append(counts)
        print(
            "  scale-out round {}: sqlite-1 {:,.0f} ev/s, postgres-1 {:,.0f} ev/s, "
            "postgres-2 {:,.0f} ev/s".format(r + 1, *(per_s[s][-1] for s in SIDES)),
            flush=True,
        )
        print(
            f"  scale-out round {r + 1}: pdl run reported {reported['postgres-2'][-1]} (2 members)"
        )
    pg_to_sqlite = [p / s for p, s in zip(per_s["postgres-1"], per_s["sqlite-1"], strict=True)]
    two_to_one = [t / o for t, o in zip(per_s["postgres-2"], per_s["postgres-1"], strict=True)]
    details: dict[str, Any] = {
        "events": dataset.events,
        "subjects": subjects_for(dataset.events),
        "partitions": SCALE_PARTITIONS,
        "rounds": ctx.rounds,
        "per_s": per_s,
        "reported_by_pdl_run": reported,
        "ratios_postgres1_to_sqlite1": pg_to_sqlite,
        "ratios_postgres2_to_postgres1": two_to_one,
        "append_seconds": round(dataset.append_seconds, 2),
    }
    return [
        Result(
            "scale-out: postgres-1 / sqlite-1",
            f"1 pdl run into PostgreSQL {fmt_rate(median(per_s['postgres-1']))}",
            f"1 into SQLite {fmt_rate(median(per_s['sqlite-1']))}",
            median(pg_to_sqlite),
            target,
            None,
            details,
        ),
        Result(
            "scale-out: postgres-2 / postgres-1",
            f"2 pdl run into PostgreSQL {fmt_rate(median(per_s['postgres-2']))}",
            f"1 into PostgreSQL {fmt_rate(median(per_s['postgres-1']))}",
            median(two_to_one),
            target,
            None,
            {"see": "previous row"},
        ),
    ]
