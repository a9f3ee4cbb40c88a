"""What the measured rates say about a national operator's ledger: 100 million events.

Nothing is run here: the rows are computed from the run's other results.

- One consumer: EVENTS / the rebuild rate measured on the largest log of the run (the
  ``pdl rebuild`` child of the rss benchmark, else the in-process rebuild benchmark).
  Assumption: the rate holds from the measured size to 100 million events (the rss
  benchmark's rate row shows whether it held from its smaller log to its larger one).
- N consumers: only N = 2 is measured (scale_out: two ``pdl run`` in one consumer group
  against one, on PostgreSQL). Assumption: that speed-up holds at 100 million events
  and on the SQLite rate above; with more members the store, which applies one unit of
  work at a time, bounds it, so no N > 2 is extrapolated.
"""

from __future__ import annotations

from typing import Any

from bench.common import Result, median

EVENTS = 100_000_000
NAME = f"projected rebuild of {EVENTS:,} events"
TARGET = "(projection; no target)"


def _rebuild_rate(results: list[Result]) -> tuple[float, int, str] | None:
    """(events/s, at how many events, measured by what) from the largest rebuild run."""
    for r in results:
        if r.benchmark.startswith("rebuild peak RSS") and "large" in r.details:
            large: dict[str, Any] = r.details["large"]
            return float(large["per_s"]), int(large["events"]), "pdl rebuild child"
    for r in results:
        if r.benchmark.startswith("rebuild: ours / consume") and "per_s" in r.details:
            ours = median(r.details["per_s"]["ours"])
            return ours, int(r.details["events"]), "rebuild benchmark, median"
    return None


def _two_member_speedup(results: list[Result]) -> float | None:
    for r in results:
        ratios = r.details.get("ratios_postgres2_to_postgres1")
        if ratios:
            return median(ratios)
    return None


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.1f} min"


def project(results: list[Result]) -> list[Result]:
    measured = _rebuild_rate(results)
    if measured is None:
        return []
    per_s, at, source = measured
    one = EVENTS / per_s
    rows = [
        Result(
            f"{NAME}: 1 consumer",
            _duration(one),
            f"{per_s:,.0f} ev/s measured at {at:,} ({source})",
            None,
            TARGET,
            None,
            {"events": EVENTS, "per_s": per_s, "measured_at": at, "seconds": round(one)},
        )
    ]
    speedup = _two_member_speedup(results)
    if speedup is None:
        rows.append(
            Result(
                f"{NAME}: 2 consumers",
                "not projected: scale_out did not run",
                "—",
                None,
                TARGET,
                None,
            )
        )
    else:
        rows.append(
            Result(
                f"{NAME}: 2 consumers (one group)",
                _duration(one / speedup),
                f"1 consumer x 1/{speedup:.2f} (scale_out 2-member speed-up)",
                None,
                TARGET,
                None,
                {"speedup": speedup, "seconds": round(one / speedup)},
            )
        )
    return rows
