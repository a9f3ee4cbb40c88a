"""The wire format: Avro single-object encoding, pinned by the specification's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

import schemas
from ledger.contract.avro_schema import personal_paths
from ledger.contract.events import EVENT_TYPES, ConsentGiven
from ledger.contract.generate import rendered
from ledger.contract.wire import MARKER, SchemaRegistry, UndecodableMessage, schema_fingerprint

EVENT = ConsentGiven(
    event_id="0b7f5a8e-1c2d-4e3f-9a0b-1c2d3e4f5a6b",
    subject_id="sub_" + "1" * 32,
    controller="informatique70",
    occurred_at=datetime(2024, 3, 1, 9, 12, 5, tzinfo=UTC),
    purpose="newsletter",
    channel="web-form",
    notice_version="politique-2023-01",
)


def test_checked_in_schemas_match_the_models() -> None:
    for name, text in rendered().items():
        path = schemas.CURRENT_DIR / name
        assert path.exists(), f"{name} missing: run `pdl schemas generate`"
        assert path.read_text(encoding="utf-8") == text, f"{name} is stale: `pdl schemas generate`"


def test_every_field_has_a_doc_and_personal_fields_are_marked() -> None:
    current = schemas.current_schemas()
    assert personal_paths(current["DataCollected"]) == ["values[].value"]
    for name in EVENT_TYPES:
        for field in current[name]["fields"]:
            assert field.get("doc"), f"{name}.{field['name']} has no doc"


def test_fingerprint_is_crc64_avro_little_endian() -> None:
    schema = {"type": "record", "name": "A", "fields": [{"name": "x", "type": "string"}]}
    # CRC-64-AVRO of the canonical form is 0x67a5849ce3e66657; written little-endian
    assert schema_fingerprint(schema) == bytes.fromhex("5766e6e39c84a567")


def test_encode_decode_round_trip() -> None:
    registry = SchemaRegistry.packaged()
    message = registry.encode("ConsentGiven", EVENT.model_dump(mode="python"))
    assert message[:2] == MARKER
    assert message[2:10] == schema_fingerprint(schemas.current_schemas()["ConsentGiven"])
    name, record = registry.decode(message)
    assert name == "ConsentGiven" and ConsentGiven.model_validate(record) == EVENT


@pytest.mark.parametrize(
    "message, reason",
    [
        (b"", "no C3 01 marker"),
        (b'{"type": "ConsentGiven"}', "no C3 01 marker"),
        (MARKER + b"\x00" * 8 + b"body", "unknown writer schema fingerprint"),
    ],
)
def test_undecodable_messages_say_why(message: bytes, reason: str) -> None:
    with pytest.raises(UndecodableMessage, match=reason):
        SchemaRegistry.packaged().decode(message)


def test_corrupt_body_and_trailing_bytes_are_refused() -> None:
    registry = SchemaRegistry.packaged()
    message = registry.encode("ConsentGiven", EVENT.model_dump(mode="python"))
    with pytest.raises(UndecodableMessage):
        registry.decode(message[:-5])
    with pytest.raises(UndecodableMessage, match="trailing"):
        registry.decode(message + b"\x00")


def test_reader_resolves_an_older_writer_schema() -> None:
    current = schemas.current_schemas()["ConsentGiven"]
    older = json.loads(json.dumps(current))
    older["fields"] = [f for f in older["fields"] if f["name"] != "proof_ref"]
    registry = SchemaRegistry(schemas.current_schemas(), [older])
    old_writer = SchemaRegistry({"ConsentGiven": older})
    fields = EVENT.model_dump(mode="python")
    del fields["proof_ref"]
    name, record = registry.decode(old_writer.encode("ConsentGiven", fields))
    assert name == "ConsentGiven" and record["proof_ref"] is None
