"""After shredding: a replay from offset 0 shows the erased fields as erased and never
crashes; the verifier fails when a field it was told is erased still opens, as after a
key-store backup is restored, until `pdl certificates reapply` destroys them again."""

from __future__ import annotations

import shutil
from pathlib import Path

from consumers.runner import ProjectionConsumer
from consumers.sqlite_store import SQLiteProjectionStore
from ledger.contract.base import new_event_id
from ledger.log.base import OutgoingRecord
from ledger.service.submission import submit_lines
from ledger.service.views import ERASED, disclose_subject
from projections.installed import all_projections
from projections.subject_state import SubjectStateProjection
from tests.conftest import LedgerFactory, per_test_topics
from tests.erasure.helpers import CONTROLLER, informatique70_customer, pdl, request_erasure
from tests.scenario import canary, collected, consent, lines


def test_a_rebuild_from_offset_zero_after_shredding_shows_erased(
    make_ledger: LedgerFactory, tmp_path: Path
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    request_erasure(ledger, customer.subject_id, {"kind": "purpose", "purpose": "call-recording"})
    request_erasure(ledger, customer.subject_id, {"kind": "category", "category": "contact"})
    fresh = SQLiteProjectionStore(tmp_path / "rebuilt.sqlite")
    progress = ProjectionConsumer(
        ledger.log,
        fresh,
        ledger.registry,
        all_projections(),
        ledger.topics,
        group="rebuild-after-shredding",
    ).catch_up()
    assert progress.dead_letters == 0 and progress.applied >= 9
    projection = SubjectStateProjection()
    text = fresh.state(projection.name, customer.subject_id)
    assert text is not None
    view = disclose_subject(projection.load(text), ledger.keys)
    shown = {v["field"]: v["value"] for v in view["values"]}
    assert shown["call_recording"] == shown["email"] == shown["first_name"] == ERASED
    assert shown["invoice"] == customer.by_label["invoice"]
    assert [e["done"] for e in view["erasures"]].count(True) == 2
    fresh.close()


def test_verify_erasure_fails_when_a_field_in_scope_still_opens(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    subject = customer.subject_id
    assert pdl("verify-erasure", subject, log_url=log_url).returncode == 1  # nothing erased yet
    (accounting,) = [k for k in ledger.keys.keys_of(subject) if k.retention_class == "accounting"]
    # a DataErased claiming the invoices' key is gone, though the store still holds it
    claim = {
        "event_id": new_event_id(),
        "subject_id": subject,
        "controller": CONTROLLER,
        "processor": None,
        "occurred_at": ledger.clock(),
        "scope": {"kind": "purpose", "purpose": "accounting", "category": None},
        "reason": "request",
        "request_event_id": None,
        "keys_destroyed": [accounting.key_id],
        "certificate": None,
    }
    value = ledger.registry.encode("DataErased", claim)
    ledger.log.append([OutgoingRecord(per_test_topics().of("erasure"), subject.encode(), value)])
    ledger.close()
    result = pdl("verify-erasure", subject, log_url=log_url)
    assert result.returncode == 1
    assert "readable in the erased scope          2" in result.stdout
    assert "READABLE: " in result.stdout and "values[0].value" in result.stdout
    assert customer.by_label["invoice"] not in result.stdout + result.stderr
    certificates = pdl("certificates", "verify", log_url=log_url)
    assert certificates.returncode == 1 and "carries no certificate" in certificates.stderr


def test_a_restored_key_store_backup_is_caught_and_shredded_again(
    make_ledger: LedgerFactory, log_url: str | None, tmp_path: Path
) -> None:
    ledger = make_ledger()
    customer = informatique70_customer(ledger)
    email = canary("email") + "@example.fr"
    submit_lines(ledger.intake(), lines(collected(email, email), consent(email)))
    gone = ledger.keys.subject_for(email, CONTROLLER)
    assert gone is not None
    ledger.close()  # the last connection folds the WAL into keys.sqlite
    data = tmp_path / "data"
    backup = tmp_path / "keys.backup.sqlite"
    shutil.copy(data / "keys.sqlite", backup)  # a backup taken before the erasures
    for subject in (customer.email, email):
        assert pdl("erase", subject, "--reason", "request", log_url=log_url).returncode == 0
    assert pdl("verify-erasure", customer.subject_id, log_url=log_url).returncode == 0

    for path in data.glob("keys.sqlite*"):
        path.unlink()
    shutil.copy(backup, data / "keys.sqlite")  # the restore brings the old keys back
    restored = pdl("verify-erasure", customer.subject_id, log_url=log_url)
    assert restored.returncode == 1 and "readable in the erased scope          4" in restored.stdout
    assert pdl("state", email, "--json", log_url=log_url).returncode == 0  # mapping is back

    again = pdl("certificates", "reapply", log_url=log_url)
    assert again.returncode == 0, again.stderr
    assert "3 restored key(s) destroyed again" in again.stderr
    for subject in (customer.subject_id, gone):
        assert pdl("verify-erasure", subject, log_url=log_url).returncode == 0
    assert "no subject is known" in pdl("state", email, log_url=log_url).stderr
    assert (
        "fenced"
        in pdl(
            "hold",
            "place",
            gone,
            "--scope",
            "subject",
            "--reason",
            "x",
            "--controller",
            CONTROLLER,
            log_url=log_url,
        ).stderr
    )
