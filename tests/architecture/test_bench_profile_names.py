"""The benchmarks name the functions whose share of a profile they report: a name that
no longer exists where it is looked for reports 0 % without a word, so each must be
defined in a file whose path ends as the table says."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: outside the repository: the libraries' own functions
LIBRARIES = ("pydantic/", "kafka/", "fastavro/", "eventsourcing/", "~")
#: the benchmarks with a table of profiled functions (``PARTS``)
PROFILED = ("bench.ingest", "bench.rebuild", "bench.query", "bench.erasure")


def _defined(suffix: str, function: str) -> bool:
    for path in ROOT.rglob(Path(suffix).name):
        if ".venv" in path.parts or not path.as_posix().endswith(suffix):
            continue
        if re.search(rf"^\s*def {re.escape(function)}\b", path.read_text(), re.MULTILINE):
            return True
    return False


@pytest.mark.parametrize("module", PROFILED)
def test_every_profiled_function_is_where_the_table_says(module: str) -> None:
    parts: dict[str, tuple[str, str]] = importlib.import_module(module).PARTS
    missing = [
        f"{label}: {suffix} {function}"
        for label, (suffix, function) in parts.items()
        if not suffix.startswith(LIBRARIES) and not _defined(suffix, function)
    ]
    assert not missing, missing
