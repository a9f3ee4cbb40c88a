"""Requests past their deadline (GDPR Art. 12(3)): every request received by T, not
answered, refused or withdrawn, whose one-month deadline (three once extended), read in
the controller's time zone, has passed at T."""

from __future__ import annotations

from typing import Any

from ledger.reports.reading import Reading, envelope
from ledger.service import requests as rq

REPORT = "requests_overdue"
TITLE = "Requests past their deadline"
ARTICLE = "GDPR Art. 12(3)"


def requests_overdue(reading: Reading, controller: str | None = None) -> dict[str, Any]:
    ledger = reading.ledger
    late = [
        s
        for s in rq.requests(ledger, controller)
        if s.received_at is not None
        and s.received_at <= reading.at
        and (s.closed is None or (s.closed_at is not None and s.closed_at > reading.at))
        and rq.due_at(ledger, s) <= reading.at
    ]
    rows = []
    for s in late:
        view = rq.request_view(ledger, s, reading.at)
        rows.append({k: view[k] for k in _COLUMNS})
    body = {"summary": {"overdue": len(rows)}, "requests": rows}
    return envelope(reading, REPORT, TITLE, ARTICLE, {"controller": controller}, body)


_COLUMNS = (
    "controller",
    "request_id",
    "subject_id",
    "kind",
    "channel",
    "received_at",
    "due_at",
    "extended",
    "extension_reason",
    "identity",
    "position",
)
