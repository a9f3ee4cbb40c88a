"""Erasure that follows the subject (issue 16): `pdl erase` reads only the subject's
partitions, from the first position the projections' index gives, and certifies per
partition the count and SHA-256 of the subject's raw records there; `pdl verify-erasure`
recomputes both from the raw log and fails, naming the partition, when they differ."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger.erasure.following import FollowedSubject, records_sha256
from ledger.erasure.records import record_reader
from ledger.erasure.verify import FOLLOWED, FULL_SCAN, verify_erasure
from ledger.log.base import LogRecord, OutgoingRecord
from ledger.service.backends import Backends
from ledger.service.erasure import erasure_processor
from tests.conftest import LedgerFactory
from tests.erasure.helpers import (
    CONTROLLER,
    informatique70_customer,
    opened_values,
    pdl,
    request_erasure,
    subject_raw_records,
)


def certificate_of(ledger: Backends, subject: str) -> dict[str, Any]:
    (outcome,) = request_erasure(ledger, subject)
    assert outcome.certificate is not None, outcome.problem
    return outcome.certificate


def test_the_certificate_counts_and_hashes_every_record_on_the_subjects_partitions(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    subject = customer.subject_id
    # a second copy of the call recording, keyed by the subject: the projections apply
    # an event id once, so the index (journal) never holds it; the raw read must
    recording = next(
        r
        for r in subject_raw_records(ledger, subject)
        if customer.by_label["call_recording"] in opened_values(ledger, r).values()
    )
    ledger.log.append([OutgoingRecord(recording.topic, recording.key, recording.value)])
    assert ledger.runner().catch_up().duplicates == 1
    journaled = len(ledger.store.journal(subject))

    certificate = certificate_of(ledger, subject)
    parts = certificate["subject_partitions"]
    assert {p["topic"] for p in parts} == set(ledger.topics.event_topics())
    raw = subject_raw_records(ledger, subject)  # every topic, from its start
    for part in parts:
        assert part["partition"] == ledger.log.partition_for(part["topic"], subject.encode())
        there = [
            r
            for r in raw
            if (r.topic, r.partition) == (part["topic"], part["partition"])
            and r.offset < part["end_offset"]
        ]
        assert all(r.offset >= part["first_offset"] for r in there)  # nothing left before
        assert part["count"] == len(there)
        assert part["records_sha256"] == records_sha256(there)
    # the request is one more record; the copy the index missed is counted too
    assert sum(p["count"] for p in parts) == journaled + 2
    ledger.close()

    followed = pdl("verify-erasure", subject, "--json", log_url=log_url)
    assert followed.returncode == 0, followed.stdout
    result = json.loads(followed.stdout)
    assert result["method"] == FOLLOWED and result["partitions_certified"] == len(parts)
    audited = pdl("verify-erasure", subject, "--json", "--full-scan", log_url=log_url)
    assert audited.returncode == 0, audited.stdout
    assert json.loads(audited.stdout)["method"] == FULL_SCAN
    assert json.loads(audited.stdout)["records"] == result["records"]


@pytest.mark.parametrize("log_url", [None])  # records are deleted from the embedded file
def test_a_certified_record_gone_from_the_log_fails_verification_naming_its_partition(
    make_ledger: LedgerFactory, tmp_path: Path
) -> None:
    ledger = make_ledger()
    subject = informatique70_customer(ledger).subject_id
    certificate = certificate_of(ledger, subject)
    part = next(p for p in certificate["subject_partitions"] if p["count"] >= 2)
    ledger.close()
    assert pdl("verify-erasure", subject).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "log.sqlite") as db:
        db.execute(
            "DELETE FROM records WHERE topic = ? AND partition = ? AND offset = ("
            "SELECT MAX(offset) FROM records WHERE topic = ? AND partition = ? "
            "AND key = ? AND offset < ?)",
            (part["topic"], part["partition"]) * 2 + (subject.encode(), part["end_offset"]),
        )
    db.close()

    for extra in ([], ["--full-scan"]):
        result = pdl("verify-erasure", subject, *extra)
        assert result.returncode == 1
        span = f"{part['topic']}[{part['partition']}] offsets {part['first_offset']}.."
        assert "DIFFERS FROM THE CERTIFICATE: " + span in result.stdout
        assert f"counts {part['count']} record(s) of the subject, the log holds " in result.stdout


def test_a_certificate_without_subject_partitions_is_verified_by_a_full_scan(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    subject = informatique70_customer(ledger).subject_id
    processor = erasure_processor(ledger)

    def as_before(subject_id: str) -> FollowedSubject:
        """What the processor read before issue 16: every topic, no statements."""
        raw: list[LogRecord] = subject_raw_records(ledger, subject_id)
        return FollowedSubject(raw, [record_reader(ledger.registry)(r) for r in raw], [])

    processor._follow = as_before  # type: ignore[method-assign]
    intake = ledger.intake()
    request = {
        "type": "ErasureRequested",
        "subject_id": subject,
        "controller": CONTROLLER,
        "occurred_at": ledger.clock().isoformat(),
        "scope": {"kind": "subject"},
        "reason": "request",
    }
    intake.append([intake.prepare(request)])
    (outcome,) = processor.process_pending()
    assert outcome.certificate is not None and "subject_partitions" not in outcome.certificate
    result = verify_erasure(ledger.log, ledger.registry, ledger.topics, ledger.keys, subject)
    assert result.ok and result.method == FULL_SCAN and result.partitions_certified == 0
