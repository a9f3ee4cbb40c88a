"""A register whose tail cannot vanish (issue 14): the head (last certificate's SHA-256
and the count) is printed and carried by every report, and checked against a head
noted earlier; certificates are verified against a pinned public key, so a key replaced
in the data directory signs nothing that verifies."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.contract.positions import LogPosition
from ledger.erasure.chain import StoredCertificate, read_register
from ledger.service.backends import Backends
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, pdl, request_erasure
from tests.reports.support import report
from tests.scenario import canary, collected, consent, lines


def erased_subject(ledger: Backends) -> str:
    email = canary("email") + "@example.fr"
    submit_lines(ledger.intake(), lines(collected(email, email), consent(email)))
    subject = ledger.keys.subject_for(email, CONTROLLER)
    assert subject is not None
    (outcome,) = request_erasure(ledger, subject)
    assert outcome.certificate is not None
    return subject


def newest(ledger: Backends) -> StoredCertificate:
    """The certificate with the highest sequence (log order is per partition)."""
    stored = read_register(ledger.log, ledger.registry, ledger.topics)
    return max(stored, key=lambda s: int((s.document() or {})["sequence"]))


def head() -> dict[str, object]:
    printed = pdl("certificates", "head", "--json")
    assert printed.returncode == 0, printed.stderr
    found: dict[str, object] = json.loads(printed.stdout)
    return found


# the last certificate is removed from the embedded log's file: a deletion on Kafka is
# tests/resilience/test_deleted_records.py's case
@pytest.mark.parametrize("log_url", [None])
def test_removing_the_last_certificate_fails_verification_against_the_noted_head(
    make_ledger: LedgerFactory, tmp_path: Path
) -> None:
    ledger = make_ledger()
    erased_subject(ledger)
    erased_subject(ledger)
    noted = head()
    assert noted["count"] == 2
    assert report(ledger, "erasure")["register_head"] == noted  # every report carries it
    expect = ["--expect-head", str(noted["head_sha256"]), "--expect-count", "2"]
    assert pdl("certificates", "verify", *expect).returncode == 0

    last = newest(ledger)
    at = LogPosition.parse(last.position)
    ledger.close()
    with sqlite3.connect(tmp_path / "data" / "log.sqlite") as db:
        db.execute(
            "DELETE FROM records WHERE topic = ? AND partition = ? AND offset = ?",
            (at.topic, at.partition, at.offset),
        )
    db.close()

    assert pdl("certificates", "verify").returncode == 0  # the chain alone cannot tell
    result = pdl("certificates", "verify", *expect)
    assert result.returncode == 1
    assert "fewer than the 2 expected" in result.stderr
    assert f"expected head {noted['head_sha256']} is not in the register" in result.stderr
    now = head()
    assert now["count"] == 1 and now["head_sha256"] != noted["head_sha256"]
    shown = report(make_ledger(), "ropa")["register_head"]
    assert shown == now  # a report made now shows the shorter register


def test_a_certificate_signed_by_a_replaced_key_fails_against_the_pinned_key(
    make_ledger: LedgerFactory, log_url: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = make_ledger()
    erased_subject(ledger)
    pinned = tmp_path / "ledger-signing.pem"
    exported = pdl("certificates", "public-key", log_url=log_url)
    assert exported.returncode == 0, exported.stderr
    pinned.write_text(exported.stdout)
    ledger.close()

    # an attacker with the data directory (and the master key beside it) replaces the key
    (tmp_path / "data" / "signing.key").unlink()
    forger = make_ledger()
    erased_subject(forger)  # a new certificate, signed by the new key, chained correctly
    forged = newest(forger)
    forger.close()

    unpinned = pdl("certificates", "verify", log_url=log_url)
    assert "no public key is pinned" in unpinned.stderr

    monkeypatch.setenv("PDL_PINNED_PUBLIC_KEY_FILE", str(pinned))
    result = pdl("certificates", "verify", log_url=log_url)
    assert result.returncode == 1
    assert f"at {forged.position}): signed by unknown key" in result.stderr
    assert "no public key is pinned" not in result.stderr
    register = report(make_ledger(), "erasure", at=datetime.now(UTC))["register"]
    assert register["public_key_pinned"] is True and register["intact"] is False
