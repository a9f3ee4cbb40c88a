"""Erasure you can prove, end to end on the embedded log and on the real broker: after a
request, the newsletter and recording data are unreadable everywhere while the invoices,
kept under a legal obligation, stay readable and are listed on the certificate."""

from __future__ import annotations

import json
from pathlib import Path

from kafka import KafkaConsumer

from ledger.contract.deadletter import DeadLetter
from ledger.log.base import OutgoingRecord
from ledger.service.deadletters import dead_letters
from tests.conftest import LedgerFactory, per_test_topics
from tests.erasure.helpers import informatique70_customer, opened_values, pdl, subject_raw_records

ERASED = ("marketing", "call-recording")
FOREIGN_KEY = b"sub_" + b"0" * 32


def test_erasure_leaves_only_the_invoices_readable_everywhere(
    make_ledger: LedgerFactory, log_url: str | None, tmp_path: Path
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    subject = customer.subject_id
    # a copy of the call recording under a foreign key: consumers dead-letter it
    recording = next(
        r
        for r in subject_raw_records(ledger, subject)
        if customer.by_label["call_recording"] in opened_values(ledger, r).values()
    )
    ledger.log.append([OutgoingRecord(recording.topic, FOREIGN_KEY, recording.value)])
    assert ledger.runner().catch_up().dead_letters == 1
    doomed = {k.key_id: k for k in ledger.keys.keys_of(subject) if k.retention_class in ERASED}
    wrapped = [
        bytes(row[0])
        for row in ledger.keys._db.execute(  # the bytes that must not survive on disk
            f"SELECT wrapped FROM data_keys WHERE key_id IN ({','.join('?' * len(doomed))})",
            list(doomed),
        )
    ]
    assert len(doomed) == len(wrapped) == 2
    before = pdl("state", customer.email, "--json", log_url=log_url)
    held = {v["value"] for v in json.loads(before.stdout)["values"]}
    assert held == set(customer.canaries()) - {customer.by_label["evidence"]}  # all in clear
    ledger.close()

    erased = pdl("erase", customer.email, "--reason", "request", "--json", log_url=log_url)
    assert erased.returncode == 0, erased.stderr
    certificate = json.loads(erased.stdout)
    assert {k["retention_class"] for k in certificate["erased"]["keys_destroyed"]} == set(ERASED)
    assert {k["key_id"] for k in certificate["erased"]["keys_destroyed"]} == set(doomed)
    assert set(certificate["erased"]["purposes"]) == {"newsletter", "marketing", "call-recording"}
    assert any("share retention class marketing" in n for n in certificate["notes"])
    assert certificate["erased"]["identity_mapping_destroyed"] is False
    (kept,) = certificate["retained"]
    assert kept["retention_class"] == "accounting" and kept["purposes"] == ["accounting"]
    (ground,) = kept["grounds"]
    assert ground["ground"] == "legal_obligation" and ground["article"] == "Art. 17(3)(b)"
    # 10 years from the invoice of 5 March 2024, 11:00 in Paris: kept through 5 March 2034
    assert ground["expires"] == "2034-03-06T00:00:00+01:00"
    assert len(certificate["erased"]["positions"]) == 3  # newsletter, consent, recording
    rendered = pdl("certificates", "show", log_url=log_url)
    assert "Art. 17(3)(b)  legal_obligation  until 2034-03-06T00:00:00+01:00" in rendered.stdout

    # projections: `pdl state` shows the erased values as [erased], the invoices in clear
    state = json.loads(pdl("state", customer.email, "--json", log_url=log_url).stdout)
    shown = {v["field"]: v["value"] for v in state["values"]}
    assert shown["invoice"] in customer.planted["accounting"]
    assert shown["billing_address"] in customer.planted["accounting"]
    assert shown["first_name"] == shown["email"] == shown["call_recording"] == "[erased]"

    # the independent verifier and the register
    verified = pdl("verify-erasure", subject, log_url=log_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "readable in the erased scope          0" in verified.stdout
    assert "retained under hold (readable)        2" in verified.stdout
    assert pdl("certificates", "verify", log_url=log_url).returncode == 0

    after = make_ledger()
    # topics: every sealed field of the subject opens only if it is an invoice's
    for record in subject_raw_records(after, subject):
        for field, value in opened_values(after, record).items():
            if value is None:
                continue
            assert value in customer.planted["accounting"], f"{record.offset} {field} readable"
    # dead letters point at a copy of the recording, which no longer opens
    letters = [x for x in dead_letters(after) if isinstance(x, DeadLetter)]
    assert len(letters) == 1
    pointed = next(
        r
        for r in after.log.scan([letters[0].topic])
        if (r.partition, r.offset) == (letters[0].partition, letters[0].offset)
    )
    assert pointed.key == FOREIGN_KEY and set(opened_values(after, pointed).values()) == {None}
    # the key store's files hold neither the destroyed keys nor their wrapped bytes
    for key_file in (tmp_path / "data").glob("keys.sqlite*"):
        data = key_file.read_bytes()
        for blob in [*wrapped, *(k.material for k in doomed.values())]:
            assert blob not in data, f"destroyed key material left in {key_file.name}"
    # nothing at rest anywhere holds a planted value in clear (canary scan)
    needles = [c.encode() for c in [customer.email, *customer.canaries()]]
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(n in data for n in needles), f"plaintext in {path}"
    if log_url:
        for raw in _raw_kafka_records(log_url.removeprefix("kafka://")):
            assert not any(n in raw for n in needles), "plaintext in a Kafka record"


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
