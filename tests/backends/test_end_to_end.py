"""One event the whole way, on the embedded log and on the real broker."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from ledger.errors import Refused
from ledger.log.base import OutgoingRecord
from ledger.service.backends import Backends
from ledger.service.queries import subject_view
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory, per_test_topics
from tests.scenario import canary, collected, consent, doc_examples, lines, with_canaries


def test_event_round_trips_to_state(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    email = canary("email") + "@example.fr"
    submit_lines(ledger.intake(), lines(collected(email, email), consent(email)))
    view = subject_view(ledger, email)
    assert view["subject_id"].startswith("sub_")
    assert [v["value"] for v in view["values"]] == [email]
    assert view["categories"] == ["contact"]
    assert [(c["purpose"], c["status"]) for c in view["consents"]] == [("newsletter", "given")]


def test_withdrawal_changes_consent_status(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    submit_lines(
        ledger.intake(),
        lines(consent("a@example.fr"), consent("a@example.fr", False, when="2024-04-10T00:00:00Z")),
    )
    view = subject_view(ledger, "a@example.fr")
    assert [c["status"] for c in view["consents"]] == ["withdrawn"]


def test_no_plaintext_at_rest(
    make_ledger: LedgerFactory,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Canaries in every personal field of every family, and in every natural identifier."""
    ledger = make_ledger()
    planted = [with_canaries(example) for example in doc_examples()]
    events = [event for event, _ in planted]
    needles = [c for _, canaries in planted for c in canaries]
    assert {e["type"] for e in events} >= {"DataCollected", "DataRectified", "ConsentGiven"}
    assert len(needles) > len(events)
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    collected = next(e for e in events if e["type"] == "DataCollected")
    view = subject_view(ledger, collected["subject"])
    shown = {v["value"] for v in view["values"]}
    assert {v["value"] for v in collected["values"]} <= shown  # decrypted on read...
    ledger.close()
    # ...and nowhere at rest: not the log, the key store, the projections, the output
    raw = [n.encode() for n in needles]
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in raw), f"plaintext in {path}"
    if ledger.settings.kafka_bootstrap:
        for record in _raw_kafka_records(ledger.settings.kafka_bootstrap):
            assert not any(n in record for n in raw), "plaintext in a Kafka record"
    out, err = capfd.readouterr()
    assert not any(n in out + err + caplog.text for n in needles)


def _raw_kafka_records(bootstrap: str) -> list[bytes]:
    consumer = KafkaConsumer(
        *per_test_topics().all(),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5_000,
        enable_auto_commit=False,
        group_id=None,
    )
    found = [(m.key or b"") + b"\x00" + (m.value or b"") for m in consumer]
    consumer.close()
    assert found, "expected to read the raw records back"
    return found


def test_malformed_line_appends_nothing(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    good = collected("b@example.fr", "b@example.fr")
    bad = {**consent("b@example.fr"), "occurred_at": "yesterday"}
    before = sum(ledger.log.end_offsets(per_test_topics().event_topics()).values())
    with pytest.raises(Refused) as failure:
        submit_lines(ledger.intake(), [*lines(good), *lines(bad)])
    message = str(failure.value)
    assert "line 2: occurred_at:" in message and "nothing appended" in message
    assert "line 1" not in message
    assert sum(ledger.log.end_offsets(per_test_topics().event_topics()).values()) == before


def test_consumer_resumes_from_its_checkpoint(make_ledger: LedgerFactory) -> None:
    first = make_ledger()
    submit_lines(
        first.intake(), lines(collected("c@example.fr", "c@example.fr"), consent("c@example.fr"))
    )
    first.runner().catch_up()
    first.close()
    second = make_ledger()  # a restart: same data dir and topics
    submit_lines(
        second.intake(), lines(consent("c@example.fr", False, when="2024-05-01T00:00:00Z"))
    )
    runner = second.runner()
    progress = runner.catch_up()
    assert progress.applied == 1, "only the new event is applied after a restart"
    view = subject_view(second, "c@example.fr", catch_up=False)
    assert view["events"] == 3
    assert [c["status"] for c in view["consents"]] == ["withdrawn"]


def test_poison_record_goes_to_dead_letters(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    ledger.log.append([OutgoingRecord(ledger.topics.of("consent"), b"sub_x", b"\xc3\x01garbage")])
    submit_lines(ledger.intake(), lines(consent("d@example.fr")))
    progress = ledger.runner().catch_up()
    assert progress.dead_letters == 1 and progress.applied == 1
    assert subject_view(ledger, "d@example.fr")["consents"][0]["status"] == "given"


def test_emit_reads_a_file(make_ledger: LedgerFactory, tmp_path: Path) -> None:
    ledger: Backends = make_ledger()
    receipts = submit_lines(
        ledger.intake(), io.StringIO("\n".join(lines(consent("e@x.fr"))) + "\n\n")
    )
    assert [r.type_name for r in receipts] == ["ConsentGiven"]
