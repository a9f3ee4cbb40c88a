"""How long a run will take, printed before it starts: sizes times rates.

Two estimates, from two sets of rates: those of the last recorded full run
(docs/BENCHMARKS.md, before the issue-16 optimisations), and those the issue's targets
imply (ingest at half the raw producer, rebuild at half of consume-and-decode, erasure
independent of the log). The real run lands between them, or below the second if the
targets are beaten. Only a guide: no benchmark is cut short by it.
"""

from __future__ import annotations

from collections.abc import Iterable

#: events (or lines) per second; "scan" is seconds per log event that erase and verify
#: read; "fixed" is seconds per command or child process.
RECORDED = {
    "bulk": 6_000.0,
    "ingest": 1_500.0,
    "raw": 10_000.0,
    "rebuild": 2_500.0,
    "decode": 15_000.0,
    "es": 25_000.0,
    "emit": 1_000.0,
    "scan": 40e-6,
    "fixed": 1.5,
}
TARGETS = RECORDED | {
    "ingest": 5_000.0,
    "rebuild": 7_500.0,
    "emit": 4_000.0,
    "scan": 0.0,
    "fixed": 0.5,
}


def seconds(
    sizes: dict[str, int], wanted: Iterable[str], rounds: int, quick: bool, at: dict[str, float]
) -> float:
    """Estimated seconds of a run of the ``wanted`` benchmarks at ``sizes``."""
    wanted = set(wanted)
    datasets: set[str] = set()
    total = 0.0
    fixed = at["fixed"]
    if "startup" in wanted:
        total += (5 if quick else 11) * 2 * fixed
    if "ingest" in wanted:
        n = sizes["ingest"]
        total += rounds * (n / at["ingest"] + n / at["raw"]) + min(n, 2_000) / at["ingest"] * 2
    if "rebuild" in wanted:
        datasets |= {"medium", "small"}
        n = sizes["medium"]
        total += rounds * (n / at["rebuild"] + n / at["decode"] + n / at["es"])
        total += n / at["es"] + 4 * sizes["small"] / at["rebuild"]  # es recording, profiles
    if "rss" in wanted:
        datasets |= {"medium", "large"}
        total += (sizes["medium"] + sizes["large"]) / at["rebuild"] + 2 * fixed
    if "query" in wanted:
        datasets |= {"small", "large"}
        total += 2 * (8.0 if quick else 90.0)
    if "erasure" in wanted:
        datasets |= {"medium", "large"}
        per_round = sum(3 * (fixed + at["scan"] * sizes[d]) for d in ("medium", "large"))
        total += per_round * ((1 if quick else rounds) + (0 if quick else 1))
    if "scale_out" in wanted:
        n = sizes["scale_out"]
        total += n / at["bulk"] + rounds * 3 * (n / at["rebuild"] * 1.5 + 2 * fixed)
    if "http_ingest" in wanted:
        total += rounds * 3 * (sizes["http"] / at["ingest"] * 2 + 2 * fixed)
    if "emit_memory" in wanted:
        lines = sizes["emit_small"] + sizes["emit_large"]
        total += lines / at["emit"] + lines / 50_000 + 2 * fixed  # writing the files too
    total += sum(sizes[d] for d in datasets) / at["bulk"]
    return total


def announce(sizes: dict[str, int], wanted: Iterable[str], rounds: int, quick: bool) -> str:
    wanted = list(wanted)
    slow = seconds(sizes, wanted, rounds, quick, RECORDED) / 60
    fast = seconds(sizes, wanted, rounds, quick, TARGETS) / 60
    return (
        f"estimated duration: about {slow:.0f} min at the rates of the last recorded run, "
        f"{fast:.0f} min at the issue-16 target rates (bench/plan.py)"
    )
