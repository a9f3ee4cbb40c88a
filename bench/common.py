"""What every benchmark shares: the run's context, fresh topics, datasets, results, stats."""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.service.backends import Backends
from ledger.service.settings import Settings

#: Sizes by name; ``--sizes name=N,...`` overrides them.
#: ``scale_out``: events of the log the consumers catch up on; ``http``: events submitted
#: per side of the HTTP ingestion benchmark; ``emit_small``/``emit_large``: lines of the
#: two files ``pdl emit`` reads in the emit-memory benchmark.
FULL_SIZES = {
    "ingest": 20_000,
    "small": 10_000,
    "medium": 100_000,
    "large": 1_000_000,
    "scale_out": 10_000,
    "http": 2_000,
    "emit_small": 100_000,
    "emit_large": 1_000_000,
}
QUICK_SIZES = {
    "ingest": 1_000,
    "small": 1_000,
    "medium": 4_000,
    "large": 20_000,
    "scale_out": 2_000,
    "http": 600,
    "emit_small": 2_000,
    "emit_large": 20_000,
}


@dataclass
class Context:
    """One run: the log, a temp work directory, a unique topic prefix root, the sizes."""

    log_url: str  # kafka://HOST:PORT or "embedded"
    work: Path
    sizes: dict[str, int]
    quick: bool
    #: a PostgreSQL URL for the benchmarks that need a server store (``--store``), or None
    store_url: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    prefixes: list[str] = field(default_factory=list)

    @property
    def kafka(self) -> str | None:
        return Settings.from_environment(self.log_url, self.work).kafka_bootstrap

    @property
    def rounds(self) -> int:
        """Repetitions of each side-by-side measurement (medians are reported)."""
        return 2 if self.quick else 3

    def new_prefix(self, label: str) -> str:
        prefix = f"pdlbench{self.run_id}.{label}."
        self.prefixes.append(prefix)
        return prefix

    def data_dir(self, label: str) -> Path:
        path = self.work / f"{label}-{uuid.uuid4().hex[:6]}"
        path.mkdir(parents=True)
        return path


@contextmanager
def topics(prefix: str) -> Iterator[None]:
    """Run with ``PDL_TOPIC_PREFIX`` set (the settings of ledgers opened meanwhile read it)."""
    before = os.environ.get("PDL_TOPIC_PREFIX")
    os.environ["PDL_TOPIC_PREFIX"] = prefix
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PDL_TOPIC_PREFIX", None)
        else:
            os.environ["PDL_TOPIC_PREFIX"] = before


@contextmanager
def opened(ctx: Context, data_dir: Path) -> Iterator[Backends]:
    ledger = Backends(Settings.from_environment(ctx.log_url, data_dir))
    try:
        yield ledger
    finally:
        ledger.close()


@dataclass
class Dataset:
    """A log of ``events`` bulk events on its own topics, with its own data directory."""

    label: str
    events: int
    prefix: str
    data_dir: Path
    salt: int
    append_seconds: float = 0.0


@dataclass
class Result:
    """One row of the table."""

    benchmark: str
    subject: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None  # None: no target, or not measured
    details: dict[str, Any] = field(default_factory=dict)

    def row(self) -> list[str]:
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}"
        met = "—" if self.met is None else ("met" if self.met else "NOT met")
        return [self.benchmark, self.subject, self.baseline, ratio, self.target, met]


def not_measured(benchmark: str, target: str, why: str) -> Result:
    return Result(benchmark, f"not measured: {why}", "—", None, target, None, {"skipped": why})


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def fmt_rate(per_s: float, unit: str = "ev/s") -> str:
    return f"{per_s:,.0f} {unit}"


def profiled(fn: Callable[[], Any]) -> tuple[Any, pstats.Stats]:
    profile = cProfile.Profile()
    value = profile.runcall(fn)
    return value, pstats.Stats(profile)


def _total(stats: pstats.Stats) -> float:
    return float(stats.total_tt)  # type: ignore[attr-defined]


def top(stats: pstats.Stats, n: int = 5) -> list[str]:
    """The ``n`` functions with most own time, as 'share  own_s  where'."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = _total(stats) or 1.0
    rows = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:n]
    out = []
    for (path, line, name), (_, _, own, _, _) in rows:
        where = f"{_short(path)}:{line}({name})" if line else name
        out.append(f"{own / total:5.1%}  {own:7.3f} s  {where}")
    return out


def shares(stats: pstats.Stats, parts: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Cumulative time of named functions, as shares of the profiled total.

    ``parts`` maps a label to (path suffix, function name); a label whose function was
    never called gets 0. Functions may nest (a share of a caller includes its callees).
    """
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = _total(stats) or 1.0
    found = dict.fromkeys(parts, 0.0)
    for (path, _, name), (_, _, _, cumulative, _) in raw.items():
        for label, (suffix, wanted) in parts.items():
            if name == wanted and path.endswith(suffix):
                found[label] = max(found[label], cumulative / total)
    return found


def calls(stats: pstats.Stats, suffix: str, name: str) -> int:
    """How many times functions named ``name`` under a path ending ``suffix`` were called."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    return sum(
        int(v[1]) for (path, _, fn), v in raw.items() if fn == name and path.endswith(suffix)
    )


ROOT = str(Path(__file__).resolve().parents[1]) + "/"


def _short(path: str) -> str:
    for marker in ("site-packages/", ROOT, "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path
