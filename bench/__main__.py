"""``python -m bench``: every benchmark side by side with its baseline; a table of ratios.

Exits non-zero only when a benchmark crashes (or the log is unreachable), never because
a target is missed: targets are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    emit_memory,
    erasure,
    http_ingest,
    ingest,
    plan,
    projection,
    query,
    rebuild,
    rss,
    scale_out,
    startup,
)
from bench.common import FULL_SIZES, QUICK_SIZES, Context, Dataset, Result
from bench.data import make_dataset

#: In running order: start-up first, on a machine not yet busy with the datasets.
BENCHMARKS = (
    "startup",
    "ingest",
    "rebuild",
    "rss",
    "query",
    "erasure",
    "scale_out",
    "http_ingest",
    "emit_memory",
)
#: Which datasets each benchmark reads (created once, on first need, and shared). The
#: rss benchmark's ``pdl rebuild`` of the large dataset leaves its store caught up, so
#: query and erasure, which run after it, start from a current store.
NEEDS = {
    "rebuild": ("medium", "small"),
    "rss": ("medium", "large"),
    "query": ("small", "large"),
    "erasure": ("medium", "large"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python -m bench --quick\n  python -m bench --out results.json\n"
        "  python -m bench --log embedded --sizes small=5000,large=50000 --only query",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a CI smoke run")
    parser.add_argument(
        "--log",
        metavar="URL",
        help="kafka://HOST:PORT or 'embedded' (default: kafka:// at PDL_BENCH_KAFKA, "
        "else 127.0.0.1:9092; the ingest and rebuild targets are defined against Kafka)",
    )
    parser.add_argument(
        "--sizes",
        metavar="NAME=N,...",
        help="override sizes: ingest (events appended per round), small, medium, large "
        "(log sizes), scale_out (events caught up on), http (events submitted per side), "
        "emit_small, emit_large (lines of the files pdl emit reads); "
        f"full: {_show(FULL_SIZES)}; quick: {_show(QUICK_SIZES)}",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="postgresql://... for scale_out (default: PDL_TEST_POSTGRES; without one, "
        "scale_out is reported as not measured)",
    )
    parser.add_argument(
        "--transport",
        choices=("kafka-python", "confluent"),
        help="the Kafka client every ledger of the run opens (PDL_KAFKA_CLIENT; default: "
        "the environment's, else kafka-python); run twice, once each, for two columns",
    )
    parser.add_argument("--out", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--only", metavar="NAME,...", help=f"a subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--keep", action="store_true", help="keep the topics and temp files")
    return parser.parse_args(argv)


def _show(sizes: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in sizes.items())


def _sizes(args: argparse.Namespace) -> dict[str, int]:
    sizes = dict(QUICK_SIZES if args.quick else FULL_SIZES)
    for part in filter(None, (args.sizes or "").split(",")):
        name, _, value = part.partition("=")
        if name not in sizes or not value.replace("_", "").isdigit() or int(value) < 16:
            raise SystemExit(f"--sizes: {part!r}: use NAME=N (N >= 16), NAME one of {list(sizes)}")
        sizes[name] = int(value)
    return sizes


def log_url(given: str | None) -> str:
    if given in ("embedded", "embedded:"):
        return "embedded"
    return given or f"kafka://{os.environ.get('PDL_BENCH_KAFKA') or '127.0.0.1:9092'}"


def reachable(bootstrap: str) -> str | None:
    """None if a broker answers at ``bootstrap``, else why not (fast when refused)."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    for address in bootstrap.split(","):
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
        except (OSError, ValueError) as exc:
            return f"{address}: {exc}"
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        admin.list_topics()
        admin.close()
    except (KafkaError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_total_gib": round(int(mem.split()[1]) / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def print_table(results: list[Result]) -> None:
    header = ["benchmark", "subject", "baseline", "ratio", "target", "met"]
    rows = [header] + [r.row() for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def delete_topics(ctx: Context) -> None:
    bootstrap = ctx.kafka
    if bootstrap is None:
        return
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    try:
        mine = sorted(t for t in admin.list_topics() if t.startswith(f"pdlbench{ctx.run_id}."))
        for i in range(0, len(mine), 50):
            admin.delete_topics(mine[i : i + 50], timeout_ms=60_000)
    finally:
        admin.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = [b.strip() for b in (args.only or ",".join(BENCHMARKS)).split(",") if b.strip()]
    if unknown := [b for b in wanted if b not in BENCHMARKS]:
        raise SystemExit(f"--only: unknown {unknown}; choose from {','.join(BENCHMARKS)}")
    url = log_url(args.log)
    if args.transport:  # read by Settings: every Backends of the run opens this client
        os.environ["PDL_KAFKA_CLIENT"] = args.transport
    work = Path(tempfile.mkdtemp(prefix="pdl-bench-"))
    store = args.store or os.environ.get("PDL_TEST_POSTGRES") or None
    ctx = Context(url, work, _sizes(args), args.quick, store)
    if (bootstrap := ctx.kafka) is not None and (why := reachable(bootstrap)) is not None:
        print(
            f"bench: no Kafka broker reachable at {bootstrap} ({why}).\n  Start one "
            "(infra/kafka/kafka.sh start), point PDL_BENCH_KAFKA or --log at it, or run "
            "with --log embedded.",
            file=sys.stderr,
        )
        shutil.rmtree(work, ignore_errors=True)
        return 2
    os.environ["PDL_MASTER_KEY"] = secrets.token_hex(32)  # children inherit it
    os.environ.pop("PDL_LOG", None)
    started, load_at_start = time.monotonic(), os.getloadavg()
    print(
        f"pdl bench ({'quick' if ctx.quick else 'full'}) on {url}, run {ctx.run_id}, "
        f"sizes {_show(ctx.sizes)}, work dir {work}",
        flush=True,
    )
    print(plan.announce(ctx.sizes, wanted, ctx.rounds, ctx.quick), flush=True)
    results: list[Result] = []
    explained: list[str] = []
    crashed: list[str] = []
    datasets: dict[str, Dataset] = {}

    def need(label: str) -> Dataset:
        if label not in datasets:
            datasets[label] = make_dataset(ctx, label, ctx.sizes[label])
        return datasets[label]

    steps: dict[str, Callable[[], list[Result]]] = {
        "ingest": lambda: ingest.run(ctx),
        "rebuild": lambda: rebuild.run(ctx, need("medium"), need("small")),
        "rss": lambda: rss.run(ctx, need("medium"), need("large")),
        "query": lambda: query.run(ctx, need("small"), need("large")),
        "erasure": lambda: erasure.run(ctx, need("medium"), need("large")),
        "scale_out": lambda: scale_out.run(ctx),
        "http_ingest": lambda: http_ingest.run(ctx),
        "emit_memory": lambda: emit_memory.run(ctx),
        "startup": lambda: startup.run(ctx),
    }
    explainers: dict[str, Callable[[list[Result]], list[str]]] = {
        "ingest": lambda r: ingest.explain(r[0]),
        "rebuild": rebuild.explain,
        "query": query.explain,
        "erasure": erasure.explain,
    }
    for name in BENCHMARKS:
        if name not in wanted:
            continue
        print(f"\n== {name}", flush=True)
        began = time.monotonic()
        try:
            rows = steps[name]()
        except Exception:
            traceback.print_exc()
            crashed.append(name)
            rows = [Result(name, "CRASHED (traceback above)", "—", None, "—", None)]
        else:
            if name in explainers:
                explained += explainers[name](rows)
        for row in rows:
            row.details.setdefault("seconds", round(time.monotonic() - began, 1))
        results.extend(rows)
    results.extend(projection.project(results))
    elapsed = time.monotonic() - started
    print(f"\n== results ({elapsed:.0f} s)")
    print_table(results)
    if explained:
        print("\n== where the time goes")
        print("\n".join(explained))
    if args.out:
        document = {
            "mode": "quick" if ctx.quick else "full",
            "log": url,
            "sizes": ctx.sizes,
            "machine": {
                **machine(),
                "loadavg_start": load_at_start,
                "loadavg_end": os.getloadavg(),
            },
            "seconds": round(elapsed, 1),
            "crashed": crashed,
            "datasets": {
                k: {"events": d.events, "append_seconds": round(d.append_seconds, 2)}
                for k, d in datasets.items()
            },
            "results": [r.__dict__ for r in results],
        }
        Path(args.out).write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"\nresults written to {args.out}")
    if not args.keep:
        try:
            delete_topics(ctx)
        except Exception as exc:  # cleanup must not turn a good run into a failure
            print(f"bench: could not delete this run's topics: {exc}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    if crashed:
        print(f"\nbench: crashed: {', '.join(crashed)}", file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
