"""``PDL_STALL_TIMEOUT`` reaches every catch-up a command runs: with a transaction held
open on the erasure topic, `pdl retention run` (the erasure processor's catch-up of its
queue) and `pdl rebuild` give up after the configured seconds, naming the transaction,
as `pdl state` does (test_open_transaction.py). Before, both waited the default 60 s."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import per_test_topics, require_kafka
from tests.resilience.support import events_file, open_transaction, pdl, pdl_ok

#: short, and unlike the default: the error names the seconds it waited
STALL_S = 3
STALL = {"PDL_STALL_TIMEOUT": str(STALL_S)}


@pytest.mark.kafka
def test_commands_other_than_run_give_up_after_the_configured_stall(tmp_path: Path) -> None:
    address = require_kafka()
    log_url = f"kafka://{address}"
    pdl_ok("emit", str(events_file(tmp_path / "a.jsonl", ["ana@example.fr"])), log_url=log_url)
    # a request left pending: the retention run's first pass carries it out
    pdl_ok("erase", "ana@example.fr", "--reason", "request", "--no-wait", log_url=log_url)
    topic = per_test_topics().erasure
    with open_transaction(address, topic):
        for command in (("retention", "run"), ("rebuild",)):
            held = pdl(*command, log_url=log_url, extra_env=STALL)
            assert held.returncode == 2, (command, held.stderr)
            assert f"projections made no progress for {STALL_S} s" in held.stderr, command
            assert f"waits on an open transaction ({topic}[0] from offset" in held.stderr
