"""Scale-out on the real broker and a real PostgreSQL: two ``pdl run`` processes in one
group, six partitions, one shared store. Every subject is readable from either
process's settings; one consumer is SIGKILLed mid-way, the other takes its partitions,
and the final ``pdl dump`` equals that of a single consumer rebuilding into SQLite."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import require_kafka, require_postgres

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
SUBJECTS = 1_000
SUBJECT_ID = re.compile(r"sub_[0-9a-f]{32}")


def _events(first: int, last: int) -> str:
    return "".join(
        json.dumps(
            {
                "type": "ConsentGiven",
                "subject": f"customer-{n:04d}@example.fr",
                "controller": "informatique70",
                "purpose": "newsletter",
                "channel": "web-form",
                "notice_version": "politique-2023-01",
                "occurred_at": "2024-03-01T09:00:00Z",
            }
        )
        + "\n"
        for n in range(first, last)
    )


class Host:
    """One host's settings: its own data directory, the shared log and store."""

    def __init__(self, base: dict[str, str], data_dir: Path, store: str | None) -> None:
        self.env = {**base, "PDL_DATA_DIR": str(data_dir)}
        if store is not None:
            self.env["PDL_STORE"] = store

    def pdl(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "ledger.cli.main", *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def start_consumer(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "ledger.cli.main", "run", "--no-erasure", "--metrics-port", "0"],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def subjects_in_store(self) -> set[str]:
        return set(SUBJECT_ID.findall(self.pdl("dump")))


def _wait_for(host: Host, expected: set[str], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while (seen := host.subjects_in_store()) != expected:
        assert time.monotonic() < deadline, f"{len(expected - seen)} subject(s) never projected"
        time.sleep(1)


def test_two_consumers_share_one_postgresql_store_and_survive_a_kill(tmp_path: Path) -> None:
    kafka, store = require_kafka(), require_postgres()
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PDL_")},
        "PDL_LOG": f"kafka://{kafka}",
        "PDL_TOPIC_PREFIX": f"scale{uuid.uuid4().hex[:8]}.",
        "PDL_PARTITIONS": "6",
        "PDL_MASTER_KEY": "5a" * 32,
    }
    first, second = Host(base, tmp_path / "a", store), Host(base, tmp_path / "b", store)
    producer = first
    half = producer.pdl("emit", "-", stdin=_events(0, SUBJECTS // 2))
    consumers = [first.start_consumer(), second.start_consumer()]
    try:
        expected = set(SUBJECT_ID.findall(half))
        assert len(expected) == SUBJECTS // 2
        _wait_for(second, expected, 60)
        assert first.subjects_in_store() == expected  # one store, read from either host

        consumers[1].send_signal(signal.SIGKILL)
        consumers[1].wait(timeout=30)
        rest = producer.pdl("emit", "-", stdin=_events(SUBJECTS // 2, SUBJECTS))
        expected |= set(SUBJECT_ID.findall(rest))
        assert len(expected) == SUBJECTS
        # the survivor takes the killed consumer's partitions once the group rebalances
        _wait_for(second, expected, 90)
        assert consumers[0].poll() is None
        some = sorted(expected)[::97]
        for subject_id in some:  # readable from the other host's settings
            state = json.loads(second.pdl("state", subject_id, "--json", "--no-catch-up"))
            assert state["events"] == 1
        # a read that catches up first, beside a running group, does not stall
        assert json.loads(first.pdl("state", some[0], "--json"))["events"] == 1
    finally:
        for process in consumers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)

    alone = Host(base, tmp_path / "c", None)  # one consumer, SQLite, from offset 0
    alone.pdl("run", "--until-caught-up", "--no-erasure", "--metrics-port", "0")
    assert alone.pdl("dump") == second.pdl("dump")
