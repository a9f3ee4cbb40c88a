"""The side door: a producer that is not the ledger, holding only the ``.avsc`` files and
no keys, writes schema-valid records straight to a topic. Such a record is judged like
one appended through ``pdl``: a personal field in clear is dead-lettered with its reason,
never shown as erased, and fails ``verify-erasure`` for as long as it sits on the log."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from ledger.contract.deadletter import DeadLetter
from ledger.log.base import OutgoingRecord
from ledger.service.deadletters import dead_letters
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, informatique70_customer, pdl

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "events"
PHONE = "+33 6 12 34 56 78"


def outside_producer_value(type_name: str, record: dict[str, Any]) -> bytes:
    """What a producer in another language writes from the published ``.avsc`` alone:
    Avro single-object encoding (``C3 01``, the schema's CRC-64-AVRO fingerprint, body)."""
    schema = json.loads((SCHEMAS / f"{type_name}.avsc").read_text())
    parsed = fastavro.parse_schema(schema)
    canonical = to_parsing_canonical_form(schema)
    body = io.BytesIO()
    fastavro.schemaless_writer(body, parsed, record)
    return b"\xc3\x01" + bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")) + body.getvalue()


def plaintext_phone(subject_id: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "controller": CONTROLLER,
        "processor": None,
        "occurred_at": datetime(2024, 3, 6, 9, 0, tzinfo=UTC),
        "subject_id": subject_id,
        "values": [{"field": "phone", "category": "contact", "value": PHONE.encode()}],
        "purposes": ["newsletter"],
        "source": "crm-export",
    }


def test_a_plaintext_personal_field_is_dead_lettered_and_never_erased(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    subject = customer.subject_id
    ledger.runner().catch_up()
    value = outside_producer_value("DataCollected", plaintext_phone(subject))
    ledger.log.append([OutgoingRecord(ledger.topics.of("collection"), subject.encode(), value)])

    progress = ledger.runner().catch_up()
    assert progress.dead_letters == 1 and progress.applied == 0
    (letter,) = [d for d in dead_letters(ledger) if isinstance(d, DeadLetter)]
    assert "values[0].value is not a pdl-aead-v1 sealed value" in letter.reason
    assert PHONE not in letter.reason
    ledger.close()

    state = pdl("state", customer.email, "--json", log_url=log_url)
    assert state.returncode == 0, state.stderr
    shown = {v["field"]: v["value"] for v in json.loads(state.stdout)["values"]}
    assert "phone" not in shown  # never reached a projection
    assert "[erased]" not in shown.values()  # nothing is erased yet

    erased = pdl("erase", customer.email, "--reason", "request", "--json", log_url=log_url)
    assert erased.returncode == 0, erased.stderr
    assert PHONE not in erased.stdout
    verified = pdl("verify-erasure", subject, log_url=log_url)
    assert verified.returncode != 0, verified.stdout
    assert "NOT SEALED" in verified.stdout and "values[0].value" in verified.stdout
    assert PHONE not in verified.stdout + verified.stderr


def test_a_value_sealed_for_another_subject_is_dead_lettered(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    first = informatique70_customer(ledger)
    second = informatique70_customer(ledger)
    ledger.runner().catch_up()
    # the first customer's sealed record, re-keyed and re-addressed to the second
    raw = next(
        r
        for r in ledger.log.scan([ledger.topics.of("collection")])
        if r.key == first.subject_id.encode()
    )
    type_name, fields = ledger.registry.decode(raw.value)
    moved = {**fields, "subject_id": second.subject_id, "event_id": str(uuid.uuid4())}
    value = outside_producer_value(type_name, moved)
    ledger.log.append([OutgoingRecord(raw.topic, second.subject_id.encode(), value)])

    progress = ledger.runner().catch_up()
    assert progress.dead_letters == 1 and progress.applied == 0
    (letter,) = [d for d in dead_letters(ledger) if isinstance(d, DeadLetter)]
    assert "not a key of the event's subject" in letter.reason
