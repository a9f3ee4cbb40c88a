"""Subject access (GDPR Art. 15) for one subject, as of T and as known at K.

The categories and values held (decrypted for the DPO, ``[withheld]`` for a regulator,
``[erased]`` once shredded), the purposes with the legal basis of each at T and its
timeline, consent status, recipients, retention deadlines (from the retention engine),
sources, restrictions, legal holds and erasures — each with its evidence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.contract import events as ev
from ledger.policy.catalog import Catalogs
from ledger.reports.access_parts import (
    controllers_info,
    held_values,
    recipients,
    retention_by_category,
    transfers,
)
from ledger.reports.journal import SubjectHistory, basis_facts, subject_history
from ledger.reports.observed import event_purposes
from ledger.reports.reading import Reading, SubjectNotFound, envelope, iso
from ledger.reports.retention_compliance import retention_entries
from ledger.reports.timeline import basis_timeline, judgements_as_of
from ledger.service.views import (
    basis_answer_view,
    evidence_view,
    fact_view,
    held_value_view,
    judgement_view,
    scoped_view,
)
from projections.lawfulness import basis_at
from projections.subject_state import ScopedStatus, SubjectState

REPORT = "subject_access"
TITLE = "Subject access"
ARTICLE = "GDPR Art. 15"


def subject_access(reading: Reading, subject_id: str) -> dict[str, Any]:
    history = subject_history(reading, subject_id)
    if not history.events:
        raise SubjectNotFound(f"{subject_id}: no events recorded for this subject by then")
    state, catalogs = history.state, reading.ledger.catalogs
    purposes = _purposes(reading, history)
    body = {
        "subject_id": subject_id,
        "events": len(history.events),
        "controllers": sorted({r.event.controller for r in history.events}),
        "categories": _categories(state, catalogs, reading.at),
        "values": [held_value_view(v, reading.held_value(v)) for v in held_values(history)],
        "purposes": purposes,
        "recipients": recipients(history, catalogs, reading.at, purposes),
        "transfers": transfers(history),
        "retention": retention_entries(reading, history),
        "retention_by_category": retention_by_category(history, catalogs, reading.at),
        "controllers_info": controllers_info(history, catalogs, reading.at),
        "sources": _sources(history),
        "restrictions": [
            scoped_view(s, _note(reading, subject_id, s))
            for _, s in sorted(state.restrictions.items())
        ],
        "holds": [
            scoped_view(s, _note(reading, subject_id, s)) for _, s in sorted(state.holds.items())
        ],
        "erasures": [
            {
                "scope": e.scope,
                "reason": e.reason,
                "done": e.done,
                "keys_destroyed": list(e.keys_destroyed),
                **evidence_view(e.evidence),
            }
            for _, e in sorted(state.erasures.items(), key=lambda i: i[1].evidence.occurred_at)
        ],
    }
    return envelope(reading, REPORT, TITLE, ARTICLE, {"subject_id": subject_id}, body)


def _categories(state: SubjectState, catalogs: Catalogs, at: datetime) -> list[dict[str, Any]]:
    found = {(v.controller, v.category) for v in state.values.values()}
    out = []
    for controller, category in sorted(found):
        catalog = catalogs.in_force(controller, at)
        titles = [c.title for c in (catalog.categories if catalog else []) if c.id == category]
        out.append({"controller": controller, "id": category, "title": next(iter(titles), None)})
    return out


def _purposes(reading: Reading, history: SubjectHistory) -> list[dict[str, Any]]:
    catalogs, subject_id = reading.ledger.catalogs, history.subject_id
    first: dict[tuple[str, str], datetime] = {}
    for recorded in history.events:
        for purpose in event_purposes(recorded.event):
            slot = (recorded.event.controller, purpose)
            first[slot] = min(
                first.get(slot, recorded.event.occurred_at), recorded.event.occurred_at
            )
    out = []
    for (controller, purpose), since in sorted(first.items()):
        facts = basis_facts(reading, subject_id, controller, purpose)
        catalog = catalogs.in_force(controller, reading.at)
        declared = catalog.purpose(purpose) if catalog else None
        consent = history.state.consents.get(f"{controller}/{purpose}")
        judged = [
            judgement_view(subject_id, j)
            for j in judgements_as_of(facts, catalogs, reading.at, reading.horizon)
        ]
        out.append(
            {
                "controller": controller,
                "purpose": purpose,
                "title": declared.title if declared else None,
                "declared_basis": declared.basis.value if declared else None,
                "basis_at": basis_answer_view(
                    basis_at(facts, catalogs, reading.at, reading.horizon)
                ),
                "timeline": [
                    s.as_json()
                    for s in basis_timeline(facts, catalogs, reading.horizon, since, reading.at)
                ],
                "consent": None
                if consent is None
                else {
                    "status": consent.status,
                    "channel": consent.channel,
                    "notice_version": consent.notice_version,
                    **evidence_view(consent.evidence),
                },
                "facts": [fact_view(f) for f in facts.facts if f.valid_at <= reading.at],
                "processing": judged,
            }
        )
    return out


def _sources(history: SubjectHistory) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for recorded in history.events:
        event = recorded.event
        if not isinstance(event, ev.DataCollected):
            continue
        at = iso(event.occurred_at)
        entry = found.setdefault(
            (event.controller, event.source),
            {
                "controller": event.controller,
                "source": event.source,
                "categories": [],
                "collections": 0,
                "first_at": at,
                "last_at": at,
            },
        )
        entry["categories"] = sorted({*entry["categories"], *(v.category for v in event.values)})
        entry["collections"] += 1
        entry["last_at"] = at  # events are in valid-time order
    return [found[k] for k in sorted(found)]


def _note(reading: Reading, subject_id: str, s: ScopedStatus) -> str | None:
    """A restriction's or hold's free-text note for this audience."""
    if s.note is None:
        return None
    return reading.personal(s.note.sealed, subject_id, s.note.event_id, "note")
