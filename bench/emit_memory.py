"""Peak RSS and rate of ``pdl emit FILE`` at two file sizes: is ingest memory bounded?

Each side writes a JSON-lines file of producer events (``bench.data.ingest_dicts``: a
DataCollected with two personal values, then a ConsentGiven, per person; natural
identifiers) into the run's temporary directory, then runs ``python -m ledger.cli.main
emit -q FILE`` as a child process with PDL_LOG, a fresh PDL_DATA_DIR (so a fresh key
store) and fresh topics (PDL_TOPIC_PREFIX). The peak is the child's VmHWM, polled as in
``bench.rss``; the rate counts the file's lines over the child's whole life, start-up
included. The file is deleted as soon as its side has run. The two sizes run once each,
the smaller first: a peak is a high-water mark, not a rate, and needs no rounds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Context, Result, fmt_rate, rate
from bench.data import ingest_dicts
from bench.rss import POLL_S, _vm_hwm_kib

TARGET = 1.5
#: Lines written per write call: the file is produced in slices, so the harness itself
#: never holds a million events at once.
SLICE = 10_000


def write_lines(path: Path, count: int, run: str) -> int:
    """Write ``count`` JSON lines to ``path``; its size in bytes."""
    with open(path, "w", encoding="utf-8") as out:
        for first in range(0, count, SLICE):
            dicts = ingest_dicts(min(SLICE, count - first), f"{run}.{first // SLICE}")
            out.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in dicts)
    return path.stat().st_size


def child_emit(ctx: Context, label: str, count: int) -> dict[str, Any]:
    """Write a file of ``count`` lines, ``pdl emit`` it in a child; its peak RSS and rate."""
    path = ctx.work / f"{label}.jsonl"
    size = write_lines(path, count, f"{ctx.run_id}.{label}")
    env = dict(
        os.environ,
        PDL_LOG=ctx.log_url,
        PDL_DATA_DIR=str(ctx.data_dir(label)),
        PDL_TOPIC_PREFIX=ctx.new_prefix(label),
    )
    errors = ctx.work / f"{label}.stderr"
    peak_kib = 0
    began = time.perf_counter()
    try:
        with open(errors, "wb") as err:
            child = subprocess.Popen(
                [sys.executable, "-m", "ledger.cli.main", "emit", "-q", str(path)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
            status = Path(f"/proc/{child.pid}/status")
            while child.poll() is None:
                peak_kib = max(peak_kib, _vm_hwm_kib(status))
                time.sleep(POLL_S)
    finally:
        path.unlink(missing_ok=True)
    seconds = time.perf_counter() - began
    if child.returncode != 0:
        text = errors.read_text("utf-8", "replace")
        raise RuntimeError(f"pdl emit exited {child.returncode}: {text[-2000:]}")
    info = {
        "lines": count,
        "file_mib": round(size / 2**20, 1),
        "seconds": round(seconds, 2),
        "per_s": round(rate(count, seconds), 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }
    print(
        f"  pdl emit (child) of {count:,} lines ({info['file_mib']} MiB): peak RSS "
        f"{info['peak_rss_mib']:.1f} MiB, {seconds:.1f} s, {info['per_s']:,.0f} ev/s",
        flush=True,
    )
    return info


def run(ctx: Context) -> list[Result]:
    lo_n, hi_n = ctx.sizes["emit_small"], ctx.sizes["emit_large"]
    lo = child_emit(ctx, "emit-small", lo_n)
    hi = child_emit(ctx, "emit-large", hi_n)
    growth = hi["peak_rss_mib"] / lo["peak_rss_mib"]
    return [
        Result(
            f"pdl emit peak RSS: {hi_n:,} / {lo_n:,} lines",
            f"{hi['peak_rss_mib']:.0f} MiB at {hi_n:,}",
            f"{lo['peak_rss_mib']:.0f} MiB at {lo_n:,}",
            growth,
            f"< {TARGET} over {hi_n / lo_n:.0f}x lines",
            growth < TARGET,
            {"small": lo, "large": hi},
        ),
        Result(
            f"pdl emit rate at {hi_n:,} lines (child, start-up included)",
            fmt_rate(hi["per_s"]),
            f"{fmt_rate(lo['per_s'])} at {lo_n:,}",
            hi["per_s"] / lo["per_s"],
            "(reported; no target)",
            None,
        ),
    ]
