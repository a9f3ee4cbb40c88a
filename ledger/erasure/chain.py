"""The erasure register: every ``DataErased`` on the log, its signature and the chain.

``read_register`` scans the raw erasure topic (no projection involved);
``verify_register`` is pure: it checks each certificate's form, signature and agreement
with its event, then the hash chain, and names every certificate that fails.

A chain shows a certificate removed from its middle, not one removed from its end: the
register's head (``register_head``: the last certificate's SHA-256 and the count), noted
elsewhere (a regulator's copy of a report, an operator's log) and passed back as
``expect_head``/``expect_count``, shows that too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.contract.canonical import certificate_text
from ledger.contract.certificate_chain import GENESIS, certificate_sha256
from ledger.contract.positions import LogPosition
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry, UndecodableMessage
from ledger.erasure.certificate import FORMAT, Certificate, signed_part
from ledger.erasure.signing import signature_valid
from ledger.keys.store import KeyStore, ShreddedKey
from ledger.log.base import EventLog


@dataclass(frozen=True)
class StoredCertificate:
    """A ``DataErased`` as the log holds it, or the reason its record cannot be read."""

    position: str
    event_id: str | None = None
    subject_id: str | None = None
    request_event_id: str | None = None
    scope: str | None = None
    keys_destroyed: tuple[str, ...] = ()
    text: str | None = None
    problem: str | None = None
    #: the event's valid time: reports at an instant count the certificates valid by it
    occurred_at: str | None = None

    def document(self) -> Certificate | None:
        try:
            doc = json.loads(self.text or "")
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class RegisterHead:
    """The end of the register: its last certificate's SHA-256 (``GENESIS`` when there is
    none) and how many certificates it holds."""

    sha256: str = GENESIS
    count: int = 0

    def as_json(self) -> dict[str, object]:
        return {"head_sha256": self.sha256, "count": self.count}


def register_head(stored: list[StoredCertificate]) -> RegisterHead:
    """The head of the register as stored: the certificate with the highest sequence
    (signatures are not checked here: ``verify_register`` does that)."""
    last: tuple[int, str] | None = None
    count = 0
    for item in stored:
        doc = item.document()
        if item.text is None or doc is None or not isinstance(doc.get("sequence"), int):
            continue
        count += 1
        if last is None or doc["sequence"] > last[0]:
            last = (doc["sequence"], certificate_sha256(item.text))
    return RegisterHead(GENESIS if last is None else last[1], count)


@dataclass
class RegisterReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    head_sequence: int = 0
    head_sha256: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def read_register(
    log: EventLog, registry: SchemaRegistry, topics: Topics
) -> list[StoredCertificate]:
    """Every DataErased on the erasure topic, in log order. Any record of that topic that
    cannot be decoded is listed too: it may be a damaged certificate; and so are records
    deleted from the log (retention): certificates may be among them."""
    found = [
        StoredCertificate(
            f"{tp.topic}:{tp.partition}@0..{start - 1}",
            problem=f"{start} record(s) were deleted from the log (topic retention?): any "
            "certificate among them is lost — fix: restore the erasure topic from a backup",
        )
        for tp, start in sorted(log.start_offsets([topics.erasure]).items())
        if start > 0
    ]
    for record in log.scan([topics.erasure]):
        position = str(LogPosition.of(record))
        try:
            type_name, fields = registry.decode(record.value)
        except UndecodableMessage as exc:
            found.append(StoredCertificate(position, problem=f"record cannot be decoded ({exc})"))
            continue
        if type_name != "DataErased":
            continue
        scope = fields.get("scope") or {}
        label = scope.get("kind", "?")
        if scope.get("purpose") or scope.get("category"):
            label = f"{label}:{scope.get('purpose') or scope.get('category')}"
        found.append(
            StoredCertificate(
                position,
                str(fields.get("event_id")),
                str(fields.get("subject_id")),
                fields.get("request_event_id"),
                label,
                tuple(fields.get("keys_destroyed") or ()),
                fields.get("certificate"),
                occurred_at=_instant_text(fields.get("occurred_at")),
            )
        )
    return found


def name_of(stored: StoredCertificate, doc: Certificate | None) -> str:
    sequence = f"#{doc.get('sequence')} " if doc else ""
    event = f"DataErased {stored.event_id} " if stored.event_id else "record "
    return f"certificate {sequence}({event}at {stored.position})"


def verify_register(
    stored: list[StoredCertificate],
    public_keys: Mapping[str, Ed25519PublicKey],
    expect_head: str | None = None,
    expect_count: int | None = None,
) -> RegisterReport:
    """Check every certificate and the chain; each problem names the certificate. With
    ``expect_head``/``expect_count`` (a head noted earlier), a register that no longer
    reaches that head — its tail removed — is a problem too."""
    report = RegisterReport(checked=len(stored))
    by_sequence: dict[int, list[tuple[StoredCertificate, Certificate]]] = {}
    for item in stored:
        doc = item.document()
        problem = item.problem or _certificate_problem(item, doc, public_keys)
        if problem:
            report.problems.append(f"{name_of(item, doc)}: {problem}")
            if doc is None or not isinstance(doc.get("sequence"), int):
                continue
        assert doc is not None
        by_sequence.setdefault(doc["sequence"], []).append((item, doc))
    _check_chain(by_sequence, report)
    _check_expected_head(stored, by_sequence, report, expect_head, expect_count)
    return report


def _check_expected_head(
    stored: list[StoredCertificate],
    by_sequence: dict[int, list[tuple[StoredCertificate, Certificate]]],
    report: RegisterReport,
    expect_head: str | None,
    expect_count: int | None,
) -> None:
    head = register_head(stored)
    if expect_count is not None and head.count < expect_count:
        report.problems.append(
            f"the register holds {head.count} certificate(s), fewer than the {expect_count} "
            "expected: certificates were removed from its end — fix: restore the erasure "
            "topic from a backup"
        )
    if expect_head is None or expect_head == GENESIS:
        return
    texts = {certificate_sha256(item.text or "") for e in by_sequence.values() for item, _ in e}
    if expect_head not in texts:
        report.problems.append(
            f"the expected head {expect_head} is not in the register (its head is now "
            f"{head.sha256}, {head.count} certificate(s)): the certificate it names, and "
            "any after it, were removed or altered — fix: restore the erasure topic from a "
            "backup"
        )


def _certificate_problem(
    item: StoredCertificate, doc: Certificate | None, public_keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    if item.text is None:
        return "carries no certificate (DataErased is written only by the erasure processor)"
    if doc is None:
        return "certificate is not a JSON object"
    if certificate_text(doc) != item.text:
        return "certificate text is not in canonical form (altered after signing)"
    if doc.get("format") != FORMAT:
        return f"unknown certificate format {doc.get('format')!r}"
    signer = doc.get("signer") or {}
    public = public_keys.get(str(signer.get("key_id")))
    if public is None:
        return f"signed by unknown key {signer.get('key_id')!r} — fix: pass its --public-key"
    try:
        signature = base64.b64decode(str(doc.get("signature")), validate=True)
    except (ValueError, binascii.Error):
        return "signature is not base64"
    if not signature_valid(public, signature, signed_part(doc)):
        return "signature does not verify: the certificate was altered"
    return _disagreement(item, doc)


def _disagreement(item: StoredCertificate, doc: Certificate) -> str | None:
    erased: dict[str, Any] = doc.get("erased") or {}
    keys = tuple(sorted(k.get("key_id") for k in erased.get("keys_destroyed", [])))
    checks = (
        ("event_id", doc.get("certificate_id"), item.event_id),
        ("subject_id", doc.get("subject_id"), item.subject_id),
        ("request_event_id", (doc.get("request") or {}).get("event_id"), item.request_event_id),
        ("scope", doc.get("scope"), item.scope),
        ("keys_destroyed", keys, tuple(sorted(item.keys_destroyed))),
    )
    for name, signed, carried in checks:
        if signed != carried:
            return f"the event's {name} differs from the signed certificate's"
    erased_at = _instant_text(doc.get("erased_at"))
    if item.occurred_at is not None and erased_at != item.occurred_at:
        # a report at an instant counts certificates by the event's time: both must say
        # when the keys were destroyed, or a report and this check disagree
        return "the event's occurred_at differs from the signed certificate's erased_at"
    return None


def _instant_text(value: object) -> str | None:
    """An instant as UTC ISO text, to compare the event's time with the certificate's."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat()
    except ValueError:
        return None


def _check_chain(
    by_sequence: dict[int, list[tuple[StoredCertificate, Certificate]]], report: RegisterReport
) -> None:
    previous_sha, previous_erased_at = GENESIS, ""
    for sequence in range(1, max(by_sequence, default=0) + 1):
        entries = by_sequence.get(sequence, [])
        if not entries:
            report.problems.append(
                f"certificate #{sequence} is missing from the log: the chain has a gap"
            )
            previous_sha = ""
            continue
        if len(entries) > 1:
            names = ", ".join(name_of(s, d) for s, d in entries)
            report.problems.append(f"certificate #{sequence} appears more than once: {names}")
        item, doc = entries[0]
        if previous_sha and doc.get("previous_sha256") != previous_sha:
            report.problems.append(
                f"{name_of(item, doc)}: previous_sha256 does not match certificate "
                f"#{sequence - 1}: the chain is broken before it"
            )
        previous_sha = certificate_sha256(item.text or "")
        report.head_sequence, report.head_sha256 = sequence, previous_sha
        erased_at = _instant_text(doc.get("erased_at"))
        if erased_at and previous_erased_at and erased_at < previous_erased_at:
            report.problems.append(
                f"{name_of(item, doc)}: erased_at {doc.get('erased_at')} is earlier than "
                f"certificate #{sequence - 1}'s: certificates dated out of order make a "
                "register at an instant between them show a gap"
            )
        previous_erased_at = erased_at or previous_erased_at
    extra = sorted(s for s in by_sequence if s < 1)
    if extra:
        report.problems.append(f"certificates with invalid sequence numbers: {extra}")


def reapply(stored: list[StoredCertificate], keys: KeyStore) -> list[ShreddedKey]:
    """After a key-store backup was restored: destroy again every key the (verified)
    register says was destroyed, and fence again every subject fully erased. Returns the
    keys that had come back."""
    again: list[ShreddedKey] = []
    for item in stored:
        doc = item.document() or {}
        erased: dict[str, Any] = doc.get("erased") or {}
        subject = str(doc.get("subject_id"))
        if erased.get("subject_fenced"):
            if keys.keys_of(subject) or not keys.is_erased_subject(subject):
                again += keys.shred(subject, fence=True)  # the identifier mapping too
            continue
        for key in erased.get("keys_destroyed", []):
            if keys.key_by_id(str(key["key_id"])) is not None:
                again += keys.shred(subject, {str(key["retention_class"])})
    return again
