"""Schemas published to a compacted topic, so a reader finds any writer's schema.

Each record's key is the schema's CRC-64-AVRO fingerprint (hex) and its value the full
schema JSON: not the Parsing Canonical Form, which strips the ``pdl.personal`` marks a
reader needs to know which fields are ciphertext.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ledger.contract.avro_schema import AvroSchema
from ledger.contract.topics import Topics
from ledger.contract.wire import schema_fingerprint
from ledger.log.base import EventLog, OutgoingRecord


def published(log: EventLog, topics: Topics) -> dict[bytes, AvroSchema]:
    """Every schema on the topic, by fingerprint (the latest record per key wins)."""
    found: dict[bytes, AvroSchema] = {}
    for record in log.scan([topics.schemas]):
        try:
            schema = json.loads(record.value)
            if isinstance(schema, dict):
                found[schema_fingerprint(schema)] = schema
        except (ValueError, KeyError, TypeError):
            continue  # a foreign record on our topic; its fingerprint stays unknown
    return found


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
