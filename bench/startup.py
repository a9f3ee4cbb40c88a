"""Start-up: ``pdl --help`` as a whole process vs a bare ``python -c "import kafka"``.

Both are child processes of the same interpreter (``sys.executable``), so the
interpreter's own start is on both sides. The subject is the installed ``pdl`` console
script beside that interpreter when there is one (what an operator types), else
``python -m ledger.cli.main``. The baseline imports kafka-python alone, the one
dependency every command needs: what a command cannot avoid paying. The two sides
alternate, ROUNDS times (QUICK_ROUNDS in quick mode), after one untimed warm-up of
each (so both read their files from the page cache); medians are reported. The target
is absolute: ``pdl --help`` under TARGET_S seconds on this machine.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, Context, Result, median

TARGET_S = 0.35
ROUNDS = 11
QUICK_ROUNDS = 5


def command() -> list[str]:
    """How ``pdl`` is started: the console script beside the interpreter, if installed."""
    script = Path(sys.executable).with_name("pdl")
    if script.exists():
        return [str(script), "--help"]
    return [sys.executable, "-m", "ledger.cli.main", "--help"]


def _seconds(argv: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - began


def run(ctx: Context) -> list[Result]:
    sides = {"pdl": command(), "kafka": [sys.executable, "-c", "import kafka"]}
    for argv in sides.values():
        _seconds(argv)  # warm-up, untimed
    times: dict[str, list[float]] = {name: [] for name in sides}
    rounds = QUICK_ROUNDS if ctx.quick else ROUNDS
    for r in range(rounds):
        for name in sorted(sides, reverse=r % 2 == 1):
            times[name].append(_seconds(sides[name]))
    ratios = [p / k for p, k in zip(times["pdl"], times["kafka"], strict=True)]
    pdl_s, kafka_s = median(times["pdl"]), median(times["kafka"])
    print(
        f"  start-up over {rounds} rounds: pdl --help {pdl_s:.3f} s, "
        f"import kafka {kafka_s:.3f} s (medians)",
        flush=True,
    )
    return [
        Result(
            "start-up: pdl --help (whole process)",
            f"{pdl_s:.3f} s",
            f'python -c "import kafka" {kafka_s:.3f} s',
            median(ratios),
            f"< {TARGET_S} s absolute",
            pdl_s < TARGET_S,
            {
                "command": " ".join(sides["pdl"]),
                "rounds": rounds,
                "pdl_seconds": times["pdl"],
                "import_kafka_seconds": times["kafka"],
                "ratios": ratios,
            },
        )
    ]
