"""Golden vectors: checked-in wire bytes that pin the format. Regenerate with
``python -m tests.golden`` only for a deliberate schema change, after releasing it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.contract.events import EVENT_TYPES, LedgerEvent
from ledger.contract.secret import Secret
from ledger.contract.walk import replace_personal
from tests.scenario import doc_examples

HERE = Path(__file__).parent
SUBJECT_ID = "sub_" + "5e" * 16


#: Events only the ledger writes: producers' submissions of them are refused, so
#: docs/EVENTS.md shows them outside the ```json examples.
_LEDGER_WRITTEN: dict[str, dict[str, Any]] = {
    "DataErased": {
        "controller": "informatique70",
        "occurred_at": "2024-05-02T09:00:01Z",
        "subject_id": SUBJECT_ID,
        "scope": {"kind": "purpose", "purpose": "newsletter"},
        "reason": "request",
        "keys_destroyed": ["8f14e45fceea167a5a36dedd4bea2543"],
        "identity_mapping_destroyed": True,  # the subject's last key at the controller
    },
}


def _fixed(seed: str, n: int) -> bytes:
    return hashlib.sha256(seed.encode()).digest()[:n]


def golden_events() -> dict[str, LedgerEvent]:
    """One deterministic, sealed event per type: the first example of each in
    docs/EVENTS.md, and the Informatique 70 catalog as the published policy."""
    chosen: dict[str, LedgerEvent] = {"PolicyPublished": _policy()}
    for example in doc_examples():
        name = example.pop("type")
        if name in chosen:
            continue
        if example.pop("subject", None) is not None:
            example["subject_id"] = SUBJECT_ID
        example["event_id"] = str(_uuid(name))
        event = EVENT_TYPES[name].model_validate(example)
        chosen[name] = replace_personal(event, _fixed_sealing(name))
    for name, fields in _LEDGER_WRITTEN.items():
        if name not in chosen:
            chosen[name] = EVENT_TYPES[name].model_validate({**fields, "event_id": _uuid(name)})
    return chosen


def _fixed_sealing(name: str) -> Callable[[str, Secret], Secret]:
    """Stand-in ciphertext: fixed bytes per type and path, so the vectors are stable."""

    def seal(path: str, _plain: Secret) -> Secret:
        return Secret(sealed=b"\x01" + _fixed(name + path, 44))

    return seal


def _policy() -> LedgerEvent:
    from ledger.policy.catalog import PACKAGED_DIR, load_catalog
    from ledger.policy.publish import publication

    catalog = load_catalog(PACKAGED_DIR / "informatique70.toml")
    event = publication(catalog, datetime(2023, 1, 1, tzinfo=UTC))
    return event.model_copy(update={"event_id": _uuid("PolicyPublished")})


def _uuid(name: str) -> str:
    h = hashlib.md5(name.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def as_json(event: LedgerEvent) -> dict[str, Any]:
    return event.model_dump(mode="json")


def write() -> None:
    from ledger.contract.wire import SchemaRegistry

    registry = SchemaRegistry.packaged()
    for name, event in golden_events().items():
        (HERE / f"{name}.bin").write_bytes(registry.encode(name, event.model_dump(mode="python")))
        (HERE / f"{name}.json").write_text(json.dumps(as_json(event), indent=2) + "\n", "utf-8")
