"""Golden vectors pin the wire format: the same event gives the same bytes, and every
vector ever checked in still decodes (older ones live in subfolders once superseded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.contract.events import EVENT_TYPES
from ledger.contract.wire import SchemaRegistry
from tests.golden import HERE, as_json, golden_events

VECTORS = sorted(HERE.rglob("*.bin"))


def test_every_event_type_has_a_golden_vector() -> None:
    assert {p.stem for p in HERE.glob("*.bin")} == set(EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_encoding_reproduces_the_golden_bytes(name: str) -> None:
    event = golden_events()[name]
    encoded = SchemaRegistry.packaged().encode(name, event.model_dump(mode="python"))
    assert encoded == (HERE / f"{name}.bin").read_bytes(), (
        f"the wire bytes of {name} changed: if deliberate, release the schema "
        "(pdl schemas release), move the old vectors to tests/golden/v<N>/, then "
        "regenerate with `python -m tests.golden`"
    )


@pytest.mark.parametrize("path", VECTORS, ids=[str(p.relative_to(HERE)) for p in VECTORS])
def test_every_golden_vector_still_decodes(path: Path) -> None:
    name, fields = SchemaRegistry.packaged().decode(path.read_bytes())
    event = EVENT_TYPES[name].model_validate(fields)
    expected = json.loads(path.with_suffix(".json").read_text("utf-8"))
    assert as_json(event) == expected
