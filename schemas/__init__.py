"""The Avro schemas: the public contract of the ledger's topics.

``events/<Type>.avsc`` is the current schema of each event type (generated from the
models in ``ledger.contract.events`` by ``pdl schemas generate``); ``released/`` keeps
every released version, which ``pdl schemas check`` guards against incompatible change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent
CURRENT_DIR = SCHEMA_DIR / "events"
RELEASED_DIR = SCHEMA_DIR / "released"


def load(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def current_schemas() -> dict[str, dict[str, Any]]:
    """The current schema of every event type, by type name."""
    return {p.stem: load(p) for p in sorted(CURRENT_DIR.glob("*.avsc"))}


def released_schemas() -> dict[str, list[dict[str, Any]]]:
    """Every released version of every event type, oldest first, by type name."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(RELEASED_DIR.glob("*/v*.avsc"), key=_version_order):
        found.setdefault(path.parent.name, []).append(load(path))
    return found


def _version_order(path: Path) -> tuple[str, int]:
    """By type, then by version number: v10 comes after v9, not before v2."""
    digits = path.stem.removeprefix("v")
    return path.parent.name, int(digits) if digits.isdigit() else -1
