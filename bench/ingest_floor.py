"""The floor of the append path: the per-event work no Python ledger on these libraries
can skip, timed alone, in memory.

Each line is parsed once (``json.loads``), validated once (pydantic, the event's own
model), each personal value sealed once (AES-GCM, ``ledger.keys.sealing.seal``) and
the sealed event encoded once (fastavro, the packaged schema). Nothing else: no key
store, no policy check, no event-id memory, no spool, no log. A real append path does
all of that too and sends the bytes, so it cannot beat ``floor + raw send`` on one
core: the *ceiling* of the ingest ratio is ``raw / (floor + raw)`` in seconds per event.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

from ledger.contract.events import EVENT_TYPES
from ledger.contract.sealed import field_ad
from ledger.contract.secret import Secret
from ledger.contract.walk import replace_personal
from ledger.contract.wire import SchemaRegistry
from ledger.keys.sealing import seal
from ledger.keys.store import DataKey

#: a subject id of the right shape; the floor does not look subjects up
_SUBJECT = "sub_" + "0" * 32


def floor_seconds(lines: list[bytes]) -> float:
    """Seconds to parse, validate, seal and encode every line once."""
    registry = SchemaRegistry.packaged()
    key = DataKey(str(uuid.uuid4()), _SUBJECT, "informatique70", "floor", os.urandom(32))
    start = time.perf_counter()
    for line in lines:
        _sealed_bytes(line, registry, key)
    return time.perf_counter() - start


def _sealed_bytes(line: bytes, registry: SchemaRegistry, key: DataKey) -> bytes:
    fields: dict[str, Any] = json.loads(line)
    model = EVENT_TYPES[fields.pop("type")]
    fields.pop("subject", None)  # the natural identifier: a pseudonym stands in for it
    fields["subject_id"] = _SUBJECT
    event = model.model_validate(fields)

    def sealed(path: str, secret: Secret) -> Secret:
        assert secret.plaintext is not None
        return Secret(sealed=seal(secret.plaintext, key, field_ad(_SUBJECT, event.event_id, path)))

    event = replace_personal(event, sealed)
    return registry.encode(event.type_name(), event.model_dump(mode="python"))
