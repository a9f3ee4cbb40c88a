"""Retries are idempotent by event_id: at intake (the same file twice appends nothing the
second time) and in the projections (an event the log holds twice counts once)."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.errors import Conflict, Refused
from ledger.log.base import OutgoingRecord
from ledger.service.backends import Backends
from ledger.service.queries import subject_state
from ledger.service.receipts import EventIdMemory
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.scenario import collected, consent

EMAIL = "retry@example.fr"


def _with_ids(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**e, "event_id": str(uuid.uuid4())} for e in events]


def _processed(when: str) -> dict[str, Any]:
    return {
        "type": "DataProcessed",
        "subject": EMAIL,
        "controller": "informatique70",
        "occurred_at": when,
        "purpose": "newsletter",
        "claimed_basis": "consent",
        "categories": ["contact"],
        "system": "campaign",
    }


def _file() -> list[dict[str, Any]]:
    """Twelve events, ten of them processings: the numbers of the issue."""
    processings = [_processed(f"2024-03-{day:02d}T07:00:00Z") for day in range(10, 20)]
    return _with_ids(collected(EMAIL, EMAIL), consent(EMAIL), *processings)


def _logged_ids(ledger: Backends) -> Counter[str]:
    found: Counter[str] = Counter()
    for record in ledger.log.scan(ledger.topics.event_topics()):
        _, fields = ledger.registry.decode(record.value)
        found[str(fields["event_id"])] += 1
    return found


def test_the_same_file_emitted_twice_is_stored_once(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    events = _file()
    text = [json.dumps(e).encode() + b"\n" for e in events]
    first = submit_lines(ledger.intake(), text)
    again = submit_lines(ledger.intake(), text)
    assert [r.duplicate for r in first] == [False] * 12
    assert [r.duplicate for r in again] == [True] * 12
    assert [r.event_id for r in again] == [r.event_id for r in first]
    assert _logged_ids(ledger) == Counter({e["event_id"]: 1 for e in events})
    # a restart (another process) remembers too
    assert all(r.duplicate for r in submit_lines(make_ledger().intake(), text[:3]))
    ledger.catch_up()
    state = subject_state(ledger, first[0].key)
    assert state is not None
    assert state.events == 12
    assert state.processing["newsletter"].count == 10


def test_a_file_with_some_events_already_appended_appends_the_rest(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    events = _file()
    submit_lines(ledger.intake(), [json.dumps(e) for e in events[:5]])
    receipts = submit_lines(ledger.intake(), [json.dumps(e) for e in events])
    assert [r.duplicate for r in receipts] == [True] * 5 + [False] * 7
    assert _logged_ids(ledger) == Counter({e["event_id"]: 1 for e in events})


def test_one_event_id_twice_in_a_batch_refuses_the_batch(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    (first, second) = _with_ids(consent(EMAIL), consent(EMAIL, when="2024-03-02T00:00:00Z"))
    second["event_id"] = first["event_id"]
    with pytest.raises(Refused) as refused:
        submit_lines(ledger.intake(), [json.dumps(first), "", json.dumps(second)])
    assert "line 3: event_id: the same as line 1's" in str(refused.value)
    # the Python path refuses it too, before anything is appended
    intake = ledger.intake()
    prepared = [intake.prepare(first), intake.prepare(second)]
    with pytest.raises(Refused, match="events 1 and 2 of the batch"):
        intake.append(prepared)
    assert _logged_ids(ledger) == Counter()


def test_an_event_id_reused_for_another_event_is_a_conflict(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    (event,) = _with_ids(consent(EMAIL))
    submit_lines(ledger.intake(), [json.dumps(event)])
    other = {**_processed("2024-03-10T07:00:00Z"), "event_id": event["event_id"]}
    with pytest.raises(Conflict, match="appended before as another event"):
        submit_lines(ledger.intake(), [json.dumps(other)])
    assert sum(_logged_ids(ledger).values()) == 1


def test_an_event_appended_again_to_the_log_counts_once(make_ledger: LedgerFactory) -> None:
    """A retry the intake did not remember (a crash before its receipt, another data
    directory, a memory that expired) puts an event on the log again: the projections
    apply it once, whether the copy comes in a later batch or in the same one."""
    ledger = make_ledger()
    receipts = submit_lines(ledger.intake(), [json.dumps(e) for e in _file()])
    ledger.catch_up()
    copies = [
        OutgoingRecord(r.topic, r.key, r.value)
        for r in ledger.log.scan(ledger.topics.event_topics())
    ]
    assert len(copies) == 12
    ledger.log.append(copies + copies)  # straight through the log port, not the intake
    progress = ledger.catch_up()
    assert sum(_logged_ids(ledger).values()) == 36
    assert progress.duplicates == 24
    subject_id = receipts[0].key
    state = subject_state(ledger, subject_id)
    assert state is not None
    assert state.events == 12
    assert state.processing["newsletter"].count == 10
    assert len(ledger.store.journal(subject_id)) == 12


def test_ids_are_forgotten_after_the_memory_period(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    now = datetime(2024, 6, 1, tzinfo=UTC)
    clock = [now]
    memory = EventIdMemory(
        ledger.layout.receipts("forgetting"), timedelta(days=30), lambda: clock[0]
    )
    try:
        intake = ledger.intake()
        (event,) = _with_ids(consent(EMAIL))
        receipt = intake.append([intake.prepare(event)])[0]
        with memory.appending([receipt]) as known:
            assert known == [False]
        clock[0] = now + timedelta(days=29)
        with memory.appending([receipt]) as known:
            assert known == [True]
        clock[0] = now + timedelta(days=31)
        with memory.appending([receipt]) as known:
            assert known == [False]  # forgotten: appended again, and projected once
        with pytest.raises(RuntimeError), memory.appending([receipt]):
            raise RuntimeError("the log refused the batch")
        clock[0] = now + timedelta(days=31, seconds=1)
        with memory.appending([receipt]) as known:
            assert known == [True]  # remembered from the last append that succeeded
    finally:
        memory.close()
