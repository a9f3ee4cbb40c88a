"""``pdl`` as a user runs it: a child process, for tests of what the command line does
(tests never import ``ledger.cli``; tests/architecture/test_import_rules.py)."""

from __future__ import annotations

import os
import subprocess
import sys


def pdl(
    *args: str, log_url: str | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``pdl ARGS`` with the test's environment (its fixtures' data directory and
    topic prefix), ``PDL_LOG`` set to ``log_url`` when given; output captured as text."""
    env = dict(os.environ, **({"PDL_LOG": log_url} if log_url else {}))
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
