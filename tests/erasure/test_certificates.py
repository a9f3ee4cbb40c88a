"""The erasure register is tamper-evident: every certificate is signed and chained, and
`pdl certificates verify` names any certificate that was changed, forged or removed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.contract.base import new_event_id
from ledger.contract.positions import LogPosition
from ledger.erasure.chain import StoredCertificate, read_register, verify_register
from ledger.erasure.signing import load_public_key, public_key_id
from ledger.log.base import OutgoingRecord
from ledger.service.backends import Backends
from ledger.service.settings import Settings
from tests.conftest import LedgerFactory
from tests.erasure.helpers import informatique70_customer, pdl, request_erasure


def three_certificates(ledger: Backends) -> list[StoredCertificate]:
    first = informatique70_customer(ledger)
    second = informatique70_customer(ledger)
    request_erasure(ledger, first.subject_id, {"kind": "purpose", "purpose": "newsletter"})
    request_erasure(ledger, second.subject_id)
    request_erasure(ledger, first.subject_id, {"kind": "category", "category": "voice_recording"})
    stored = read_register(ledger.log, ledger.registry, ledger.topics)
    assert sorted(json.loads(s.text or "")["sequence"] for s in stored) == [1, 2, 3]
    return stored


def own_keys(ledger: Backends) -> dict[str, Ed25519PublicKey]:
    public = load_public_key(ledger.layout.signing_key)
    assert public is not None
    return {public_key_id(public): public}


def test_changing_any_byte_of_any_certificate_is_detected_and_named(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    stored = three_certificates(ledger)
    keys = own_keys(ledger)
    assert verify_register(stored, keys).ok
    for index, item in enumerate(stored):
        text = (item.text or "").encode()
        for at in range(len(text)):
            changed = text[:at] + bytes([text[at] ^ 0x01]) + text[at + 1 :]
            forged = StoredCertificate(**{**item.__dict__, "text": changed.decode()})
            report = verify_register([*stored[:index], forged, *stored[index + 1 :]], keys)
            assert not report.ok, f"byte {at} of {item.position} changed unnoticed"
            assert f"at {item.position})" in report.problems[0], report.problems


def test_verify_names_a_certificate_altered_in_the_embedded_log_file(tmp_path: Path) -> None:
    # its log file is what is altered
    ledger = Backends(Settings.from_environment(None, tmp_path / "data"))
    stored = three_certificates(ledger)
    ledger.close()
    assert pdl("certificates", "verify").returncode == 0
    db = sqlite3.connect(tmp_path / "data" / "log.sqlite")
    for item in stored:
        held = LogPosition.parse(item.position)
        where = (held.topic, held.partition, held.offset)
        (value,) = db.execute(
            "SELECT value FROM records WHERE topic = ? AND partition = ? AND offset = ?", where
        ).fetchone()
        start = bytes(value).index((item.text or "").encode())
        for at in (start + 2, start + len(item.text or "") // 2, start + len(item.text or "") - 3):
            changed = bytes(value[:at]) + bytes([value[at] ^ 0x01]) + bytes(value[at + 1 :])
            with db:
                db.execute(
                    "UPDATE records SET value = ? WHERE topic = ? AND partition = ? AND offset = ?",
                    (changed, *where),
                )
            result = pdl("certificates", "verify")
            assert result.returncode == 1, f"byte {at} of {item.position} changed unnoticed"
            assert f"at {item.position})" in result.stderr and "NOT intact" in result.stderr
        with db:
            db.execute(
                "UPDATE records SET value = ? WHERE topic = ? AND partition = ? AND offset = ?",
                (value, *where),
            )
    db.close()
    assert pdl("certificates", "verify").returncode == 0


def test_a_forged_copy_appended_to_the_log_is_named(
    make_ledger: LedgerFactory, log_url: str | None
) -> None:
    ledger = make_ledger()
    stored = three_certificates(ledger)
    victim = stored[1]
    raw = next(
        r
        for r in ledger.log.scan([LogPosition.parse(victim.position).topic])
        if str(LogPosition.of(r)) == victim.position
    )
    _, fields = ledger.registry.decode(raw.value)
    text = fields["certificate"]
    forged_text = text.replace('"reason":"request"', '"reason":"requess"')
    assert forged_text != text
    forged = {**fields, "event_id": new_event_id(), "certificate": forged_text}
    value = ledger.registry.encode("DataErased", forged)
    ledger.log.append([OutgoingRecord(raw.topic, raw.key, value)])
    ledger.close()
    result = pdl("certificates", "verify", log_url=log_url)
    assert result.returncode == 1
    assert "signature does not verify" in result.stderr
    assert f"certificate #{json.loads(text)['sequence']} appears more than once" in result.stderr


def test_verify_with_an_exported_public_key_and_refuse_a_stranger(
    make_ledger: LedgerFactory, log_url: str | None, tmp_path: Path
) -> None:
    ledger = make_ledger()
    three_certificates(ledger)
    ledger.close()
    exported = pdl("certificates", "public-key", log_url=log_url)
    assert exported.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    pem = tmp_path / "ledger.pem"
    pem.write_text(exported.stdout)
    ok = pdl("certificates", "verify", "--public-key", str(pem), log_url=log_url)
    assert ok.returncode == 0, ok.stderr
    assert "3 certificate(s), signatures and chain intact; head #3" in ok.stdout
    stranger = tmp_path / "stranger"
    assert pdl("--data-dir", str(stranger), "certificates", "public-key").returncode == 0
    other = tmp_path / "other.pem"
    other.write_text(pdl("--data-dir", str(stranger), "certificates", "public-key").stdout)
    refused = pdl("certificates", "verify", "--public-key", str(other), log_url=log_url)
    assert refused.returncode == 1 and "signed by unknown key" in refused.stderr


def test_signing_key_is_wrapped_never_plaintext(make_ledger: LedgerFactory, tmp_path: Path) -> None:
    ledger = make_ledger()
    three_certificates(ledger)
    private = ledger.signing_key
    raw = private.private.private_bytes_raw()
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert raw not in path.read_bytes(), f"private signing key in clear in {path}"
    assert (tmp_path / "data" / "signing.key").stat().st_mode & 0o077 == 0
