"""The wire format: Avro single-object encoding.

Each message value is ``C3 01`` + the 8-byte little-endian CRC-64-AVRO fingerprint of
the writer schema + the Avro binary body (Avro specification, "Single object encoding").
A reader finds the writer schema by its fingerprint, with no side channel, and resolves
it to its own reader schema.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

import schemas
from ledger.contract.avro_schema import AvroSchema
from ledger.errors import IntegrityError

MARKER = b"\xc3\x01"
HEADER_LEN = len(MARKER) + 8


UNKNOWN_WRITER = "unknown writer schema fingerprint"


class UndecodableMessage(IntegrityError):
    """The bytes are not a message of any schema this reader knows. Carries a reason.

    Expected on a log others write to: consumers dead-letter the record and go on."""


def schema_fingerprint(schema: AvroSchema) -> bytes:
    """CRC-64-AVRO of the Parsing Canonical Form, little-endian, as the spec writes it."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


#: Where a registry learns writer schemas it has not met (the schema topic, in practice).
WriterSource = Callable[[], Iterable[AvroSchema]]


class SchemaRegistry:
    """Writer schemas by fingerprint, reader schemas by event type name.

    A message from a newer writer names a fingerprint this process has never seen; given a
    ``writer_source``, the registry asks it once per unknown fingerprint and retries, so
    every reader learns new writers the same way."""

    def __init__(
        self,
        readers: Mapping[str, AvroSchema],
        writers: Iterable[AvroSchema] = (),
        writer_source: WriterSource | None = None,
    ) -> None:
        self._current = dict(readers)
        self._readers = {name: fastavro.parse_schema(s) for name, s in readers.items()}
        self._reader_fingerprints = {name: schema_fingerprint(s) for name, s in readers.items()}
        self._writers: dict[bytes, tuple[str, Any]] = {}
        self._source = writer_source
        self._asked: set[bytes] = set()
        for schema in [*readers.values(), *writers]:
            self.add_writer(schema)

    @classmethod
    def packaged(cls, writer_source: WriterSource | None = None) -> SchemaRegistry:
        """Current schemas as readers; current and every released version as writers."""
        released = [s for versions in schemas.released_schemas().values() for s in versions]
        return cls(schemas.current_schemas(), released, writer_source)

    def current(self) -> list[AvroSchema]:
        """The schemas this process writes with (its reader schemas), as JSON objects."""
        return list(self._current.values())

    def add_writer(self, schema: AvroSchema) -> bytes:
        fp = schema_fingerprint(schema)
        self._writers[fp] = (str(schema["name"]), fastavro.parse_schema(schema))
        return fp

    def knows(self, fp: bytes) -> bool:
        return fp in self._writers

    def learn(self) -> int:
        """Add every writer schema the source offers that is new and parses; returns how
        many were added. A schema that cannot be parsed is skipped: one bad record on the
        schema topic must not stop a reader (messages written with it stay undecodable)."""
        if self._source is None:
            return 0
        added = 0
        for schema in self._source():
            try:
                if not self.knows(schema_fingerprint(schema)):
                    self.add_writer(schema)
                    added += 1
            except Exception:  # fastavro raises many types on a malformed schema
                continue
        return added

    def _writer(self, fp: bytes) -> tuple[str, Any] | None:
        writer = self._writers.get(fp)
        if writer is None and fp not in self._asked:
            self._asked.add(fp)
            self.learn()
            writer = self._writers.get(fp)
        return writer

    def encode(self, type_name: str, record: Mapping[str, Any]) -> bytes:
        schema = self._readers[type_name]
        out = io.BytesIO()
        out.write(MARKER)
        out.write(self._reader_fingerprints[type_name])
        fastavro.schemaless_writer(out, schema, dict(record))
        return out.getvalue()

    def decode(self, message: bytes) -> tuple[str, dict[str, Any]]:
        """(type name, record) of a message, resolved to the current reader schema."""
        if len(message) < HEADER_LEN or not message.startswith(MARKER):
            raise UndecodableMessage("not Avro single-object encoded (no C3 01 marker)")
        fp = message[len(MARKER) : HEADER_LEN]
        writer = self._writer(fp)
        if writer is None:
            raise UndecodableMessage(f"{UNKNOWN_WRITER} {fp.hex()}")
        name, writer_schema = writer
        reader_schema = self._readers.get(name)
        if reader_schema is None:
            raise UndecodableMessage(f"no reader schema for event type {name!r}")
        body = io.BytesIO(message[HEADER_LEN:])
        try:
            record = fastavro.schemaless_reader(body, writer_schema, reader_schema)
        except Exception as exc:  # fastavro raises many types on corrupt input
            raise UndecodableMessage(f"corrupt Avro body: {type(exc).__name__}") from None
        if body.tell() != len(message) - HEADER_LEN:
            raise UndecodableMessage("trailing bytes after the Avro body")
        if not isinstance(record, dict):
            raise UndecodableMessage("Avro body is not a record")
        return name, record
