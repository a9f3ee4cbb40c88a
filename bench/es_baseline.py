"""The naive eventsourcing-library baseline: one aggregate per subject, on SQLite.

The same events as the ledger's (count, types and payload sizes) are recorded once into
an ``eventsourcing`` application on its SQLite persistence (``PERSISTENCE_MODULE =
eventsourcing.sqlite``); its naive rebuild is then reconstructing every aggregate with
``app.repository.get(id)`` (no snapshots, no cache): what an application built on the
library's aggregates would do to rebuild its read side.
"""

from __future__ import annotations

import base64
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.data import bulk_event, subjects_for
from ledger.contract import events as ev
from ledger.contract.sealed import HEADER_LEN


def _b64(secret: Any) -> str:
    """A value of the length the ledger records: sealed, header and tag included (the bulk
    models carry plaintext, which ``Intake.append`` seals)."""
    sealed = secret.sealed or bytes(HEADER_LEN + len(secret.plaintext.encode()) + 16)
    return base64.b64encode(sealed).decode()


class Subject(Aggregate):
    """What the ledger's subject-state projection keeps, as one aggregate."""

    @staticmethod
    def create_id(subject_id: str, **_: Any) -> uuid.UUID:
        return uuid.uuid5(uuid.NAMESPACE_URL, subject_id)

    @event("Collected")
    def __init__(
        self,
        subject_id: str,
        event_id: str,
        occurred_at: datetime,
        purposes: list[str],
        source: str,
        values: list[dict[str, str]],
    ) -> None:
        self.subject_id = subject_id
        self.values: dict[str, tuple[str, str]] = {}
        self.consents: dict[str, tuple[bool, datetime]] = {}
        self.processed: list[tuple[str, datetime]] = []
        self._collect(purposes, values, occurred_at)

    def _collect(self, purposes: list[str], values: list[dict[str, str]], at: datetime) -> None:
        for v in values:
            self.values[v["field"]] = (v["value"], ",".join(purposes))

    @event("MoreCollected")
    def collect(
        self,
        event_id: str,
        occurred_at: datetime,
        purposes: list[str],
        source: str,
        values: list[dict[str, str]],
    ) -> None:
        self._collect(purposes, values, occurred_at)

    @event("ConsentGiven")
    def consent(
        self, event_id: str, occurred_at: datetime, purpose: str, channel: str, notice_version: str
    ) -> None:
        self.consents[purpose] = (True, occurred_at)

    @event("ConsentWithdrawn")
    def withdraw(self, event_id: str, occurred_at: datetime, purpose: str, channel: str) -> None:
        self.consents[purpose] = (False, occurred_at)

    @event("Processed")
    def process(
        self,
        event_id: str,
        occurred_at: datetime,
        purpose: str,
        claimed_basis: str,
        categories: list[str],
        system: str,
    ) -> None:
        self.processed.append((purpose, occurred_at))


def _values(e: ev.DataCollected) -> list[dict[str, str]]:
    return [{"field": v.field, "category": v.category, "value": _b64(v.value)} for v in e.values]


def _apply(aggregates: dict[str, Subject], e: ev.LedgerEvent) -> None:
    assert isinstance(e, ev.SubjectEvent)
    base: dict[str, Any] = {"event_id": e.event_id, "occurred_at": e.occurred_at}
    agg = aggregates.get(e.subject_id)
    if isinstance(e, ev.DataCollected):
        fields: dict[str, Any] = {
            "purposes": list(e.purposes),
            "source": e.source,
            "values": _values(e),
        }
        if agg is None:
            aggregates[e.subject_id] = Subject(subject_id=e.subject_id, **base, **fields)
        else:
            agg.collect(**base, **fields)
        return
    assert agg is not None, "bulk data starts every subject with a DataCollected"
    if isinstance(e, ev.ConsentGiven):
        agg.consent(**base, purpose=e.purpose, channel=e.channel, notice_version=e.notice_version)
    elif isinstance(e, ev.ConsentWithdrawn):
        agg.withdraw(**base, purpose=e.purpose, channel=e.channel)
    elif isinstance(e, ev.DataProcessed):
        agg.process(
            **base,
            purpose=e.purpose,
            claimed_basis=e.claimed_basis.value,
            categories=list(e.categories),
            system=e.system,
        )


def open_app(db: Path) -> Application[uuid.UUID]:
    return Application(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)})


def record(db: Path, events: int, salt: int = 0) -> list[uuid.UUID]:
    """Record the bulk data's first ``events`` events; returns the aggregate ids."""
    app = open_app(db)
    subjects = subjects_for(events)
    aggregates: dict[str, Subject] = {}
    for start in range(0, events, subjects):
        for n in range(start, min(start + subjects, events)):
            _apply(aggregates, bulk_event(n, subjects, salt))
        app.save(*aggregates.values())  # one round: every subject's next event
    app.close()
    return [a.id for a in aggregates.values()]


def replay(db: Path, ids: list[uuid.UUID]) -> tuple[int, float]:
    """Reconstruct every aggregate from its events; (events replayed, seconds)."""
    app = open_app(db)
    began = time.perf_counter()
    replayed = sum(app.repository.get(i).version for i in ids)
    took = time.perf_counter() - began
    app.close()
    return replayed, took
