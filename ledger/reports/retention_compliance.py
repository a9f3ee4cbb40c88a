"""Retention compliance (GDPR Art. 5(1)(e)): data held past its deadline at T — which
should be empty — data kept past it under a legal hold, and the deadlines coming up.

Deadlines come from the erasure engineer's retention engine
(``ledger.erasure.retention.retention_schedule``) over each subject's state at T. Which
data is still held at T is read from the state too, not from today's key store: the
keys a value was sealed with, less those a ``DataErased`` valid by T destroyed. So a
report about a past instant shows what was held then, even if it was erased since.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.contract.sealed import MalformedSealedValue, key_id_of
from ledger.erasure.holds import hold_grounds
from ledger.erasure.retention import retention_schedule
from ledger.policy.catalog import Catalogs
from ledger.reports.catalog_views import in_force
from ledger.reports.journal import SubjectHistory, histories
from ledger.reports.reading import Reading, envelope
from ledger.service.erasure_facts import active_holds, subject_facts
from projections.subject_state import SubjectState

REPORT = "retention_compliance"
TITLE = "Retention compliance"
ARTICLE = "GDPR Art. 5(1)(e)"

#: The order entries are listed in, and the parts of the report they go to.
STATUSES = ("overdue", "held", "upcoming", "undetermined")


def retention_compliance(reading: Reading, controller: str | None = None) -> dict[str, Any]:
    if controller is not None:
        in_force(reading.ledger.catalogs, controller, reading.at)  # a clear error if unknown
    parts: dict[str, list[dict[str, Any]]] = {s: [] for s in STATUSES}
    subjects = 0
    for history in histories(reading):
        entries = [
            e
            for e in retention_entries(reading, history)
            if controller is None or e["controller"] == controller
        ]
        subjects += bool(entries)
        for entry in entries:
            parts[entry["status"]].append(entry)
    for status in STATUSES:
        parts[status].sort(key=_in_time_order)
    summary = {"subjects": subjects, **{s: len(parts[s]) for s in STATUSES}}
    return envelope(
        reading,
        REPORT,
        TITLE,
        ARTICLE,
        {"controller": controller},
        {"compliant": not parts["overdue"], "summary": summary, **parts},
    )


def _in_time_order(entry: dict[str, Any]) -> tuple[str, str, str]:
    """By due instant (compared in UTC: each entry carries its controller's offset)."""
    due = entry["due"]
    when = "" if due is None else datetime.fromisoformat(due).astimezone(UTC).isoformat()
    return (when, entry["subject_id"], entry["retention_class"])


def live_classes(state: SubjectState, catalogs: Catalogs) -> dict[str, str]:
    """Key id → retention class of the subject's values still readable at the state's
    instant: sealed under a key no ``DataErased`` in the state destroyed."""
    destroyed = {k for e in state.erasures.values() if e.done for k in e.keys_destroyed}
    found: dict[str, str] = {}
    for value in state.values.values():
        try:
            key_id = key_id_of(value.sealed)
        except MalformedSealedValue:
            continue
        catalog = catalogs.in_force(value.controller, value.evidence.occurred_at)
        purpose = catalog.purpose(value.purposes[0]) if catalog and value.purposes else None
        if key_id not in destroyed and purpose is not None:
            found[key_id] = purpose.key_class
    return found


def retention_entries(reading: Reading, history: SubjectHistory) -> list[dict[str, Any]]:
    """The subject's retention deadlines at T, each with its status."""
    catalogs, at, state = reading.ledger.catalogs, reading.at, history.state
    facts = subject_facts(state, live_classes(state, catalogs))
    holds = active_holds(state)
    entries = []
    for due in retention_schedule(facts, catalogs, at):
        catalog = catalogs.in_force(due.controller, at)
        held = hold_grounds(holds, catalog, at, {due.retention_class}) if catalog else []
        status = (
            "undetermined"
            if due.due is None
            else "upcoming"
            if due.due > at
            else "held"
            if held
            else "overdue"
        )
        entries.append(
            {
                "subject_id": due.subject_id,
                "controller": due.controller,
                "purpose": due.purpose,
                "retention_class": due.retention_class,
                # in the controller's zone, as the notice promises it (ledger.policy.calendar)
                "due": due.due.isoformat() if due.due else None,
                "status": status,
                "rule": due.rule_text(),
                "quote": due.rule.quote,
                "explanation": due.explanation,
                "then": list(due.then),
                "held_by": [g.as_json() for g in held],
            }
        )
    return entries
