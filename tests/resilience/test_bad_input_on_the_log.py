"""One bad record on the schema topic, and one event whose writer schema is unknown,
stop nothing: emit, run, state, dump and rebuild keep working, and both are listed with
their reasons by `pdl deadletters`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ledger.contract.wire import MARKER, UNKNOWN_WRITER
from ledger.log.base import OutgoingRecord
from tests.conftest import LedgerFactory
from tests.resilience.support import events_file, pdl_ok

UNPARSABLE_SCHEMA = {"type": "record", "name": "X", "fields": "oops"}


def test_unparsable_schema_and_unknown_writer_are_skipped_and_listed(
    make_ledger: LedgerFactory, log_url: str | None, tmp_path: Path
) -> None:
    ledger = make_ledger()
    topics = ledger.topics
    subject = "sub_" + "ab" * 16
    ledger.log.append(
        [
            OutgoingRecord(topics.schemas, b"bad", json.dumps(UNPARSABLE_SCHEMA).encode()),
            OutgoingRecord(topics.of("collection"), subject.encode(), MARKER + os.urandom(8)),
        ]
    )
    ledger.close()

    pdl_ok("emit", str(events_file(tmp_path / "a.jsonl", ["ana@example.fr"])), log_url=log_url)
    pdl_ok("run", "--until-caught-up", "--metrics-port", "0", log_url=log_url)
    pdl_ok("emit", str(events_file(tmp_path / "b.jsonl", ["bo@example.fr"])), log_url=log_url)
    pdl_ok("state", "bo@example.fr", log_url=log_url)
    before = pdl_ok("dump", log_url=log_url)
    pdl_ok("rebuild", log_url=log_url)
    assert pdl_ok("dump", "--no-catch-up", log_url=log_url) == before

    listed = pdl_ok("deadletters", log_url=log_url)
    assert UNKNOWN_WRITER in listed
    assert "schema topic record skipped\tnot an Avro schema fastavro can parse" in listed
    as_json = json.loads(pdl_ok("deadletters", "--json", log_url=log_url))
    (skipped,) = [x["skipped_schema"] for x in as_json if "skipped_schema" in x]
    assert skipped["position"].startswith(topics.schemas)
