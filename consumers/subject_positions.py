"""Where a subject's records start on each event topic, from the index the projections keep.

The projection store's journal holds every subject event the projections applied, with
its log position; the dead-letter topic names every record they could not apply. On
each event topic the subject's first position is the lowest of: its journal entries on
the subject's partition, its dead-lettered records there, and the projections'
checkpoint (records from the checkpoint on are not indexed yet, so they are read too).
Every record of the subject below that position was read by the projections and was
neither applied nor dead-lettered: there is no such record, short of one written around
the consumers (``pdl verify-erasure --full-scan`` looks for those).

Only positions come from here; what the certificate says about the records is computed
from the raw partitions (``ledger.erasure.following``).
"""

from __future__ import annotations

from consumers.store import ProjectionStore
from ledger.contract.deadletter import DeadLetter
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry, UndecodableMessage
from ledger.log.base import EventLog, TopicPartition


def first_positions(
    log: EventLog,
    registry: SchemaRegistry,
    topics: Topics,
    store: ProjectionStore,
    group: str,
    subject_id: str,
) -> dict[TopicPartition, int]:
    """The first offset to read on each partition holding the subject's records."""
    key = subject_id.encode()
    firsts = {}
    for topic in topics.event_topics():
        tp = TopicPartition(topic, log.partition_for(topic, key))
        firsts[tp] = store.checkpoint(group, tp)
    for entry in store.journal(subject_id):
        tp = TopicPartition(entry.topic, entry.partition)
        below = firsts.get(tp, store.checkpoint(group, tp))
        firsts[tp] = min(entry.offset, below)
    for tp, offset in _dead_lettered(log, registry, topics, firsts):
        if offset < firsts[tp] and _keyed_by(log, tp, offset, key):
            firsts[tp] = offset
    return firsts


def _dead_lettered(
    log: EventLog, registry: SchemaRegistry, topics: Topics, wanted: dict[TopicPartition, int]
) -> list[tuple[TopicPartition, int]]:
    """Positions of dead-lettered records on ``wanted``'s partitions. The dead-letter
    topic names records by position only (never copies them), so it is read whole: its
    size follows the bad records, not the log."""
    found = []
    for record in log.scan([topics.dead_letter]):
        try:
            type_name, fields = registry.decode(record.value)
        except UndecodableMessage:
            continue
        if type_name != DeadLetter.type_name():
            continue
        tp = TopicPartition(str(fields["topic"]), int(fields["partition"]))
        if tp in wanted:
            found.append((tp, int(fields["offset"])))
    return found


def _keyed_by(log: EventLog, tp: TopicPartition, offset: int, key: bytes) -> bool:
    return any(r.key == key for r in log.read_partition(tp, offset, offset + 1))
