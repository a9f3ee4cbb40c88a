"""A reader held by an open transaction says so: a producer that began a transaction on a
ledger topic and neither commits nor aborts it (a killed `pdl emit`, or a foreign producer
with a long transaction timeout) stops every committed-only reader at its first record.
`pdl state` names the partition, the offset, the timeout that ends it and the command that
aborts it; the command it names does abort it, and the reader goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import per_test_topics, require_kafka
from tests.ops.support import kafka_tool
from tests.resilience.support import events_file, open_transaction, pdl, pdl_ok

TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand"
#: the reader gives up sooner than its default 60 s: the wait is what is tested, not its length
STALL = {"PDL_STALL_TIMEOUT": "15"}


@pytest.mark.kafka
def test_a_reader_behind_an_open_transaction_names_it_and_the_fix(tmp_path: Path) -> None:
    address = require_kafka()
    log_url = f"kafka://{address}"
    pdl_ok("emit", str(events_file(tmp_path / "a.jsonl", ["ana@example.fr"])), log_url=log_url)
    topic = per_test_topics().event_topics()[0]
    with open_transaction(address, topic):
        held = pdl("state", "ana@example.fr", log_url=log_url, extra_env=STALL)
        assert held.returncode == 2, held.stderr
        stderr = held.stderr
        assert "projections made no progress for 15 s" in stderr
        assert f"waits on an open transaction ({topic}[0] from offset" in stderr
        assert "open since" in stderr
        assert "PDL_TRANSACTION_TIMEOUT" in stderr
        assert "transaction.max.timeout.ms" in stderr
        # told while waiting, before the stall ran out
        assert stderr.count("waits on an open transaction") == 2
        offset = stderr.split(f"abort --topic {topic} --partition 0 --start-offset ")[1]
        start_offset = offset.split("`")[0]
        assert "describe-producers --topic" in stderr

        # the fix it names, with Kafka's own tool
        listed = kafka_tool(TRANSACTIONS, "--bootstrap-server", address, "list")
        assert "foreign-" in listed
        kafka_tool(
            TRANSACTIONS,
            "--bootstrap-server",
            address,
            "abort",
            "--topic",
            topic,
            "--partition",
            "0",
            "--start-offset",
            start_offset,
        )
        pdl_ok("state", "ana@example.fr", log_url=log_url)  # the reader goes on
