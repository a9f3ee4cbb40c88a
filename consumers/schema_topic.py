"""Schemas published to a compacted topic, so a reader finds any writer's schema.

Each record's key is the schema's CRC-64-AVRO fingerprint (hex) and its value the full
schema JSON: not the Parsing Canonical Form, which strips the ``pdl.personal`` marks a
reader needs to know which fields are ciphertext.

The topic is input like any other: anyone with write access can put anything on it. A
record that is not a schema fastavro parses is skipped (``published``) and listed with
its position and reason (``unreadable``, shown by ``pdl deadletters``); it never stops
an append or a consumer. Messages written with it stay undecodable and are dead-lettered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import fastavro

from ledger.contract.avro_schema import AvroSchema
from ledger.contract.positions import LogPosition
from ledger.contract.topics import Topics
from ledger.contract.wire import schema_fingerprint
from ledger.log.base import EventLog, LogRecord, OutgoingRecord


@dataclass(frozen=True)
class UnreadableSchema:
    """A record of the schema topic that is not a usable schema: where, and why."""

    position: str
    reason: str


def published(log: EventLog, topics: Topics) -> dict[bytes, AvroSchema]:
    """Every usable schema on the topic, by fingerprint (the latest record per key wins)."""
    return _read(log, topics)[0]


def unreadable(log: EventLog, topics: Topics) -> list[UnreadableSchema]:
    """Every record of the topic that is not a usable schema, in log order."""
    return _read(log, topics)[1]


def _read(log: EventLog, topics: Topics) -> tuple[dict[bytes, AvroSchema], list[UnreadableSchema]]:
    found: dict[bytes, AvroSchema] = {}
    bad: list[UnreadableSchema] = []
    for record in log.scan([topics.schemas]):
        schema = _schema(record)
        if isinstance(schema, str):
            bad.append(UnreadableSchema(str(LogPosition.of(record)), schema))
        else:
            found[schema_fingerprint(schema)] = schema
    return found, bad


def _schema(record: LogRecord) -> AvroSchema | str:
    """The record's schema, or why it is not one (naming no content of the record)."""
    try:
        schema = json.loads(record.value)
    except ValueError:
        return "not JSON"
    if not isinstance(schema, dict):
        return "not a JSON object"
    try:
        fastavro.parse_schema(schema)
        schema_fingerprint(schema)
    except Exception as exc:  # fastavro raises many types on a malformed schema
        return f"not an Avro schema fastavro can parse ({type(exc).__name__})"
    return schema


def publish(log: EventLog, topics: Topics, schemas: Iterable[AvroSchema]) -> int:
    """Publish the schemas not on the topic yet; returns how many were appended."""
    present = published(log, topics)
    missing = [s for s in schemas if schema_fingerprint(s) not in present]
    if missing:
        log.append(
            [
                OutgoingRecord(
                    topics.schemas,
                    schema_fingerprint(s).hex().encode(),
                    json.dumps(s, sort_keys=True).encode(),
                )
                for s in missing
            ]
        )
    return len(missing)
