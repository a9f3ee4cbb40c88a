"""`pdl run` carries out erasure requests that arrive by `pdl emit`, beside the projections."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.cli.test_cli import pdl
from tests.scenario import collected


def test_run_carries_out_an_emitted_erasure_request(log_url: str | None) -> None:
    email = "run-erasure@example.fr"
    assert (
        pdl("emit", "-", stdin=json.dumps(collected(email, email)), log_url=log_url).returncode == 0
    )
    subject = json.loads(pdl("state", email, "--json", log_url=log_url).stdout)["subject_id"]
    env = dict(os.environ, **({"PDL_LOG": log_url} if log_url else {}))
    runner = subprocess.Popen(
        [sys.executable, "-m", "ledger.cli.main", "run", "--metrics-port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        request = {
            "type": "ErasureRequested",
            "subject_id": subject,
            "controller": "informatique70",
            "occurred_at": "2024-05-02T09:00:00Z",
            "scope": {"kind": "subject"},
            "reason": "request",
        }
        assert pdl("emit", "-", stdin=json.dumps(request), log_url=log_url).returncode == 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            listed = pdl("certificates", "verify", log_url=log_url)
            if (
                listed.returncode == 0
                and subject in pdl("certificates", "list", log_url=log_url).stdout
            ):
                break
            time.sleep(1)
        else:
            raise AssertionError("pdl run did not carry out the erasure within 120 s")
    finally:
        runner.send_signal(signal.SIGINT)
        _, err = runner.communicate(timeout=60)
    assert runner.returncode == 0, err
    assert pdl("verify-erasure", subject, log_url=log_url).returncode == 0
