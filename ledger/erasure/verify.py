"""``pdl verify-erasure``: prove from the raw topics that erased data cannot be read.

Independent of the projections: the erased scope is what the subject's ``DataErased``
events on the log say was destroyed (key ids), the subject's records are found by their
key on every event topic, personal fields by the schemas' ``pdl.personal`` marks, and
each field in scope is tried against the key its header names *and* every key the
store still holds for the subject. One that opens is a failure.

Records deleted from the log (topic retention) are named apart: a subject with no
``DataErased`` on an erasure topic that lost records may have had its certificate
deleted, which is not the same as never having been erased.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.contract.sealed import field_ad
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry
from ledger.erasure.chain import read_register
from ledger.erasure.records import SealedField, SubjectRecord, subject_records
from ledger.keys.sealing import opens_with
from ledger.keys.store import DataKey, KeyStore
from ledger.log.base import EventLog


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
    fenced: bool = False
    keys_held: list[str] = field(default_factory=list)
    #: spans of records deleted from the log (``topic[partition] offsets a..b``)
    lost: list[str] = field(default_factory=list)
    #: whether the erasure topic is among them: certificates may have gone too
    lost_certificates: bool = False

    @property
    def ok(self) -> bool:
        return self.certificates > 0 and not self.readable_in_scope and not self.undecodable

    def summary(self) -> str:
        verdict = "OK: no field in the erased scope can be decrypted" if self.ok else "FAILED"
        lines = [
            f"verify-erasure {self.subject_id}: {verdict}",
            f"  certificates (DataErased on the log)  {self.certificates}",
            f"  records checked                       {self.records}",
            f"  personal fields checked               {self.fields}",
            f"  fields in the erased scope            {self.in_scope}",
            f"  readable in the erased scope          {len(self.readable_in_scope)}",
            f"  retained under hold (readable)        {self.retained_under_hold}",
            f"  readable outside any erased scope     {self.readable_elsewhere}",
            f"  subject id fenced                     {'yes' if self.fenced else 'no'}",
            f"  keys still held                       {', '.join(self.keys_held) or 'none'}",
        ]
        lines += [f"  READABLE: {where}" for where in self.readable_in_scope]
        lines += [f"  NOT CHECKED (undecodable): {where}" for where in self.undecodable]
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
    log: EventLog, registry: SchemaRegistry, topics: Topics, keys: KeyStore, subject_id: str
) -> ErasureVerification:
    result = ErasureVerification(subject_id, fenced=keys.is_erased_subject(subject_id))
    for tp, start in sorted(log.start_offsets({*topics.event_topics(), topics.erasure}).items()):
        if start > 0:
            result.lost.append(f"{tp.topic}[{tp.partition}] offsets 0..{start - 1}")
            result.lost_certificates |= tp.topic == topics.erasure
    destroyed: set[str] = set()
    retained_classes: set[str] = set()
    for stored in read_register(log, registry, topics):
        if stored.subject_id != subject_id:
            continue
        result.certificates += 1
        destroyed |= set(stored.keys_destroyed)
        doc = stored.document() or {}
        destroyed |= {k["key_id"] for k in (doc.get("erased") or {}).get("keys_destroyed", [])}
        retained_classes |= {r["retention_class"] for r in doc.get("retained", [])}
    held = keys.keys_of(subject_id)
    result.keys_held = sorted(k.retention_class for k in held)
    for record in subject_records(log, registry, topics, [subject_id])[subject_id]:
        result.records += 1
        if record.problem:
            result.undecodable.append(f"{record.position}: {record.problem}")
        for sealed in record.fields:
            _check_field(result, record, sealed, keys, held, destroyed, retained_classes)
    return result


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
