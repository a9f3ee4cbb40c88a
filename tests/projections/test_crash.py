"""Exactly-once under SIGKILL, on the real broker: a rebuild of 50,000 events killed at
random moments at least 20 times, restarted each time, ends byte-identical to an
uninterrupted one (canonical dumps of the projection store)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consumers.rebuild import rebuild_path
from ledger.contract import events as ev
from ledger.contract.secret import Secret
from ledger.service.backends import Backends
from ledger.service.settings import Settings

EVENTS = 50_000
KILLS = 20
SEED = int(os.environ.get("PDL_CRASH_SEED", "20241122"))
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _event(n: int) -> ev.LedgerEvent:
    common = {
        "subject_id": f"sub_{n % 2000:032x}",
        "controller": "informatique70",
        "occurred_at": T0 + timedelta(minutes=n),
    }
    match n % 4:
        case 0:
            return ev.DataCollected(
                **common,
                purposes=["newsletter"],
                source="form",
                values=[
                    ev.CollectedValue(
                        field="email",
                        category="contact",
                        value=Secret(sealed=b"\x01" + n.to_bytes(8)),
                    )
                ],
            )
        case 1:
            return ev.ConsentGiven(
                **common,
                purpose="newsletter",
                channel="web",
                notice_version="v1",
            )
        case 2:
            return ev.DataProcessed(
                **common,
                purpose="newsletter",
                claimed_basis="consent",
                categories=["contact"],
                system="campaigns",
            )
        case _:
            return ev.ConsentWithdrawn(**common, purpose="newsletter", channel="link")


def _pdl(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PDL_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _dump(data_dir: Path) -> bytes:
    done = _pdl(data_dir, "dump", "--no-catch-up")
    out, _ = done.communicate(timeout=300)
    assert done.returncode == 0
    return out


@pytest.mark.kafka
def test_rebuild_killed_at_random_moments_ends_identical(
    kafka_address: str, tmp_path: Path
) -> None:
    os.environ["PDL_LOG"] = f"kafka://{kafka_address}"  # for the subprocesses
    try:
        _run(kafka_address, tmp_path)
    finally:
        del os.environ["PDL_LOG"]


def _run(kafka_address: str, tmp_path: Path) -> None:
    writer = Backends(Settings.from_environment(f"kafka://{kafka_address}", tmp_path / "writer"))
    intake = writer.intake()
    for start in range(0, EVENTS, 5000):
        intake.append([_event(n) for n in range(start, min(start + 5000, EVENTS))])
    writer.close()

    reference = tmp_path / "reference"
    assert _pdl(reference, "rebuild").wait(timeout=900) == 0
    expected = _dump(reference)
    assert expected.count(b"\nstate\t") > 2000

    crashed = tmp_path / "crashed"
    live = crashed / "projections" / f"kafka-{kafka_address.replace(':', '_')}.sqlite"
    rng = random.Random(SEED)
    kills = mid_rebuild = attempts = 0
    while kills < KILLS:
        attempts += 1
        assert attempts < 4 * KILLS, "rebuilds kept finishing before the kill"
        process = _pdl(crashed, "rebuild")
        time.sleep(rng.uniform(0.5, 3.5))
        if process.poll() is None:
            had_started = rebuild_path(live).exists()
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            kills += 1
            mid_rebuild += had_started
        else:
            assert process.returncode == 0
    assert mid_rebuild >= KILLS // 2, f"only {mid_rebuild} kills landed mid-rebuild (seed {SEED})"
    assert _pdl(crashed, "rebuild").wait(timeout=900) == 0
    assert _dump(crashed) == expected, f"projections differ after {kills} kills (seed {SEED})"
