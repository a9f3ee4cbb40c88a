"""The overdue alert's metric, in a running `pdl run`: an access request received in
2024 and never answered is past its deadline, and ``pdl_requests_overdue`` says so."""

from __future__ import annotations

import time

from tests.command import pdl
from tests.ops.support import Samples, free_port, pdl_process, scrape

OVERDUE = ("pdl_requests_overdue", (("kind", "access"), ("source", "requests")))


def test_a_running_pdl_run_reports_an_overdue_request() -> None:
    received = pdl(
        "requests",
        "receive",
        "camille.martin@example.fr",
        "--controller",
        "informatique70",
        "--kind",
        "access",
        "--channel",
        "e-mail",
        "--at",
        "2024-01-31T10:00:00+01:00",
    )
    assert received.returncode == 0, received.stderr
    port = free_port()
    process = pdl_process("run", "--metrics-port", str(port), log_url=None)
    try:
        samples = Samples()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            try:
                _, samples = scrape(port)
            except OSError:  # not listening yet
                time.sleep(0.2)
                continue
            if samples.get(OVERDUE) == 1:
                break
            time.sleep(0.2)
        assert samples.get(OVERDUE) == 1, samples
        assert (
            samples[("pdl_requests_overdue", (("kind", "objection"), ("source", "requests")))] == 0
        )
    finally:
        process.terminate()
        process.communicate(timeout=60)
