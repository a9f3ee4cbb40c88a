"""Records deleted under the ledger (topic retention, DeleteRecords) are noticed: `pdl
run` and `pdl rebuild` stop naming the offsets lost and keep the projections, and
`pdl certificates verify` names the missing certificate."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from ledger.contract.positions import LogPosition
from ledger.erasure.chain import read_register
from ledger.log.base import TopicPartition
from tests.conftest import LedgerFactory
from tests.resilience.support import events_file, pdl, pdl_daemon, pdl_ok


def test_lost_records_stop_run_and_rebuild_and_fail_the_register(
    make_ledger: LedgerFactory, log_url: str | None, tmp_path: Path
) -> None:
    people = ["ana@example.fr", "bo@example.fr", "cy@example.fr"]
    pdl_ok("emit", str(events_file(tmp_path / "a.jsonl", people)), log_url=log_url)
    for email in people[:2]:
        pdl_ok("erase", email, "--reason", "request", log_url=log_url)
    pdl_ok("run", "--until-caught-up", "--metrics-port", "0", log_url=log_url)
    pdl_ok("emit", str(events_file(tmp_path / "b.jsonl", ["dee@example.fr"])), log_url=log_url)
    kept = pdl_ok("dump", "--no-catch-up", log_url=log_url)

    ledger = make_ledger()
    topics = ledger.topics
    first = next(
        c
        for c in read_register(ledger.log, ledger.registry, topics)
        if (c.document() or {}).get("sequence") == 1
    )
    at = LogPosition.parse(first.position)
    erasure_tp = TopicPartition(at.topic, at.partition)
    ends = ledger.log.end_offsets([t for t in topics.event_topics() if t != topics.erasure])
    ledger.log.delete_records({**ends, erasure_tp: at.offset + 1})  # DataErased #1 too
    ledger.close()

    caught = pdl("run", "--until-caught-up", "--metrics-port", "0", log_url=log_url)
    assert caught.returncode == 1, caught.stderr
    assert "the log lost records it had not read yet" in caught.stderr
    # the partitions holding dee@'s events, emitted after the last catch-up
    assert any(f"{tp.topic}[{tp.partition}] offsets" in caught.stderr for tp in ends)

    daemon = pdl_daemon("run", "--metrics-port", "0", log_url=log_url)
    try:
        _, stderr = daemon.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=60)
        raise AssertionError("pdl run went on reading past deleted records") from None
    assert daemon.returncode == 1, stderr
    assert "the log lost records" in stderr

    rebuilt = pdl("rebuild", log_url=log_url)
    assert rebuilt.returncode == 1, rebuilt.stderr
    assert f"{erasure_tp.topic}[{erasure_tp.partition}] offsets 0..{at.offset}" in rebuilt.stderr
    assert "projections swapped in" not in rebuilt.stdout + rebuilt.stderr
    assert pdl_ok("dump", "--no-catch-up", log_url=log_url) == kept

    verified = pdl("certificates", "verify", log_url=log_url)
    assert verified.returncode == 1
    assert "certificate #1 is missing from the log" in verified.stderr
    assert "deleted from the log" in verified.stderr

    erased = pdl("verify-erasure", str(first.subject_id), log_url=log_url)
    assert "LOST FROM THE LOG" in erased.stdout
