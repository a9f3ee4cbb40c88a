"""A customer of Informatique 70 with a canary in every personal value, and the tools the
erasure tests share: the CLI as a subprocess, erasure in-process, opening raw records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from consumers.erasure import ErasureOutcome
from ledger.contract.events import EVENT_TYPES, SubjectEvent
from ledger.contract.sealed import field_ad
from ledger.contract.walk import personal_fields
from ledger.keys.sealing import Unreadable, open_sealed
from ledger.log.base import LogRecord
from ledger.service.backends import Backends
from ledger.service.erasure import run_processor
from ledger.service.submission import submit_lines
from tests.command import pdl as pdl  # the CLI as a subprocess, for the erasure tests
from tests.scenario import canary

CONTROLLER = "informatique70"


@dataclass
class Customer:
    """Who, and which canaries went into which retention class."""

    email: str
    planted: dict[str, list[str]] = field(default_factory=dict)
    by_label: dict[str, str] = field(default_factory=dict)
    subject_id: str = ""

    def plant(self, key_class: str, label: str) -> str:
        value = canary(label)
        self.planted.setdefault(key_class, []).append(value)
        self.by_label[label] = value
        return value

    def canaries(self, *classes: str) -> list[str]:
        return [c for k in classes or self.planted for c in self.planted[k]]


def collected(
    customer: Customer, purpose: str, key_class: str, when: str, **categories: str
) -> dict[str, Any]:
    return {
        "type": "DataCollected",
        "subject": customer.email,
        "controller": CONTROLLER,
        "occurred_at": when,
        "source": f"{purpose}-system",
        "purposes": [purpose],
        "values": [
            {"field": name, "category": category, "value": customer.plant(key_class, name)}
            for name, category in categories.items()
        ],
    }


def informatique70_customer(ledger: Backends) -> Customer:
    """Newsletter consent and data, a call recording, an invoice (accounting, 10 years)."""
    customer = Customer(canary("email") + "@example.fr")
    events = [
        collected(
            customer,
            "newsletter",
            "marketing",
            "2024-03-01T09:12:00Z",
            first_name="identity",
            email="contact",
        ),
        {
            "type": "ConsentGiven",
            "subject": customer.email,
            "controller": CONTROLLER,
            "occurred_at": "2024-03-01T09:12:05Z",
            "purpose": "newsletter",
            "channel": "web-form",
            "notice_version": "politique-2023-01",
            "evidence": customer.plant("marketing", "evidence"),
        },
        collected(
            customer,
            "call-recording",
            "call-recording",
            "2024-03-04T14:30:00Z",
            call_recording="voice_recording",
        ),
        collected(
            customer,
            "accounting",
            "accounting",
            "2024-03-05T10:00:00Z",
            invoice="transaction",
            billing_address="identity",
        ),
        {
            "type": "RetentionAnchorRecorded",
            "subject": customer.email,
            "controller": CONTROLLER,
            "occurred_at": "2024-03-05T10:00:00Z",
            "anchor": "transaction",
            "purpose": "accounting",
        },
    ]
    submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    found = ledger.keys.subject_for(customer.email, CONTROLLER)
    assert found is not None
    customer.subject_id = found
    return customer


def request_erasure(
    ledger: Backends, subject_id: str, scope: dict[str, str] | None = None, reason: str = "request"
) -> list[ErasureOutcome]:
    """Append an ErasureRequested and run the processor, as `pdl erase` does."""
    intake = ledger.intake()
    event = intake.prepare(
        {
            "type": "ErasureRequested",
            "subject_id": subject_id,
            "controller": CONTROLLER,
            "occurred_at": ledger.clock().isoformat(),
            "scope": scope or {"kind": "subject"},
            "reason": reason,
        }
    )
    intake.append([event])
    return run_processor(ledger)


def fixed_clock(ledger: Backends, now: datetime) -> Backends:
    ledger.clock = lambda: now
    return ledger


def opened_values(ledger: Backends, record: LogRecord) -> dict[str, str | None]:
    """Each personal field of a raw record: its plaintext, or None if it cannot be opened."""
    type_name, fields = ledger.registry.decode(record.value)
    event = EVENT_TYPES[type_name].model_validate(fields)
    assert isinstance(event, SubjectEvent)
    found: dict[str, str | None] = {}
    for path, secret in personal_fields(event):
        assert secret.sealed is not None
        try:
            found[path] = open_sealed(
                secret.sealed, ledger.keys, field_ad(event.subject_id, event.event_id, path)
            )
        except Unreadable:
            found[path] = None
    return found


def subject_raw_records(ledger: Backends, subject_id: str) -> list[LogRecord]:
    return [
        r for r in ledger.log.scan(ledger.topics.event_topics()) if r.key == subject_id.encode()
    ]
