"""Following one subject on the log: its records read from its own partitions only, and
the count and hash that let a verifier prove it saw the records the erasure saw.

Records are keyed by subject id, so all of a subject's records on a topic live in one
partition (``EventLog.partition_for``). The erasure processor reads that partition from
the subject's *first position* (found with the projections' index, see
``consumers/subject_positions.py``) to the partition's end, keeps the records keyed by
the subject, and certifies per partition: the first offset, the end offset, how many
such records lie between, and a SHA-256 over them (``records_sha256``) — all computed
from the raw records, not from the index. ``pdl verify-erasure`` reads the same range of
the same partition and recomputes both, independently of the index and of the
projections; a record that appeared, vanished or changed in the range changes them.

What this does not cover: records of the subject *before* the first position. The first
position is the lowest of the subject's journal entries, of its dead-lettered records
and of the projections' checkpoint on that partition, so such a record would have to be
one the projections read and neither applied nor dead-lettered; ``verify-erasure
--full-scan`` reads every topic from its start for an audit that assumes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.contract.wire import SchemaRegistry
from ledger.erasure.records import SubjectRecord, record_reader
from ledger.log.base import EventLog, LogRecord, TopicPartition


@dataclass(frozen=True)
class SubjectPartition:
    """The subject's records on one partition, as a certificate states them: ``count``
    records keyed by the subject at offsets ``first_offset`` ≤ offset < ``end_offset``,
    whose ``records_sha256`` is ``records_sha256(...)`` over them in log order."""

    topic: str
    partition: int
    first_offset: int
    end_offset: int
    count: int
    records_sha256: str

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> SubjectPartition:
        return cls(
            str(doc["topic"]),
            int(doc["partition"]),
            int(doc["first_offset"]),
            int(doc["end_offset"]),
            int(doc["count"]),
            str(doc["records_sha256"]),
        )

    def differences(self, records: Iterable[LogRecord]) -> str | None:
        """What differs between this statement and the subject's raw ``records`` of the
        partition (any range: those outside this one are ignored); None if nothing."""
        inside = [
            r
            for r in records
            if (r.topic, r.partition) == (self.topic, self.partition)
            and self.first_offset <= r.offset < self.end_offset
        ]
        count, digest = len(inside), records_sha256(inside)
        if count == self.count and digest == self.records_sha256:
            return None
        span = f"{self.topic}[{self.partition}] offsets {self.first_offset}..{self.end_offset - 1}"
        if count != self.count:
            return (
                f"{span}: the certificate counts {self.count} record(s) of the subject, "
                f"the log holds {count}"
            )
        return (
            f"{span}: the subject's {count} record(s) there are not the ones certified "
            "(their SHA-256 differs)"
        )


def records_sha256(records: Iterable[LogRecord]) -> str:
    """SHA-256 over each record's offset (8 bytes), key and value (each preceded by its
    length in 4 bytes), big-endian, in the order given (log order)."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(record.offset.to_bytes(8, "big"))
        for part in (record.key, record.value):
            digest.update(len(part).to_bytes(4, "big"))
            digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class FollowedSubject:
    """What following a subject found: its records (raw and read) and the statements."""

    raw: list[LogRecord]
    records: list[SubjectRecord]
    partitions: list[SubjectPartition]


def follow_subject(
    log: EventLog,
    registry: SchemaRegistry,
    subject_id: str,
    firsts: Mapping[TopicPartition, int],
) -> FollowedSubject:
    """The subject's records on each partition of ``firsts``, from its first offset to
    the partition's end now, read from the raw log only."""
    key = subject_id.encode()
    read = record_reader(registry)
    raw: list[LogRecord] = []
    partitions = []
    named = sorted({tp.topic for tp in firsts})
    ends, starts = log.end_offsets(named), log.start_offsets(named)
    for tp, first in sorted(firsts.items()):
        end = max(ends.get(tp, 0), first)
        # records deleted from the log (retention) are missing from the count: the
        # verifier then names the partition, and lists what was lost
        begin = max(first, starts.get(tp, 0))
        found = [r for r in log.read_partition(tp, begin, end) if r.key == key]
        raw += found
        partitions.append(
            SubjectPartition(tp.topic, tp.partition, first, end, len(found), records_sha256(found))
        )
    return FollowedSubject(raw, [read(r) for r in raw], partitions)
