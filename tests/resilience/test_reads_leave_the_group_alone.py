"""`pdl state` and `pdl dump` catch up without joining the daemon's consumer group: a
running `pdl run`'s group sees no rebalance, as Kafka's ConsumerGroupCommand reports it."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from tests.conftest import per_test_topics
from tests.ops.support import CONSUMER_GROUPS, kafka_tool
from tests.resilience.support import events_file, eventually, pdl_daemon, pdl_ok

pytestmark = pytest.mark.kafka


def members(bootstrap: str, group: str) -> list[tuple[str, str]]:
    """(consumer id, client id) of each member, from ConsumerGroupCommand --members."""
    printed = kafka_tool(
        CONSUMER_GROUPS,
        "--bootstrap-server",
        bootstrap,
        "--describe",
        "--members",
        "--group",
        group,
        check=False,
    )
    found = []
    header: list[str] | None = None
    for line in printed.splitlines():
        cells = line.split()
        if cells[:1] == ["GROUP"]:
            header = cells
        elif header and cells[:1] == [group]:
            row = dict(zip(header, cells, strict=False))
            found.append((row["CONSUMER-ID"], row["CLIENT-ID"]))
    return found


def test_reads_do_not_rebalance_the_running_group(kafka_address: str, tmp_path: Path) -> None:
    url = f"kafka://{kafka_address}"
    group = per_test_topics().projections_group  # the groups follow the test's prefix
    pdl_ok("emit", str(events_file(tmp_path / "a.jsonl", ["ana@example.fr"])), log_url=url)
    daemon = pdl_daemon("run", "--no-erasure", "--metrics-port", "0", log_url=url)
    try:
        eventually(lambda: len(members(kafka_address, group)) >= 1, 90, every_s=2)
        before = members(kafka_address, group)
        seen: list[list[tuple[str, str]]] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.append(members(kafka_address, group))

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            for _ in range(2):
                pdl_ok(
                    "emit", str(events_file(tmp_path / "b.jsonl", ["bo@example.fr"])), log_url=url
                )
                pdl_ok("state", "bo@example.fr", log_url=url)
                pdl_ok("dump", log_url=url)
        finally:
            done.set()
            watcher.join()
        after = members(kafka_address, group)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=120)
    assert daemon.returncode == 0, stderr
    assert seen, "ConsumerGroupCommand was never sampled"
    assert all(sample == before for sample in seen), seen
    assert after == before
