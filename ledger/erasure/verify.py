"""``pdl verify-erasure``: prove from the raw topics that erased data cannot be read.

Independent of the projections: the erased scope is what the subject's ``DataErased``
events on the log say was destroyed (key ids), the subject's records are found by their
key on every event topic, personal fields by the schemas' ``pdl.personal`` marks, and
each field in scope is tried against the key its header names *and* every key the
store still holds for the subject. One that opens is a failure, and so is any personal
field of the subject that is no sealed value at all (plaintext appended around the
ledger, or damage): it may be readable in clear, and no shredding can erase it.

The certificates' claims are not taken on trust: a certificate of a full erasure
(subject fenced, or the subject's scope with nothing retained) fails if the store still
holds any key of the subject or any of its fields still opens, whatever key ids it
lists; a certificate saying the subject was fenced, or its identifier mapping
destroyed, fails if the key store says otherwise.

Records deleted from the log (topic retention) are named apart: a subject with no
``DataErased`` on an erasure topic that lost records may have had its certificate
deleted, which is not the same as never having been erased.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ledger.contract.sealed import field_ad
from ledger.contract.topics import Topics
from ledger.contract.vocabulary import ScopeKind
from ledger.contract.wire import SchemaRegistry
from ledger.erasure.chain import read_register
from ledger.erasure.following import SubjectPartition, follow_subject
from ledger.erasure.records import SealedField, SubjectRecord, record_reader
from ledger.keys.sealing import opens_with
from ledger.keys.store import DataKey, KeyStore
from ledger.log.base import EventLog, LogRecord, TopicPartition

FULL_SCAN = "full scan of every event topic"
FOLLOWED = "the subject's partitions, from the certificates' first positions"


@dataclass
class ErasureVerification:
    subject_id: str
    certificates: int = 0
    records: int = 0
    fields: int = 0
    in_scope: int = 0
    readable_in_scope: list[str] = field(default_factory=list)
    retained_under_hold: int = 0
    readable_elsewhere: int = 0
    undecodable: list[str] = field(default_factory=list)
    #: personal fields that are no pdl-aead-v1 sealed value: possibly plaintext
    malformed: list[str] = field(default_factory=list)
    fenced: bool = False
    keys_held: list[str] = field(default_factory=list)
    #: spans of records deleted from the log (``topic[partition] offsets a..b``)
    lost: list[str] = field(default_factory=list)
    #: whether the erasure topic is among them: certificates may have gone too
    lost_certificates: bool = False
    #: a certificate's claim the key store contradicts (keys held, not fenced, mapped)
    contradicted: list[str] = field(default_factory=list)
    #: how the subject's records were found: ``followed`` (its partitions, from the
    #: certificates' first positions) or ``full scan`` (every event topic from its start)
    method: str = FULL_SCAN
    #: partitions whose records the certificates count and hash
    partitions_certified: int = 0
    #: a partition where the log's records differ from what a certificate counts/hashes
    differs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.certificates > 0
            and not self.readable_in_scope
            and not self.undecodable
            and not self.malformed
            and not self.contradicted
            and not self.differs
        )

    def summary(self) -> str:
        verdict = "OK: no field in the erased scope can be decrypted" if self.ok else "FAILED"
        lines = [
            f"verify-erasure {self.subject_id}: {verdict}",
            f"  certificates (DataErased on the log)  {self.certificates}",
            f"  records found by                      {self.method}",
            f"  partitions counted and hashed         {self.partitions_certified}"
            + ("" if self.partitions_certified else " (certificate without them)"),
            f"  records checked                       {self.records}",
            f"  personal fields checked               {self.fields}",
            f"  fields in the erased scope            {self.in_scope}",
            f"  readable in the erased scope          {len(self.readable_in_scope)}",
            f"  retained under hold (readable)        {self.retained_under_hold}",
            f"  readable outside any erased scope     {self.readable_elsewhere}",
            f"  not sealed (plaintext or malformed)   {len(self.malformed)}",
            f"  subject id fenced                     {'yes' if self.fenced else 'no'}",
            f"  keys still held                       {', '.join(self.keys_held) or 'none'}",
        ]
        lines += [f"  READABLE: {where}" for where in self.readable_in_scope]
        lines += [f"  NOT CHECKED (undecodable): {where}" for where in self.undecodable]
        lines += [
            f"  NOT SEALED (may be readable in clear; erasing keys cannot erase it): {where}"
            for where in self.malformed
        ]
        lines += [f"  CONTRADICTED: {claim}" for claim in self.contradicted]
        lines += [
            f"  DIFFERS FROM THE CERTIFICATE: {what} — fix: run `pdl verify-erasure "
            "--full-scan`, and restore the topic from a backup if records were lost"
            for what in self.differs
        ]
        lines += [f"  LOST FROM THE LOG (deleted, not checked): {span}" for span in self.lost]
        if not self.certificates and self.lost_certificates:
            lines.append(
                "  no DataErased found, but the log lost records of the erasure topic: this "
                "subject's certificate may have been deleted with them — fix: restore the "
                "erasure topic from a backup and verify again"
            )
        elif not self.certificates:
            lines.append("  no DataErased for this subject — fix: erase first (`pdl erase`)")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {**self.__dict__, "ok": self.ok}


def verify_erasure(
    log: EventLog,
    registry: SchemaRegistry,
    topics: Topics,
    keys: KeyStore,
    subject_id: str,
    full_scan: bool = False,
) -> ErasureVerification:
    """``full_scan``: read every event topic from its start (an audit assuming nothing),
    also done when a certificate predates ``subject_partitions``."""
    result = ErasureVerification(subject_id, fenced=keys.is_erased_subject(subject_id))
    for tp, start in sorted(log.start_offsets({*topics.event_topics(), topics.erasure}).items()):
        if start > 0:
            result.lost.append(f"{tp.topic}[{tp.partition}] offsets 0..{start - 1}")
            result.lost_certificates |= tp.topic == topics.erasure
    destroyed: set[str] = set()
    retained_classes: set[str] = set()
    total = False
    stated: list[SubjectPartition] = []
    for stored in read_register(log, registry, topics):
        if stored.subject_id != subject_id:
            continue
        result.certificates += 1
        destroyed |= set(stored.keys_destroyed)
        doc = stored.document() or {}
        erased = doc.get("erased") or {}
        destroyed |= {k["key_id"] for k in erased.get("keys_destroyed", [])}
        retained_classes |= {r["retention_class"] for r in doc.get("retained", [])}
        total |= _total(doc)
        parts = [SubjectPartition.from_json(p) for p in doc.get("subject_partitions") or []]
        full_scan |= not parts  # a certificate from before them: nothing to follow
        stated += parts
        result.contradicted += _contradicted(stored.position, erased, keys, subject_id)
    held = keys.keys_of(subject_id)
    result.keys_held = sorted(k.retention_class for k in held)
    if total and held:
        result.contradicted.append(
            f"the subject was fully erased, yet the key store holds its key(s) for "
            f"{', '.join(result.keys_held)} — fix: `pdl certificates reapply`"
        )
    raw, records = _subject_records(log, registry, topics, subject_id, stated, full_scan)
    result.method = FULL_SCAN if full_scan else FOLLOWED
    result.partitions_certified = len(stated)
    result.differs = [d for p in stated if (d := p.differences(raw))]
    for record in records:
        result.records += 1
        if record.problem:
            result.undecodable.append(f"{record.position}: {record.problem}")
        for sealed in record.fields:
            _check_field(result, record, sealed, keys, held, destroyed, retained_classes)
    if total and (result.readable_elsewhere or result.retained_under_hold):
        opened = result.readable_elsewhere + result.retained_under_hold
        result.contradicted.append(
            f"the subject was fully erased, yet {opened} of its field(s) still open"
        )
    return result


def _subject_records(
    log: EventLog,
    registry: SchemaRegistry,
    topics: Topics,
    subject_id: str,
    stated: list[SubjectPartition],
    full_scan: bool,
) -> tuple[list[LogRecord], list[SubjectRecord]]:
    """The subject's raw records and what they say: on the certificates' partitions from
    their lowest first position, or (``full_scan``) on every event topic."""
    if full_scan:
        key = subject_id.encode()
        raw = [r for r in log.scan(topics.event_topics()) if r.key == key]
        return raw, [record_reader(registry)(r) for r in raw]
    firsts: dict[TopicPartition, int] = {}
    for part in stated:
        firsts[part.tp] = min(part.first_offset, firsts.get(part.tp, part.first_offset))
    followed = follow_subject(log, registry, subject_id, firsts)
    return followed.raw, followed.records


def _total(doc: Mapping[str, Any]) -> bool:
    """Whether a certificate says the subject was erased entirely: fenced, or its
    whole scope erased with nothing retained under a hold."""
    erased = doc.get("erased") or {}
    return bool(erased.get("subject_fenced")) or (
        doc.get("scope") == ScopeKind.subject.value and not doc.get("retained")
    )


def _contradicted(
    position: str, erased: Mapping[str, Any], keys: KeyStore, subject_id: str
) -> list[str]:
    """The certificate's claims about the key store that the store denies."""
    found = []
    if erased.get("subject_fenced") and not keys.is_erased_subject(subject_id):
        found.append(
            f"the certificate at {position} says the subject was fenced; the key store has "
            "no fence for it — fix: `pdl certificates reapply`"
        )
    if erased.get("identity_mapping_destroyed") and keys.has_identity(subject_id):
        found.append(
            f"the certificate at {position} says the identifier mapping was destroyed; the "
            "key store still maps an identifier to the subject — fix: `pdl certificates "
            "reapply`"
        )
    return found


def _check_field(
    result: ErasureVerification,
    record: SubjectRecord,
    sealed: SealedField,
    keys: KeyStore,
    held: list[DataKey],
    destroyed: set[str],
    retained_classes: set[str],
) -> None:
    result.fields += 1
    if sealed.key_id is None:
        result.malformed.append(f"{record.position} {sealed.path}")
        return
    ad = field_ad(result.subject_id, record.event_id, sealed.path)
    named = keys.key_by_id(sealed.key_id) if sealed.key_id else None
    candidates = [named, *held] if named else held
    readable = any(opens_with(sealed.sealed, key, ad) for key in candidates)
    if sealed.key_id in destroyed:
        result.in_scope += 1
        if readable:
            result.readable_in_scope.append(f"{record.position} {sealed.path}")
    elif readable and named is not None and named.retention_class in retained_classes:
        result.retained_under_hold += 1
    elif readable:
        result.readable_elsewhere += 1
