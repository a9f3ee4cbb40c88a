"""Event lines for tests, shaped like the demo's (Informatique 70 catalog)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import schemas
from ledger.contract.avro_schema import personal_paths


def canary(label: str = "canary") -> str:
    """A unique string that must never appear at rest in plaintext."""
    return f"{label}-{uuid.uuid4().hex}"


def collected(
    subject: str,
    email: str,
    *,
    when: str = "2024-03-01T09:12:00Z",
    purpose: str = "newsletter",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": "DataCollected",
        "subject": subject,
        "controller": "informatique70",
        "occurred_at": when,
        "source": "newsletter-signup-form",
        "purposes": [purpose],
        "values": [{"field": "email", "category": "contact", "value": email}],
        **extra,
    }


def consent(
    subject: str,
    given: bool = True,
    *,
    when: str = "2024-03-01T09:12:05Z",
    purpose: str = "newsletter",
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "ConsentGiven" if given else "ConsentWithdrawn",
        "subject": subject,
        "controller": "informatique70",
        "occurred_at": when,
        "purpose": purpose,
        "channel": "web-form",
    }
    if given:
        event["notice_version"] = "politique-2023-01"
    return event


def lines(*events: dict[str, Any]) -> list[str]:
    return [json.dumps(e) for e in events]


DOCS = Path(__file__).resolve().parents[1] / "docs"


def doc_examples() -> list[dict[str, Any]]:
    """Every JSON example of docs/EVENTS.md, in order."""
    text = (DOCS / "EVENTS.md").read_text("utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in text.split("```json\n")[1:]]
    return [json.loads(b) for b in blocks]


def with_canaries(example: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The example with a fresh canary in its natural identifier and in every field its
    Avro schema marks personal; and the canaries planted."""
    planted: list[str] = []

    def plant(label: str) -> str:
        planted.append(canary(label))
        return planted[-1]

    event = json.loads(json.dumps(example))
    if "subject" in event:
        event["subject"] = plant("subject")
    schema = schemas.current_schemas()[event["type"]]
    for path in personal_paths(schema):
        _plant_at(event, path.split("."), plant)
    return event, planted


def _plant_at(node: Any, parts: list[str], plant: Any) -> None:
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        for item in node.get(head[:-2], []):
            _plant_at(item, rest, plant)
    elif not rest:
        if node.get(head) is not None:
            node[head] = plant(head)
    elif isinstance(node.get(head), dict):
        _plant_at(node[head], rest, plant)
