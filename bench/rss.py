"""Peak RSS of ``pdl rebuild`` at two log sizes, and its rate at the larger one.

Each rebuild runs as a child process, ``python -m ledger.cli.main rebuild`` with
PDL_LOG, PDL_DATA_DIR and PDL_TOPIC_PREFIX of the dataset. Its peak is VmHWM from
``/proc/<pid>/status``, polled every POLL_S until it exits: the high-water mark of
the child's own address space. Not ``ru_maxrss`` from ``wait4``/``RUSAGE_CHILDREN``:
Linux carries the pre-exec high-water mark (the forked copy of this process, which
holds a million events' worth of heap by then) into the child's ``ru_maxrss``, so it
would report the parent's size. The rebuilt store is left in the dataset's data
directory, where the query benchmark finds it caught up.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Context, Dataset, Result, fmt_rate, rate

TARGET = 1.5
ROOT = Path(__file__).resolve().parents[1]
POLL_S = 0.05


def _vm_hwm_kib(status: Path) -> int:
    """VmHWM of a live process in KiB; 0 once it has exited (a zombie has none)."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def child_rebuild(ctx: Context, dataset: Dataset) -> dict[str, Any]:
    """Run ``pdl rebuild`` for the dataset in a child; its peak RSS, time and count."""
    env = dict(
        os.environ,
        PDL_LOG=ctx.log_url,
        PDL_DATA_DIR=str(dataset.data_dir),
        PDL_TOPIC_PREFIX=dataset.prefix,
    )
    errors = ctx.work / f"rebuild-{dataset.label}.stderr"
    began = time.perf_counter()
    peak_kib = 0
    with open(errors, "wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli.main", "rebuild"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        status = Path(f"/proc/{child.pid}/status")
        while child.poll() is None:
            peak_kib = max(peak_kib, _vm_hwm_kib(status))
            time.sleep(POLL_S)
    seconds = time.perf_counter() - began
    code = child.returncode
    text = errors.read_text("utf-8", "replace")
    if code != 0:
        raise RuntimeError(f"pdl rebuild exited {code}: {text[-2000:]}")
    found = re.search(r"applied (\d+)", text)
    applied = int(found.group(1)) if found else dataset.events
    info = {
        "events": dataset.events,
        "applied": applied,
        "seconds": round(seconds, 2),
        "per_s": round(rate(applied, seconds), 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }
    print(
        f"  pdl rebuild (child) of {dataset.events:,} events: peak RSS "
        f"{info['peak_rss_mib']:.1f} MiB, {seconds:.1f} s, {info['per_s']:,.0f} ev/s",
        flush=True,
    )
    return info


def run(ctx: Context, medium: Dataset, large: Dataset) -> list[Result]:
    lo = child_rebuild(ctx, medium)
    hi = child_rebuild(ctx, large)
    growth = hi["peak_rss_mib"] / lo["peak_rss_mib"]
    speed = hi["per_s"] / lo["per_s"]
    data = large.events / medium.events
    return [
        Result(
            f"rebuild peak RSS: {large.events:,} / {medium.events:,} events",
            f"{hi['peak_rss_mib']:.0f} MiB at {large.events:,}",
            f"{lo['peak_rss_mib']:.0f} MiB at {medium.events:,}",
            growth,
            f"< {TARGET} over {data:.0f}x data",
            growth < TARGET,
            {"medium": lo, "large": hi},
        ),
        Result(
            f"rebuild rate at {large.events:,} (pdl rebuild, child)",
            fmt_rate(hi["per_s"]),
            f"{fmt_rate(lo['per_s'])} at {medium.events:,}",
            speed,
            "(reported; no target)",
            None,
        ),
    ]
