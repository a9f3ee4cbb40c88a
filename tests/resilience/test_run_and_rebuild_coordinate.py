"""`pdl rebuild` and `pdl run` on one store exclude each other instead of silently
diverging, and `pdl run` stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.resilience.support import events_file, pdl, pdl_daemon, pdl_ok


def test_rebuild_is_refused_while_run_runs(tmp_path: Path) -> None:
    pdl_ok("emit", str(events_file(tmp_path / "a.jsonl", ["ana@example.fr"])), log_url=None)
    daemon = pdl_daemon("run", "--no-erasure", "--metrics-port", "0", log_url=None)
    try:
        assert daemon.stderr is not None
        while "pdl run: consuming" not in (line := daemon.stderr.readline()):
            assert line, "pdl run ended before consuming"
        refused = pdl("rebuild", log_url=None)
        assert refused.returncode == 2
        assert "`pdl run` is running" in refused.stderr
        assert "stop `pdl run`" in refused.stderr
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, stderr
    assert "stopping after the current batch" in stderr
    rebuilt = pdl("rebuild", log_url=None)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "projections swapped in" in rebuilt.stderr
