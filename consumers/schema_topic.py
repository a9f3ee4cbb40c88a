"""Schemas published to a compacted topic, so a reader finds any writer's schema.

Each record's key is the schema's CRC-64-AVRO fingerprint (hex) and its value the full
schema JSON: not the Parsing Canonical Form, which strips the ``pdl.personal`` marks a
reader needs to know which fields are ciphertext.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ledger.contract.avro_schema import AvroSchema
from ledger.contract.topics import schema_topic
from ledger.contract.wire import SchemaRegistry, schema_fingerprint
from ledger.log.base import EventLog, OutgoingRecord


def published(log: EventLog) -> dict[bytes, AvroSchema]:
    """Every schema on the topic, by fingerprint (the latest record per key wins)."""
    found: dict[bytes, AvroSchema] = {}
    for record in log.scan([schema_topic()]):
        try:
            schema = json.loads(record.value)
            if isinstance(schema, dict):
                found[schema_fingerprint(schema)] = schema
        except (ValueError, KeyError, TypeError):
            continue  # a foreign record on our topic; its fingerprint stays unknown
    return found


def publish(log: EventLog, schemas: Iterable[AvroSchema]) -> int:
    """Publish the schemas not on the topic yet; returns how many were appended."""
    present = published(log)
    missing = [s for s in schemas if schema_fingerprint(s) not in present]
    if missing:
        log.append(
            [
                OutgoingRecord(
                    schema_topic(),
                    schema_fingerprint(s).hex().encode(),
                    json.dumps(s, sort_keys=True).encode(),
                )
                for s in missing
            ]
        )
    return len(missing)


def learn(log: EventLog, registry: SchemaRegistry) -> int:
    """Teach a registry every writer schema published; returns how many were new."""
    new = 0
    for fp, schema in published(log).items():
        if not registry.knows(fp):
            registry.add_writer(schema)
            new += 1
    return new
