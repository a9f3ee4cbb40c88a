"""Shredding is atomic and complete (issue 14): the fence goes in with the shredding, a
certificate is issued only once the write-ahead log no longer holds the keys, and a
long-running process keeps no raw key of a subject erased by another."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Collection
from typing import Any

import pytest

from ledger.api.service import ReportService
from ledger.erasure.chain import read_register
from ledger.erasure.verify import verify_erasure
from ledger.keys.sqlite_store import SQLiteKeyStore
from ledger.keys.store import DataKey, ShreddedKey, SubjectErased
from ledger.reports.build import ReportKind, ReportRequest
from ledger.reports.render import ReportFormat
from ledger.service.backends import Backends
from ledger.service.erasure import run_processor
from ledger.service.submission import submit_lines
from tests.conftest import LedgerFactory
from tests.erasure.helpers import CONTROLLER, request_erasure
from tests.scenario import canary, collected, consent, lines


def a_subject(ledger: Backends) -> str:
    """A subject with keys and nothing retained: a full erasure fences it."""
    email = canary("email") + "@example.fr"
    submit_lines(ledger.intake(), lines(collected(email, email), consent(email)))
    subject = ledger.keys.subject_for(email, CONTROLLER)
    assert subject is not None and ledger.keys.keys_of(subject)
    return subject


def in_memory(keys: SQLiteKeyStore) -> list[DataKey]:
    """The unwrapped keys a store holds in memory (entries carry an expiry since issue 14)."""
    return keys._cache.held()


def test_an_event_landing_between_shredding_and_fence_gets_no_key(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    subject = a_subject(ledger)
    elsewhere = make_ledger()  # another process's key store: a connection of its own
    landed: list[object] = []
    shred = ledger.keys.shred

    def shred_then_an_event_lands(
        subject_id: str, retention_classes: Collection[str] | None = None, **options: Any
    ) -> list[ShreddedKey]:
        destroyed = shred(subject_id, retention_classes, **options)
        try:  # the seam: the intake of an event for the subject, in another process
            landed.append(elsewhere.keys.data_key(subject_id, "marketing"))
        except SubjectErased as refused:
            landed.append(refused)
        return destroyed

    ledger.keys.shred = shred_then_an_event_lands  # type: ignore[method-assign]
    (outcome,) = request_erasure(ledger, subject)
    assert outcome.certificate is not None
    assert outcome.certificate["erased"]["subject_fenced"] is True
    assert [type(x) for x in landed] == [SubjectErased]
    assert ledger.keys.keys_of(subject) == [] == elsewhere.keys.keys_of(subject)


def test_a_stale_fence_check_in_another_process_makes_no_key(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    subject = a_subject(ledger)
    writer = make_ledger().keys
    checked = writer._key_state

    def stale(subject_id: str, retention_class: str) -> tuple[bool, str | None, None]:
        # the intake read "not fenced, no key"; the erasure commits before the intake's insert
        ledger.keys.shred(subject_id, fence=True)
        writer._key_state = checked  # type: ignore[method-assign]
        return False, CONTROLLER, None

    writer._key_state = stale  # type: ignore[method-assign]
    with pytest.raises(SubjectErased):
        writer.data_key(subject, "a-class-with-no-key-yet")
    assert ledger.keys.keys_of(subject) == []


def test_a_reader_holding_the_wal_fails_the_erasure_until_it_lets_go(
    make_ledger: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SQLiteKeyStore, "checkpoint_wait_s", 0.2, raising=False)
    ledger = make_ledger()
    subject = a_subject(ledger)
    held = {k.key_id for k in ledger.keys.keys_of(subject)}
    reader = sqlite3.connect(ledger.layout.keys, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM data_keys").fetchone()  # a snapshot with the keys

    (outcome,) = request_erasure(ledger, subject)
    assert outcome.certificate is None
    assert outcome.problem is not None and "write-ahead log" in outcome.problem
    assert read_register(ledger.log, ledger.registry, ledger.topics) == []

    reader.execute("COMMIT")
    reader.close()
    (retried,) = run_processor(ledger)
    assert retried.certificate is not None
    listed = {k["key_id"] for k in retried.certificate["erased"]["keys_destroyed"]}
    assert listed == held  # the retry's certificate still names every key destroyed
    assert ledger.keys.is_erased_subject(subject) and ledger.keys.keys_of(subject) == []
    wal = ledger.layout.keys.with_name(ledger.layout.keys.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_running_server_keeps_no_raw_key_of_a_subject_erased_elsewhere(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    subject = a_subject(ledger)
    service = ReportService(ledger.settings)
    try:
        service.report(ReportRequest(ReportKind.access, subject_id=subject), ReportFormat.json)
        served = service._reports_ledger().keys
        (outcome,) = request_erasure(make_ledger(), subject)  # another process erases
        assert outcome.certificate is not None
        assert not [k for k in in_memory(served) if k.subject_id == subject]
    finally:
        service.close()


def test_cached_keys_have_a_bounded_lifetime(
    make_ledger: LedgerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = make_ledger()
    subject = a_subject(ledger)
    other = a_subject(ledger)
    keys = make_ledger().keys  # a process that reads the subject's keys once
    monkeypatch.setattr("ledger.keys.key_cache.CACHE_SECONDS", 0.05)
    assert keys.keys_of(subject)
    time.sleep(0.1)
    keys.keys_of(other)  # any later use sweeps what expired
    assert not [k for k in in_memory(keys) if k.subject_id == subject]


def test_verify_erasure_checks_a_full_erasure_against_the_key_store(
    make_ledger: LedgerFactory,
) -> None:
    ledger = make_ledger()
    subject = a_subject(ledger)
    (outcome,) = request_erasure(ledger, subject)
    assert outcome.certificate is not None
    verified = verify_erasure(ledger.log, ledger.registry, ledger.topics, ledger.keys, subject)
    assert verified.ok, verified.summary()

    # the race of old: the fence lifted and a key made after the shredding, which the
    # certificate cannot list
    with sqlite3.connect(ledger.layout.keys) as db:
        db.execute("DELETE FROM erased_subjects WHERE subject_id = ?", (subject,))
    db.close()
    ledger.keys.data_key(subject, "marketing")
    verified = verify_erasure(ledger.log, ledger.registry, ledger.topics, ledger.keys, subject)
    assert not verified.ok
    assert any("yet the key store holds its key" in c for c in verified.contradicted)
    assert any("says the subject was fenced" in c for c in verified.contradicted)
