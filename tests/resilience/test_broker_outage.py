"""`pdl run` rides out a 60 s broker outage: on a broker of the test's own, stopped and
started again under a running `pdl run` (erasure processor on), the process never
exits, events emitted after the restart are applied, and an erasure requested before
the outage is carried out after it."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import per_test_topics, unavailable
from tests.ops.support import free_port, scrape
from tests.resilience.support import (
    OwnBroker,
    erasure_request_file,
    events_file,
    eventually,
    pdl,
    pdl_daemon,
    pdl_ok,
)

pytestmark = pytest.mark.kafka

OUTAGE_S = 60
PORT = int(os.environ.get("PDL_TEST_OUTAGE_KAFKA_PORT", "59192"))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[OwnBroker]:
    if not shutil.which("java"):
        unavailable("no java: cannot start a broker of the test's own", "PDL_REQUIRE_KAFKA")
    own = OwnBroker(PORT, tmp_path / "kafka")
    own.start()
    yield own
    own.stop()
    shutil.rmtree(own.data_dir, ignore_errors=True)


def _health(port: int, loop: str) -> tuple[float, float]:
    """(pdl_log_reachable, pdl_log_seconds_since_success) of a loop; -1 before the
    metrics are served."""
    try:
        _, samples = scrape(port)
    except OSError:
        return -1.0, -1.0
    labels = (("loop", loop),)
    return (
        samples.get(("pdl_log_reachable", labels), -1.0),
        samples.get(("pdl_log_seconds_since_success", labels), -1.0),
    )


def test_pdl_run_survives_a_broker_outage(broker: OwnBroker, tmp_path: Path) -> None:
    url = f"kafka://{broker.address}"
    projections = per_test_topics().projections_group  # the loop is named by its group
    pdl_ok("emit", str(events_file(tmp_path / "a.jsonl", ["ana@example.fr"])), log_url=url)
    metrics = free_port()
    daemon = pdl_daemon(
        "run", "--metrics-port", str(metrics), log_url=url, extra_env={"PDL_LOG_TIMEOUT": "5"}
    )
    try:
        eventually(lambda: _health(metrics, projections)[0] == 1, 60)
        pdl_ok(
            "emit",
            str(erasure_request_file(tmp_path / "erase.jsonl", "ana@example.fr")),
            log_url=url,
        )
        broker.stop()
        stopped = time.monotonic()
        eventually(lambda: _health(metrics, projections)[0] == 0, 40)
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
        assert daemon.poll() is None, daemon.communicate()[1]
        broker.start()

        pdl_ok("emit", str(events_file(tmp_path / "b.jsonl", ["bo@example.fr"])), log_url=url)

        def applied() -> bool:
            _, samples = scrape(metrics)
            consumed = sum(v for (n, _), v in samples.items() if n == "pdl_events_consumed_total")
            return consumed >= 5  # 2 + the request + 2 after the restart (+ DataErased)

        eventually(applied, 120)
        eventually(lambda: "#1\t" in pdl_ok("certificates", "list", log_url=url), 120)
        reachable, since = _health(metrics, projections)
        assert reachable == 1 and since < 30
        assert daemon.poll() is None
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=120)
    assert daemon.returncode == 0, stderr
    assert "the log is unreachable" in stderr
    assert "reachable again" in stderr
    assert "Traceback" not in stderr
    state = pdl("state", "bo@example.fr", log_url=url)
    assert state.returncode == 0, state.stderr
