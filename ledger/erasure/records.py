"""A subject's records as the raw topics hold them, with their sealed personal fields.

Independent of the projections and of the event models: records are found by their
key (the subject id), decoded with the Avro schemas, and their personal fields located
by the schemas' own ``pdl.personal`` marks, so this is what any outside reader of the
topics could do.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from ledger.contract.avro_schema import personal_paths
from ledger.contract.positions import LogPosition
from ledger.contract.sealed import MalformedSealedValue, key_id_of
from ledger.contract.topics import Topics
from ledger.contract.wire import SchemaRegistry, UndecodableMessage
from ledger.log.base import EventLog, LogRecord


@dataclass(frozen=True)
class SealedField:
    path: str
    sealed: bytes

    @property
    def key_id(self) -> str | None:
        """The key the value was sealed with; None if it is not a pdl-aead-v1 value."""
        try:
            return key_id_of(self.sealed)
        except MalformedSealedValue:
            return None


@dataclass(frozen=True)
class SubjectRecord:
    """One of the subject's records; ``problem`` is set when it could not be decoded."""

    position: str
    type_name: str
    event_id: str
    fields: tuple[SealedField, ...]
    problem: str | None = None


def subject_records(
    log: EventLog,
    registry: SchemaRegistry,
    topics: Topics,
    subject_ids: Collection[str],
    scanned: Collection[str] | None = None,
) -> dict[str, list[SubjectRecord]]:
    """Every record keyed by one of ``subject_ids`` on the event topics, by subject."""
    wanted = {s.encode(): s for s in subject_ids}
    read = record_reader(registry)
    found: dict[str, list[SubjectRecord]] = {s: [] for s in subject_ids}
    for record in log.scan(sorted(scanned or topics.event_topics())):
        subject = wanted.get(record.key)
        if subject is not None:
            found[subject].append(read(record))
    return found


def record_reader(registry: SchemaRegistry) -> Callable[[LogRecord], SubjectRecord]:
    """Reads a raw record as a ``SubjectRecord``; one that does not decode is returned
    with its ``problem`` set, never skipped."""
    schemas = {str(s["name"]): s for s in registry.current()}

    def read(record: LogRecord) -> SubjectRecord:
        try:
            return _decoded(record, registry, schemas)
        except UndecodableMessage as exc:
            return SubjectRecord(str(LogPosition.of(record)), "?", "?", (), str(exc))

    return read


def _decoded(record: LogRecord, registry: SchemaRegistry, schemas: dict[str, Any]) -> SubjectRecord:
    type_name, fields = registry.decode(record.value)
    sealed = tuple(
        SealedField(path, value)
        for pattern in personal_paths(schemas[type_name])
        for path, value in _values_at(fields, pattern.split("."), "")
    )
    where = str(LogPosition.of(record))
    return SubjectRecord(where, type_name, str(fields.get("event_id")), sealed)


def _values_at(node: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, bytes]]:
    """Concrete paths (``values[0].value``) and bytes of a schema path (``values[].value``)."""
    head, rest = parts[0], parts[1:]
    if not isinstance(node, dict):
        return
    if head.endswith("[]"):
        name = head[:-2]
        for i, item in enumerate(node.get(name) or []):
            yield from _values_at(item, rest, f"{prefix}{name}[{i}].")
    elif rest:
        yield from _values_at(node.get(head), rest, f"{prefix}{head}.")
    elif isinstance(node.get(head), bytes):
        yield f"{prefix}{head}", node[head]
