"""Helpers for the resilience tests: `pdl` as a subprocess, events to emit, and a Kafka
broker of the test's own that it may stop and restart (never the shared CI broker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from kafka import KafkaProducer

from tests.scenario import collected, consent

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SH = ROOT / "infra" / "kafka" / "kafka.sh"


def pdl_env(log_url: str | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if log_url:
        env["PDL_LOG"] = log_url
    env.update(extra or {})
    return env


def pdl(
    *args: str,
    log_url: str | None,
    timeout_s: float = 180,
    extra_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli.main", *args],
        env=pdl_env(log_url, extra_env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def pdl_ok(*args: str, log_url: str | None, timeout_s: float = 180) -> str:
    done = pdl(*args, log_url=log_url, timeout_s=timeout_s)
    assert done.returncode == 0, f"pdl {' '.join(args)}: {done.returncode}\n{done.stderr}"
    return done.stdout


def pdl_daemon(
    *args: str, log_url: str | None, extra_env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", *args],
        env=pdl_env(log_url, extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def open_transaction(address: str, topic: str) -> Iterator[None]:
    """A foreign producer's transaction, begun with one record on ``topic``'s partition 0
    and neither committed nor aborted while the block runs: what a killed writer leaves,
    holding every committed-only reader of that partition. Its time-out (10 minutes) is
    far longer than any reader's stall."""
    foreign = KafkaProducer(
        bootstrap_servers=address,
        transactional_id=f"foreign-{uuid.uuid4().hex[:8]}",
        transaction_timeout_ms=600_000,
        enable_idempotence=True,
        acks="all",
    )
    try:
        foreign.init_transactions()
        foreign.begin_transaction()
        foreign.send(topic, key=b"someone", value=b"never committed", partition=0).get(timeout=30)
        yield
    finally:
        foreign.close(timeout=0)


def events_file(path: Path, people: list[str]) -> Path:
    """A DataCollected and a ConsentGiven for each of ``people`` (e-mail addresses)."""
    lines = []
    for email in people:
        lines += [json.dumps(collected(email, email)), json.dumps(consent(email))]
    path.write_text("\n".join(lines) + "\n")
    return path


def erasure_request_file(path: Path, email: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "ErasureRequested",
                "subject": email,
                "controller": "informatique70",
                "occurred_at": "2024-05-02T09:00:00Z",
                "scope": {"kind": "purpose", "purpose": "newsletter"},
                "reason": "request",
                "channel": "e-mail",
            }
        )
        + "\n"
    )
    return path


class OwnBroker:
    """A single-node broker on ``port`` with its data in ``data_dir``: the test may stop
    it (its data dir is kept) and start it again."""

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port = port
        self.data_dir = data_dir
        self.address = f"127.0.0.1:{port}"

    def _kafka_sh(self, command: str) -> None:
        # a plain broker of its own: never the CI broker's secured or controller ports
        inherited = {
            k: v
            for k, v in os.environ.items()
            if k not in ("KAFKA_SSL_PORT", "KAFKA_SASL_SSL_PORT", "KAFKA_CONTROLLER_PORT")
        }
        env = dict(inherited, KAFKA_PORT=str(self.port), KAFKA_DATA_DIR=str(self.data_dir))
        completed = subprocess.run(
            ["bash", str(KAFKA_SH), command],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if completed.returncode != 0:  # say why the broker did not start, not just that
            raise RuntimeError(
                f"kafka.sh {command} failed ({completed.returncode}):\n{completed.stderr[-2000:]}"
            )

    def start(self) -> None:
        self._kafka_sh("start")

    def stop(self) -> None:
        self._kafka_sh("stop")


def eventually(check: object, timeout_s: float, every_s: float = 1.0) -> None:
    """Wait until ``check()`` is true (a callable returning bool)."""
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not true after {timeout_s:.0f} s"
        time.sleep(every_s)
