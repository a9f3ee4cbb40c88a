"""Event lines for tests, shaped like the demo's (Informatique 70 catalog)."""

from __future__ import annotations

import json
import uuid
from typing import Any


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
